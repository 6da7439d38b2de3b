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

    /// <summary>
    /// Every live process (zombies have ended) whose working folder or one of whose open files is inside
    /// <paramref name="folder"/>, this test process aside: what a cluster's <c>down</c> left behind, found from the
    /// kernel rather than from what the script printed or recorded. Each server of the script writes its log into
    /// the state folder (a deleted one still shows, with " (deleted)"), and redis-server works in it.
    /// </summary>
    public static IReadOnlyList<string> Holding(string folder)
    {
        var prefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)) + "/";
        var found = new List<string>();
        foreach (var entry in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == Environment.ProcessId || Stat(pid) is not { State: not "Z" })
            {
                continue;
            }

            try
            {
                var paths = System.IO.Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Append($"/proc/{pid}/cwd")
                    .Select(link => new FileInfo(link).LinkTarget ?? "");
                if (paths.FirstOrDefault(path => (path + "/").StartsWith(prefix, StringComparison.Ordinal)) is { } held)
                {
                    var command = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
                    found.Add($"pid {pid} ({command}) holds {held}");
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // It ended while being looked at.
            }
        }

        return found;
    }

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
