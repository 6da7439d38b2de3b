using System.Text.Json;

namespace Orleans.Rooms.Client;

/// <summary>
/// Who is in one room, as this socket sees it (docs/presence.md): kept in step from the <c>presence_state</c> the
/// socket is sent when it tracks (or <see cref="SyncAsync"/>) and the room's <c>presence_diff</c> events, as
/// Phoenix's Presence helper does. Each key has the metas of its sockets; a meta's <c>ref</c> is its socket's id.
/// Get one with <see cref="RoomsClient.Presence"/>.
/// </summary>
/// <remarks>
/// Diffs up to the state's version are in it and skipped; diffs that arrive before any state wait for it; a join of
/// a meta already there and a leave of a meta no longer there are skipped, so each change is raised once. A diff's
/// leaves apply before its joins (a meta update is a leave and a join of one ref). Events are raised on the thread
/// that received the event, one at a time.
/// </remarks>
public sealed class RoomsPresence
{
    /// <summary>How many diffs wait for the room's first state before the oldest are dropped.</summary>
    private const int MaxPendingDiffs = 1000;

    private readonly RoomsClient _client;
    private readonly string _listPath;
    private readonly Lock _lock = new();
    private readonly List<JsonElement> _pending = [];
    private Dictionary<string, List<JsonElement>> _state = new(StringComparer.Ordinal);
    private (string Epoch, long Seq)? _version;

    internal RoomsPresence(RoomsClient client, string room, string listPath)
    {
        _client = client;
        Room = room;
        _listPath = listPath;
    }

    /// <summary>A key's metas joined: (key, its metas before, or null when it is new; the metas that joined).</summary>
    public event Action<string, IReadOnlyList<JsonElement>?, IReadOnlyList<JsonElement>>? Joined;

    /// <summary>A key's metas left: (key, its metas after, or null when it is gone; the metas that left).</summary>
    public event Action<string, IReadOnlyList<JsonElement>?, IReadOnlyList<JsonElement>>? Left;

    /// <summary>The view changed (a state or a diff was applied).</summary>
    public event Action? Synced;

    /// <summary>The room this view is of.</summary>
    public string Room { get; }

    /// <summary>Whether a state has arrived.</summary>
    public bool IsSynced
    {
        get
        {
            lock (_lock)
            {
                return _version is not null;
            }
        }
    }

    /// <summary>Each key with the metas of its sockets, as of now.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<JsonElement>> List()
    {
        lock (_lock)
        {
            return _state.ToDictionary(k => k.Key, k => (IReadOnlyList<JsonElement>)[.. k.Value], StringComparer.Ordinal);
        }
    }

    /// <summary>Fetches the room's state over the socket (<c>GET listPath?roomName=</c>) and applies it.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<JsonElement>>> SyncAsync(CancellationToken cancellationToken = default)
    {
        var response = await _client.GetAsync(_listPath, new { roomName = Room }, cancellationToken: cancellationToken);
        if (!response.IsSuccess)
        {
            throw new RoomsRequestException(response);
        }

        ApplyState(response.Body, response.Headers.GetValueOrDefault("Rooms-Presence-Version"));
        return List();
    }

    internal void ApplyState(JsonElement state, string? version)
    {
        var raised = new List<Action>();
        lock (_lock)
        {
            var old = _state;
            var next = Read(state);
            _state = next;
            foreach (var (key, metas) in next)
            {
                var before = old.GetValueOrDefault(key);
                var joined = metas.Where(m => before?.Exists(b => Same(b, m)) != true).ToArray();
                if (joined.Length > 0)
                {
                    raised.Add(() => Joined?.Invoke(key, before, joined));
                }
            }

            foreach (var (key, metas) in old)
            {
                var after = next.GetValueOrDefault(key);
                var left = metas.Where(m => after?.Exists(a => Same(a, m)) != true).ToArray();
                if (left.Length > 0)
                {
                    raised.Add(() => Left?.Invoke(key, after, left));
                }
            }

            _version = ParseVersion(version);
            foreach (var diff in _pending)
            {
                ApplyDiff(diff, raised);
            }

            _pending.Clear();
        }

        Raise(raised, synced: true);
    }

