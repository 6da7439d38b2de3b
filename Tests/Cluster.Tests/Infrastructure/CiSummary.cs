namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>A line of what a passing test measured, for <c>.ci/run</c> to print after the run (TestResults/NAME.summary.txt).</summary>
public static class CiSummary
{
    public static void Write(string name, string line)
    {
        var path = Repository.PathOf($"TestResults/{name}.summary.txt");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.AppendAllText(path, line + Environment.NewLine);
    }
}
