using Orleans.Rooms.Cluster.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// Lines a test wants seen in CI even when it passes (the console logger shows only failures' output): written to
/// <c>TestResults/&lt;name&gt;.summary.txt</c>, which <c>.ci/run</c> prints after the run.
/// </summary>
public static class CiSummary
{
    public static void Write(string name, string line)
    {
        var path = Repository.PathOf($"TestResults/{name}.summary.txt");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.AppendAllText(path, line + Environment.NewLine);
    }
}
