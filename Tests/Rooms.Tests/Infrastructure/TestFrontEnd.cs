using System.Collections.Concurrent;
using System.Text;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Microsoft.Extensions.Logging.Abstractions;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>
/// Stands in for a web front end: attaches a real observer to its front-end grain and keeps its sockets'
/// memberships as the real one does (a <see cref="FrontEndMembership"/>), and records every event its sockets
/// are handed, with the batches.
/// </summary>
public sealed class TestFrontEnd : IFrontEndObserver, IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly IClusterClient _client;
    private readonly ConcurrentDictionary<string, Inbox> _sockets = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<DeliveredBatch> _batches = new();
    private readonly FrontEndMembership _membership;
    private IFrontEndObserver? _reference;
    private int _socketCounter;

    private TestFrontEnd(IClusterClient client, int maxRoomsPerSocket)
    {
        _client = client;
        _membership = new FrontEndMembership(client, Id, maxRoomsPerSocket, TimeProvider.System, NullLogger.Instance);
    }

    public string Id { get; } = "fe-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>What this front end was handed, each batch with the sockets it went to.</summary>
    public IReadOnlyCollection<DeliveredBatch> Batches => _batches;

    public IFrontEndObserver Reference => _reference!;

    public static async Task<TestFrontEnd> StartAsync(IClusterClient client, TimeSpan? lease = null, int maxRoomsPerSocket = ClusterFixture.MaxRoomsPerSocket)
    {
        var frontEnd = new TestFrontEnd(client, maxRoomsPerSocket);
        frontEnd._reference = client.CreateObjectReference<IFrontEndObserver>(frontEnd);
        await frontEnd.RenewAsync(lease ?? TimeSpan.FromMinutes(5));
        return frontEnd;
    }

    public Task<LeaseState> RenewAsync(TimeSpan lease) => _client.GetGrain<IFrontEndGrain>(Id).Renew(_reference!, lease);

    /// <summary>Connects a new socket to this front end, as the hub does on connect.</summary>
    public async Task<string> ConnectAsync(IGrainFactory? via = null)
    {
        var id = $"{Id}-s{Interlocked.Increment(ref _socketCounter)}";
        await ReconnectAsync(id, via);
        return id;
    }

    /// <summary>Connects an existing id again after a disconnect.</summary>
    public async Task ReconnectAsync(string id, IGrainFactory? via = null)
    {
        _sockets[id] = new Inbox();
        _membership.AddSocket(id);
        await _membership.ListSocketAsync(id, via);
    }

    /// <summary>Disconnects a socket as the real front end does: out of its rooms here at once, then its location forgotten.</summary>
    public async Task DisconnectAsync(string id, IGrainFactory? via = null)
    {
        _membership.RemoveSocket(id);
        await (via ?? _client).GetGrain<IFrontEndGrain>(Id).Disconnect(id);
        _sockets.TryRemove(id, out _);
    }

    /// <summary>Lists every socket and room of this front end again (what the real front end does after a silo is lost).</summary>
    public Task RebuildAsync() => _membership.RebuildAsync();

    public Inbox InboxOf(string socketId) => _sockets[socketId];

    /// <summary>The rooms of a socket, or null when this front end does not hold it.</summary>
    public string[]? RecordOf(string socketId) => _membership.RoomsOf(socketId);

    public IReadOnlyCollection<string> SocketIds => _membership.SocketIds();

    public Task<bool> Change(string socketId, MembershipChange change) => _membership.ChangeAsync(socketId, change);

    public Task<MembersChangeOutcome> ChangeMembers(string room, MembershipChange change) => _membership.ChangeMembersAsync(room, change);

    public Task<string[]> GetMembers(string room) => Task.FromResult(_membership.MembersOf(room));

    public Task<string[]?> GetSocketRooms(string socketId) => Task.FromResult(_membership.RoomsOf(socketId));

    public Task<string[]> Occupied(string[] rooms) => Task.FromResult(_membership.Occupied(rooms));

    public Task Deliver(DeliveryBatch batch)
    {
        var payload = Encoding.UTF8.GetString(batch.Payload);
        string[] targets = batch.Rooms is null
            ? [.. _sockets.Keys.Where(id => batch.Except is null || !batch.Except.Contains(id))]
            : [.. _membership.Recipients(batch.Rooms, batch.Except)];
        _batches.Enqueue(new DeliveredBatch(batch.EventName, batch.Payload, targets));
        foreach (var id in targets)
        {
            if (_sockets.TryGetValue(id, out var inbox))
            {
                inbox.Add(batch.EventName, payload);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops answering without a goodbye, as a crashed front end does: its lease then lapses.</summary>
    public void Crash()
    {
        if (_reference is not null)
        {
            _client.DeleteObjectReference<IFrontEndObserver>(_reference);
            _reference = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_reference is not null)
        {
            foreach (var id in _sockets.Keys.ToArray())
            {
                await DisconnectAsync(id);
            }

            await _client.GetGrain<IFrontEndGrain>(Id).Detach();
            _client.DeleteObjectReference<IFrontEndObserver>(_reference);
        }

        await _membership.DisposeAsync();
    }

    /// <summary>One batch as this front end resolved it.</summary>
    public sealed record DeliveredBatch(string EventName, byte[] Payload, string[] Recipients);

    /// <summary>What one socket received, in order, with a way to wait for a given event.</summary>
    public sealed class Inbox
    {
        private readonly List<(string Event, string Payload)> _received = [];
        private readonly List<(Func<string, string, bool> Match, TaskCompletionSource Done)> _waiters = [];

        public IReadOnlyList<(string Event, string Payload)> Received
        {
            get
            {
                lock (_received)
                {
                    return [.. _received];
                }
            }
        }

        public void Add(string eventName, string payload)
        {
            lock (_received)
            {
                _received.Add((eventName, payload));
                foreach (var waiter in _waiters.Where(w => w.Match(eventName, payload)).ToArray())
                {
                    waiter.Done.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }
        }

        /// <summary>Waits until an event matching <paramref name="eventName"/> and <paramref name="payload"/> (JSON text) has arrived.</summary>
        public async Task WaitForAsync(string eventName, string payload)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_received)
            {
                if (_received.Any(r => r.Event == eventName && r.Payload == payload))
                {
                    return;
                }

                _waiters.Add(((e, p) => e == eventName && p == payload, done));
            }

            try
            {
                await done.Task.WaitAsync(Timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"No event '{eventName}' with payload {payload} within {Timeout}; got: {string.Join(", ", Received.Select(r => r.Event + ":" + r.Payload))}");
            }
        }

        public int Count(string eventName, string payload) => Received.Count(r => r.Event == eventName && r.Payload == payload);
    }
}
