using System.Collections.Concurrent;
using System.Text;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.Membership;
using System.Globalization;
using System.Runtime.CompilerServices;
using Orleans.Rooms.Cluster;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Tests.Infrastructure;

/// <summary>
/// Stands in for a web front end: the real front end's core (<see cref="FrontEndCore"/>: memberships, listing,
/// door, observer) attached to its front-end grain, with an outbox that records every event its sockets are
/// handed, by batch.
/// </summary>
internal sealed class TestFrontEnd : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly IClusterClient _client;
    private readonly Outbox _outbox;
    private readonly FrontEndCore _core;
    private IFrontEndObserver? _reference;

    private TestFrontEnd(IClusterClient client, int maxRoomsPerSocket, bool inboxes, IReadOnlyDictionary<string, string?>? settings)
    {
        _client = client;
        _outbox = new Outbox(inboxes);
        var configuration = new Dictionary<string, string?>
        {
            ["Rooms:FrontEnd:Id"] = "fe-" + Guid.NewGuid().ToString("N")[..8],
            ["Rooms:MaxRoomsPerSocket"] = maxRoomsPerSocket.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        _core = FrontEndCore.Create(client, _outbox, configuration);
    }

    public string Id => _core.Id;

    /// <summary>The room API of this front end.</summary>
    public IRoomService Api => _core.Api;

    /// <summary>What this front end was handed, each batch with the sockets it went to.</summary>
    public IReadOnlyCollection<DeliveredBatch> Batches => _outbox.Batches;

    /// <param name="inboxes">Record each socket's events (decoded); false: only the batches, as a cost measurement needs.</param>
    /// <param name="settings">More configuration (<c>Rooms:...</c> keys), e.g. a shorter <c>Rooms:FrontEnd:EmptyRoomLinger</c>.</param>
    /// <param name="observer">Stands between the cluster and the front end's observer (e.g. to fail some calls as a stopping silo would).</param>
    public static async Task<TestFrontEnd> StartAsync(IClusterClient client, TimeSpan? lease = null, int maxRoomsPerSocket = ClusterFixture.MaxRoomsPerSocket, bool inboxes = true, IReadOnlyDictionary<string, string?>? settings = null, Func<IFrontEndObserver, IFrontEndObserver>? observer = null)
    {
        var frontEnd = new TestFrontEnd(client, maxRoomsPerSocket, inboxes, settings);
        frontEnd._reference = client.CreateObjectReference<IFrontEndObserver>(observer is null ? frontEnd._core.Local : observer(frontEnd._core.Local));
        await frontEnd.RenewAsync(lease ?? TimeSpan.FromMinutes(5));
        return frontEnd;
    }

    public Task<LeaseState> RenewAsync(TimeSpan lease) => _client.GetGrain<IFrontEndGrain>(Id).Renew(_reference!, lease);

    /// <summary>Connects a new socket to this front end, as the hub does on connect.</summary>
    public async Task<string> ConnectAsync()
    {
        var id = Sockets.SocketIds.New();
        await ReconnectAsync(id);
        return id;
    }

    /// <summary>Connects an existing id again after a disconnect.</summary>
    public Task ReconnectAsync(string id)
    {
        _outbox.Open(id);
        _core.Membership.AddSocket(id);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Takes in socket <paramref name="id"/>, which <paramref name="fromFrontEnd"/> held, as a resume here does once
    /// that front end let it go (or was lost): listed here in its own-id room, its location moved here in its socket grain.
    /// </summary>
    public async Task AdoptAsync(string id, string fromFrontEnd)
    {
        await ReconnectAsync(id);
        await _core.Membership.AdoptSocketAsync(id, fromFrontEnd, [id]);
    }

    /// <summary>Disconnects a socket as the real front end does: out of its rooms here at once, then its location forgotten.</summary>
    public async Task DisconnectAsync(string id)
    {
        _core.Membership.RemoveSocket(id);
        if (_core.Membership.ForgetLocation(id))
        {
            await _core.Door.DisconnectAsync(id);
        }

        _outbox.Close(id);
    }

    /// <summary>Lists every socket and room of this front end again (what the real front end does after a silo is lost).</summary>
    public async Task RelistAllAsync()
    {
        await _core.Membership.RelistAllAsync();
        await _core.Local.Presence.RelistAllAsync();
    }

    public Inbox InboxOf(string socketId) => _outbox.InboxOf(socketId);

    /// <summary>The rooms of a socket, or null when this front end does not hold it.</summary>
    public string[]? RecordOf(string socketId) => _core.Membership.RoomsOf(socketId);

    /// <summary>Whether the socket's location is recorded in the cluster (another front end looked for it).</summary>
    public bool IsLocated(string socketId) => _core.Membership.IsLocated(socketId);

    public IReadOnlyCollection<string> SocketIds => _core.Membership.SocketIds();

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
            foreach (var id in _core.Membership.SocketIds())
            {
                await DisconnectAsync(id);
            }

            await _client.GetGrain<IFrontEndGrain>(Id).Detach();
            _client.DeleteObjectReference<IFrontEndObserver>(_reference);
        }

        await _core.DisposeAsync();
    }

    /// <summary>Records each event by socket, and each batch (one <see cref="OutgoingEvent"/>) with its recipients.</summary>
    private sealed class Outbox(bool inboxes) : ISocketOutbox
    {
        private readonly ConcurrentDictionary<string, Inbox> _sockets = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<DeliveredBatch> _batches = new();
        private readonly ConditionalWeakTable<OutgoingEvent, List<string>> _recipients = [];

        public IReadOnlyCollection<DeliveredBatch> Batches => _batches;

        public void Open(string socketId) => _sockets[socketId] = new Inbox();

        public void Close(string socketId) => _sockets.TryRemove(socketId, out _);

        public Inbox InboxOf(string socketId) => _sockets[socketId];

        public bool Send(string socketId, OutgoingEvent message)
        {
            Record(message, [socketId]);
            return _sockets.TryGetValue(socketId, out var inbox) && (!inboxes || inbox.Add(message));
        }

        public int SendToAll(OutgoingEvent message, string[]? except)
        {
            string[] targets = [.. _sockets.Keys.Where(id => except is null || !except.Contains(id))];
            Record(message, targets);
            return targets.Count(id => _sockets.TryGetValue(id, out var inbox) && (!inboxes || inbox.Add(message)));
        }

        /// <summary>The first send of an event makes its batch; later sends of the same event add their socket to it.</summary>
        private void Record(OutgoingEvent message, string[] targets)
        {
            lock (_recipients)
            {
                if (_recipients.TryGetValue(message, out var recipients))
                {
                    recipients.AddRange(targets);
                    return;
                }

                recipients = [.. targets];
                _recipients.Add(message, recipients);
                _batches.Enqueue(new DeliveredBatch(message.EventName, message.Payload, recipients));
            }
        }
    }

    /// <summary>One batch as this front end resolved it.</summary>
    public sealed record DeliveredBatch(string EventName, byte[] Payload, IReadOnlyList<string> Recipients);

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

        internal bool Add(OutgoingEvent message)
        {
            Add(message.EventName, Encoding.UTF8.GetString(message.Payload));
            return true;
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
        public Task WaitForAsync(string eventName, string payload)
            => WaitForAsync((e, p) => e == eventName && p == payload, $"event '{eventName}' with payload {payload}");

        /// <summary>Waits until an event matching <paramref name="match"/> (event name, JSON text) has arrived, or until <paramref name="within"/>.</summary>
        public async Task WaitForAsync(Func<string, string, bool> match, string what, TimeSpan? within = null)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_received)
            {
                if (_received.Any(r => match(r.Event, r.Payload)))
                {
                    return;
                }

                _waiters.Add((match, done));
            }

            try
            {
                await done.Task.WaitAsync(within ?? Timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"No {what} within {within ?? Timeout}; got: {string.Join(", ", Received.Select(r => r.Event + ":" + r.Payload))}");
            }
        }

        public int Count(string eventName, string payload) => Received.Count(r => r.Event == eventName && r.Payload == payload);
    }
}
