using System.Net;
using Orleans.Rooms.Cluster.Tests.Infrastructure;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.WebFrontend.Tests.Clients;

/// <summary>
/// rooms.js, the browser client: served by the front end as the file checked in (CI checks that file
/// against a fresh build with <c>npm run check</c>), and working against a real front end, driven by
/// clients/rooms.js/test/rooms.test.mjs in node, where there is no window and no document.
/// </summary>
[Collection(ClientsCollection.Name)]
public sealed class RoomsJsTests(ClientsFixture fixture, ITestOutputHelper testOutput)
{
    [Fact]
    public async Task RoomsJsIsServedAsJavaScriptAndIsTheCheckedInBundle()
    {
        using var http = fixture.Server.Http();

        var response = await http.GetAsync("/rooms.js");
        var served = await response.Content.ReadAsByteArrayAsync();
        using var again = new HttpRequestMessage(HttpMethod.Get, "/rooms.js") { Headers = { IfNoneMatch = { response.Headers.ETag! } } };
        var revalidated = await http.SendAsync(again);
        var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/rooms.js"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await File.ReadAllBytesAsync(Repository.PathOf("clients/rooms.js/dist/rooms.js")), served);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("text/javascript", head.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task TheSailsIoApiWorksInNodeAgainstARealFrontEnd()
    {
        var output = await Node.TestAsync(
            "test/rooms.test.mjs",
            new Dictionary<string, string>
            {
                ["ROOMS_URL"] = fixture.Server.BaseAddress.ToString(),
                ["ROOMS_PROXY_URL"] = fixture.Proxy.BaseAddress.ToString(), // cut by POST /test/sever
                ["ROOMS_WINDOW_MS"] = ((int)ClientsFixture.ResumeWindow.TotalMilliseconds).ToString(),
                ["ROOMS_ADMIN_KEY"] = FrontEndServer.AdminKey,
            },
            TimeSpan.FromSeconds(90),
            testOutput);

        Assert.Contains("ℹ pass 10", output);
    }
}
