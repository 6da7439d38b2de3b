using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;

namespace Orleans.Rooms.Hosting;

/// <summary>
/// A front end's list of the silos' gateways, read from the membership table in Redis as Orleans' own provider
/// reads it, except that a table behind a version this front end has read is not believed at once. Orleans'
/// client closes its connection to every gateway missing from a list it reads, failing the calls on it; and a
/// table that Redis lost is empty, then partial, while <see cref="MembershipTableGuard"/> writes it back below
/// the versions seen before (see its remarks). A front end that read the table in those milliseconds dropped
/// live silos. So a read behind the highest version seen answers the last list believed instead, for up to
/// <see cref="BehindFor"/>; a table that stays behind longer is a new one (Redis and every silo replaced), and
/// is believed from then on.
/// </summary>
internal sealed partial class MonotonicGatewayListProvider(
    IMembershipTable table,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<MonotonicGatewayListProvider> logger) : IGatewayListProvider
{
    /// <summary>How long a table may stay behind before it is believed: far longer than a write-back takes (milliseconds, once a silo's guard sees the loss, every second).</summary>
    internal static readonly TimeSpan BehindFor = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private int _highest = -1;
    private IList<Uri> _believed = [];
    private DateTimeOffset? _behindSince;

    public TimeSpan MaxStaleness => options.Value.GatewayListRefreshPeriod;

    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => InitializeGatewayListProviderAsync(CancellationToken.None);

    public Task InitializeGatewayListProviderAsync(CancellationToken cancellationToken)
        => table.InitializeMembershipTableAsync(tryInitTableVersion: true, cancellationToken);

    public Task<IList<Uri>> GetGateways() => GetGatewaysAsync(CancellationToken.None);

    public async Task<IList<Uri>> GetGatewaysAsync(CancellationToken cancellationToken)
    {
        var data = await table.ReadAllAsync(cancellationToken);
        IList<Uri> gateways = [.. data.Members
            .Select(row => row.Item1)
            .Where(entry => entry.Status == SiloStatus.Active && entry.ProxyPort != 0)
            .Select(entry => SiloAddress.New(entry.SiloAddress.Endpoint.Address, entry.ProxyPort, entry.SiloAddress.Generation).ToGatewayUri())];
        var version = data.Version.Version;
        lock (_lock)
        {
            if (version >= _highest)
            {
                return Believe(version, gateways);
            }

            var now = time.GetUtcNow();
            _behindSince ??= now;
            if (now - _behindSince.Value >= BehindFor)
            {
                LogBelievedBehind(version, _highest, BehindFor, gateways.Count);
                return Believe(version, gateways);
            }

            LogBehind(version, _highest, gateways.Count, _believed.Count);
            return _believed;
        }
    }

    private IList<Uri> Believe(int version, IList<Uri> gateways)
    {
        _highest = version;
        _believed = gateways;
        _behindSince = null;
        return gateways;
    }

    [LoggerMessage(1, LogLevel.Warning, "The membership table is at version {Version}, behind version {Highest} read before (Redis lost it and a silo is writing it back): its {Found} gateways are not believed; keeping the {Believed} gateways read before.")]
    private partial void LogBehind(int version, int highest, int found, int believed);

    [LoggerMessage(2, LogLevel.Warning, "The membership table has stayed behind version {Highest} for {BehindFor} (at version {Version}): it is a new table; believing its {Found} gateways.")]
    private partial void LogBelievedBehind(int version, int highest, TimeSpan behindFor, int found);
}
