using System.Diagnostics;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>Runs <c>scripts/cluster</c> with a state folder of its own and returns what it printed.</summary>
public sealed class ClusterScript(string stateFolder, string adminKey)
{
    public string StateFolder { get; } = stateFolder;

    /// <summary>Runs <c>scripts/cluster ARGS</c>; throws with its output when it fails or outlasts <paramref name="timeout"/>.</summary>
    public Task<Result> RunAsync(TimeSpan timeout, params string[] args) => RunAsync(timeout, new Dictionary<string, string>(), args);

    /// <summary>As <see cref="RunAsync(TimeSpan, string[])"/>, with <paramref name="environment"/> set for the script (e.g. ROOMS_CLUSTER_TIMEOUT).</summary>
    public async Task<Result> RunAsync(TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        start.ArgumentList.Add(Repository.PathOf("scripts/cluster"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ROOMS_CLUSTER_STATE"] = StateFolder;
        start.Environment["Rooms__AdminKey"] = adminKey;
        // CI machines are slow and run other test assemblies next to this one.
        start.Environment["ROOMS_CLUSTER_TIMEOUT"] = "120";
        // The front ends' warm-up still runs (its sockets connect over loopback and each runs its cycles), but three
        // cycles rather than 50, and not for the 4 s (and more while the JIT is busy) that make a fresh server fast for
        // its first clients (README, "Publishing"): these tests start and restart dozens of front ends and measure
        // none's speed (the default warm-up took 2 s of each start here, with Duration zero).
        start.Environment["Rooms__WarmUp__Cycles"] = "3";
        start.Environment["Rooms__WarmUp__Duration"] = "00:00:00";
        start.Environment["Rooms__WarmUp__ReadyWithin"] = "00:00:00";
        // The runtime's own call-counting delay (100 ms) rather than the 0 that scripts/cluster deploys with (README,
        // "Publishing": it makes a fresh server fast for its first clients by recompiling what is hot at once). Here
        // that recompiling was most of a start's CPU: a silo or front end took 5.4-6.8 s of CPU to get ready with 0
        // and 2.1-2.6 s with 100 (one `up` of 2 silos and 2 front ends: 13-18 s and 9 s on two cores), and these
        // tests start some 80 servers and measure no server's speed. Nor the JIT's profiling tier (instrumented code,
        // then recompiled with its profile): without it a cluster of 2 silos and 2 front ends took 13.5-14.8 s of CPU
        // from its start to 25 s after it was up, against 16.4-18.9 s with it (two runs each, alternating).
        start.Environment["DOTNET_TC_CallCountingDelayMs"] = "100";
        start.Environment["DOTNET_TieredPGO"] = "0";
        // The servers' own events (restores, purges) and each silo's view of the cluster are Information; the
        // shipped settings keep Orleans.* at Warning, which leaves a fault's log without them.
        start.Environment["Logging__LogLevel__Orleans.Rooms"] = "Information";
        start.Environment["Logging__LogLevel__Orleans.Runtime.MembershipService"] = "Information";
        // A front end's calls that met the cluster healing and were tried again (each with its error), and its list of
        // gateways as Orleans' client refreshes it: what a request that took long or failed under a fault went through.
        start.Environment["Logging__LogLevel__Orleans.Rooms.Cluster.ClusterDoor"] = "Debug";
        start.Environment["Logging__LogLevel__Orleans.Messaging.GatewayManager"] = "Information";
        // And each silo's grain-directory partitions at a view change (a range moved, a recovery and how long it took),
        // which holds calls to grains in those ranges meanwhile: a few lines per view change.
        start.Environment["Logging__LogLevel__Orleans.Runtime.GrainDirectory.GrainDirectoryPartition"] = "Debug";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        // The test host runs under `dotnet test`, whose MSBuild variables would steer the script's own build.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"scripts/cluster {string.Join(' ', args)} did not finish within {timeout}; it printed:\n{await stderr}{await stdout}");
        }

        var result = new Result(process.ExitCode, await stdout, await stderr, stopwatch.Elapsed);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/cluster {string.Join(' ', args)} exited with {result.ExitCode}:\n{result.Error}{result.Output}");
        }

        return result;
    }

    public sealed record Result(int ExitCode, string Output, string Error, TimeSpan Took)
    {
        /// <summary>The printed lines that start with <paramref name="kind"/>, split at spaces, without the kind.</summary>
        public IReadOnlyList<string[]> Lines(string kind) =>
        [
            .. Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(line => line.Split(' '))
                .Where(parts => parts[0] == kind)
                .Select(parts => parts[1..]),
        ];
    }
}