    internal void OnDiff(JsonElement diff)
    {
        var raised = new List<Action>();
        lock (_lock)
        {
            if (_version is null)
            {
                _pending.Add(diff.Clone());
                if (_pending.Count > MaxPendingDiffs)
                {
                    _pending.RemoveAt(0);
                }

                return;
            }

            if (!ApplyDiff(diff, raised))
            {
                return;
            }
        }

        Raise(raised, synced: true);
    }

    /// <summary>A fresh socket (not resumed) is in no room: what it knew of the room is gone.</summary>
    internal void Reset()
    {
        bool had;
        lock (_lock)
        {
            had = _state.Count > 0;
            _state = new(StringComparer.Ordinal);
            _version = null;
            _pending.Clear();
        }

        if (had)
        {
            Synced?.Invoke();
        }
    }

    private bool ApplyDiff(JsonElement diff, List<Action> raised)
    {
        var version = ParseVersion(diff.TryGetProperty("version", out var v) ? v.GetString() : null);
        if (version is { } newer && _version is { } known && newer.Epoch == known.Epoch && newer.Seq <= known.Seq)
        {
            return false;
        }

        var before = _state.ToDictionary(k => k.Key, k => (IReadOnlyList<JsonElement>)[.. k.Value], StringComparer.Ordinal);
        var lefts = new List<(string Key, JsonElement[] Metas)>();
        foreach (var (key, metas) in Read(diff.GetProperty("leaves")))
        {
            if (_state.TryGetValue(key, out var current) && metas.Where(m => current.Exists(c => Same(c, m))).ToArray() is { Length: > 0 } left)
            {
                current.RemoveAll(c => left.Any(m => Same(c, m)));
                lefts.Add((key, left));
            }
        }

        var joins = new List<(string Key, JsonElement[] Metas)>();
        foreach (var (key, metas) in Read(diff.GetProperty("joins")))
        {
            var current = _state.GetValueOrDefault(key);
            var joined = metas.Where(m => current?.Exists(c => Same(c, m)) != true).ToArray();
            if (joined.Length > 0)
            {
                var kept = current?.Where(c => !joined.Any(m => RefOf(m) == RefOf(c))) ?? [];
                _state[key] = [.. kept, .. joined];
                joins.Add((key, joined));
            }
        }

        foreach (var (key, _) in lefts)
        {
            if (_state.TryGetValue(key, out var metas) && metas.Count == 0)
            {
                _state.Remove(key);
            }
        }

        if (version is not null)
        {
            _version = version;
        }

        foreach (var (key, left) in lefts)
        {
            var after = _state.TryGetValue(key, out var metas) ? (IReadOnlyList<JsonElement>)[.. metas] : null;
            raised.Add(() => Left?.Invoke(key, after, left));
        }

        foreach (var (key, joined) in joins)
        {
            var was = before.GetValueOrDefault(key);
            raised.Add(() => Joined?.Invoke(key, was, joined));
        }

        return true;
    }

    private void Raise(List<Action> raised, bool synced)
    {
        foreach (var raise in raised)
        {
            raise();
        }

        if (synced)
        {
            Synced?.Invoke();
        }
    }

    private static Dictionary<string, List<JsonElement>> Read(JsonElement keys)
    {
        var state = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
        if (keys.ValueKind != JsonValueKind.Object)
        {
            return state;
        }

        foreach (var key in keys.EnumerateObject())
        {
            state[key.Name] = [.. key.Value.GetProperty("metas").EnumerateArray().Select(m => m.Clone())];
        }

        return state;
    }

    private static string? RefOf(JsonElement meta) => meta.TryGetProperty("ref", out var r) ? r.GetString() : null;

    private static bool Same(JsonElement a, JsonElement b) => RefOf(a) == RefOf(b) && a.GetRawText() == b.GetRawText();

    private static (string Epoch, long Seq)? ParseVersion(string? version)
    {
        var dot = version?.LastIndexOf('.') ?? -1;
        return dot > 0 && long.TryParse(version.AsSpan(dot + 1), out var seq) ? (version![..dot], seq) : null;
    }
}
