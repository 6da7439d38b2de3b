using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Lease;
using Orleans.Rooms.Membership;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// A front end whose lease lapsed while it was alive (a long pause, a partition) was purged by the cluster:
/// it must not stay "connected but deaf". The real front end sees its front-end grain's new incarnation on
/// the next renewal and restores every socket's memberships from its own record.
/// </summary>
public sealed class LeaseTests
{
    [Fact]
    public async Task AFrontEndPurgedWhileAliveRestoresItsSocketsMembershipsOnItsNextRenewal()
    {
        await using var server = await FrontEndServer.StartAsync(
            "lease-" + Guid.NewGuid().ToString("N")[..8],
            // Renewals 2 s apart: the read just after the purge must come before the next renewal restores the sockets
            // (at 0.2 s apart, a loaded machine let a renewal in between).
            settings: new Dictionary<string, string?> { ["Rooms:FrontEnd:RenewEvery"] = "00:00:02" });
        await using var a = await server.ConnectAsync();
        await using var b = await server.ConnectAsync();
        var room = Unique.Room();
        a.Listen("news");
        b.Listen("news");
        await a.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        await b.RequestAsync("POST", "/joinFunRoom", new { roomName = room });
        var rooms = server.Services.GetRequiredService<IRoomService>();
        var frontEndId = server.Services.GetRequiredService<FrontEndIdentity>().Id;

        // What the cluster does to a front end it has not heard from: every socket out of every room.
        await server.Services.GetRequiredService<IGrainFactory>().GetGrain<IFrontEndGrain>(frontEndId).Detach();
        Assert.Empty(await rooms.SubscribersAsync(room));

        await Eventually.HoldsAsync(
            async () => (await rooms.SubscribersAsync(room)).Order().SequenceEqual(new[] { a.Id, b.Id }.Order()),
            "the front end restoring its sockets into their rooms");
        Assert.Equal(new[] { a.Id, room }.Order(), (await rooms.SocketRoomsAsync(a.Id)).Order());
        await rooms.BroadcastAsync([room], "news", "back");
        await a.WaitForAsync("news", p => p.GetString() == "back");
        await b.WaitForAsync("news", p => p.GetString() == "back");
    }
}
