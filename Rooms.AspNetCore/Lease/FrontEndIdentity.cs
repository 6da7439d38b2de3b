using Microsoft.Extensions.Options;

namespace Orleans.Rooms.Lease;

/// <summary>The id under which this front end's sockets are registered and its batches addressed.</summary>
internal sealed class FrontEndIdentity(IOptions<FrontEndOptions> options)
{
    public string Id { get; } = string.IsNullOrEmpty(options.Value.Id) ? $"fe-{Environment.MachineName}-{Guid.NewGuid():N}" : options.Value.Id;
}
