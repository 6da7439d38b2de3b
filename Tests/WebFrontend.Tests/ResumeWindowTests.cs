using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.Telemetry;

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

    public ResumeWindowTests()
    {
        // Memberships without a cluster: these sockets join nothing, so the door is never used.
        var metrics = Metrics();
        var membership = new FrontEndMembership(new FakeDoor(), Options.Create(new RoomsOptions()), Options.Create(new FrontEndOptions()), _time, metrics, NullLogger<FrontEndMembership>.Instance);
        _sockets = new LocalSockets(membership, Options.Create(new SocketLimitsOptions()), Options.Create(new RoomsOptions { ResumeWindow = Window }), _time, metrics, NullLogger<LocalSockets>.Instance)
        {
            HoldExpired = _expired.Add,
        };
    }

    private static RoomsMetrics Metrics()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return new RoomsMetrics(services.GetRequiredService<IMeterFactory>(), services);
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

    private RecordingConnection Connect(string id)
    {
        var connection = new RecordingConnection(id);
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

    /// <summary>A hub connection that records what is written to it instead of sending it.</summary>
    private sealed class RecordingConnection(string id)
        : HubConnectionContext(new DefaultConnectionContext(id), new HubConnectionContextOptions(), NullLoggerFactory.Instance)
    {
        public List<HubMessage> Written { get; } = [];

        public bool Aborted { get; private set; }

        public override ValueTask WriteAsync(SerializedHubMessage message, CancellationToken cancellationToken = default)
        {
            Written.Add(message.Message!);
            return ValueTask.CompletedTask;
        }

        public override void Abort() => Aborted = true;
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
