using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// A logger provider that keeps every entry with its structured fields, those of its scopes included, for
/// tests of what the server logs.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<Entry> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries, () => _scopes);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    public sealed record Entry(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Fields);

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries, Func<IExternalScopeProvider> scopes) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => scopes().Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = new Dictionary<string, object?>();
            scopes().ForEachScope((scope, _) => Add(fields, scope), (object?)null);
            Add(fields, state);
            entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), fields));
        }

        private static void Add(Dictionary<string, object?> fields, object? state)
        {
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    fields[key] = value;
                }
            }
        }
    }
}
