using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Orleans.Runtime;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// One cluster as <c>scripts/cluster up</c> starts it (real redis-server, stand-alone silos, front ends as
/// Orleans clients, HAProxy in front of them, all separate processes), in a state folder of its own; the faults
/// and changes a test puts it through (<c>kill -9</c>, a Redis restart, add-frontend, restart-frontends); and
/// <c>down</c> at the end, which must leave none of the processes it
/// started running. The servers' logs stay beside the tests in <c>cluster-logs/NAME</c>, for a failure.
/// </summary>
public sealed partial class ScriptedCluster
{
    public static readonly string AdminKey = "cluster-tests-" + Guid.NewGuid().ToString("N");

    /// <summary>The first build on a fresh machine is most of the time.</summary>
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan UpTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan AddSiloTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan DownTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(1);

    /// <summary>Built once per test run, however many clusters it starts (each <c>up --no-build</c>).</summary>
    private static readonly Lazy<Task> Built = new(BuildAsync);

    private readonly string _folder;
    private readonly string _name;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly Action<string> _log;
    private readonly ClusterScript _script;
    private readonly List<ServerProcess> _started = [];
    private readonly List<SiloServer> _silos = [];
    private readonly List<FrontEndServer> _frontEnds = [];

    private ScriptedCluster(string name, Action<string> log, IReadOnlyDictionary<string, string>? environment)
    {
        _name = name;
        _log = log;
        _environment = environment ?? new Dictionary<string, string>();
        _folder = NewFolder();
        _script = new ClusterScript(Path.Combine(_folder, "state"), AdminKey);
    }

    public RedisServer Redis { get; private set; } = null!;

    /// <summary>The load balancer in front of the front ends (HAProxy).</summary>
    public LoadBalancer Lb { get; private set; } = null!;

    /// <summary>Every silo started (up, add-silo), killed ones included.</summary>
    public IReadOnlyList<SiloServer> Silos => _silos;

    public IReadOnlyList<FrontEndServer> FrontEnds => _frontEnds;

    /// <summary>The script's state folder: its records, and the servers' logs until <see cref="StopAsync"/>.</summary>
    public string StateFolder => _script.StateFolder;

    /// <summary>The servers as <c>scripts/cluster build</c> publishes them (once per test run).</summary>
    public static Task BuiltAsync() => Built.Value;

    /// <summary>
    /// Builds the servers (once per test run), then <c>up --silos S --frontends F --no-build</c>. The script and so
    /// every server it starts (up, add-silo) run with <paramref name="environment"/> (settings such as
    /// <c>Orleans__MembershipTableGuard__CheckPeriod</c>).
    /// </summary>
    public static async Task<ScriptedCluster> StartAsync(string name, int silos, int frontEnds, Action<string> log, IReadOnlyDictionary<string, string>? environment = null)
    {
        await Built.Value;
        var cluster = new ScriptedCluster(name, log, environment);
        try
        {
            var up = await cluster.RunAsync(UpTimeout, null, "up", "--silos", silos.ToString(), "--frontends", frontEnds.ToString(), "--no-build");
            log($"scripts/cluster up took {up.Took.TotalSeconds:F1}s:\n{up.Output.TrimEnd()}");
            var redis = Assert.Single(up.Lines("redis"));
            cluster.Redis = new RedisServer(redis[0], cluster.Started("redis", int.Parse(redis[1])));
            var lb = Assert.Single(up.Lines("lb"));
            Assert.True(up.Output.StartsWith("lb ", StringComparison.Ordinal), $"scripts/cluster up should print its lb line first:\n{up.Output}");
            cluster.Lb = new LoadBalancer(new Uri(lb[0]), cluster.Started("lb", int.Parse(lb[1])));
            var status = await cluster.ProcessesAsync();
            foreach (var line in up.Lines("frontend"))
            {
                var process = cluster.Started("frontend", int.Parse(line[1]));
                cluster._frontEnds.Add(new FrontEndServer(new Uri(line[0]), process, status[process.Pid].Log));
            }

            foreach (var line in up.Lines("silo"))
            {
                var process = cluster.Started("silo", int.Parse(line[0]));
                cluster._silos.Add(new SiloServer(process, status[process.Pid].Address, status[process.Pid].Log));
            }

            Assert.Equal(silos, cluster._silos.Count);
            Assert.Equal(frontEnds, cluster._frontEnds.Count);
            return cluster;
        }
        catch (Exception startFailed)
        {
            // Up stops what it started when it fails; this is for an up that was killed on the timeout, and for a
            // cluster that came up but whose output or status this could not read (nobody else would stop it).
            try
            {
                await cluster.RunAsync(DownTimeout, null, "down");
            }
            catch (Exception downFailed)
            {
                throw new AggregateException("Starting the cluster failed, and so did scripts/cluster down after it.", startFailed, downFailed);
            }

            throw;
        }
    }

