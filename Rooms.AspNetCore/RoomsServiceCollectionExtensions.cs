using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Rooms.Membership;

namespace Orleans.Rooms;

public static class RoomsServiceCollectionExtensions
{
    /// <summary>Adds <see cref="IRoomService"/> over the Orleans cluster this process hosts or is a client of.</summary>
    public static IServiceCollection AddRoomService(this IServiceCollection services)
    {
        services.AddRoomsOptions();
        services.TryAddSingleton<IRoomService, RoomService>();
        return services;
    }
}
