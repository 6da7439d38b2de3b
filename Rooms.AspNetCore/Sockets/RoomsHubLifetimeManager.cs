using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.Lease;
using Orleans.Rooms.Membership;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// SignalR's contract over this service, owned rather than inherited (as <c>RedisHubLifetimeManager</c> owns it
/// over its store): the one registry of sockets is <see cref="LocalSockets"/> with their rooms in
/// <see cref="FrontEndMembership"/>, and everything an app can send through <c>IHubContext&lt;SocketHub&gt;</c>
/// goes through <see cref="IRoomService"/>, cluster-wide, with the room guarantees. SignalR groups are rooms;
/// a connection id is a socket id (the id a client sees, <see cref="IRoomService.GetId"/>); resumable sockets
/// get what is sent as numbered events like any broadcast. docs/protocol.md, "SignalR's hub context".
/// </summary>
/// <remarks>
/// SignalR calls <see cref="OnDisconnectedAsync"/> for every connection whose <see cref="OnConnectedAsync"/>
/// started, whatever happened in between, so a socket is never left registered by a connection that is gone.
/// A resumable socket outlives its connection for the resume window: it is unregistered when the window
/// passes, not when the connection goes, and a connection that resumes it is never registered under its own id.
/// Events carry one argument (docs/protocol.md, "Events"); what SignalR offers that has no room equivalent
/// (users without a user-id mapping, client results) throws and names what to use instead.
/// </remarks>
internal sealed partial class RoomsHubLifetimeManager : HubLifetimeManager<SocketHub>
{
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a stopping front end waits for its resumable clients to close their connections once told to move.</summary>
    internal static readonly TimeSpan MoveBound = TimeSpan.FromSeconds(1);

    private readonly LocalSockets sockets;
    private readonly FrontEndMembership membership;
    private readonly FrontEndLease lease;
    private readonly IClusterDoor door;
    private readonly IRoomService rooms;
    private readonly SocketArrivals arrivals;
    private readonly SocketJournal journal;
    private readonly IHostApplicationLifetime host;
    private readonly ILogger<RoomsHubLifetimeManager> logger;
    private int _askToMoveOnStop;

    public RoomsHubLifetimeManager(
        LocalSockets sockets,
        FrontEndMembership membership,
        FrontEndLease lease,
        IClusterDoor door,
        IRoomService rooms,
        SocketArrivals arrivals,
        SocketJournal journal,
        IHostApplicationLifetime host,
        ILogger<RoomsHubLifetimeManager> logger)
    {
        this.sockets = sockets;
        this.membership = membership;
        this.lease = lease;
        this.door = door;
        this.rooms = rooms;
        this.arrivals = arrivals;
        this.journal = journal;
        this.host = host;
        this.logger = logger;
        sockets.HoldExpired = OnHoldExpired;
    }

    public override async Task OnConnectedAsync(HubConnectionContext connection)
    {
        WholeMessagePipe.Install(connection);

        // At the start of a graceful stop, before SignalR closes the connections, each resumable client is told to
        // move (it resumes through the balancer on another front end, which takes its socket over from this one).
        // Registered on the first connection made over HTTP, which SignalR's connection manager (which closes them
        // on the same signal) made, so it exists already: the later registration runs first.
        if (connection.GetHttpContext() is not null && Interlocked.Exchange(ref _askToMoveOnStop, 1) == 0)
        {
            host.ApplicationStopping.Register(() => LogAskedToMove(logger, sockets.AskToMove(MoveBound)));
        }

        // Broadcasts to this socket must find the front end attached, so wait for that first.
        await lease.WhenAttached.WaitAsync(AttachTimeout, connection.ConnectionAborted);

        var request = ResumeRequest.Of(connection);
        if (request.Token is { } token && (await TryResumeHereAsync(connection, token, request.Seq) || await arrivals.TryMoveHereAsync(connection, token, request.Seq, request.Version)))
        {
            return; // the socket it took over is registered already, under its own id (here, or moved here from another front end)
        }

        // Held here, in its own-id room; the cluster is told nothing until another front end looks for it
        // (docs/design.md, "Locating a socket"): a socket that joins nothing costs no grain.
        var socket = sockets.Add(connection, request.Resumable, request.Version);
        if (socket is ResumableSocket resumable)
        {
            // Its record and first token kept in the cluster before the client has the token.
            if (resumable.KeptInCluster)
            {
                await journal.RecordAsync(resumable.Id, [resumable.Id], resumable.NextTokenHashes());
            }

            sockets.Attach(connection);
        }
    }

    /// <summary>A resume of a socket this front end holds; the token it hands out next is kept in the cluster first.</summary>
    private async Task<bool> TryResumeHereAsync(HubConnectionContext connection, string token, long seq)
    {
        if (!ResumeToken.TryParse(token, out var socketId, out var secret) || sockets.FindResumable(socketId) is not { } socket || !socket.Matches(secret))
        {
            return false;
        }

        if (socket.KeptInCluster)
        {
            await journal.RecordAsync(socket.Id, membership.RoomsOf(socket.Id) ?? [socket.Id], socket.NextTokenHashes());
        }

        return sockets.TryResume(connection, token, seq);
    }

