using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.Client;
using Orleans.Rooms.WebFrontend.Tests.Clients;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// A socket's user is fixed when it connects (README, "Authentication over sockets"): an action that names the scheme
/// the connect was authenticated with (<c>[Authorize(AuthenticationSchemes = "header")]</c>, MVC or minimal API) sees
/// that user over the socket, and a socket request's own credentials do not replace it unless the app opts in
/// (<c>Rooms:Authentication:AllowRequestCredentials</c>). Both clients send a token from their access token factory on
/// each connect, and connection headers and query. On the previous main the named scheme answered 401 over a socket
/// (it was run again on the socket request, whose headers lack the connection's credentials), and a request's own
/// header authenticated it as whoever it named.
/// </summary>
public sealed class SocketIdentityTests(SocketIdentityTests.Servers fixture, ITestOutputHelper output) : IClassFixture<SocketIdentityTests.Servers>
{
    private const string SchemeRoute = "/scheme/me";
    private const string DefaultRoute = "/default/me";
    private const string MvcRoute = "/mvc/me";

    [Fact]
    public async Task AnActionNamingTheConnectsSchemeSeesTheConnectTimeUserOverTheSocket()
    {
        await using var alice = await ConnectAsAsync(fixture.Fixed, "alice");
        await using var anonymous = await fixture.Fixed.ConnectAsync();

        foreach (var route in new[] { SchemeRoute, MvcRoute, DefaultRoute })
        {
            var answer = await alice.RequestAsync("GET", route);
            Assert.True(answer.StatusCode == 200, $"{route}: {answer.StatusCode} {answer.Text}");
            Assert.Equal("alice", answer.Text);
            Assert.Equal(401, (await anonymous.RequestAsync("GET", route)).StatusCode);
        }
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    [InlineData(HttpTransportType.LongPolling)] // SignalR keeps a copy of the first poll's context, items and all
    public async Task TheConnectTimeUserHoldsOnEveryTransport(HttpTransportType transport)
    {
        await using var client = await RoomsClient.ConnectAsync(fixture.Fixed.BaseAddress, new RoomsClientOptions
        {
            Transports = transport,
            RequestTimeout = TestSocket.Timeout,
            ConnectionHeaders = { [HeaderAuthentication.Header] = "lena" },
        });

        foreach (var route in new[] { SchemeRoute, MvcRoute, DefaultRoute })
        {
            var answer = await client.GetAsync(route);
            Assert.True(answer.StatusCode == 200, $"{route} over {transport}: {answer.StatusCode} {answer.Text}");
            Assert.Equal("lena", answer.Text);
        }
    }

    [Fact]
    public async Task ASocketRequestsOwnCredentialsDoNotReplaceTheSocketsUser()
    {
        await using var alice = await ConnectAsAsync(fixture.Fixed, "alice");
        await using var anonymous = await fixture.Fixed.ConnectAsync();
        var asMallory = new Dictionary<string, string> { [HeaderAuthentication.Header] = "mallory", ["Authorization"] = "Bearer mallory" };

        foreach (var route in new[] { SchemeRoute, MvcRoute, DefaultRoute })
        {
            var answer = await alice.RequestAsync("GET", route, headers: asMallory);
            Assert.Equal("alice", answer.Text);
            Assert.Equal(401, (await anonymous.RequestAsync("GET", route, headers: asMallory)).StatusCode);
        }
    }

    [Fact]
    public async Task WithTheOptInASocketRequestsOwnCredentialsAuthenticateIt()
    {
        await using var alice = await ConnectAsAsync(fixture.OptedIn, "alice");
        await using var anonymous = await fixture.OptedIn.ConnectAsync();
        var asBob = new Dictionary<string, string> { [HeaderAuthentication.Header] = "bob" };

        foreach (var route in new[] { SchemeRoute, MvcRoute, DefaultRoute })
        {
            Assert.Equal("bob", (await alice.RequestAsync("GET", route, headers: asBob)).Text);
            Assert.Equal("alice", (await alice.RequestAsync("GET", route)).Text);
            Assert.Equal("bob", (await anonymous.RequestAsync("GET", route, headers: asBob)).Text);
        }
    }

    [Fact]
    public async Task TheClientsAccessTokenProviderIsAskedOnEachConnectAndItsTokenIsTheSocketsUser()
    {
        await using var proxy = new BlipProxy(fixture.Fixed.BaseAddress);
        var calls = 0;
        await using var client = await RoomsClient.ConnectAsync(proxy.BaseAddress, new RoomsClientOptions
        {
            RequestTimeout = TestSocket.Timeout,
            AccessTokenProvider = () => Task.FromResult<string?>($"erin-{Interlocked.Increment(ref calls)}"),
        });
        var resumed = new Signal<string>();
        client.Resumed += resumed.TrySet;
        var first = (await client.GetAsync(SchemeRoute)).EnsureSuccess().Text;
        var callsOnConnect = Volatile.Read(ref calls);

        proxy.Sever(refuseFor: TimeSpan.FromMilliseconds(300));
        await resumed.Task.WaitAsync(TestSocket.Timeout);
        var again = (await client.GetAsync(SchemeRoute)).EnsureSuccess().Text;
        var callsAfterResume = Volatile.Read(ref calls);

        Assert.InRange(callsOnConnect, 1, 2); // SignalR asks for the negotiate and again for the WebSocket
        Assert.Equal($"erin-{callsOnConnect}", first);
        Assert.True(callsAfterResume > callsOnConnect, $"asked {callsOnConnect} times to connect, {callsAfterResume} in all after the resume");
        Assert.Equal($"erin-{callsAfterResume}", again);
        output.WriteLine($"access token provider: {callsOnConnect} call(s) to connect, {callsAfterResume} after one resume; the user was {first}, then {again}");
    }

    [Fact]
    public async Task TheClientsConnectionHeadersAndQueryReachTheConnect()
    {
        await using var byHeader = await RoomsClient.ConnectAsync(fixture.Fixed.BaseAddress, new RoomsClientOptions
        {
            RequestTimeout = TestSocket.Timeout,
            ConnectionHeaders = { [HeaderAuthentication.Header] = "frank" },
        });
        await using var byQuery = await RoomsClient.ConnectAsync(fixture.Fixed.BaseAddress, new RoomsClientOptions
        {
            RequestTimeout = TestSocket.Timeout,
            ConnectionQuery = { [HeaderAuthentication.AccessTokenQuery] = "gina" },
        });

        Assert.Equal("frank", (await byHeader.GetAsync(SchemeRoute)).Text);
        Assert.Equal("gina", (await byQuery.GetAsync(SchemeRoute)).Text);
    }

    [Theory]
    [InlineData("resume")]
    [InlineData("id")]
    [InlineData("")]
    public void AConnectionQueryNamingTheClientsOwnParametersIsRefusedNamingIt(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => new RoomsClient(fixture.Fixed.BaseAddress, new RoomsClientOptions { ConnectionQuery = { [name] = "x" } }));

        Assert.Contains($"ConnectionQuery", error.Message);
        Assert.Contains($"'{name}'", error.Message);
    }

