using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Rooms.WebFrontend.Tests.Infrastructure;

namespace Orleans.Rooms.WebFrontend.Tests;

/// <summary>
/// Who may do what: the app's authorization decides joins (the example app's private rooms), a connection
/// whose authentication expires is closed, and the admin key is all or nothing.
/// </summary>
public sealed class AuthorizationTests : IAsyncLifetime
{
    private FrontEndServer _server = null!;

    public async Task InitializeAsync()
        => _server = await FrontEndServer.StartAsync("authz-" + Guid.NewGuid().ToString("N")[..8], configure: builder =>
            builder.Services.AddAuthentication(HeaderAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task APrivateRoomIsJoinedOnlyByItsUserAndARefusalJoinsNothing()
    {
        await using var alice = await TestSocket.ConnectAsync(_server.BaseAddress, new Dictionary<string, string> { [HeaderAuthentication.Header] = "alice" });
        await using var anonymous = await _server.ConnectAsync();
        var asBob = new Dictionary<string, string> { [HeaderAuthentication.Header] = "bob" };

        var own = await alice.RequestAsync("POST", "/joinFunRoom", new { roomName = "private:alice" });
        var stranger = await anonymous.RequestAsync("POST", "/joinFunRoom", new { roomName = "private:alice" });
        var bob = await anonymous.RequestAsync("POST", "/joinFunRoom", new { roomName = "private:alice" }, asBob);
        var open = await anonymous.RequestAsync("POST", "/joinFunRoom", new { roomName = "lobby-" + Guid.NewGuid().ToString("N")[..6] });

        Assert.Equal(200, own.StatusCode);
        Assert.Equal(403, stranger.StatusCode);
        Assert.Equal("This socket may not join room 'private:alice'.", stranger.Error);
        Assert.Equal(403, bob.StatusCode);
        Assert.Equal(200, open.StatusCode);
        Assert.Equal([alice.Id], (await anonymous.RequestAsync("GET", "/funRoomSubscribers", new { roomName = "private:alice" })).Strings);
    }

    [Fact]
    public async Task AConnectionIsClosedWhenItsAuthenticationExpires()
    {
        await using var expiring = await TestSocket.ConnectAsync(_server.BaseAddress, new Dictionary<string, string>
        {
            [HeaderAuthentication.Header] = "carol",
            [HeaderAuthentication.ExpiresInHeader] = "1500",
        });
        await using var lasting = await TestSocket.ConnectAsync(_server.BaseAddress, new Dictionary<string, string> { [HeaderAuthentication.Header] = "dave" });
        Assert.Equal(200, (await expiring.RequestAsync("GET", "/socketId")).StatusCode);

        await expiring.Closed.WaitAsync(TestSocket.Timeout);

        Assert.Equal(200, (await lasting.RequestAsync("GET", "/socketId")).StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("test-admin-ke")]
    [InlineData("test-admin-keyy")]
    [InlineData("TEST-ADMIN-KEY")]
    [InlineData("test-admin-key\0")]
    public async Task OnlyTheWholeAdminKeyOpensAdminRoutes(string key)
    {
        await using var socket = await _server.ConnectAsync();

        var wrong = await socket.RequestAsync("GET", "/rooms", headers: new Dictionary<string, string> { ["x-admin-key"] = key });
        var right = await socket.RequestAsync("GET", "/rooms", headers: new Dictionary<string, string> { ["x-admin-key"] = FrontEndServer.AdminKey });

        Assert.Equal(key.Contains('\0') ? 400 : 403, wrong.StatusCode);
        Assert.Equal(200, right.StatusCode);
    }
}
