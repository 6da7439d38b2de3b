using System.Collections.Concurrent;
using Orleans.Rooms.Cluster.Tests.Infrastructure;

namespace Orleans.Rooms.Samples.Tests.Infrastructure;

/// <summary>
/// Builds the samples (<c>samples/</c>, outside the solution) as an app of one's own is built: with
/// <c>dotnet build</c>, restoring Orleans.Rooms.* from the packages in <c>artifacts/</c> through
/// <c>samples/nuget.config</c>. Restores go to a packages folder of this run's own, so a package packed again under
/// the same version is never taken from an older copy in the machine's NuGet cache. Each sample is built once per run.
/// </summary>
public sealed class SampleBuilds : IDisposable
{
    private readonly string _root = System.IO.Directory.CreateTempSubdirectory("rooms-samples-").FullName;
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _built = new();

    public SampleBuilds()
    {
        var artifacts = Repository.PathOf("artifacts");
        Packages = System.IO.Directory.Exists(artifacts)
            ? [.. System.IO.Directory.EnumerateFiles(artifacts, "Orleans.Rooms.*.nupkg").Select(Path.GetFileName).Order()!]
            : [];
    }

    /// <summary>The package files in <c>artifacts/</c>; empty when nothing was packed.</summary>
    public IReadOnlyList<string> Packages { get; }

    /// <summary>The folder of a sample, e.g. <c>Chat</c>.</summary>
    public static string FolderOf(string sample) => Repository.PathOf(Path.Combine("samples", sample));

    /// <summary>Builds <paramref name="sample"/> (once) and returns its main assembly.</summary>
    public Task<string> BuildAsync(string sample) => _built.GetOrAdd(sample, name => new(() => BuildCoreAsync(name))).Value;

    public void Dispose() => System.IO.Directory.Delete(_root, recursive: true);

    private async Task<string> BuildCoreAsync(string sample)
    {
        var output = Path.Combine(_root, "out", sample);
        var environment = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(_root, "packages") };
        await using var build = StartedProcess.Start(
            $"dotnet build samples/{sample}",
            "dotnet",
            ["build", FolderOf(sample), "-c", "Release", "-o", output, "--nologo", "-v", "q"],
            Repository.Root,
            environment);
        var exitCode = await build.ExitAsync(TimeSpan.FromMinutes(4));
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"dotnet build samples/{sample} against artifacts/ ({string.Join(", ", Packages)}) failed with exit code {exitCode}:\n{build.Output}");
        }

        return Path.Combine(output, $"{sample}.dll");
    }
}
