using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Orleans.Rooms.Hosting;

/// <summary>
/// Orleans' own Information lines (its options, each lifecycle stage, membership changes: 33 per start of an
/// embedded front end) are off by default: category <c>Orleans</c> logs from Warning, while the rooms' own
/// categories (<c>Orleans.Rooms</c>) keep the host's default level. Configuration that names either category
/// (<c>Logging:LogLevel:Orleans=Information</c>) decides instead.
/// </summary>
internal static class OrleansLogLevels
{
    public const string OrleansCategory = "Orleans";

    public const string RoomsCategory = "Orleans.Rooms";

    public static IServiceCollection AddOrleansLogLevels(this IServiceCollection services)
        => services.Configure<LoggerFilterOptions>(options =>
        {
            if (options.Rules.Any(rule => rule.CategoryName == OrleansCategory))
            {
                return;
            }

            options.Rules.Add(new LoggerFilterRule(null, OrleansCategory, LogLevel.Warning, null));
            if (!options.Rules.Any(rule => rule.CategoryName == RoomsCategory))
            {
                // The host's default ("Default", else its minimum level), as if "Orleans" had no rule.
                var level = options.Rules.LastOrDefault(rule => rule.ProviderName is null && rule.CategoryName is null && rule.Filter is null)?.LogLevel ?? options.MinLevel;
                options.Rules.Add(new LoggerFilterRule(null, RoomsCategory, level, null));
            }
        });
}
