using Microsoft.AspNetCore.Http;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Membership;

/// <summary>
/// "A socket" as Sails takes it: a socket id, the current socket request, or a list of either.
/// Converts implicitly from <see cref="string"/>, <see cref="string"/>[], <see cref="List{T}"/> of string
/// and <see cref="HttpContext"/>; <see cref="Many"/> mixes them and <see cref="FromIds"/> takes any sequence of ids.
/// </summary>
public readonly struct SocketTarget
{
    private readonly string? _id;
    private readonly HttpContext? _request;
    private readonly SocketTarget[]? _many;

    private SocketTarget(string? id, HttpContext? request, SocketTarget[]? many)
    {
        _id = id;
        _request = request;
        _many = many;
    }

    public static implicit operator SocketTarget(string socketId) => new(socketId ?? throw new ArgumentNullException(nameof(socketId)), null, null);

    public static implicit operator SocketTarget(HttpContext request) => new(null, request ?? throw new ArgumentNullException(nameof(request)), null);

    public static implicit operator SocketTarget(string[] socketIds) => FromIds(socketIds);

    public static implicit operator SocketTarget(List<string> socketIds) => FromIds(socketIds);

    public static SocketTarget FromIds(IEnumerable<string> socketIds)
        => new(null, null, [.. (socketIds ?? throw new ArgumentNullException(nameof(socketIds))).Select(id => (SocketTarget)id)]);

    public static SocketTarget Many(params IEnumerable<SocketTarget> sockets)
        => new(null, null, [.. sockets ?? throw new ArgumentNullException(nameof(sockets))]);

    /// <summary>True when this names exactly one socket (an id or a socket request).</summary>
    internal bool IsSingle => _many is null;

    /// <summary>The distinct socket ids, in the order given. Throws when a request is not a socket request or an id is empty.</summary>
    internal string[] Resolve(string paramName)
    {
        if (_many is null)
        {
            return [ResolveOne(paramName)];
        }

        var ids = new List<string>(_many.Length);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var target in _many)
        {
            foreach (var id in target.Resolve(paramName))
            {
                if (seen.Add(id))
                {
                    ids.Add(id);
                }
            }
        }

        return [.. ids];
    }

    private string ResolveOne(string paramName)
    {
        if (_request is not null)
        {
            return _request.Features.Get<ISocketRequestFeature>()?.SocketId
                ?? throw new NotASocketRequestException(paramName);
        }

        if (string.IsNullOrEmpty(_id))
        {
            throw new ArgumentException("A socket id must not be empty.", paramName);
        }

        return _id;
    }
}
