using System.Collections;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Features.Authentication;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// The features of one virtual request, reused from request to request as Kestrel reuses a connection's
/// (<see cref="HostApplication"/> pools them, with the host's <c>HttpContext</c>): the request, lifetime, user,
/// connection and body-detection features are this object, the request's id is the caller's, the response is <see cref="Response"/>, and what
/// the pipeline adds (routing's endpoint, the DI scope, items) is held until <see cref="Reset"/>.
/// </summary>
/// <remarks>
/// As with Kestrel's, an app must not keep a request's <c>HttpContext</c> or its features past the request's end.
/// </remarks>
internal class VirtualRequestFeatures : IFeatureCollection, IHttpRequestFeature, IHttpRequestLifetimeFeature, IHttpAuthenticationFeature, IHttpConnectionFeature, IHttpRequestBodyDetectionFeature
{
    // The features in force, own and added, found by a scan: a request has about a dozen, and most are read once
    // (the HttpContext caches what it reads).
    private readonly List<KeyValuePair<Type, object>> _features = new(16);
    private readonly IHeaderDictionary _headers = new HeaderDictionary();
    private readonly TimeProvider _time;
    private VirtualRequest? _request;
    private Stream? _body;

    // RequestAborted's source, kept from request to request as Kestrel keeps a connection's: its time-out is re-armed
    // and its socket's end registered for each request, so a request makes no token source, timer or link of its own.
    private CancellationTokenSource _aborted;
    private CancellationTokenRegistration _onSocketGone;
    private CancellationToken _socketGone;

    public VirtualRequestFeatures(int maxResponseBytes, TimeProvider time)
    {
        _time = time;
        _aborted = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        Response = new VirtualResponseFeature(maxResponseBytes);
        Reset();
    }

    /// <summary>The response: status, headers and a capped body in memory.</summary>
    public VirtualResponseFeature Response { get; }

    /// <summary>
    /// Sets up the next request: its request line, headers and body, who sent it, and the connection it came on
    /// (a copy: the request must not change, or be changed through, the socket's own connection). Its
    /// <see cref="RequestAborted"/> is cancelled after <paramref name="timeout"/> or when <paramref name="socketGone"/> is.
    /// </summary>
    public void Start(VirtualRequest request, string scheme, string host, ClaimsPrincipal user, TimeSpan timeout, CancellationToken socketGone, IHttpRequestIdentifierFeature identifier, ISocketRequestFeature socket, IHttpConnectionFeature? connection)
    {
        Method = request.Method;
        Scheme = scheme;
        Path = request.Path;
        QueryString = request.Query;
        RawTarget = request.RawTarget;
        foreach (var (name, value) in request.Headers)
        {
            _headers[name] = value;
        }

        _headers.Host = host;
        if (request.BodyLength is { } length)
        {
            _request = request;
            _headers.ContentType = request.ContentType;
            _headers.ContentLength = length;
            CanHaveBody = true;
        }

        User = user;
        _aborted.CancelAfter(timeout);
        _socketGone = socketGone;
        _onSocketGone = socketGone.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), _aborted);
        RequestAborted = _aborted.Token;
        Set(typeof(IHttpRequestIdentifierFeature), identifier);
        Set(typeof(ISocketRequestFeature), socket);
        if (connection is not null)
        {
            ConnectionId = connection.ConnectionId;
            RemoteIpAddress = connection.RemoteIpAddress;
            RemotePort = connection.RemotePort;
            LocalIpAddress = connection.LocalIpAddress;
            LocalPort = connection.LocalPort;
            Set(typeof(IHttpConnectionFeature), this);
        }
    }

    /// <summary>True when the request's time-out cancelled it (rather than its socket's end).</summary>
    public bool TimedOut => _aborted.IsCancellationRequested && !_socketGone.IsCancellationRequested;

    /// <summary>Forgets the request: only this object's own features and an empty response are left.</summary>
    public void Reset()
    {
        // Disposing the registration waits for a cancellation by the socket's end under way; a source that was
        // cancelled cannot be reset, and is replaced.
        _onSocketGone.Dispose();
        _onSocketGone = default;
        _socketGone = default;
        if (!_aborted.TryReset())
        {
            _aborted.Dispose();
            _aborted = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        }

        Protocol = "HTTP/1.1";
        Scheme = "http";
        Method = "GET";
        PathBase = string.Empty;
        Path = string.Empty;
        QueryString = string.Empty;
        RawTarget = string.Empty;
        _headers.Clear();
        Headers = _headers;
        _request = null;
        _body = null;
        RequestAborted = default;
        User = null;
        ConnectionId = string.Empty;
        RemoteIpAddress = LocalIpAddress = null;
        RemotePort = LocalPort = 0;
        CanHaveBody = false;
        Response.Reset();

        _features.Clear();
        _features.Add(new(typeof(IHttpRequestFeature), this));
        _features.Add(new(typeof(IHttpRequestLifetimeFeature), this));
        _features.Add(new(typeof(IHttpAuthenticationFeature), this));
        _features.Add(new(typeof(IHttpRequestBodyDetectionFeature), this));
        _features.Add(new(typeof(IHttpResponseFeature), Response));
        _features.Add(new(typeof(IHttpResponseBodyFeature), Response));
        Revision++;
    }

    // IFeatureCollection

    public bool IsReadOnly => false;

    public int Revision { get; private set; }

    public object? this[Type key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            foreach (var (type, feature) in _features)
            {
                if (type == key)
                {
                    return feature;
                }
            }

            return null;
        }

        set => Set(key, value);
    }

    public TFeature? Get<TFeature>() => (TFeature?)this[typeof(TFeature)];

    public void Set<TFeature>(TFeature? instance) => Set(typeof(TFeature), instance);

    public IEnumerator<KeyValuePair<Type, object>> GetEnumerator() => _features.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void Set(Type key, object? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        var index = _features.Count - 1;
        while (index >= 0 && _features[index].Key != key)
        {
            index--;
        }

        if (value is null)
        {
            if (index >= 0)
            {
                _features.RemoveAt(index);
            }
        }
        else if (index >= 0)
        {
            _features[index] = new(key, value);
        }
        else
        {
            _features.Add(new(key, value));
        }

        Revision++;
    }

    // IHttpRequestFeature

    public string Protocol { get; set; } = "HTTP/1.1";

    public string Scheme { get; set; } = "http";

    public string Method { get; set; } = "GET";

    public string PathBase { get; set; } = string.Empty;

    public string Path { get; set; } = string.Empty;

    public string QueryString { get; set; } = string.Empty;

    public string RawTarget { get; set; } = string.Empty;

    public IHeaderDictionary Headers { get; set; } = null!;

    /// <summary>The body, opened when first read (most actions bind the parsed JSON instead).</summary>
    public Stream Body
    {
        get => _body ??= _request?.OpenBody() ?? Stream.Null;
        set => _body = value;
    }

    // IHttpRequestLifetimeFeature: the request's time-out or its socket's end cancels it.

    public CancellationToken RequestAborted { get; set; }

    public void Abort()
    {
    }

    // IHttpAuthenticationFeature

    public ClaimsPrincipal? User { get; set; }

    // IHttpConnectionFeature (present only when the socket came over a connection)

    public string ConnectionId { get; set; } = string.Empty;

    public IPAddress? RemoteIpAddress { get; set; }

    public IPAddress? LocalIpAddress { get; set; }

    public int RemotePort { get; set; }

    public int LocalPort { get; set; }

    // IHttpRequestBodyDetectionFeature: tells body binding whether to read a body at all.

    public bool CanHaveBody { get; private set; }
}
