using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orleans.Rooms.VirtualRequests;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// A virtual request goes through the app's own endpoint pipeline: the same routing, binding and filters
/// as plain HTTP, shown here on endpoints the test app adds next to the example app; and it is a request of
/// the host like any other: context accessor, request scope, form options, hosting's activity and metrics.
/// </summary>
public sealed class VirtualRequestTests : IAsyncLifetime
{
    private readonly ConcurrentBag<ScopedThing> _scoped = [];
    private FrontEndServer _server = null!;

    public async Task InitializeAsync()
        => _server = await FrontEndServer.StartAsync("bridge-" + Guid.NewGuid().ToString("N")[..8], configure: builder =>
        {
            builder.Services.AddAuthentication(HeaderAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
            builder.Services.AddAuthorization();
            builder.Services.AddHttpContextAccessor();
            builder.Services.AddScoped(_ =>
            {
                var thing = new ScopedThing();
                _scoped.Add(thing);
                return thing;
            });
            builder.Services.Configure<FormOptions>(o => o.ValueCountLimit = 2);
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
            app.MapGet("/host", (HttpContext http, IHttpContextAccessor accessor, ScopedThing thing) =>
            {
                var remote = http.Connection.RemoteIpAddress?.ToString();

                // Changes the request's connection only, not the socket's: the next request sees the socket's again.
                http.Connection.RemoteIpAddress = System.Net.IPAddress.Parse("10.9.8.7");
                return Results.Json(new
                {
                    accessorIsThisRequest = ReferenceEquals(accessor.HttpContext, http),
                    scoped = thing.Id,
                    activity = Activity.Current?.OperationName,
                    traceId = http.TraceIdentifier,
                    remote,
                });
            });
            app.MapGet("/cookies", (HttpContext http) =>
            {
                http.Response.Cookies.Append("a", "1");
                http.Response.Cookies.Append("b", "2");
                return "two cookies";
            });
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
        Assert.DoesNotContain("boom", boom.Body.GetRawText());
        Assert.Equal(200, (await socket.RequestAsync("GET", "/socketId")).StatusCode);
    }

    [Fact]
    public async Task AuthenticationAndAuthorizationApplyToSocketRequests()
    {
        await using var socket = await _server.ConnectAsync();
        var asAlice = new Dictionary<string, string> { [HeaderAuthentication.Header] = "alice" };
        await using var aliceSocket = await TestSocket.ConnectAsync(_server.BaseAddress, asAlice);
        using var http = _server.Http();

        var anonymous = await socket.RequestAsync("GET", "/me");
        var claimed = await socket.RequestAsync("GET", "/me", headers: asAlice); // a request's own header is not the socket's user (SocketIdentityTests)
        var alice = await aliceSocket.RequestAsync("GET", "/me");
        var overHttp = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/me") { Headers = { { HeaderAuthentication.Header, "bob" } } });

        Assert.Equal(401, anonymous.StatusCode);
        Assert.Equal(401, claimed.StatusCode);
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

    [Fact]
    public async Task TheRequestIsTheHostsOwnWithItsAccessorScopeAndActivity()
    {
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(activities);
        await using var socket = await _server.ConnectAsync();

        var first = await socket.RequestAsync("GET", "/host");
        var second = await socket.RequestAsync("GET", "/host");

        Assert.True(first.Body.GetProperty("accessorIsThisRequest").GetBoolean());
        Assert.Equal("Microsoft.AspNetCore.Hosting.HttpRequestIn", first.Body.GetProperty("activity").GetString());
        Assert.NotEqual(first.Body.GetProperty("scoped").GetGuid(), second.Body.GetProperty("scoped").GetGuid());
        Assert.NotEqual(first.Body.GetProperty("traceId").GetString(), second.Body.GetProperty("traceId").GetString());
        Assert.Equal("127.0.0.1", first.Body.GetProperty("remote").GetString());
        Assert.Equal("127.0.0.1", second.Body.GetProperty("remote").GetString()); // the first changed a copy, not the socket's connection
        var used = _scoped.Where(t => t.Id == first.Body.GetProperty("scoped").GetGuid() || t.Id == second.Body.GetProperty("scoped").GetGuid()).ToArray();
        Assert.Equal(2, used.Length);
        Assert.All(used, t => Assert.True(t.Disposed, "the request's scope is disposed with the request"));
    }

    [Fact]
    public async Task HostingRecordsTheRequestDurationOfASocketRequestWithItsRoute()
    {
        var routes = new ConcurrentQueue<string?>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Microsoft.AspNetCore.Hosting" && instrument.Name == "http.server.request.duration")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "http.route")
                {
                    routes.Enqueue(tag.Value as string);
                }
            }
        });
        meters.Start();
        await using var socket = await _server.ConnectAsync();

        await socket.RequestAsync("GET", "/cookies");

        Assert.Contains("/cookies", routes);
    }

    [Fact]
    public async Task AHeaderSetTwiceComesBackAsAList()
    {
        await using var socket = await _server.ConnectAsync();

        var reply = await socket.RequestAsync("GET", "/cookies");

        var cookies = reply.HeaderValues("set-cookie");
        Assert.Equal(2, cookies.Count);
        Assert.StartsWith("a=1", cookies[0]);
        Assert.StartsWith("b=2", cookies[1]);
        Assert.Equal("text/plain; charset=utf-8", reply.Headers["content-type"]);
    }

    [Fact]
    public async Task TheHostsFormOptionsApplyToASocketRequestsForm()
    {
        await using var socket = await _server.ConnectAsync();
        var form = new Dictionary<string, string> { ["content-type"] = "application/x-www-form-urlencoded" };

        var reply = await socket.RequestAsync("POST", "/joinFunRoom", "roomName=fun&a=1&b=2", form);

        Assert.Equal(400, reply.StatusCode);
        Assert.Contains("Form value count limit 2 exceeded", reply.Error);
    }

    private sealed record EchoBody(string Name);

    private sealed class ScopedThing : IDisposable
    {
        public Guid Id { get; } = Guid.NewGuid();

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }
}
