using Orleans.Rooms.FrontEnds;

namespace Orleans.Rooms;

/// <summary>Settings of a web front end, bound from <c>Rooms:FrontEnd</c>.</summary>
public sealed class FrontEndOptions : ISelfValidatingOptions
{
    /// <summary>The configuration section these settings are bound from: <c>Rooms:FrontEnd</c>.</summary>
    public const string SectionName = "Rooms:FrontEnd";

    /// <summary>This front end's id in the cluster; a new one is made at start when empty.</summary>
    public string? Id { get; set; }

    /// <summary>
    /// How long the cluster keeps this front end without hearing from it. A front end that dies without a
    /// goodbye has its sockets purged from every room within about this long plus a second.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How often the lease is renewed. Each renewal also tells the front end whether a silo left the cluster
    /// (or its front-end grain lost its memory), upon which it rebuilds its sockets' memberships.
    /// </summary>
    public TimeSpan RenewEvery { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a room this front end no longer holds members of stays listed for it before it is delisted (in a
    /// batch): a socket that leaves and joins again within it costs the cluster nothing.
    /// </summary>
    public TimeSpan EmptyRoomLinger { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a call into the cluster is retried while the cluster heals (a silo stopping rejects calls for a
    /// few seconds; a dead one is noticed within about 10 s); past it, the call's caller sees the error.
    /// </summary>
    public TimeSpan ClusterRetryFor { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a front end that stops gracefully (SIGTERM) waits, after telling its resumable clients to move, for
    /// their sockets to move to other front ends of the cluster before it detaches; what is still here then is
    /// disconnected (docs/design.md, "Draining"). Zero: no wait.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether this front end keeps a record of each resumable socket (its rooms, its resume tokens) and the
    /// events it delivers to them in the cluster, so that such a socket resumes on another front end when this
    /// one dies (docs/design.md, "Surviving a front end"). Off makes a front end's sockets die with it; the
    /// embedded shape turns it off (its silo dies with it anyway).
    /// </summary>
    public bool KeepSocketsInCluster { get; set; } = true;

    /// <summary>At most this many bytes of events kept in the cluster for this front end's resumable sockets (oldest dropped first).</summary>
    public long KeptEventsMaxBytes { get; set; } = 16 * 1024 * 1024;

    /// <inheritdoc />
    public string? Validate()
    {
        if (Id is { Length: 0 or > 200 })
        {
            return $"Rooms:FrontEnd:Id must be 1 to 200 characters when set (was {Id.Length}).";
        }

        if (Lease < TimeSpan.FromSeconds(1))
        {
            return $"Rooms:FrontEnd:Lease must be at least 00:00:01 (was {Lease}).";
        }

        var most = Lease / 2 < FrontEndRenewal.MaxPeriod ? Lease / 2 : FrontEndRenewal.MaxPeriod;
        if (RenewEvery < TimeSpan.FromMilliseconds(100) || RenewEvery > most)
        {
            return $"Rooms:FrontEnd:RenewEvery must be from 00:00:00.1 to {most} (half of Rooms:FrontEnd:Lease, at most {FrontEndRenewal.MaxPeriod}) (was {RenewEvery}).";
        }

        if (EmptyRoomLinger < TimeSpan.Zero || EmptyRoomLinger > TimeSpan.FromMinutes(1))
        {
            return $"Rooms:FrontEnd:EmptyRoomLinger must be from 00:00:00 to 00:01:00 (was {EmptyRoomLinger}).";
        }

        if (ClusterRetryFor < TimeSpan.Zero || ClusterRetryFor > TimeSpan.FromMinutes(5))
        {
            return $"Rooms:FrontEnd:ClusterRetryFor must be from 00:00:00 to 00:05:00 (was {ClusterRetryFor}).";
        }

        if (KeptEventsMaxBytes < 64 * 1024)
        {
            return $"Rooms:FrontEnd:KeptEventsMaxBytes must be at least 65536 (was {KeptEventsMaxBytes}).";
        }

        if (DrainTimeout < TimeSpan.Zero || DrainTimeout > TimeSpan.FromMinutes(5))
        {
            return $"Rooms:FrontEnd:DrainTimeout must be from 00:00:00 to 00:05:00 (was {DrainTimeout}).";
        }

        return null;
    }
}
