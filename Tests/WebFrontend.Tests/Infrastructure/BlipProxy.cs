using System.Net;
using System.Net.Sockets;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of a server, to cut a client's network for real: <see cref="Sever"/> resets
/// every connection through it and, for a while, resets each new one as soon as it arrives (the client's
/// connects fail at once, as with a refused port). The server side of a severed connection is reset too, or
/// (<see cref="ServerSide.Silent"/>) left open and never read or written again: a half-dead transport that
/// the server only notices by its keep-alive time-out.
/// </summary>
public sealed class BlipProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private volatile IPEndPoint _upstream;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Pair> _pairs = [];
    private readonly List<Pair> _silenced = [];
    private readonly Task _accepting;
    private long _refusingUntil;

    public BlipProxy(Uri upstream)
    {
        _upstream = new IPEndPoint(IPAddress.Parse(upstream.Host), upstream.Port);
        _listener.Start();
        BaseAddress = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public enum ServerSide
    {
        /// <summary>The server sees its connection reset at once.</summary>
        Reset,

        /// <summary>The server sees nothing: its connection stays open and silent.</summary>
        Silent,
    }

    /// <summary>Sends connections made from now on to <paramref name="upstream"/> (another front end behind the same address).</summary>
    public void Redirect(Uri upstream) => _upstream = new IPEndPoint(IPAddress.Parse(upstream.Host), upstream.Port);

    /// <summary>The address to give clients instead of the server's.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Connections made through the proxy so far.</summary>
    public int Accepted { get; private set; }

    /// <summary>
    /// Cuts every connection now and refuses new ones for <paramref name="refuseFor"/>. Returns when the cut is
    /// done; the refusal ends by itself.
    /// </summary>
    public void Sever(TimeSpan refuseFor, ServerSide serverSide = ServerSide.Reset)
    {
        Interlocked.Exchange(ref _refusingUntil, Environment.TickCount64 + (long)refuseFor.TotalMilliseconds);
        Pair[] pairs;
        lock (_pairs)
        {
            pairs = [.. _pairs];
            _pairs.Clear();
        }

        foreach (var pair in pairs)
        {
            pair.Severed = true;
            pair.Silent = serverSide == ServerSide.Silent;
            Reset(pair.Client);
            if (pair.Silent)
            {
                lock (_silenced)
                {
                    _silenced.Add(pair);
                }
            }
            else
            {
                Reset(pair.Server);
            }
        }
    }

    /// <summary>
    /// Waits until the server has closed every WebSocket connection left silent so far (it noticed, or gave up
    /// on, them). Idle HTTP keep-alive connections (a client's negotiate) are not counted.
    /// </summary>
    public async Task WaitForServerToCloseSilencedAsync(TimeSpan within)
    {
        Task[] closed;
        lock (_silenced)
        {
            closed = [.. _silenced.Where(p => p.Upgraded).Select(p => p.ServerClosed.Task)];
        }

        try
        {
            await Task.WhenAll(closed).WaitAsync(within);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The server kept {closed.Count(t => !t.IsCompleted)} of {closed.Length} silent connections open for {within}.");
        }
    }

    public bool IsRefusing => Environment.TickCount64 < Interlocked.Read(ref _refusingUntil);

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Stop();
        await _accepting;
        Sever(TimeSpan.Zero);
        lock (_silenced)
        {
            foreach (var pair in _silenced)
            {
                Reset(pair.Server);
            }
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }

            if (IsRefusing)
            {
                Reset(client);
                continue;
            }

            Accepted++;
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        var pair = new Pair(client, server);
        try
        {
            await server.ConnectAsync(_upstream, _stopping.Token);
            lock (_pairs)
            {
                _pairs.Add(pair);
            }

            await Task.WhenAny(PumpAsync(client, server, _stopping.Token), FromServerAsync(pair, _stopping.Token));
        }
        catch (Exception)
        {
            // Cut, or the server went: either way this pair is done.
        }

        if (!pair.Severed)
        {
            // One side closed by itself: pass the close on.
            lock (_pairs)
            {
                _pairs.Remove(pair);
            }

            client.Dispose();
            server.Dispose();
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, CancellationToken cut)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, cut);
            if (read == 0)
            {
                return;
            }

            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cut);
        }
    }

    /// <summary>
    /// What the server sends goes to the client, until the pair is severed; a silent pair's server side is then
    /// read and dropped (as a network that lost the path would), until the server closes it.
    /// </summary>
    private static async Task FromServerAsync(Pair pair, CancellationToken stopping)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await pair.Server.ReceiveAsync(buffer, SocketFlags.None, stopping);
                if (read == 0)
                {
                    return;
                }

                if (!pair.Answered)
                {
                    pair.Answered = true;
                    pair.Upgraded = buffer.AsSpan(0, read).StartsWith("HTTP/1.1 101 "u8);
                }

                if (!pair.Silent)
                {
                    try
                    {
                        await pair.Client.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, stopping);
                    }
                    catch (Exception) when (pair.Silent)
                    {
                        // Severed while sending: from now on, drop.
                    }
                }
            }
        }
        finally
        {
            pair.ServerClosed.TrySetResult();
        }
    }

    /// <summary>Closes with a TCP reset, as a lost network path or a crashed peer looks to the other side.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception)
        {
            // Already closed.
        }

        socket.Dispose();
    }

    private sealed class Pair(Socket client, Socket server)
    {
        public Socket Client { get; } = client;

        public Socket Server { get; } = server;

        /// <summary>Set by <see cref="Sever"/>, which decides what becomes of both sides.</summary>
        public volatile bool Severed;

        /// <summary>Severed with the server side left open: what the server sends is dropped.</summary>
        public volatile bool Silent;

        /// <summary>The server answered at least once.</summary>
        public bool Answered;

        /// <summary>The server's first answer switched the connection to WebSocket.</summary>
        public volatile bool Upgraded;

        /// <summary>Completes when the server side is closed (or failed).</summary>
        public TaskCompletionSource ServerClosed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
