using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Telemetry;

namespace Orleans.Rooms.Tests.Shared;

/// <summary>The front end's metrics on a meter factory of their own, for tests that build front-end parts by hand.</summary>
internal static class TestMetrics
{
    public static RoomsMetrics Create()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return new RoomsMetrics(services.GetRequiredService<IMeterFactory>(), services);
    }
}