    /// <summary>
    /// Runs <c>scripts/cluster add-silo</c>, which returns once the new silo counts itself among all the others,
    /// and fails (stopping that silo) when it does not within <paramref name="readyWithin"/> (default: the script's 120 s).
    /// </summary>
    public async Task<(SiloServer Silo, TimeSpan Took)> AddSiloAsync(TimeSpan? readyWithin = null)
    {
        var environment = readyWithin is { } within
            ? new Dictionary<string, string> { ["ROOMS_CLUSTER_TIMEOUT"] = ((int)Math.Ceiling(within.TotalSeconds)).ToString() }
            : null;
        var added = await RunAsync(AddSiloTimeout, environment, "add-silo");
        _log($"scripts/cluster add-silo took {added.Took.TotalSeconds:F1}s: {added.Output.TrimEnd()}");
        var process = Started("silo", int.Parse(Assert.Single(added.Lines("silo"))[0]));
        var status = (await ProcessesAsync())[process.Pid];
        var silo = new SiloServer(process, status.Address, status.Log);
        _silos.Add(silo);
        return (silo, added.Took);
    }

    /// <summary>
    /// Runs <c>scripts/cluster add-frontend</c>, which returns once the new front end is ready and up in the balancer;
    /// returns it and how long the script took.
    /// </summary>
    public async Task<(FrontEndServer FrontEnd, TimeSpan Took)> AddFrontEndAsync()
    {
        var added = await RunAsync(AddSiloTimeout, null, "add-frontend");
        _log($"scripts/cluster add-frontend took {added.Took.TotalSeconds:F1}s: {added.Output.TrimEnd()}");
        var frontEnd = Assert.Single(await FrontEndsPrintedAsync(added));
        return (frontEnd, added.Took);
    }

