namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// A process the cluster script started, named by its pid and the kernel's start time of that pid, so that
/// a pid the kernel has handed to a new process since is not mistaken for it.
/// </summary>
public sealed record ServerProcess(string Kind, int Pid, string StartTime)
{
    public static ServerProcess Of(string kind, int pid)
        => Stat(pid) is { State: not "Z" } stat
            ? new ServerProcess(kind, pid, stat.StartTime)
            : throw new InvalidOperationException($"The cluster script printed {kind} {pid}, but no such process runs.");

    /// <summary>True while this very process runs (a zombie has ended).</summary>
    public bool IsRunning() => Stat(Pid) is { State: not "Z" } stat && stat.StartTime == StartTime;

    public override string ToString() => $"{Kind} {Pid}";

    private static (string State, string StartTime)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }

        // Fields after the command name (which may hold spaces, inside parentheses): state is the 3rd, starttime the 22nd.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0], fields[19]);
    }
}
