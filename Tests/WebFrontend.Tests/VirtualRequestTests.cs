using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orleans.Rooms.VirtualRequests;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// A virtual request goes through the app's own endpoint pipeline: the same routing, binding and filters
/// as plain HTTP, shown here on endpoints the test app adds next to the example app.
/// </summary>
public sealed class VirtualRequestTests : IAsyncLifetime
{
    private FrontEndServer _server = null!;

    public async Task InitializeAsync()
        => _server = await FrontEndServer.StartAsync("bridge-" + Guid.NewGuid().ToString("N")[..8], configure: builder =>
        {
            builder.Services.AddAuthentication(HeaderAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
            builder.Services.AddAuthorization();
        }, map: app =>
        {
            app.MapGet("/me", (ClaimsPrincipal user) => user.Identity!.Name).RequireAuthorization();
            app.MapPost("/echo/{id}", (string id, EchoBody body, HttpContext http, [Microsoft.AspNetCore.Mvc.FromQuery] int? n) =>
                    Results.Json(new { id, body.Name, n, isSocket = http.IsSocketRequest(), socketId = http.GetSocketId(), method = http.Request.Method }))
                .AddEndpointFilter(async (context, next) =>
                {
                    context.HttpContext.Response.Headers["x-filtered"] = "yes";
                    return await next(context);
                });
            app.MapGet("/text", () => "plain text");
            app.MapGet("/badjson", () => Results.Text("{oops", "application/json"));
            app.MapGet("/boom", IResult () => throw new InvalidOperationException("boom"));
            app.MapPut("/status", () => Results.StatusCode(StatusCodes.Status418ImATeapot));
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task RouteValuesBodyBindingQueryAndFiltersWorkOverASocketAsOverHttp()
    {
        await using var socket = await _server.ConnectAsync();
        using var http = _server.Http();

        var viaSocket = await socket.RequestAsync("POST", "/echo/abc?n=5", new { name = "sails" });
        var viaHttp = await http.PostAsJsonAsync("/echo/abc?n=5", new { name = "sails" });
        var httpBody = await viaHttp.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();

        Assert.True(viaSocket.StatusCode == 200, viaSocket.ToString());
        Assert.Equal("abc", viaSocket.Body.GetProperty("id").GetString());
        Assert.Equal("sails", viaSocket.Body.GetProperty("name").GetString());
        Assert.Equal(5, viaSocket.Body.GetProperty("n").GetInt32());
        Assert.True(viaSocket.Body.GetProperty("isSocket").GetBoolean());
        Assert.Equal(socket.Id, viaSocket.Body.GetProperty("socketId").GetString());
        Assert.Equal("yes", viaSocket.Headers["x-filtered"]);
        Assert.False(httpBody.GetProperty("isSocket").GetBoolean());
        Assert.Equal("sails", httpBody.GetProperty("name").GetString());
        Assert.Equal("yes", viaHttp.Headers.GetValues("x-filtered").Single());
    }

    [Fact]
    public async Task TextStatusesUnknownRoutesAndFailuresComeBackAsEnvelopes()
    {
        await using var socket = await _server.ConnectAsync();

        var text = await socket.RequestAsync("GET", "/text");
        var teapot = await socket.RequestAsync("PUT", "/status");
        var missing = await socket.RequestAsync("GET", "/no/such/route");
        var wrongMethod = await socket.RequestAsync("DELETE", "/text");
        var boom = await socket.RequestAsync("GET", "/boom");

        Assert.Equal("plain text", text.Text);
        Assert.Equal(418, teapot.StatusCode);
        Assert.Equal(404, missing.StatusCode);
        Assert.Equal(405, wrongMethod.StatusCode);
        Assert.Equal(500, boom.StatusCode);
        Assert.Equal(200, (await socket.RequestAsync("GET", "/socketId")).StatusCode);
    }

    [Fact]
    public async Task AuthenticationAndAuthorizationApplyToSocketRequests()
    {
        await using var socket = await _server.ConnectAsync();
        using var http = _server.Http();
        var asAlice = new Dictionary<string, string> { [HeaderAuthentication.Header] = "alice" };

        var anonymous = await socket.RequestAsync("GET", "/me");
        var alice = await socket.RequestAsync("GET", "/me", headers: asAlice);
        var overHttp = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/me") { Headers = { { HeaderAuthentication.Header, "bob" } } });

        Assert.Equal(401, anonymous.StatusCode);
        Assert.Equal(200, alice.StatusCode);
        Assert.Equal("alice", alice.Text);
        Assert.Equal("bob", await overHttp.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ABodyLabelledJsonThatIsNotJsonArrivesAsText()
    {
        await using var socket = await _server.ConnectAsync();

        var reply = await socket.RequestAsync("GET", "/badjson");

        Assert.Equal(200, reply.StatusCode);
        Assert.Equal("{oops", reply.Text);
    }

    private sealed record EchoBody(string Name);

    /// <summary>Authenticates whoever names themselves in a header: enough to see the pipeline apply it.</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "header";
        public const string Header = "x-user";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var name = Request.Headers[Header].ToString();
            if (string.IsNullOrEmpty(name))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
