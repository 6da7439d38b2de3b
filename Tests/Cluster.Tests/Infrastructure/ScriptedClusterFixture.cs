using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// The cluster shape as <c>scripts/cluster up</c> starts it (real redis-server, two silos, two front ends as
/// Orleans clients, all separate processes), in a state folder of its own; <c>down</c> at the end, which must
/// leave none of the processes it started running.
/// </summary>
public sealed class ScriptedClusterFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    public static readonly string AdminKey = "cluster-tests-" + Guid.NewGuid().ToString("N");

    /// <summary>Up builds the servers first: on a fresh machine that is most of the time.</summary>
    private static readonly TimeSpan UpTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan AddSiloTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan DownTimeout = TimeSpan.FromMinutes(3);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "orleans-rooms-cluster-tests-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<ServerProcess> _started = [];
    private ClusterScript _script = null!;

    public IReadOnlyList<Uri> FrontEnds { get; private set; } = [];

    /// <summary>Silos started by up and add-silo.</summary>
    public int Silos => _started.Count(p => p.Kind == "silo");

    public async Task InitializeAsync()
    {
        _script = new ClusterScript(Path.Combine(_folder, "state"), AdminKey);
        ClusterScript.Result up;
        try
        {
            up = await _script.RunAsync(UpTimeout, "up");
        }
        catch (Exception upFailed)
        {
            // Up stops what it started when it fails; this is for an up that was killed on the timeout.
            try
            {
                await _script.RunAsync(DownTimeout, "down");
            }
            catch (Exception downFailed)
            {
                throw new AggregateException("scripts/cluster up failed, and so did down after it.", upFailed, downFailed);
            }

            throw;
        }

        diagnostics.OnMessage(new DiagnosticMessage($"scripts/cluster up took {up.Took.TotalSeconds:F1}s:\n{up.Output}"));
        _started.AddRange(up.Lines("silo").Select(line => ServerProcess.Of("silo", int.Parse(line[0]))));
        _started.AddRange(up.Lines("frontend").Select(line => ServerProcess.Of("frontend", int.Parse(line[1]))));
        _started.AddRange(up.Lines("redis").Select(line => ServerProcess.Of("redis", int.Parse(line[1]))));
        FrontEnds = [.. up.Lines("frontend").Select(line => new Uri(line[0]))];
        Assert.Equal(2, FrontEnds.Count);
        Assert.Equal(2, Silos);
    }

    /// <summary>Runs <c>scripts/cluster add-silo</c>; returns the new silo.</summary>
    public async Task<ServerProcess> AddSiloAsync()
    {
        var added = await _script.RunAsync(AddSiloTimeout, "add-silo");
        diagnostics.OnMessage(new DiagnosticMessage($"scripts/cluster add-silo took {added.Took.TotalSeconds:F1}s: {added.Output}"));
        var silo = ServerProcess.Of("silo", int.Parse(Assert.Single(added.Lines("silo"))[0]));
        _started.Add(silo);
        return silo;
    }

    /// <summary>The HTTP address of each running silo, from <c>scripts/cluster status</c>.</summary>
    public async Task<IReadOnlyList<Uri>> SiloAddressesAsync()
    {
        var status = await _script.RunAsync(TimeSpan.FromMinutes(1), "status");
        return [.. status.Lines("silo").Select(line => new Uri(line[0]))];
    }

    /// <summary>The count of Active silos <paramref name="silo"/> reports at <c>GET /cluster</c>.</summary>
    public static async Task<int> ActiveSilosAsync(Uri silo)
    {
        using var http = Http(silo);
        var answer = await http.GetFromJsonAsync<JsonElement>("/cluster");
        return answer.GetProperty("activeSilos").GetInt32();
    }

    /// <summary>A plain HTTP client for one server (no proxy: everything is on loopback).</summary>
    public static HttpClient Http(Uri server) => new(new SocketsHttpHandler { UseProxy = false })
    {
        BaseAddress = server,
        Timeout = ClusterSocket.Timeout,
    };

    public async Task DisposeAsync()
    {
        // The servers' logs go with the state folder; the last run's stay beside the tests, for a failure.
        var logs = Path.Combine(AppContext.BaseDirectory, "cluster-logs");
        if (System.IO.Directory.Exists(logs))
        {
            System.IO.Directory.Delete(logs, recursive: true);
        }

        System.IO.Directory.CreateDirectory(logs);
        foreach (var log in System.IO.Directory.EnumerateFiles(Path.Combine(_script.StateFolder, "logs")))
        {
            File.Copy(log, Path.Combine(logs, Path.GetFileName(log)));
        }

        var down = await _script.RunAsync(DownTimeout, "down");
        diagnostics.OnMessage(new DiagnosticMessage($"scripts/cluster down took {down.Took.TotalSeconds:F1}s (the servers' logs: {logs}):\n{down.Output}"));
        var stillRunning = _started.Where(p => p.IsRunning()).ToList();
        if (stillRunning.Count > 0)
        {
            throw new InvalidOperationException($"scripts/cluster down left running: {string.Join(", ", stillRunning)}");
        }

        // Down removed its state folder; what is left is the folder around it.
        System.IO.Directory.Delete(_folder, recursive: true);
    }
}
