using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Xunit.Abstractions;
using Orleans.Rooms.Telemetry;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// A socket request is one trace from the hub call to the grains: SignalR's span, the socket request's span, the
/// app's request, and the grain calls it makes, across the Orleans client and into the silo (Orleans' activity
/// propagation). With the operability tests, alone: a tracer provider listens to every source of its names in the
/// process, so it sees other tests' spans too (each test reads only its own trace).
/// </summary>
[Collection(OperabilityTests.Name)]
public sealed class TracingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Within = TestSocket.Timeout;

    [Fact]
    public async Task ASocketsFirstJoinIsOneTraceFromTheHubCallThroughTheClientToTheGrains()
    {
        var spans = new SpanCollector();
        var clusterId = "trace-" + Guid.NewGuid().ToString("N")[..8];
        await using var withSilo = await FrontEndServer.StartAsync(clusterId);

        // The socket's front end is an Orleans client of the other's silo: the grain calls cross the gateway.
        await using var client = await FrontEndServer.StartAsync(clusterId, gateways: [withSilo.GatewayPort], configure: builder =>
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddProcessor(new SimpleActivityExportProcessor(spans))));
        await using var socket = await client.ConnectAsync();

        // The room's first member on this front end: the join lists the front end in the room's grain.
        (await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = Unique.Room() })).EnsureSuccess();

        var request = await spans.WaitForAsync(
            s => s.Source.Name == RoomsTelemetry.ActivitySourceName && Equals(s.GetTagItem(SocketRequestActivity.SocketIdTag), socket.Id) && s.DisplayName.EndsWith("/joinFunRoom"),
            $"the socket request span of socket {socket.Id}'s join", Within);
        var root = await spans.WaitForAsync(s => s.TraceId == request.TraceId && s.Parent is null && s.ParentSpanId == default, $"the root of trace {request.TraceId}", Within);
        var trace = spans.Trace(request.TraceId);
        output.WriteLine(TraceTree.Print(trace));

        Assert.Equal(RoomsTelemetry.SignalRActivitySourceName, root.Source.Name);
        Assert.Equal(root.SpanId, request.ParentSpanId);
        Assert.Equal("socket POST /joinFunRoom", request.DisplayName);
        Assert.Equal(200, request.GetTagItem("http.response.status_code"));

        // Under the socket request: the app's request (ASP.NET Core's span), and grain calls made by the front end's
        // Orleans client (Client) and served by the silo (Server), the room's grain among them.
        var underRequest = trace.Where(s => TraceTree.Descends(s, request, trace)).ToList();
        Assert.Contains(underRequest, s => s.Source.Name == "Microsoft.AspNetCore" && s.DisplayName == "POST /joinFunRoom");
        var grainCalls = underRequest.Where(s => s.GetTagItem("rpc.system.name") as string == "orleans").ToList();
        Assert.Contains(grainCalls, s => s.Kind == ActivityKind.Client);
        Assert.Contains(grainCalls, s => s.Kind == ActivityKind.Server && trace.Any(p => p.SpanId == s.ParentSpanId && p.Kind == ActivityKind.Client));
        Assert.Contains(grainCalls, s => s.Kind == ActivityKind.Server && (s.GetTagItem("rpc.method") as string)?.Contains("IRoomGrain/", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task TracesGoToTheOtlpEndpointThatIsConfigured()
    {
        // A stand-in collector on 127.0.0.1 that takes OTLP over HTTP (protobuf): the span names and their
        // attributes are UTF-8 strings in the body, the socket's id among them.
        var reached = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var socketId = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var collector = WebApplication.CreateSlimBuilder();
        collector.WebHost.UseUrls("http://127.0.0.1:0");
        await using var otlp = collector.Build();
        otlp.MapPost("/v1/traces", async (HttpRequest http) =>
        {
            using var body = new MemoryStream();
            await http.Body.CopyToAsync(body);
            if (socketId.Task.IsCompleted && Encoding.UTF8.GetString(body.ToArray()).Contains(socketId.Task.Result, StringComparison.Ordinal))
            {
                reached.TrySetResult(http.ContentType ?? "");
            }

            return Results.Ok();
        });
        await otlp.StartAsync();

        await using var server = await FrontEndServer.StartAsync("otlp-" + Guid.NewGuid().ToString("N")[..8], settings: new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Urls.Single(),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });
        await using var socket = await server.ConnectAsync();
        socketId.SetResult(socket.Id);

        (await socket.RequestAsync("POST", "/joinFunRoom", new { roomName = Unique.Room() })).EnsureSuccess();

        var contentType = await reached.Task.WaitAsync(Within);
        Assert.Equal("application/x-protobuf", contentType);
    }
}
