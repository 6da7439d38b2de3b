using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The new front end's side of moving a resumable socket (docs/design.md, "Moving a socket"): a connection
/// presents the resume token of a socket that another front end of the cluster holds. That front end checks the
/// token and stops writing to the socket (<c>BeginHandOver</c>); this one takes the socket in, lists it in its
/// rooms (so that while both hold it, every read finds it and every broadcast reaches it, here or there) and
/// moves its location here; then the old front end lets it go and hands over its unacknowledged events
/// (<c>EndHandOver</c>), which go out first, followed by what arrived here meanwhile that they did not hold
/// (each broadcast once, by its id). Anything that fails before the hand-over calls the move off there: the
/// socket stays where it was, held for its window, and the connection gets a fresh socket.
/// </summary>
internal sealed partial class SocketArrivals(LocalSockets sockets, FrontEndMembership membership, FrontEndPresence presence, FrontEndRouter router, IClusterDoor door, SocketJournal journal, ILogger<SocketArrivals> logger)
{
    /// <summary>True when the socket the token names moved here onto <paramref name="connection"/>; false leaves the connection to be a fresh socket.</summary>
    public async Task<bool> TryMoveHereAsync(HubConnectionContext connection, string token, long seq, int version)
    {
        if (!ResumeToken.TryParse(token, out var socketId, out var tokenFrontEnd, out var secret) || membership.Holds(socketId))
        {
            return false;
        }

        // Asked first: the front end that handed the token out, when it is (or was until a moment ago) attached;
        // it answers from the socket's record in the cluster when it is gone. Then where the cluster says the socket is.
        string? from = null;
        string[]? rooms = null;
        if (tokenFrontEnd is not null && tokenFrontEnd != router.Id && await router.IsAttachedAsync(tokenFrontEnd))
        {
            from = tokenFrontEnd;
            rooms = await TryBeginAsync(from, socketId, secret, seq);
        }

        if (rooms is null)
        {
            string? located;
            try
            {
                located = await router.FindAsync(socketId);
            }
            catch (Exception ex)
            {
                LogNotMoved(ex, socketId, from ?? "(unknown)", "it could not be located");
                return false;
            }

            if (located is null || located == router.Id || located == from)
            {
                return false; // ended, or never was: a token from another cluster names nothing here
            }

            from = located;
            rooms = await TryBeginAsync(from, socketId, secret, seq);
        }

        if (rooms is null || from is null || sockets.Adopt(connection, socketId, version) is not { } socket)
        {
            return false; // not that front end's socket (any more), or not with that token
        }

        var old = router.Get(from);

        socket.KeepToken(secret, tokenFrontEnd);

        SocketHandOver? handOver = null;
        try
        {
            await membership.AdoptSocketAsync(socketId, from, rooms);
            handOver = await old.EndHandOver(socketId, router.Id);
        }
        catch (Exception ex)
        {
            LogNotMoved(ex, socketId, from, "listing it here or the hand-over failed");
        }

        if (handOver is { FromRecord: true } && version < 2)
        {
            // Handed over from the record, events the client processed already may come again: only a client that
            // skips them by id (version 2) can take that. An older one gets a fresh socket, as it always did.
            LogNotMoved(null, socketId, from, "its front end is gone, and its client cannot skip repeated events (resume contract version 1)");
            sockets.DropAdoption(connection, socket);
            await ForgetLocationAsync(socketId);
            return false;
        }

        if (handOver is null)
        {
            await CallOffAsync(old, socketId);
            sockets.DropAdoption(connection, socket);
            await RestoreLocationAsync(old, socketId);
            return false;
        }

        await ReconcileAsync(socketId, rooms, handOver.Rooms);
        await AdoptPresenceAsync(socketId, handOver.Presence ?? []);

        // Kept in the cluster by this front end from now on, with the token it hands out next.
        if (socket.KeptInCluster)
        {
            await journal.RecordAsync(socketId, membership.RoomsOf(socketId) ?? handOver.Rooms, socket.NextTokenHashes(), presence.EntriesOf(socketId));
        }

        if (!socket.CompleteAdoption(handOver.LastSeq, handOver.Events, seq))
        {
            LogNotMoved(null, socketId, from, "its connection went or too much arrived meanwhile");
        }

        return true;
    }

