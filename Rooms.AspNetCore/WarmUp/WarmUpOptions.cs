namespace Orleans.Rooms.WarmUp;

/// <summary>
/// The warm-up a front end runs at start (<see cref="RoomsServiceCollectionExtensions.AddRoomsWarmUp"/>), bound
/// from section <c>Rooms:WarmUp</c>: <c>Enabled</c>, <c>Sockets</c>, <c>Cycles</c>, <c>Duration</c>, <c>ReadyWithin</c>, <c>QuietBelow</c>,
/// <c>OverLoopback</c>, <c>Timeout</c>.
/// </summary>
public sealed class WarmUpOptions : ISelfValidatingOptions
{
    /// <summary>The configuration section these settings are bound from: <c>Rooms:WarmUp</c>.</summary>
    public const string SectionName = "Rooms:WarmUp";

    /// <summary>Most cycles a socket may run: each is a few requests, and a socket may send at most 1,000 a second by default.</summary>
    public const int MaxCycles = 250;

    /// <summary>Whether the front end warms up before it reports ready.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>In-process sockets that run their cycles side by side.</summary>
    public int Sockets { get; set; } = 4;

    /// <summary>Cycles each socket runs.</summary>
    public int Cycles { get; set; } = 50;

    /// <summary>
    /// The least time the sockets run cycles (more than <see cref="Cycles"/> if need be): long enough for the runtime
    /// to recompile the hot methods with their profile (tiered compilation), so the first clients meet optimized code.
    /// </summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// How long after the process started the warm-up may go on past <see cref="Duration"/> while the runtime is
    /// still compiling (it goes on until the JIT compiled fewer than <see cref="QuietBelow"/> methods in
    /// <see cref="QuietWindow"/>): on a slow or busy machine the recompilation of the hot methods lags the cycles, and
    /// a server that lets clients in before it is done serves their first seconds on slower code. Zero: never past
    /// <see cref="Duration"/>. The default keeps <c>/readyz</c> within 10 s of the process starting.
    /// </summary>
    public TimeSpan ReadyWithin { get; set; } = TimeSpan.FromSeconds(9);

    /// <summary>The JIT counts as quiet once it compiled fewer methods than this in the last <see cref="QuietWindow"/>.</summary>
    public int QuietBelow { get; set; } = 20;

    /// <summary>The window <see cref="QuietBelow"/> counts compiled methods over.</summary>
    internal static readonly TimeSpan QuietWindow = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Whether the sockets connect as clients do, over loopback to this server's own HTTP address (negotiation,
    /// WebSocket, Kestrel: the whole path a client's request takes), rather than in-process. In-process when the
    /// server listens on no plain-HTTP address.
    /// </summary>
    public bool OverLoopback { get; set; } = true;

    /// <summary>The longest the warm-up may take once the front end is attached; past it, it reports ready without.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <inheritdoc />
    public string? Validate()
    {
        if (Sockets is < 1 or > 64)
        {
            return $"Rooms:WarmUp:Sockets must be from 1 to 64 (was {Sockets}).";
        }

        if (Cycles is < 1 or > MaxCycles)
        {
            return $"Rooms:WarmUp:Cycles must be from 1 to {MaxCycles} (was {Cycles}).";
        }

        if (Duration < TimeSpan.Zero || Duration > TimeSpan.FromMinutes(1))
        {
            return $"Rooms:WarmUp:Duration must be from 00:00:00 to 00:01:00 (was {Duration}).";
        }

        if (ReadyWithin < TimeSpan.Zero || ReadyWithin > TimeSpan.FromMinutes(1))
        {
            return $"Rooms:WarmUp:ReadyWithin must be from 00:00:00 to 00:01:00 (was {ReadyWithin}).";
        }

        if (QuietBelow is < 1 or > 100_000)
        {
            return $"Rooms:WarmUp:QuietBelow must be from 1 to 100000 (was {QuietBelow}).";
        }

        if (Timeout < TimeSpan.FromSeconds(1) || Timeout > TimeSpan.FromMinutes(5))
        {
            return $"Rooms:WarmUp:Timeout must be from 00:00:01 to 00:05:00 (was {Timeout}).";
        }

        return null;
    }
}
