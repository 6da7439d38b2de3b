using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Orleans.Rooms.Samples.Tests.Infrastructure;

/// <summary>
/// A process a test started (a sample app, redis-server, dotnet build): its output kept for the failure message,
/// a line it prints awaited with a bound, and it is killed (with what it started) on dispose unless it has ended.
/// </summary>
public sealed class StartedProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Seen)> _awaited = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private StartedProcess(string name, ProcessStartInfo start)
    {
        Name = name;
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => _exited.TrySetResult();
    }

    /// <summary>What the test calls this process in its messages.</summary>
    public string Name { get; }

    /// <summary>Everything it printed so far, stdout and stderr interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/>; <paramref name="environment"/> entries with a null value are removed.</summary>
    public static StartedProcess Start(string name, string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // A dotnet started by a test must not inherit the test host's MSBuild (its SDK and nodes are the test run's).
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        var started = new StartedProcess(name, start);
        started._process.Start();
        started._process.BeginOutputReadLine();
        started._process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Waits, at most <paramref name="within"/>, for a line matching <paramref name="pattern"/> (printed before or after this call).</summary>
    public async Task<Match> LineAsync(string pattern, TimeSpan within)
    {
        var seen = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        var regex = new Regex(pattern);
        lock (_output)
        {
            if (regex.Match(_output.ToString()) is { Success: true } already)
            {
                return already;
            }

            _awaited.Add((regex, seen));
        }

        string why;
        try
        {
            if (await Task.WhenAny(seen.Task, _exited.Task).WaitAsync(within) == seen.Task)
            {
                return await seen.Task;
            }

            why = $"it exited with code {_process.ExitCode}";
        }
        catch (TimeoutException)
        {
            why = $"not within {within.TotalSeconds:F0} s";
        }

        throw new TimeoutException($"{Name} printed no line matching /{pattern}/: {why}. Its output:\n{Output}");
    }

    /// <summary>Waits, at most <paramref name="within"/>, for it to exit, and returns its exit code.</summary>
    public async Task<int> ExitAsync(TimeSpan within)
    {
        try
        {
            await _exited.Task.WaitAsync(within);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name} did not exit within {within.TotalSeconds:F0} s. Its output:\n{Output}");
        }

        _process.WaitForExit(); // the last lines of its output
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await ExitAsync(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var (pattern, seen) in _awaited)
            {
                if (pattern.Match(line) is { Success: true } match)
                {
                    seen.TrySetResult(match);
                }
            }
        }
    }
}
