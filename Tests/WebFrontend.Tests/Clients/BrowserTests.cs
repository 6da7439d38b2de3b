using Orleans.Rooms.Cluster.Tests.Infrastructure;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests.Clients;

/// <summary>
/// rooms.js and the demo page in headless Chromium (Debian's <c>chromium</c>, which .ci/run installs),
/// driven by clients/rooms.js/test/browser.test.mjs with playwright-core against a real front end.
/// </summary>
[Collection(ClientsCollection.Name)]
public sealed class BrowserTests(ClientsFixture fixture, ITestOutputHelper output)
{
    /// <summary>Where the screenshot of the demo page goes (.ci/run prints the path).</summary>
    public static string ScreenshotPath => Repository.PathOf("TestResults/demo-page.png");

    [Fact]
    public async Task TwoPagesTalkThroughARoomAndTheDemoPageWorksInChromium()
    {
        await Node.EnsurePackagesAsync();
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(ScreenshotPath)!);
        File.Delete(ScreenshotPath);

        var (exitCode, text) = await Node.RunAsync(
            "node",
            ["--test", "--test-reporter=spec", "test/browser.test.mjs"],
            new Dictionary<string, string> { ["ROOMS_URL"] = fixture.Server.BaseAddress.ToString(), ["SCREENSHOT"] = ScreenshotPath },
            TimeSpan.FromSeconds(120));
        output.WriteLine(text);

        Assert.True(exitCode == 0, $"node --test test/browser.test.mjs exited with {exitCode}:\n{text}");
        Assert.Contains("ℹ pass 2", text);
        Assert.Contains("ℹ fail 0", text);
        Assert.True(new FileInfo(ScreenshotPath).Length > 0, $"no screenshot at {ScreenshotPath}");
    }
}
