using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>What <c>AddRooms</c> leaves to the app: SignalR's builder and hub options.</summary>
public sealed class RegistrationTests
{
    [Fact]
    public void HubOptionsFollowTheLimitsUnlessTheAppSetsThem()
    {
        var defaults = WebApplication.CreateBuilder();
        defaults.Configuration["Rooms:Limits:MaxParallelRequestsPerSocket"] = "3";
        defaults.Services.AddRooms();
        var appSet = WebApplication.CreateBuilder();
        appSet.Services.AddRooms(signalR => signalR.Services.Configure<HubOptions>(o => o.MaximumParallelInvocationsPerClient = 7));

        using var fromLimits = defaults.Build();
        using var fromApp = appSet.Build();

        Assert.Equal(3, fromLimits.Services.GetRequiredService<IOptions<HubOptions>>().Value.MaximumParallelInvocationsPerClient);
        Assert.Equal(7, fromApp.Services.GetRequiredService<IOptions<HubOptions>>().Value.MaximumParallelInvocationsPerClient);
    }

    [Fact]
    public void AddRoomsWithoutAWebServerSaysWhatIsMissing()
    {
        var failure = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddRooms());

        Assert.Contains("web host's server", failure.Message);
    }
}