    /// <summary>The socket's rooms from the front end that holds it, its move begun there; null when it is not that front end's socket (any more) or could not be asked.</summary>
    private async Task<string[]?> TryBeginAsync(string from, string socketId, byte[] secret, long seq)
    {
        try
        {
            return await router.Get(from).BeginHandOver(socketId, secret, seq, router.Id);
        }
        catch (Exception ex)
        {
            LogNotMoved(ex, socketId, from, "its front end could not be asked");
            return null;
        }
    }

    /// <summary>The socket's presence entries, held here from now on; their grains hear they belong here (no diff when they had them).</summary>
    private async Task AdoptPresenceAsync(string socketId, Presence.PresenceEntry[] entries)
    {
        try
        {
            await presence.AdoptAsync(socketId, entries);
        }
        catch (Exception ex)
        {
            LogPresenceNotAdopted(ex, socketId, entries.Length);
        }
    }

    /// <summary>A change that reached the old front end while the socket moved is in its final rooms: applied here too.</summary>
    private async Task ReconcileAsync(string socketId, string[] atStart, string[] atEnd)
    {
        var joins = atEnd.Except(atStart, StringComparer.Ordinal).ToArray();
        var leaves = atStart.Except(atEnd, StringComparer.Ordinal).Where(room => room != socketId).ToArray();
        if (joins.Length == 0 && leaves.Length == 0)
        {
            return;
        }

        try
        {
            await membership.ChangeAsync(socketId, new MembershipChange(joins, leaves));
        }
        catch (Exception ex)
        {
            LogNotReconciled(ex, socketId, joins.Length, leaves.Length);
        }
    }

    /// <summary>Its location moved here, but the socket did not: forgotten (it is gone with its front end).</summary>
    private async Task ForgetLocationAsync(string socketId)
    {
        try
        {
            await door.DisconnectAsync(socketId);
        }
        catch (Exception ex)
        {
            // The purge of its old front end, or a request that finds it gone, cleans it up.
            LogNotMoved(ex, socketId, router.Id, "forgetting its location failed");
        }
    }

    /// <summary>Its location may have moved here already: back to the front end that holds it (if it still does).</summary>
    private async Task RestoreLocationAsync(IFrontEnd old, string socketId)
    {
        try
        {
            await door.DisconnectAsync(socketId);
            await old.Relist(socketId);
        }
        catch (Exception ex)
        {
            // A request that finds its socket grain empty has it relisted by whichever front end holds it (FrontEndRouter).
            LogNotMoved(ex, socketId, old.Id, "restoring its location failed");
        }
    }

    private async Task CallOffAsync(IFrontEnd old, string socketId)
    {
        try
        {
            await old.AbortHandOver(socketId, router.Id);
        }
        catch (Exception ex)
        {
            // It calls the move off by itself after LocalSockets.MoveBound.
            LogNotMoved(ex, socketId, old.Id, "calling the move off failed");
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Socket {SocketId} could not move here from front end {FrontEndId} ({Reason}); the connection gets a fresh socket.")]
    private partial void LogNotMoved(Exception? exception, string socketId, string frontEndId, string reason);

    [LoggerMessage(2, LogLevel.Warning, "Socket {SocketId} moved here, but {Joins} joins and {Leaves} leaves made during the move could not be applied here.")]
    private partial void LogNotReconciled(Exception exception, string socketId, int joins, int leaves);

    [LoggerMessage(3, LogLevel.Warning, "Socket {SocketId} moved here, but its {Count} presence entries could not be told to their rooms' grains.")]
    private partial void LogPresenceNotAdopted(Exception exception, string socketId, int count);
}
