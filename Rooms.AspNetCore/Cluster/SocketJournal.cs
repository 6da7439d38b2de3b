using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Delivery;
using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms.Cluster;

/// <summary>
/// This front end's group commit into its front-end grain (docs/design.md, "Surviving a front end"): the records
/// of its resumable sockets (rooms, resume tokens) and the events it delivered to them itself. Whatever is asked
/// for while a commit is in flight goes in the next one, so a burst of joins costs one call, and each caller
/// waits for the commit that carries its change (a join is answered once the cluster keeps it; a token is handed
/// out once the cluster knows it). Off (<see cref="FrontEndOptions.KeepSocketsInCluster"/>): nothing is kept,
/// and nothing waits. A commit that fails is not the caller's failure (the change itself is done): the whole
/// record is committed again on the next renewal (<see cref="RecommitIfNeededAsync"/>).
/// </summary>
internal sealed partial class SocketJournal(IClusterDoor door, IOptions<FrontEndOptions> frontEnd, IOptions<RoomsOptions> rooms, ILogger<SocketJournal> logger)
{
    /// <summary>How much longer than the resume window events are kept: a client resumes late, a crash is noticed late.</summary>
    private static readonly TimeSpan KeepMargin = TimeSpan.FromSeconds(10);

    private readonly object _lock = new();
    private readonly Dictionary<string, SocketRecord> _current = new(StringComparer.Ordinal);
    private readonly TimeSpan _keepFor = rooms.Value.ResumeWindow + KeepMargin;
    private readonly long _maxBytes = frontEnd.Value.KeptEventsMaxBytes;
    private List<SocketRecord> _records = [];
    private List<DeliveryBatch> _delivered = [];
    private TaskCompletionSource? _next;
    private bool _flushing;
    private bool _recommit;

    public bool Enabled { get; } = frontEnd.Value.KeepSocketsInCluster;

    /// <summary>Keeps the socket's rooms (own-id room included) and, when given, the hashes of its next and current tokens and its presence entries.</summary>
    public Task RecordAsync(string socketId, string[] rooms, byte[][]? tokenHashes = null, Presence.PresenceEntry[]? presence = null)
    {
        if (!Enabled)
        {
            return Task.CompletedTask;
        }

        lock (_lock)
        {
            var earlier = _current.GetValueOrDefault(socketId);
            var record = new SocketRecord(socketId, rooms, tokenHashes ?? earlier?.TokenHashes, presence is null ? earlier?.Presence : presence.Length == 0 ? null : presence);
            _current[socketId] = record;
            _records.Add(record);
            return EnqueueLocked();
        }
    }

    /// <summary>The socket ended or moved away: forgotten here, and in the cluster with the next commit (not waited for).</summary>
    public void Forget(string socketId)
    {
        if (!Enabled)
        {
            return;
        }

        lock (_lock)
        {
            if (_current.Remove(socketId))
            {
                _records.Add(new SocketRecord(socketId, null, null));
                _ = EnqueueLocked();
            }
        }
    }

    /// <summary>A batch this front end delivered to resumable sockets of its own: kept with the next commit.</summary>
    public Task KeepAsync(DeliveryBatch batch)
    {
        if (!Enabled)
        {
            return Task.CompletedTask;
        }

        lock (_lock)
        {
            _delivered.Add(batch);
            return EnqueueLocked();
        }
    }

    /// <summary>Every record again: the grain lost its memory (a new incarnation), or a commit failed.</summary>
    public Task RecommitAllAsync()
    {
        if (!Enabled)
        {
            return Task.CompletedTask;
        }

        lock (_lock)
        {
            _recommit = false;
            if (_current.Count == 0)
            {
                return Task.CompletedTask;
            }

            _records.AddRange(_current.Values);
            return EnqueueLocked();
        }
    }

    public Task RecommitIfNeededAsync() => Volatile.Read(ref _recommit) ? RecommitAllAsync() : Task.CompletedTask;

    private Task EnqueueLocked()
    {
        var next = _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_flushing)
        {
            _flushing = true;
            _ = Task.Run(FlushAsync);
        }

        return next.Task;
    }

    private async Task FlushAsync()
    {
        while (true)
        {
            FrontEndJournal journal;
            TaskCompletionSource done;
            lock (_lock)
            {
                if (_next is null)
                {
                    _flushing = false;
                    return;
                }

                journal = new FrontEndJournal([.. _records], [.. _delivered], _keepFor, _maxBytes);
                _records = [];
                _delivered = [];
                done = _next;
                _next = null;
            }

            try
            {
                await door.CommitAsync(journal);
            }
            catch (Exception ex)
            {
                Volatile.Write(ref _recommit, true);
                LogCommitFailed(ex, journal.Records.Length, journal.Delivered.Length);
            }

            done.SetResult();
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Keeping {Records} socket records and {Batches} events in the cluster failed; every record is kept again on the next renewal.")]
    private partial void LogCommitFailed(Exception exception, int records, int batches);
}
