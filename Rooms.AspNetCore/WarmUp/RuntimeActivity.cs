using System.Diagnostics;
using System.Runtime;

namespace Orleans.Rooms.WarmUp;

/// <summary>
/// What the warm-up reads of the runtime to know when to stop (<see cref="StartupWarmUp"/>): when this process started
/// and how many methods the JIT has compiled so far. Tests replace it to play a JIT that never goes quiet, or one that
/// is quiet at once.
/// </summary>
internal class RuntimeActivity
{
    private readonly Lazy<DateTimeOffset> _processStarted = new(() =>
    {
        using var process = Process.GetCurrentProcess();
        return process.StartTime.ToUniversalTime();
    });

    public virtual DateTimeOffset ProcessStarted => _processStarted.Value;

    /// <summary>Methods compiled by the JIT since the process started, on every thread (each tier of a method counts).</summary>
    public virtual long CompiledMethods => JitInfo.GetCompiledMethodCount();

    /// <summary>The time the JIT has spent compiling since the process started.</summary>
    public virtual TimeSpan CompilationTime => JitInfo.GetCompilationTime();
}
