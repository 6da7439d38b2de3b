namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>
/// The usual start of a resume test: a resumable client reaching <paramref name="server"/> through a proxy that
/// can cut its network, already in a fresh room, and a plain observer socket connected to the server directly.
/// </summary>
public sealed class BlipScene : IAsyncDisposable
{
    private BlipScene(BlipProxy proxy, ResumableClient client, TestSocket observer, string room)
    {
        Proxy = proxy;
        Client = client;
        Observer = observer;
        Room = room;
        Id = client.Id;
    }

    public BlipProxy Proxy { get; }

    public ResumableClient Client { get; }

    public TestSocket Observer { get; }

    public string Room { get; }

    /// <summary>The client's socket id as first attached.</summary>
    public string Id { get; }

    public static async Task<BlipScene> StartAsync(FrontEndServer server)
    {
        var proxy = new BlipProxy(server.BaseAddress);
        var client = await ResumableClient.ConnectAsync(proxy.BaseAddress);
        var observer = await server.ConnectAsync();
        var scene = new BlipScene(proxy, client, observer, Unique.Room());
        await client.RequestAsync("POST", "/joinFunRoom", new { roomName = scene.Room });
        return scene;
    }

    public async ValueTask DisposeAsync()
    {
        await Observer.DisposeAsync();
        await Client.DisposeAsync();
        await Proxy.DisposeAsync();
    }
}
