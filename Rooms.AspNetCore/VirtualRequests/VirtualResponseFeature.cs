using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Orleans.Rooms.VirtualRequests;

/// <summary>
/// The response side of a virtual request: status, headers and a body kept in memory, at most
/// a given number of bytes of it (a write past that throws <see cref="ResponseTooLargeException"/>).
/// Reused from request to request (<see cref="Reset"/>), with its request's <see cref="VirtualRequestFeatures"/>.
/// </summary>
internal sealed class VirtualResponseFeature : IHttpResponseFeature, IHttpResponseBodyFeature
{
    /// <summary>A body buffer up to this size is kept for the next response; a larger one is let go.</summary>
    private const int KeptBodyBytes = 16 * 1024;

    private readonly HeaderDictionary _headers = new();
    private readonly int _maxBytes;
    private CappedStream _body;
    private IHeaderDictionary? _replacedHeaders;
    private readonly List<(Func<object, Task> Callback, object State)> _onStarting = [];
    private readonly List<(Func<object, Task> Callback, object State)> _onCompleted = [];
    private readonly BodyWriter _writer;
    private bool _started;

    public VirtualResponseFeature(int maxBytes)
    {
        _maxBytes = maxBytes;
        _body = new CappedStream(maxBytes);
        _writer = new BodyWriter(this);
    }

    public int StatusCode { get; set; } = StatusCodes.Status200OK;

    public string? ReasonPhrase { get; set; }

    public IHeaderDictionary Headers
    {
        get => _replacedHeaders ?? _headers;
        set => _replacedHeaders = value;
    }

    public Stream Body
    {
        get => _body;
        set => throw new NotSupportedException("The body of a virtual response cannot be replaced.");
    }

    public bool HasStarted => _started || _body.Length > 0;

    public Stream Stream => _body;

    public PipeWriter Writer => _writer;

    public void OnStarting(Func<object, Task> callback, object state) => _onStarting.Add((callback, state));

    public void OnCompleted(Func<object, Task> callback, object state) => _onCompleted.Add((callback, state));

    public void DisableBuffering()
    {
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        for (var i = _onStarting.Count - 1; i >= 0; i--)
        {
            await _onStarting[i].Callback(_onStarting[i].State);
        }
    }

    public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken);
        await using var file = File.OpenRead(path);
        file.Seek(offset, SeekOrigin.Begin);
        if (count is { } length)
        {
            var buffer = new byte[length];
            await file.ReadExactlyAsync(buffer, cancellationToken);
            await _body.WriteAsync(buffer, cancellationToken);
        }
        else
        {
            await file.CopyToAsync(_body, cancellationToken);
        }
    }

    public async Task CompleteAsync()
    {
        await StartAsync();
    }

    public async Task FireOnCompletedAsync()
    {
        for (var i = _onCompleted.Count - 1; i >= 0; i--)
        {
            await _onCompleted[i].Callback(_onCompleted[i].State);
        }
    }

    public byte[] GetBody() => _body.ToArray();

    /// <summary>Empties the response for the next request.</summary>
    public void Reset()
    {
        StatusCode = StatusCodes.Status200OK;
        ReasonPhrase = null;
        _headers.Clear();
        _replacedHeaders = null;
        if (_body.Capacity > KeptBodyBytes)
        {
            _body = new CappedStream(_maxBytes);
        }
        else
        {
            _body.Clear();
        }

        _onStarting.Clear();
        _onCompleted.Clear();
        _writer.Reset();
        _started = false;
    }

    /// <summary>True when the action tried to write more than the cap.</summary>
    public bool TooLarge => _body.Exceeded;

    /// <summary>
    /// The body as a <see cref="PipeWriter"/>, writing through to the body stream as each write is advanced (so a
    /// write over the cap throws there, and writes through the stream and the writer keep their order). Kept with
    /// the response from request to request, as are its scratch buffer up to <see cref="KeptBodyBytes"/>.
    /// </summary>
    private sealed class BodyWriter(VirtualResponseFeature response) : PipeWriter
    {
        private const int MinimumBuffer = 4096;

        private byte[] _scratch = [];
        private bool _completed;

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes => 0;

        public override Memory<byte> GetMemory(int sizeHint = 0) => Scratch(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => Scratch(sizeHint);

        public override void Advance(int bytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(bytes);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, _scratch.Length);
            response._body.Write(_scratch, 0, bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
            => ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: _completed));

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null) => _completed = true;

        public void Reset()
        {
            _completed = false;
            if (_scratch.Length > KeptBodyBytes)
            {
                _scratch = [];
            }
        }

        private byte[] Scratch(int sizeHint)
        {
            var size = Math.Max(sizeHint, MinimumBuffer);
            if (_scratch.Length < size)
            {
                _scratch = new byte[size];
            }

            return _scratch;
        }
    }

    private sealed class CappedStream(int maxBytes) : MemoryStream
    {
        public bool Exceeded { get; private set; }

        public void Clear()
        {
            SetLength(0);
            Exceeded = false;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Check(count);
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Check(buffer.Length);
            base.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Check(count);
            return base.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Check(buffer.Length);
            return base.WriteAsync(buffer, cancellationToken);
        }

        public override void WriteByte(byte value)
        {
            Check(1);
            base.WriteByte(value);
        }

        private void Check(int count)
        {
            if (Length + count > maxBytes)
            {
                Exceeded = true;
                throw new ResponseTooLargeException(maxBytes);
            }
        }
    }
}
