using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>The action wrote more than <see cref="SocketLimitsOptions.MaxResponseBytes"/> to a virtual response.</summary>
internal sealed class ResponseTooLargeException(int maxBytes)
    : IOException($"The response is over {maxBytes} bytes (Rooms:Limits:MaxResponseBytes).");
