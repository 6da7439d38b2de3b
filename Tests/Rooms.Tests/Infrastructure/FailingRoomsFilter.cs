using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>
/// A room grain that fails: every <see cref="IRoomGrain.Add"/> to a room whose name starts with
/// <see cref="Prefix"/> throws, on every silo of the test cluster.
/// </summary>
public sealed class FailingRoomsFilter : IIncomingGrainCallFilter
{
    public const string Prefix = "failing-";

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is IRoomGrain room
            && context.InterfaceMethod?.Name == nameof(IRoomGrain.Add)
            && room.GetPrimaryKeyString().StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Room '{room.GetPrimaryKeyString()}' fails on purpose.");
        }

        return context.Invoke();
    }
}
