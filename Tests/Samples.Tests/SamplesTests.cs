using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Orleans.Rooms.Client;
using Orleans.Rooms.Samples.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orleans.Rooms.Samples.Tests;

/// <summary>
/// Each sample, built from the packages in <c>artifacts/</c> (<c>dotnet pack Orleans.Rooms.sln -c Release</c>;
/// .ci/run packs before it tests), runs on 127.0.0.1 and answers the .NET client end to end: sockets join a room,
/// hear a broadcast, and get answers to their requests. In CI (<c>CI=true</c>) no packages is a failure; elsewhere
/// the tests say so and pass.
/// </summary>
public sealed class SamplesTests(SampleBuilds builds, ITestOutputHelper output) : IClassFixture<SampleBuilds>
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan EventLimit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task MinimalSampleJoinsBroadcastsAndAnswersOverASocket()
    {
        await using var app = await StartEmbeddedAsync("Minimal");
        if (app is null)
        {
            return;
        }

        await using var ann = await RoomsClient.ConnectAsync(app.Url);
        await using var bob = await RoomsClient.ConnectAsync(app.Url);
        var heard = Expect<JsonElement>(bob, "said");
        Assert.Equal(200, (await ann.PostAsync("/join", new { room = "fun" })).StatusCode);
        Assert.Equal(bob.SocketId, (await bob.PostAsync("/join", new { room = "fun" })).EnsureSuccess().Body.GetProperty("socket").GetString());

        (await ann.PostAsync("/say", new { room = "fun", text = "hello" })).EnsureSuccess();
        var said = await WithinAsync(heard, "bob hears ann's broadcast");
        Assert.Equal("hello", said.GetProperty("text").GetString());
        Assert.Equal(ann.SocketId, said.GetProperty("from").GetString());

        var who = (await bob.GetAsync("/who", new { room = "fun" })).EnsureSuccess().As<string[]>();
        Assert.Equal(new[] { ann.SocketId, bob.SocketId }.Order(), who!.Order());

        using var http = new HttpClient { BaseAddress = app.Url };
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("/join", new { room = "fun" })).StatusCode);
        Assert.Contains("io.sails", await http.GetStringAsync("/rooms.js"));
    }

    [Fact]
    public async Task ChatSampleRunsItsControllersOverSocketsAsTheSignedInUser()
    {
        await using var app = await StartEmbeddedAsync("Chat");
        if (app is null)
        {
            return;
        }

        await using var anonymous = await RoomsClient.ConnectAsync(app.Url);
        Assert.Equal(401, (await anonymous.PostAsync("/chat/join", new { roomName = "lobby" })).StatusCode);

        await using var ann = await SignedInClientAsync(app.Url, app.Url, "ann");
        await using var bob = await SignedInClientAsync(app.Url, app.Url, "bob");
        await using var moderator = await SignedInClientAsync(app.Url, app.Url, "mod-cy");
        await AssertChatsAsync(ann, bob);

        Assert.Equal(403, (await ann.PostAsync("/chat/kick", new { roomName = "lobby", socketId = bob.SocketId })).StatusCode);
        var kicked = Expect<JsonElement>(ann, "kicked");
        (await moderator.PostAsync("/chat/kick", new { roomName = "lobby", socketId = bob.SocketId })).EnsureSuccess();
        Assert.Equal(bob.SocketId, (await WithinAsync(kicked, "ann hears that bob was kicked")).GetProperty("socketId").GetString());
        Assert.Equal(new[] { ann.SocketId }, (await ann.GetAsync("/chat/who", new { roomName = "lobby" })).EnsureSuccess().As<string[]>()!);

        using var http = new HttpClient { BaseAddress = app.Url };
        Assert.Contains("/rooms.js", await http.GetStringAsync("/"));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/rooms.js")).StatusCode);
    }

    [Fact]
    public async Task ChatSampleRunsAsASiloAndTwoFrontEndsOnRedis()
    {
        if (!PackagesPresent())
        {
            return;
        }

        var dll = await builds.BuildAsync("Chat");
        var redisPort = FreePort.Next();
        await using var redis = StartedProcess.Start("redis-server", "redis-server", ["--port", redisPort.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], Path.GetTempPath());
        await redis.LineAsync("Ready to accept connections", StartLimit);
        var cluster = $"--Orleans:Redis=127.0.0.1:{redisPort}";
        var keys = System.IO.Directory.CreateTempSubdirectory("chat-keys-").FullName;
        try
        {
            await using var silo = await StartAsync("Chat silo", dll, ["--Chat:Role=silo", cluster, "--Orleans:AdvertisedIPAddress=127.0.0.1", .. EmbeddedSiloPorts()]);
            await using var one = await StartAsync("Chat front end 1", dll, ["--Chat:Role=frontend", cluster, $"--Chat:KeysFolder={keys}"]);
            await using var two = await StartAsync("Chat front end 2", dll, ["--Chat:Role=frontend", cluster, $"--Chat:KeysFolder={keys}"]);
            await ReadyAsync(one);
            await ReadyAsync(two);

            // Ann signs in on front end 1 and Bob on front end 2 with a cookie front end 1 signed: the keys are shared.
            await using var ann = await SignedInClientAsync(one.Url, one.Url, "ann");
            await using var bob = await SignedInClientAsync(one.Url, two.Url, "bob");
            await AssertChatsAsync(ann, bob);
        }
        finally
        {
            System.IO.Directory.Delete(keys, recursive: true);
        }
    }

    /// <summary>Ann and Bob join room lobby; Ann hears Bob join, Bob hears what Ann says, and both are listed.</summary>
    private static async Task AssertChatsAsync(RoomsClient ann, RoomsClient bob)
    {
        var joined = Expect<JsonElement>(ann, "joined");
        var message = Expect<JsonElement>(bob, "message");
        Assert.Equal("ann", (await ann.PostAsync("/chat/join", new { roomName = "lobby" })).EnsureSuccess().Body.GetProperty("user").GetString());
        (await bob.PostAsync("/chat/join", new { roomName = "lobby" })).EnsureSuccess();
        Assert.Equal("bob", (await WithinAsync(joined, "ann hears bob join")).GetProperty("user").GetString());

        (await ann.PostAsync("/chat/say", new { roomName = "lobby", text = "hi bob" })).EnsureSuccess();
        var said = await WithinAsync(message, "bob hears ann");
        Assert.Equal(("ann", "hi bob"), (said.GetProperty("from").GetString(), said.GetProperty("text").GetString()));

        var who = (await bob.GetAsync("/chat/who", new { roomName = "lobby" })).EnsureSuccess().As<string[]>();
        Assert.Equal(new[] { ann.SocketId, bob.SocketId }.Order(), who!.Order());

        // Presence: joining tracked each user; both are online, one socket each.
        var online = (await ann.GetAsync("/chat/online", new { roomName = "lobby" })).EnsureSuccess().Body;
        Assert.Equal(["ann", "bob"], online.EnumerateObject().Select(user => user.Name).Order());
        Assert.Equal(bob.SocketId, online.GetProperty("bob").GetProperty("metas")[0].GetProperty("ref").GetString());
    }

    /// <summary>Signs <paramref name="name"/> in over HTTP at <paramref name="signIn"/>, then connects a socket to <paramref name="connect"/> with the cookie.</summary>
    private static async Task<RoomsClient> SignedInClientAsync(Uri signIn, Uri connect, string name)
    {
        var cookies = new CookieContainer();
        using (var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = signIn })
        {
            (await http.PostAsJsonAsync("/account/login", new { name })).EnsureSuccessStatusCode();
        }

        return await RoomsClient.ConnectAsync(connect, new RoomsClientOptions { ConfigureConnection = o => o.Cookies = cookies });
    }

    private static Task<T> Expect<T>(RoomsClient client, string eventName)
    {
        var received = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.On<T>(eventName, payload => received.TrySetResult(payload));
        return received.Task;
    }

    private static async Task<T> WithinAsync<T>(Task<T> awaited, string what)
    {
        try
        {
            return await awaited.WaitAsync(EventLimit);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Not within {EventLimit.TotalSeconds:F0} s: {what}.");
        }
    }

    /// <summary>Builds <paramref name="sample"/> and starts it with its silo inside; null when there are no packages (outside CI).</summary>
    private async Task<SampleApp?> StartEmbeddedAsync(string sample)
        => PackagesPresent() ? await StartAsync(sample, await builds.BuildAsync(sample), EmbeddedSiloPorts()) : null;

    private static string[] EmbeddedSiloPorts() => [$"--Orleans:SiloPort={FreePort.Next()}", $"--Orleans:GatewayPort={FreePort.Next()}"];

    private static async Task ReadyAsync(SampleApp app)
    {
        using var http = new HttpClient { BaseAddress = app.Url, Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.HoldsAsync(async () => (await http.GetAsync("/readyz")).IsSuccessStatusCode, $"{app.Process.Name} answers /readyz 200", StartLimit);
    }

    private async Task<SampleApp> StartAsync(string name, string dll, IEnumerable<string> arguments)
    {
        var sample = Path.GetFileNameWithoutExtension(dll);
        var process = StartedProcess.Start(name, "dotnet", [dll, "--urls", "http://127.0.0.1:0", .. arguments], SampleBuilds.FolderOf(sample));
        try
        {
            var listening = await process.LineAsync(@"Now listening on: (http://127\.0\.0\.1:\d+)", StartLimit);
            return new SampleApp(process, new Uri(listening.Groups[1].Value), output);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    private bool PackagesPresent()
    {
        if (builds.Packages.Count > 0)
        {
            output.WriteLine($"packages: {string.Join(", ", builds.Packages)}");
            return true;
        }

        const string Why = "No Orleans.Rooms packages in artifacts/: run `dotnet pack Orleans.Rooms.sln -c Release` at the repository's root first (.ci/run does).";
        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", Why);
        output.WriteLine($"Not run: {Why}");
        return false;
    }

    /// <summary>A running sample and where it listens; on dispose it is stopped and the end of its log goes to the test's output.</summary>
    private sealed record SampleApp(StartedProcess Process, Uri Url, ITestOutputHelper Output) : IAsyncDisposable
    {
        private const int LogLinesShown = 30;

        public async ValueTask DisposeAsync()
        {
            await Process.DisposeAsync();
            var lines = Process.Output.Split('\n');
            Output.WriteLine($"--- {Process.Name} ({Url}), the last {LogLinesShown} of {lines.Length} lines ---\n{string.Join('\n', lines.TakeLast(LogLinesShown))}");
        }
    }
}
