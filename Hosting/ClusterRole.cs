using System.Net;

namespace Orleans.Rooms.Hosting;

/// <summary>How this process is placed in the Orleans cluster.</summary>
public enum ClusterRole
{
    /// <summary>A front end with a silo in the same process, alone on localhost clustering (the default).</summary>
    Embedded,

    /// <summary>A front end that is an Orleans client of a cluster of stand-alone silos on Redis.</summary>
    Client,
}
