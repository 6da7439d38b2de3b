using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Orleans.Rooms.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// Runs node (and npm) for the tests of the clients (rooms.js, and sails.io.js on Sails' own wire). Neither is skipped when missing: the test fails and says
/// what to install (.ci/run installs Debian's nodejs and npm).
/// </summary>
public static class Node
{
    public static string ClientFolder => Repository.PathOf("clients/rooms.js");

    /// <summary>The tests of Sails' own wire: sails.io.js 1.2.1 and socket.io-client 4.8 from npm, pinned.</summary>
    public static string SailsWireFolder => Repository.PathOf("clients/sails-wire-tests");

    /// <summary>Runs a command in <paramref name="folder"/> (default <see cref="ClientFolder"/>), bounded in time; returns its exit code and all it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string command, IEnumerable<string> arguments, IDictionary<string, string>? environment, TimeSpan within, string? folder = null)
    {
        var start = new ProcessStartInfo(command)
        {
            WorkingDirectory = folder ?? ClientFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"`{command}` could not be started ({ex.Message}): the rooms.js tests need node and npm on the PATH (apt-get install -y nodejs npm).", ex);
        }

        using (process)
        {
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) => Append(output, e.Data);
            process.ErrorDataReceived += (_, e) => Append(output, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(within);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                throw new TimeoutException($"`{command} {string.Join(' ', arguments)}` did not finish within {within}; it printed:\n{Text(output)}");
            }

            await process.WaitForExitAsync(); // the last lines of output
            return (process.ExitCode, Text(output));
        }
    }

    /// <summary>
    /// Runs <paramref name="file"/> (one of clients/rooms.js/test/*.test.mjs) with node's test runner, the packages installed
    /// first, bounded in time; fails with all it printed unless every test in it passed; hands the lines with a test's
    /// figures (<c># rooms.js: ...</c>) to <paramref name="output"/> and returns all it printed.
    /// </summary>
    public static async Task<string> TestAsync(string file, IDictionary<string, string> environment, TimeSpan within, ITestOutputHelper output)
    {
        await EnsurePackagesAsync();
        var (exitCode, printed) = await RunAsync("node", ["--test", "--test-reporter=spec", file], environment, within);
        Assert.True(exitCode == 0, $"node --test {file} exited with {exitCode}:\n{printed}");
        Assert.Contains("ℹ fail 0", printed);
        foreach (var figure in printed.Split('\n').Where(line => line.Contains("# rooms.js:")))
        {
            output.WriteLine(figure.Trim());
        }

        return printed;
    }

    /// <summary>
    /// Installs the pinned packages of rooms.js (npm ci) unless those the tests load are there: <c>ws</c> (on node
    /// before 22) and <c>playwright-core</c>.
    /// </summary>
    public static Task EnsurePackagesAsync() => EnsurePackagesAsync(ClientFolder, "ws", "playwright-core");

    /// <summary>Installs the pinned packages of <paramref name="folder"/> (npm ci) unless <paramref name="packages"/> are there.</summary>
    public static async Task EnsurePackagesAsync(string folder, params string[] packages)
    {
        if (packages.All(package => File.Exists(Path.Combine(folder, "node_modules", package, "package.json"))))
        {
            return;
        }

        var (exitCode, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], null, TimeSpan.FromMinutes(3), folder);
        Assert.True(exitCode == 0, $"npm ci in {folder} failed ({exitCode}):\n{output}");
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