    [Fact]
    public async Task RoomsJsSendsItsAccessTokenQueryAndHeadersInNode()
    {
        var text = await Node.TestAsync(
            "test/identity.test.mjs",
            new Dictionary<string, string>
            {
                ["ROOMS_URL"] = fixture.Fixed.BaseAddress.ToString(),
                ["ROOMS_PROXY_URL"] = fixture.Proxy.BaseAddress.ToString(), // cut by POST /test/sever
            },
            TimeSpan.FromSeconds(60),
            output);

        Assert.Contains("ℹ pass 3", text);
    }

    private static async Task<TestSocket> ConnectAsAsync(FrontEndServer server, string user)
    {
        var socket = await TestSocket.ConnectAsync(server.BaseAddress, new Dictionary<string, string> { [HeaderAuthentication.Header] = user });
        await socket.RequestAsync("GET", "/socketId"); // registered in the cluster
        return socket;
    }

    /// <summary>
    /// Two front ends with <see cref="HeaderAuthentication"/> as the default scheme and routes that name it: one as the
    /// library comes, one opted in to a request's own credentials; a proxy in front of the first, for a client's resume.
    /// </summary>
    public sealed class Servers : IAsyncLifetime
    {
        public FrontEndServer Fixed { get; private set; } = null!;

        public FrontEndServer OptedIn { get; private set; } = null!;

        public BlipProxy Proxy { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var servers = await Task.WhenAll(StartAsync(optIn: false), StartAsync(optIn: true));
            (Fixed, OptedIn) = (servers[0], servers[1]);
            Proxy = new BlipProxy(Fixed.BaseAddress);
        }

        public async Task DisposeAsync()
        {
            await Proxy.DisposeAsync();
            await Task.WhenAll(Fixed.DisposeAsync().AsTask(), OptedIn.DisposeAsync().AsTask());
        }

        private Task<FrontEndServer> StartAsync(bool optIn) => FrontEndServer.StartAsync(
            "identity-" + Guid.NewGuid().ToString("N")[..8],
            configure: builder =>
            {
                builder.Services.AddAuthentication(HeaderAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
                builder.Services.AddAuthorization();
                builder.Services.AddControllers().AddApplicationPart(typeof(WhoAmIController).Assembly);
            },
            map: app =>
            {
                app.MapControllers();
                app.MapGet(SchemeRoute, (ClaimsPrincipal user) => user.Identity!.Name).RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = HeaderAuthentication.SchemeName });
                app.MapGet(DefaultRoute, (ClaimsPrincipal user) => user.Identity!.Name).RequireAuthorization();
                app.MapPost("/test/sever", (int refuseMs) => Proxy.Sever(TimeSpan.FromMilliseconds(refuseMs)));
            },
            settings: new Dictionary<string, string?> { ["Rooms:Authentication:AllowRequestCredentials"] = optIn ? "true" : "false" });
    }
}
