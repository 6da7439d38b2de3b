using Microsoft.Extensions.Logging;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// An app with the template's logging settings (Default Information, Microsoft.AspNetCore Warning) gets none of
/// Orleans' own Information lines, and still the rooms' own; configuration that names category Orleans decides.
/// </summary>
public sealed class OrleansLogLevelTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OrleansOwnInformationLinesAreOffWithTheTemplatesSettingsAndTheRoomsOwnStay()
    {
        var logs = await StartAndStopAsync(new Dictionary<string, string?>());

        Assert.Empty(logs.Where(IsOrleansOwn).Where(e => e.Level < LogLevel.Warning).Select(e => $"{e.Category}: {e.Message}"));
        Assert.Contains(logs, e => e.Category.StartsWith("Orleans.Rooms.", StringComparison.Ordinal) && e.Level == LogLevel.Information);
    }

    [Fact]
    public async Task ConfigurationThatNamesTheOrleansCategoryDecides()
    {
        var logs = await StartAndStopAsync(new Dictionary<string, string?> { ["Logging:LogLevel:Orleans"] = "Information" });

        Assert.Contains(logs, e => IsOrleansOwn(e) && e.Level == LogLevel.Information);
    }

    private static bool IsOrleansOwn(CapturedLogs.Entry entry)
        => entry.Category.StartsWith("Orleans.", StringComparison.Ordinal) && !entry.Category.StartsWith("Orleans.Rooms.", StringComparison.Ordinal);

    /// <summary>The entries of one embedded front end's start and stop, as the template's settings log them.</summary>
    private async Task<IReadOnlyList<CapturedLogs.Entry>> StartAndStopAsync(Dictionary<string, string?> settings)
    {
        var logs = new CapturedLogs();
        settings["Logging:LogLevel:Default"] = "Information";
        settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning";
        var server = await FrontEndServer.StartAsync("logs-" + Guid.NewGuid().ToString("N")[..8], settings: settings, configure: builder =>
        {
            builder.Logging.ClearProviders().AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Information);
        });
        await server.DisposeAsync();

        var entries = logs.Entries;
        output.WriteLine($"{entries.Count(IsOrleansOwn)} lines of Orleans' own categories ({entries.Count(e => IsOrleansOwn(e) && e.Level == LogLevel.Information)} Information), {entries.Count} in all:");
        foreach (var group in entries.GroupBy(e => (e.Category, e.Level)).OrderByDescending(g => g.Count()))
        {
            output.WriteLine($"  {group.Count(),3} {group.Key.Level} {group.Key.Category}");
        }

        return entries;
    }
}
