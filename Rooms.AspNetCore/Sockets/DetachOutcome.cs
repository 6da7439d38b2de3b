using System.Text.Json.Serialization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

using Orleans.Rooms.Delivery;

namespace Orleans.Rooms.Sockets;

/// <summary>What became of a resumable socket when one of its connections went.</summary>
internal enum DetachOutcome
{
    /// <summary>The socket ends with it: it never got its token, it overflowed, or its client closed it.</summary>
    Ended,

    /// <summary>It was the socket's connection: the socket is held for <see cref="RoomsOptions.ResumeWindow"/>.</summary>
    Held,

    /// <summary>The socket had already moved to a newer connection (or ended): nothing changes.</summary>
    Superseded,
}
