using System.Diagnostics;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// deploy/haproxy/haproxy.cfg as HAProxy reads it for one shape: its conditional blocks (<c>.if defined(VAR)</c>,
/// <c>.else</c>, <c>.endif</c>, the only ones the file uses) resolved for the environment variables given, comments and
/// blank lines dropped, each section's lines (keyword and arguments, split at spaces) under its header.
/// </summary>
public sealed class HaproxyConfig
{
    private HaproxyConfig(IReadOnlyDictionary<string, IReadOnlyList<string[]>> sections) => Sections = sections;

    /// <summary>Each section by its header (<c>global</c>, <c>defaults</c>, <c>backend frontends</c>, ...).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string[]>> Sections { get; }

    public static HaproxyConfig Load(string path, IReadOnlySet<string> defined)
    {
        var sections = new Dictionary<string, List<string[]>>();
        List<string[]>? current = null;
        var taken = new Stack<(bool Taking, bool Enclosing)>(); // per open .if: whether its branch is taken, and whether the blocks around it are
        var taking = true;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Split('#')[0].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (words[0])
            {
                case ".if":
                    var condition = string.Join(' ', words[1..]);
                    if (!condition.StartsWith("defined(", StringComparison.Ordinal) || !condition.EndsWith(')'))
                    {
                        throw new FormatException($"{path}: only .if defined(VAR) is read here, not '{line}'");
                    }

                    var branch = defined.Contains(condition["defined(".Length..^1]);
                    taken.Push((branch, taking));
                    taking = taking && branch;
                    continue;
                case ".else":
                    var (was, enclosing) = taken.Pop();
                    taken.Push((!was, enclosing));
                    taking = enclosing && !was;
                    continue;
                case ".endif":
                    taking = taken.Pop().Enclosing;
                    continue;
            }

            if (!taking)
            {
                continue;
            }

            if (!char.IsWhiteSpace(raw[0]))
            {
                current = [];
                sections[line] = current;
                continue;
            }

            (current ?? throw new FormatException($"{path}: '{line}' comes before any section")).Add(words);
        }

        return new HaproxyConfig(sections.ToDictionary(s => s.Key, s => (IReadOnlyList<string[]>)s.Value));
    }

    /// <summary>
    /// Runs <c>haproxy -c</c> on the file with <paramref name="environment"/> set; null when it is valid, else what
    /// HAProxy said.
    /// </summary>
    public static string? Check(string path, IReadOnlyDictionary<string, string> environment)
    {
        var haproxy = File.Exists("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : "haproxy";
        var start = new ProcessStartInfo(haproxy) { ArgumentList = { "-c", "-f", path }, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var check = Process.Start(start) ?? throw new InvalidOperationException($"{haproxy} did not start: install it (apt-get install haproxy)");
        var said = check.StandardOutput.ReadToEnd() + check.StandardError.ReadToEnd();
        check.WaitForExit();
        return check.ExitCode == 0 ? null : $"haproxy -c -f {path} exited with {check.ExitCode}:\n{said}";
    }

    /// <summary>The lines of section <paramref name="header"/> whose keyword is <paramref name="keyword"/> (arguments after it).</summary>
    public IReadOnlyList<string[]> Lines(string header, string keyword)
        => Sections.TryGetValue(header, out var lines) ? [.. lines.Where(l => l[0] == keyword).Select(l => l[1..])] : [];
}