    public override async Task OnDisconnectedAsync(HubConnectionContext connection)
    {
        if (sockets.Disconnected(connection) is { } ended)
        {
            await UnregisterAsync(ended);
        }
    }

    public override Task SendAllAsync(string methodName, object?[] args, CancellationToken cancellationToken = default)
        => rooms.BlastAsync(methodName, Argument(args), except: null, cancellationToken);

    public override Task SendAllExceptAsync(string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default)
        => rooms.BlastAsync(methodName, Argument(args), SocketTarget.FromIds(excludedConnectionIds), cancellationToken);

    public override Task SendConnectionAsync(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default)
        => rooms.BroadcastAsync([connectionId], methodName, Argument(args), except: null, cancellationToken);

    public override Task SendConnectionsAsync(IReadOnlyList<string> connectionIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
        => connectionIds.Count == 0 ? Task.CompletedTask : rooms.BroadcastAsync(connectionIds, methodName, Argument(args), except: null, cancellationToken);

    public override Task SendGroupAsync(string groupName, string methodName, object?[] args, CancellationToken cancellationToken = default)
        => rooms.BroadcastAsync([groupName], methodName, Argument(args), except: null, cancellationToken);

    public override Task SendGroupsAsync(IReadOnlyList<string> groupNames, string methodName, object?[] args, CancellationToken cancellationToken = default)
        => groupNames.Count == 0 ? Task.CompletedTask : rooms.BroadcastAsync(groupNames, methodName, Argument(args), except: null, cancellationToken);

    public override Task SendGroupExceptAsync(string groupName, string methodName, object?[] args, IReadOnlyList<string> excludedConnectionIds, CancellationToken cancellationToken = default)
        => rooms.BroadcastAsync([groupName], methodName, Argument(args), SocketTarget.FromIds(excludedConnectionIds), cancellationToken);

    public override Task SendUserAsync(string userId, string methodName, object?[] args, CancellationToken cancellationToken = default)
        => throw UsersNotSupported();

    public override Task SendUsersAsync(IReadOnlyList<string> userIds, string methodName, object?[] args, CancellationToken cancellationToken = default)
        => throw UsersNotSupported();

    public override Task AddToGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
        => rooms.JoinAsync(connectionId, groupName, cancellationToken);

    public override Task RemoveFromGroupAsync(string connectionId, string groupName, CancellationToken cancellationToken = default)
        => rooms.LeaveAsync(connectionId, groupName, cancellationToken);

    public override Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken)
        => throw new NotSupportedException("Client results (Clients.Client(id).InvokeAsync) are not supported by Orleans.Rooms: a socket may be on any front end and may be resuming. Send an event, and have the client answer with a socket request (io.socket.post) to a route of the app.");

    /// <summary>An event's one argument (docs/protocol.md, "Events"): none sends null; more than one is refused, naming what to do.</summary>
    private static object? Argument(object?[] args) => args.Length switch
    {
        0 => null,
        1 => args[0],
        _ => throw new ArgumentException($"Orleans.Rooms events carry one argument (sails.sockets.broadcast's data), not {args.Length}: send one object or array instead (e.g. SendAsync(method, new {{ a, b }})).", nameof(args)),
    };

    private static NotSupportedException UsersNotSupported()
        => new("Clients.User(...) and Clients.Users(...) are not supported by Orleans.Rooms: it does not map users to sockets. Join each socket of a user to a room named after the user (IRoomService.JoinAsync(socket, \"user:<id>\")) and use Clients.Group(\"user:<id>\").");

    private void OnHoldExpired(string socketId)
    {
        // A front end that stops detaches from the cluster, which disconnects every socket it still holds.
        if (!host.ApplicationStopping.IsCancellationRequested)
        {
            _ = UnregisterAsync(socketId);
        }
    }

    /// <summary>Forgets the socket's location where it was recorded (it left its rooms here already); never throws (a failure is retried on each lease renewal).</summary>
    private async Task UnregisterAsync(string socketId)
    {
        journal.Forget(socketId);
        if (!membership.ForgetLocation(socketId))
        {
            return; // never looked for from elsewhere: the cluster never knew it
        }

        try
        {
            await door.DisconnectAsync(socketId);
        }
        catch (Exception ex)
        {
            // Retried on each lease renewal; if this front end dies first, the purge of its sockets takes over.
            LogUnregisterFailed(logger, ex, socketId);
            lease.RetryDisconnect(socketId);
        }
    }

    [LoggerMessage(2, LogLevel.Information, "This front end is stopping: asked {Sockets} resumable clients to move to another front end.")]
    private static partial void LogAskedToMove(ILogger logger, int sockets);

    [LoggerMessage(1, LogLevel.Warning, "Socket {SocketId} disconnected but could not be unregistered yet; retrying.")]
    private static partial void LogUnregisterFailed(ILogger logger, Exception exception, string socketId);
}
