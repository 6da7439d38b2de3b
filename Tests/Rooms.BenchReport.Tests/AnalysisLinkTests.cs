using Orleans.Rooms.BenchReport.Report;

namespace Orleans.Rooms.BenchReport.Tests;

public sealed class AnalysisLinkTests
{
    private const string Folder = "benchmarks/results/2026-11-27T0014Z";

    [Fact]
    public void LinksRelativeToTheResultsFolderPointFromTheRepositoryRoot()
    {
        var markdown = "see [the run before](../2026-11-26T2218Z/analysis.md) and [lines](experiments/cluster-only) or [this](./run.txt)";

        var rebased = MarkdownReport.RebaseLinks(markdown, Folder);

        Assert.Equal("see [the run before](benchmarks/results/2026-11-26T2218Z/analysis.md) and [lines](benchmarks/results/2026-11-27T0014Z/experiments/cluster-only) or [this](benchmarks/results/2026-11-27T0014Z/run.txt)", rebased);
    }

    [Fact]
    public void AbsoluteLinksAnchorsAndPlainBracketsAreLeftAlone()
    {
        var markdown = "[web](https://example.org/a) [top](#cluster) [root](/README.md) [not a link] (../x) f(a)[0]";

        Assert.Equal(markdown, MarkdownReport.RebaseLinks(markdown, Folder));
    }
}
