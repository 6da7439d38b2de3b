using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;

using Orleans.Rooms.Delivery;

using Orleans.Rooms.Tests.Shared;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// The resume window and the take-over on a fake clock, against connections that record what is written to
/// them: the hold ends exactly when the window has passed, a take-over cancels it, and what the client missed
/// is replayed once, in order, before newer events.
/// </summary>
public sealed class ResumeWindowTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(15);

    private readonly FakeTimeProvider _time = new();
    private readonly List<string> _expired = [];
    private readonly LocalSockets _sockets;

    public ResumeWindowTests() => _sockets = NewSockets(new RoomsOptions { ResumeWindow = Window });

    private LocalSockets NewSockets(RoomsOptions options, SocketLimitsOptions? limits = null)
    {
        // Memberships without a cluster: these sockets join nothing, so the door is never used.
        var metrics = TestMetrics.Create();
        var membership = new FrontEndMembership(new FakeDoor(), Options.Create(new RoomsOptions()), Options.Create(new FrontEndOptions()), _time, metrics, NullLogger<FrontEndMembership>.Instance);
        return new LocalSockets(membership, Options.Create(limits ?? new SocketLimitsOptions()), Options.Create(options), _time, metrics, NullLogger<LocalSockets>.Instance)
        {
            HoldExpired = _expired.Add,
        };
    }

    [Fact]
    public void AHeldSocketEndsWhenItsWindowHasPassedAndNotBefore()
    {
        var first = Connect("s1");

        Assert.Null(_sockets.Disconnected(first));
        _time.Advance(Window - TimeSpan.FromMilliseconds(1));
        Assert.Empty(_expired);
        Assert.Contains("s1", _sockets.Ids());

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["s1"], _expired);
        Assert.DoesNotContain("s1", _sockets.Ids());
        Assert.False(_sockets.TryResume(new RecordingConnection("c2"), TokenOf(first), 0));
    }

    [Fact]
    public void AResumeInsideTheWindowCancelsTheHoldAndReplaysWhatTheClientMissedInOrder()
    {
        var first = Connect("s1");
        var token = TokenOf(first);
        Send("s1", "a", "b");
        Assert.Null(_sockets.Disconnected(first));
        Send("s1", "c");
        _time.Advance(Window - TimeSpan.FromSeconds(1));

        var second = new RecordingConnection("c2");
        Assert.True(_sockets.TryResume(second, token, seq: 1));
        Send("s1", "d");

        var attached = Attached(second.Written[0]);
        Assert.Equal("s1", attached.GetProperty("socketId").GetString());
        Assert.True(attached.GetProperty("resumed").GetBoolean());
        Assert.NotEqual(token, attached.GetProperty("resumeToken").GetString());
        Assert.Equal([(2L, "b"), (3L, "c"), (4L, "d")], second.Written.Skip(1).Select(Event));
        Assert.Equal([(1L, "a"), (2L, "b")], first.Written.Skip(1).Select(Event));

        _time.Advance(Window * 2);
        Assert.Empty(_expired);
        Assert.False(_sockets.TryResume(new RecordingConnection("c3"), token, 0), "a token works once");
    }

    [Fact]
    public void ATakeOverOfAConnectionStillOpenClosesItAndItsLateDisconnectChangesNothing()
    {
        var first = Connect("s1");

        var second = new RecordingConnection("c2");
        Assert.True(_sockets.TryResume(second, TokenOf(first), seq: 0));
        Send("s1", "after");

        Assert.True(first.Aborted);
        Assert.Single(first.Written); // rooms.attached only
        Assert.Null(_sockets.Disconnected(first));
        _time.Advance(Window * 2);
        Assert.Empty(_expired);
        Assert.Equal([(1L, "after")], second.Written.Skip(1).Select(Event));
        Assert.Equal("s1", LocalSockets.SocketIdOf(new CallerOf(second)));
    }

    [Fact]
    public void ASocketIoSocketKeepsItsTokenAndTakesTheOffsetItResumesFromAsItsAcknowledgement()
    {
        var first = Connect("s1", socketIo: true);
        var token = TokenOf(first);
        Send("s1", "a", "b");
        Assert.Null(_sockets.Disconnected(first));
        Send("s1", "c");

        var second = new RecordingConnection("c2", socketIo: true);
        Assert.True(_sockets.TryResume(second, token, seq: 2));
        Assert.Equal(token, TokenOf(second)); // socket.io-client tells a recovered socket by an unchanged pid
        Assert.True(Attached(second.Written[0]).GetProperty("resumed").GetBoolean());
        Assert.Equal([(3L, "c")], second.Written.Skip(1).Select(Event));

        // Never acknowledged otherwise, yet kept within the window only: connected for longer, it is not closed as slow.
        _time.Advance(Window + TimeSpan.FromSeconds(1));
        Send("s1", "d");
        Assert.False(second.Aborted);
        Assert.Null(_sockets.Disconnected(second));
        var third = new RecordingConnection("c3", socketIo: true);
        Assert.True(_sockets.TryResume(third, token, seq: 3), "from what is still in the buffer");
        Assert.Equal([(4L, "d")], third.Written.Skip(1).Select(Event));
    }

    [Fact]
    public void ASocketIoSocketThatResumesFromBeforeWhatLeftItsBufferEndsAndItsClientGetsAFreshOne()
    {
        var sockets = NewSockets(new RoomsOptions { ResumeWindow = Window, ResumeBufferMaxEvents = 2 });
        var first = new RecordingConnection("s1", socketIo: true);
        sockets.Add(first, resumable: true);
        sockets.Attach(first);
        var token = TokenOf(first);
        foreach (var name in new[] { "a", "b", "c" })
        {
            sockets.Send("s1", new OutgoingEvent(name, "null"u8.ToArray(), Guid.NewGuid()));
        }

        Assert.False(first.Aborted); // over its bound while connected: the oldest leaves, the socket stays
        Assert.Equal([(1L, "a"), (2L, "b"), (3L, "c")], first.Written.Skip(1).Select(Event));
        Assert.Null(sockets.Disconnected(first));

        Assert.False(sockets.TryResume(new RecordingConnection("c2", socketIo: true), token, seq: 0), "event 1 is gone: it cannot be replayed");
        Assert.Equal(["s1"], _expired);
        Assert.DoesNotContain("s1", sockets.Ids());
    }

    [Fact]
    public void ASocketIoSocketWhoseClientTakesNoEventsIsCutAsTooSlowThoughItsBufferIsTrimmed()
    {
        var sockets = NewSockets(new RoomsOptions { ResumeWindow = Window, ResumeBufferMaxEvents = 2 }, new SocketLimitsOptions { MaxPendingMessagesPerSocket = 3 });
        var connection = new RecordingConnection("s1", socketIo: true);
        sockets.Add(connection, resumable: true);
        sockets.Attach(connection);
        connection.Stalled = true;
        for (var i = 0; i < 3; i++)
        {
            Assert.True(sockets.Send("s1", new OutgoingEvent("e", "null"u8.ToArray(), Guid.NewGuid())));
        }

        Assert.False(connection.Aborted);
        Assert.False(sockets.Send("s1", new OutgoingEvent("e", "null"u8.ToArray(), Guid.NewGuid())), "a fourth pending write");
        Assert.True(connection.Aborted);
        Assert.Equal("s1", sockets.Disconnected(connection)); // ends, not held
    }

    private RecordingConnection Connect(string id, bool socketIo = false)
    {
        var connection = new RecordingConnection(id, socketIo);
        _sockets.Add(connection, resumable: true);
        _sockets.Attach(connection);
        return connection;
    }

    private void Send(string socketId, params string[] events)
    {
        foreach (var name in events)
        {
            _sockets.Send(socketId, new OutgoingEvent(name, "null"u8.ToArray(), Guid.NewGuid()));
        }
    }

    private static string TokenOf(RecordingConnection connection) => Attached(connection.Written.Last(m => m is InvocationMessage { Target: ResumableSocket.AttachedMethod })).GetProperty("resumeToken").GetString()!;

    private static JsonElement Attached(HubMessage message)
    {
        var invocation = Assert.IsType<InvocationMessage>(message);
        Assert.Equal(ResumableSocket.AttachedMethod, invocation.Target);
        return JsonSerializer.SerializeToElement(invocation.Arguments[0]);
    }

    private static (long Seq, string Event) Event(HubMessage message)
    {
        var invocation = Assert.IsType<InvocationMessage>(message);
        Assert.Equal(OutgoingEvent.SequencedMethod, invocation.Target);
        return ((long)invocation.Arguments[0]!, (string)invocation.Arguments[1]!);
    }

    /// <summary>A hub connection that records what is written to it instead of sending it; <c>socketIo</c>: as Sails' own wire makes them, with recovery.</summary>
    private sealed class RecordingConnection(string id, bool socketIo = false)
        : HubConnectionContext(Context(id, socketIo), new HubConnectionContextOptions(), NullLoggerFactory.Instance)
    {
        private static DefaultConnectionContext Context(string id, bool socketIo)
        {
            var context = new DefaultConnectionContext(id);
            if (socketIo)
            {
                context.Features.Set<IResumeRequestFeature>(new SocketIoRecovery());
            }

            return context;
        }

        public List<HubMessage> Written { get; } = [];

        public bool Aborted { get; private set; }

        /// <summary>Writes from now on never complete: a client that takes nothing.</summary>
        public bool Stalled { get; set; }

        public override ValueTask WriteAsync(SerializedHubMessage message, CancellationToken cancellationToken = default)
        {
            Written.Add(message.Message!);
            return Stalled ? new ValueTask(new TaskCompletionSource().Task) : ValueTask.CompletedTask;
        }

        public override void Abort() => Aborted = true;
    }

    private sealed class SocketIoRecovery : IResumeRequestFeature
    {
        public ResumeRequest ResumeRequest { get; } = new(Resumable: true, Token: null, Seq: 0, AcksByOffset: true);
    }

    /// <summary>What a hub method sees of its connection.</summary>
    private sealed class CallerOf(HubConnectionContext connection) : HubCallerContext
    {
        public override string ConnectionId => connection.ConnectionId;

        public override string? UserIdentifier => null;

        public override System.Security.Claims.ClaimsPrincipal? User => null;

        public override IDictionary<object, object?> Items => connection.Items;

        public override Microsoft.AspNetCore.Http.Features.IFeatureCollection Features => connection.Features;

        public override CancellationToken ConnectionAborted => default;

        public override void Abort()
        {
        }
    }
}
