using System.Collections.Concurrent;
using System.Text;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>
/// Stands in for a web front end: attaches a real observer to its front-end grain, connects sockets
/// through it, keeps each socket's record of rooms as the grains tell it (what a front end rebuilds the
/// cluster from), and records every event its sockets are handed, with the batches.
/// </summary>
public sealed class TestFrontEnd : IFrontEndObserver, IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly IClusterClient _client;
    private readonly ConcurrentDictionary<string, Inbox> _sockets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SocketRecord> _records = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<DeliveryBatch> _batches = new();
    private IFrontEndObserver? _reference;
    private int _socketCounter;

    private TestFrontEnd(IClusterClient client)
    {
        _client = client;
    }

    public string Id { get; } = "fe-" + Guid.NewGuid().ToString("N")[..8];

    public IReadOnlyCollection<DeliveryBatch> Batches => _batches;

    public IFrontEndObserver Reference => _reference!;

    public static async Task<TestFrontEnd> StartAsync(IClusterClient client, TimeSpan? lease = null)
    {
        var frontEnd = new TestFrontEnd(client);
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
        _records[id] = new SocketRecord(id);
        await (via ?? _client).GetGrain<IFrontEndGrain>(Id).Connect(id);
    }

    public async Task DisconnectAsync(string id, IGrainFactory? via = null)
    {
        // Out of the record first, as the real front end does: nobody can restore a socket that is leaving.
        _records.TryRemove(id, out _);
        await (via ?? _client).GetGrain<IFrontEndGrain>(Id).Disconnect(id);
        _sockets.TryRemove(id, out _);
    }

    /// <summary>Every socket of this front end, restored from the records (what the real front end does after a silo is lost).</summary>
    public async Task RestoreAllAsync()
    {
        foreach (var (id, _) in _records)
        {
            if (_records.TryGetValue(id, out var record))
            {
                await _client.GetGrain<ISocketGrain>(id).Restore(Id, _reference!, record.Snapshot());
            }
        }
    }

    public Inbox InboxOf(string socketId) => _sockets[socketId];

    /// <summary>The recorded rooms of a socket, or null when this front end does not hold it.</summary>
    public string[]? RecordOf(string socketId) => _records.TryGetValue(socketId, out var record) ? record.Snapshot().Rooms : null;

    public IReadOnlyCollection<string> SocketIds => [.. _records.Keys];

    public Task RoomsChanged(string socketId, RoomsChange change)
    {
        if (_records.TryGetValue(socketId, out var record))
        {
            record.Apply(change);
        }

        return Task.CompletedTask;
    }

    public Task<RoomsSnapshot?> GetSocketRooms(string socketId) => Task.FromResult(_records.TryGetValue(socketId, out var record) ? record.Snapshot() : null);

    public Task Deliver(DeliveryBatch batch)
    {
        _batches.Enqueue(batch);
        var payload = Encoding.UTF8.GetString(batch.Payload);
        IEnumerable<string> targets = batch.SocketIds ?? _sockets.Keys.Where(id => batch.Except is null || !batch.Except.Contains(id));
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
        if (_reference is null)
        {
            return;
        }

        foreach (var id in _sockets.Keys.ToArray())
        {
            await DisconnectAsync(id);
        }

        await _client.GetGrain<IFrontEndGrain>(Id).Detach();
        _client.DeleteObjectReference<IFrontEndObserver>(_reference);
    }

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
