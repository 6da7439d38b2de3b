using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>A request parameter is missing or has the wrong shape; the message names it. The library answers it 400.</summary>
/// <param name="parameter">The name of the parameter.</param>
/// <param name="message">What is wrong with it.</param>
public sealed class BadParameterException(string parameter, string message) : Exception(message)
{
    /// <summary>The name of the parameter.</summary>
    public string Parameter { get; } = parameter;
}
