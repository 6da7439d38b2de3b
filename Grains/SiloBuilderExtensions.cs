using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Orleans.Rooms;

public static class SiloBuilderExtensions
{
    /// <summary>Adds what the room grains need: a clock, and the front ends hosted in this process (the embedded shape).</summary>
    public static ISiloBuilder AddRooms(this ISiloBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<Delivery.LocalFrontEnds>();
        return builder;
    }
}
