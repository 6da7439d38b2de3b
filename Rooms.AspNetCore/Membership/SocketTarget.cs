using Microsoft.AspNetCore.Http;
using Orleans.Rooms.Errors;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.Membership;

/// <summary>
/// "A socket" as Sails takes it: a socket id, the current socket request, or a list of either.
/// Converts implicitly from <see cref="string"/>, <see cref="string"/>[], <see cref="List{T}"/> of string
/// and <see cref="HttpContext"/>; <see cref="Many"/> mixes them and <see cref="FromIds"/> takes any sequence of ids.
/// A null id or request is <see cref="None"/>: no socket, which an <c>except</c> takes as "leave nobody out"
/// (<c>except: http.IsSocketRequest() ? http : null</c>) and a call that needs a socket refuses, naming its parameter.
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

    /// <summary>No socket.</summary>
    public static SocketTarget None => default;

    /// <summary>The socket of this id; null: <see cref="None"/>.</summary>
    public static implicit operator SocketTarget(string? socketId) => socketId is null ? None : new(socketId, null, null);

    /// <summary>The socket that sent this request (it must be a socket request); null: <see cref="None"/>.</summary>
    public static implicit operator SocketTarget(HttpContext? request) => request is null ? None : new(null, request, null);

    /// <summary>The sockets of these ids.</summary>
    public static implicit operator SocketTarget(string[] socketIds) => FromIds(socketIds);

    /// <summary>The sockets of these ids.</summary>
    public static implicit operator SocketTarget(List<string> socketIds) => FromIds(socketIds);

    /// <summary>The sockets of these ids.</summary>
    public static SocketTarget FromIds(IEnumerable<string> socketIds)
        => new(null, null, [.. (socketIds ?? throw new ArgumentNullException(nameof(socketIds))).Select(id => (SocketTarget)id)]);

    /// <summary>Every socket that any of <paramref name="sockets"/> names.</summary>
    public static SocketTarget Many(params IEnumerable<SocketTarget> sockets)
        => new(null, null, [.. sockets ?? throw new ArgumentNullException(nameof(sockets))]);

    /// <summary>True when this names exactly one socket (an id or a socket request).</summary>
    internal bool IsSingle => _many is null;

    /// <summary>The socket request this names, if it is one.</summary>
    internal HttpContext? Request => _many is null ? _request : null;

    /// <summary>True for <see cref="None"/>.</summary>
    internal bool IsNone => _id is null && _request is null && _many is null;

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

        if (_id is null)
        {
            throw RoomsErrors.Refusal("No socket was given (null): name a socket id or pass the socket request.", paramName);
        }

        if (_id.Length == 0)
        {
            throw RoomsErrors.Refusal("A socket id must not be empty.", paramName);
        }

        return _id;
    }
}
