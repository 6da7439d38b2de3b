using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Orleans.Rooms;

public static class SiloBuilderExtensions
{
    /// <summary>Adds what the room grains need: their settings (section <c>Rooms</c>, validated at start-up) and a clock.</summary>
    public static ISiloBuilder AddRooms(this ISiloBuilder builder)
    {
        builder.Services.AddRoomsOptions();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<Delivery.LocalFrontEnds>();
        return builder;
    }
}