    /// <summary>
    /// Runs <c>scripts/cluster restart-frontends</c> (each front end that runs is replaced, one at a time); returns the
    /// new front ends, the pids it printed as stopped, and how long it took.
    /// </summary>
    public async Task<(IReadOnlyList<FrontEndServer> Started, IReadOnlyList<int> Stopped, TimeSpan Took)> RestartFrontEndsAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        var restarted = await RunAsync(UpTimeout, environment, "restart-frontends");
        _log($"scripts/cluster restart-frontends took {restarted.Took.TotalSeconds:F1}s:\n{restarted.Error.TrimEnd()}\n{restarted.Output.TrimEnd()}");
        var stopped = restarted.Lines("stopped").Where(line => line[0] == "frontend").Select(line => int.Parse(line[1])).ToList();
        return (await FrontEndsPrintedAsync(restarted), stopped, restarted.Took);
    }

    /// <summary>Each front end a script run printed (<c>frontend URL PID</c>), now in <see cref="FrontEnds"/> too.</summary>
    private async Task<IReadOnlyList<FrontEndServer>> FrontEndsPrintedAsync(ClusterScript.Result result)
    {
        var status = await ProcessesAsync();
        var printed = new List<FrontEndServer>();
        foreach (var line in result.Lines("frontend"))
        {
            var process = Started("frontend", int.Parse(line[1]));
            printed.Add(new FrontEndServer(new Uri(line[0]), process, status[process.Pid].Log));
        }

        _frontEnds.AddRange(printed);
        return printed;
    }

    /// <summary><c>redis-cli -p PORT shutdown nosave</c>, then waits (bounded) until that redis-server has exited.</summary>
    public async Task ShutDownRedisAsync()
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-h", Redis.Host, "-p", Redis.Port.ToString(), "shutdown", "nosave" })
        {
            start.ArgumentList.Add(arg);
        }

        using (var cli = Process.Start(start)!)
        {
            // The server closes the connection instead of answering; redis-cli says so and exits.
            await cli.WaitForExitAsync().WaitAsync(StepTimeout);
        }

        await UntilExitedAsync(Redis.Process);
    }

    /// <summary>
    /// <c>scripts/cluster restart-redis</c>: a new, empty redis-server on the same port (replacing one that was shut
    /// down); returns once it answers, with how long the script took.
    /// </summary>
    public async Task<TimeSpan> RestartRedisAsync()
    {
        var restarted = await RunAsync(StepTimeout, null, "restart-redis");
        _log($"scripts/cluster restart-redis took {restarted.Took.TotalSeconds:F1}s: {restarted.Output.TrimEnd()}");
        var redis = Assert.Single(restarted.Lines("redis"));
        Redis = new RedisServer(redis[0], Started("redis", int.Parse(redis[1])));
        return restarted.Took;
    }

    /// <summary>
    /// Orleans' membership table as Redis holds it (<c>redis-cli HGETALL</c>): its version (null when the table is
    /// missing) and the status of each silo it lists, by the silo's silo-to-silo port.
    /// </summary>
    public async Task<(int? Version, IReadOnlyDictionary<int, string> Silos)> MembershipTableAsync()
    {
        // The key is ServiceId/members/ClusterId (scripts/cluster's ids); fields are "Version" and one per silo.
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-h", Redis.Host, "-p", Redis.Port.ToString(), "--no-raw", "HGETALL", "orleans-rooms/members/rooms" })
        {
            start.ArgumentList.Add(arg);
        }

        using var cli = Process.Start(start)!;
        var output = await cli.StandardOutput.ReadToEndAsync().WaitAsync(StepTimeout);
        await cli.WaitForExitAsync().WaitAsync(StepTimeout);
        if (cli.ExitCode != 0 || output.Contains("(error)", StringComparison.Ordinal) || output.StartsWith("Could not connect", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-cli HGETALL exited with {cli.ExitCode}: {output}{await cli.StandardError.ReadToEndAsync()}");
        }

        // --no-raw: each field and value is one line, `N) "text"`, the text escaped as in JSON; a missing table is
        // "(empty array)".
        var values = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => ReplyLine().Match(line))
            .Where(match => match.Success)
            .Select(match => JsonSerializer.Deserialize<string>(match.Groups[1].Value)!)
            .ToArray();
        int? version = null;
        var silos = new Dictionary<int, string>();
        for (var i = 0; i + 1 < values.Length; i += 2)
        {
            if (values[i] == "Version")
            {
                version = int.Parse(values[i + 1]);
                continue;
            }

            using var entry = JsonDocument.Parse(values[i + 1]);
            var address = entry.RootElement.GetProperty("SiloAddress").GetProperty("SiloAddress").GetString()!; // ip:port@generation
            var port = int.Parse(address[(address.LastIndexOf(':') + 1)..address.IndexOf('@')]);
            silos[port] = ((SiloStatus)entry.RootElement.GetProperty("Status").GetInt32()).ToString();
        }

        return (version, silos);
    }

    /// <summary>What <paramref name="silo"/>'s <c>GET /cluster</c> says: the version of its view and the active silos in it.</summary>
    public static async Task<(long Version, string[] Active)> ViewAsync(Uri silo, CancellationToken cancellationToken = default)
    {
        using var http = Http(silo);
        var answer = await http.GetFromJsonAsync<JsonElement>("/cluster", cancellationToken);
        return (answer.GetProperty("version").GetInt64(), [.. answer.GetProperty("silos").EnumerateArray().Select(s => s.GetString()!)]);
    }

    /// <summary>
    /// <c>kill -TERM</c> of <paramref name="server"/>: the graceful stop a deploy or an operator asks for. Returns once
    /// the signal is sent, not once the process has stopped (that is what the test is about).
    /// </summary>
    public static async Task TerminateAsync(ServerProcess server)
    {
        Assert.True(server.IsRunning(), $"{server} should run before it is sent SIGTERM");
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", server.Pid.ToString() } })!;
        await kill.WaitForExitAsync().WaitAsync(StepTimeout);
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary><c>kill -9</c> (SIGKILL) of <paramref name="server"/>; returns once it has exited, with the stopwatch timestamp of the kill.</summary>
    public static async Task<long> KillAsync(ServerProcess server)
    {
        Assert.True(server.IsRunning(), $"{server} should run before it is killed");
        using var process = Process.GetProcessById(server.Pid);
        var killed = Stopwatch.GetTimestamp();
        process.Kill(); // SIGKILL on Linux: no goodbye to the cluster
        await UntilExitedAsync(server);
        return killed;
    }

    /// <summary>The count of Active silos <paramref name="silo"/> reports at <c>GET /cluster</c>.</summary>
    public static async Task<int> ActiveSilosAsync(Uri silo, CancellationToken cancellationToken = default)
    {
        using var http = Http(silo);
        var answer = await http.GetFromJsonAsync<JsonElement>("/cluster", cancellationToken);
        return answer.GetProperty("activeSilos").GetInt32();
    }

    /// <summary>How many heal windows the silos (those that run and those gone) have logged opening so far.</summary>
    public int HealWindowsLogged()
        => Silos.Sum(silo => File.Exists(silo.Log) ? File.ReadLines(silo.Log).Count(line => line.Contains("Heal window open for", StringComparison.Ordinal)) : 0);

    /// <summary>
    /// Waits until the cluster has healed from whatever came before, as its silos and its table say: no silo starting
    /// or stopping (<c>scripts/cluster status</c>), the membership table listing exactly the silos that run as Active,
    /// and each of them seeing exactly those and no heal window open (<c>GET /cluster</c>: <c>silos</c>,
    /// <c>healingSeconds</c>). Returns how long that took and the longest heal window a silo reported meanwhile.
    /// </summary>
    public async Task<(TimeSpan Took, double? LongestWindow)> HealedAsync(TimeSpan limit)
    {
        var last = "nothing asked yet";
        double? longest = null;
        var took = await Eventually.UntilAsync(
            async () =>
            {
                var status = (await StatusAsync()).Where(s => s.Kind == "silo").ToArray();
                var running = status.Where(s => s.State == "running").Select(s => Silos.Single(silo => silo.Process.Pid == s.Pid)).ToArray();
                var ports = running.Select(s => s.SiloPort).Order().ToArray();
                var table = await MembershipTableAsync();
                var listed = table.Silos.Where(s => s.Value == "Active").Select(s => s.Key).Order().ToArray();
                var notes = new List<string> { $"silos {string.Join(", ", status.Select(s => $"{s.Pid} {s.State}"))}", $"table v{table.Version} lists {string.Join(", ", listed)} Active" };
                var healed = running.Length > 0 && status.All(s => s.State is "running" or "dead") && listed.SequenceEqual(ports);
                foreach (var silo in running)
                {
                    try
                    {
                        using var http = Http(silo.Http);
                        var answer = await http.GetFromJsonAsync<JsonElement>("/cluster");
                        var active = answer.GetProperty("silos").EnumerateArray().Select(a => int.Parse(SiloAddressPort().Match(a.GetString()!).Groups[1].Value)).Order().ToArray();
                        var healing = answer.GetProperty("healingSeconds");
                        healed &= active.SequenceEqual(ports) && healing.ValueKind == JsonValueKind.Null;
                        if (healing.ValueKind == JsonValueKind.Number)
                        {
                            longest = Math.Max(longest ?? 0, healing.GetDouble());
                        }

                        notes.Add($"{silo.SiloPort} sees {string.Join(", ", active)} Active, heal window {(healing.ValueKind == JsonValueKind.Null ? "closed" : $"open {healing.GetDouble()} s more")}");
                    }
                    catch (HttpRequestException ex)
                    {
                        healed = false;
                        notes.Add($"{silo.SiloPort}: /cluster not answered ({ex.Message})");
                    }
                }

                last = string.Join("; ", notes);
                return healed;
            },
            () => $"the cluster healed: no silo starting or stopping, the table and every silo that runs listing exactly those Active, no heal window open (last seen: {last})",
            limit,
            TimeSpan.FromMilliseconds(250));
        return (took, longest);
    }

    /// <summary>A plain HTTP client for one server (no proxy: everything is on loopback).</summary>
    public static HttpClient Http(Uri server) => new(new SocketsHttpHandler { UseProxy = false })
    {
        BaseAddress = server,
        Timeout = ClusterSocket.Timeout,
    };

    /// <summary>The HTTP address of each silo that is up (not dead), from <c>scripts/cluster status</c>.</summary>
    public async Task<IReadOnlyList<Uri>> SiloAddressesAsync()
    {
        var running = await ProcessesAsync();
        return [.. running.Values.Where(s => s.Kind == "silo").Select(s => s.Address)];
    }

    /// <summary>
    /// <c>scripts/cluster status</c>, a line per process it started: <c>KIND NAME ADDRESS PID STATE [DETAILS] log=LOG</c>,
    /// STATE one of running, not-ready, stopping, dead.
    /// </summary>
    public async Task<IReadOnlyList<StatusLine>> StatusAsync()
    {
        var status = await RunAsync(StepTimeout, null, "status");
        return
        [
            .. new[] { "lb", "redis", "silo", "frontend" }.SelectMany(kind => status.Lines(kind).Select(line => new StatusLine(
                kind, line[0], line[1], int.Parse(line[2]), line[3], line.Single(part => part.StartsWith("log=", StringComparison.Ordinal))[4..], $"{kind} {string.Join(' ', line)}"))),
        ];
    }

    /// <summary>
    /// The balancer's own status of a front end's server (UP, DOWN, MAINT, "UP 1/2" while checks change it), read from
    /// HAProxy's admin socket (<c>show stat</c>) without the script, so that a time measured with it is the balancer's
    /// and not that of a <c>status</c> call. <paramref name="name"/> is the front end's name in <c>status</c>; null when
    /// the balancer does not list its server.
    /// </summary>
    public async Task<string?> BalancerStatusAsync(string name, CancellationToken cancellationToken = default)
    {
        var slot = (await File.ReadAllTextAsync(Path.Combine(StateFolder, "lb", "slots", name), cancellationToken)).Trim();
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(StateFolder, "lb", "haproxy.sock")), cancellationToken);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync("show stat -1 4 -1\n"u8.ToArray(), cancellationToken);
        using var reader = new StreamReader(stream);
        var csv = await reader.ReadToEndAsync(cancellationToken);
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].TrimStart('#', ' ').Split(',');
        var (proxy, server, status) = (Array.IndexOf(header, "pxname"), Array.IndexOf(header, "svname"), Array.IndexOf(header, "status"));
        return lines.Skip(1).Select(line => line.Split(','))
            .FirstOrDefault(fields => fields[proxy] == "frontends" && fields[server] == $"fe{slot}")?[status];
    }

    /// <summary>The silos and front ends that are up (not dead), by pid: their HTTP address and log, from <c>scripts/cluster status</c>.</summary>
    private async Task<Dictionary<int, (string Kind, Uri Address, string Log)>> ProcessesAsync()
        => (await StatusAsync()).Where(s => s.Kind != "redis" && s.State != "dead").ToDictionary(s => s.Pid, s => (s.Kind, new Uri(s.Address), s.Log));

    /// <summary>
    /// Keeps the servers' logs beside the tests, runs <c>down</c> (each process gets <paramref name="stopTimeout"/>
    /// after SIGTERM; default the script's 30 s), and fails when anything it started still runs: a process it
    /// printed, or any live process still holding a file in its state folder. Returns how long down took.
    /// </summary>
    public Task<TimeSpan> StopAsync(TimeSpan? stopTimeout = null)
        => DownAsync(stopTimeout is { } timeout
            ? new Dictionary<string, string> { ["ROOMS_CLUSTER_STOP_TIMEOUT"] = ((int)Math.Ceiling(timeout.TotalSeconds)).ToString() }
            : null);

    /// <summary>
    /// A test's teardown: as <see cref="StopAsync"/>, with <c>down --kill</c> (every process killed at once rather than
    /// stopped gracefully: a graceful stop is what <c>ScriptFaultTests</c> and the SIGTERM faults test, and here it
    /// would only add its seconds to every test).
    /// </summary>
    public Task<TimeSpan> TearDownAsync() => DownAsync(null, "--kill");

    private async Task<TimeSpan> DownAsync(IReadOnlyDictionary<string, string>? environment, params string[] options)
    {
        var logs = Path.Combine(AppContext.BaseDirectory, "cluster-logs", _name);
        if (System.IO.Directory.Exists(logs))
        {
            System.IO.Directory.Delete(logs, recursive: true);
        }

        System.IO.Directory.CreateDirectory(logs);
        foreach (var log in System.IO.Directory.EnumerateFiles(Path.Combine(_script.StateFolder, "logs")))
        {
            File.Copy(log, Path.Combine(logs, Path.GetFileName(log)));
        }

        string[] command = ["down", .. options];
        var down = await RunAsync(DownTimeout, environment, command);
        _log($"scripts/cluster {string.Join(' ', command)} took {down.Took.TotalSeconds:F1}s (the servers' logs: {logs}):\n{down.Error.TrimEnd()}\n{down.Output.TrimEnd()}");
        var stillRunning = _started.Where(p => p.IsRunning()).Select(p => p.ToString()).Concat(ServerProcess.Holding(_folder)).ToList();
        if (stillRunning.Count > 0)
        {
            throw new InvalidOperationException($"scripts/cluster down left running: {string.Join(", ", stillRunning)}");
        }

        // Down removed its state folder; what is left is the folder around it.
        Assert.False(System.IO.Directory.Exists(_script.StateFolder), $"scripts/cluster down left its state folder {_script.StateFolder}");
        System.IO.Directory.Delete(_folder, recursive: true);
        return down.Took;
    }

    /// <summary>A run of the script with this cluster's environment, plus <paramref name="extra"/>.</summary>
    private Task<ClusterScript.Result> RunAsync(TimeSpan timeout, IReadOnlyDictionary<string, string>? extra, params string[] args)
    {
        var environment = new Dictionary<string, string>(_environment);
        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        return _script.RunAsync(timeout, environment, args);
    }

    private ServerProcess Started(string kind, int pid)
    {
        var process = ServerProcess.Of(kind, pid);
        _started.Add(process);
        return process;
    }

    private static async Task UntilExitedAsync(ServerProcess server)
    {
        if (!server.IsRunning())
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(server.Pid);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (ArgumentException)
        {
            // Gone between the check and the lookup.
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{server} still runs 10 s after it was stopped.");
        }
    }

    private static async Task BuildAsync()
    {
        var script = new ClusterScript(Path.Combine(NewFolder(), "state"), AdminKey);
        await script.RunAsync(BuildTimeout, "build");
        System.IO.Directory.Delete(Path.GetDirectoryName(script.StateFolder)!, recursive: true);
    }

    private static string NewFolder() => Path.Combine(Path.GetTempPath(), "orleans-rooms-cluster-tests-" + Guid.NewGuid().ToString("N")[..8]);

    [GeneratedRegex("""^[0-9]+\) (".*")$""")]
    private static partial Regex ReplyLine();

    /// <summary>The silo port in a silo address as Orleans writes it (<c>S127.0.0.1:11111:123456789</c>).</summary>
    [GeneratedRegex(@"^S?[0-9.]+:([0-9]+):")]
    private static partial Regex SiloAddressPort();

    public sealed record RedisServer(string Address, ServerProcess Process)
    {
        public string Host => Address[..Address.LastIndexOf(':')];

        public int Port => int.Parse(Address[(Address.LastIndexOf(':') + 1)..]);
    }

    /// <param name="Log">Its log, in the state folder until <see cref="StopAsync"/> (then a copy in cluster-logs).</param>
    public sealed record SiloServer(ServerProcess Process, Uri Http, string Log)
    {
        /// <summary>Its silo-to-silo port (the one in its Orleans silo address), from its command line.</summary>
        public int SiloPort { get; } = int.Parse(File.ReadAllText($"/proc/{Process.Pid}/cmdline").Split('\0')
            .Single(arg => arg.StartsWith("--Orleans:SiloPort=", StringComparison.Ordinal))["--Orleans:SiloPort=".Length..]);
    }

    /// <param name="Address">Its HTTP address (a silo, a front end, the lb) or host:port (redis).</param>
    /// <param name="Text">The whole line, for messages.</param>
    public sealed record StatusLine(string Kind, string Name, string Address, int Pid, string State, string Log, string Text)
    {
        /// <summary>The value of detail <c>KEY=VALUE</c> on the line (e.g. a front end's <c>lb</c>: UP, DOWN, MAINT, out), or null.</summary>
        public string? Detail(string key) => Text.Split(' ').FirstOrDefault(part => part.StartsWith(key + "=", StringComparison.Ordinal))?[(key.Length + 1)..];
    }

    /// <param name="Url">Where clients connect: the front ends behind it, round robin.</param>
    public sealed record LoadBalancer(Uri Url, ServerProcess Process);

    /// <param name="Log">Its log, in the state folder until <see cref="StopAsync"/> (then a copy in cluster-logs).</param>
    public sealed record FrontEndServer(Uri Url, ServerProcess Process, string Log);
}
