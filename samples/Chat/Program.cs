// A Sails-style chat: MVC controllers, cookie sign-in, [Authorize] policies, rooms.js in a page. One app, three
// shapes, picked by Chat:Role: "embedded" (the default: a silo in this process), "silo" (a stand-alone silo of a
// cluster on Redis, Orleans:Redis) and "frontend" (a front end that is an Orleans client of that cluster).
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Orleans.Hosting;
using Orleans.Rooms;
using Chat;

var builder = WebApplication.CreateBuilder(args);
var role = builder.Configuration["Chat:Role"] ?? "embedded";
switch (role)
{
    case "embedded" or "silo":
        builder.UseRoomsSilo();
        break;
    case "frontend":
        builder.UseRoomsClient();
        break;
    default:
        throw new InvalidOperationException($"Chat:Role must be embedded, silo or frontend (was '{role}').");
}

if (role == "silo")
{
    var silo = builder.Build();
    silo.MapGet("/healthz", () => "ok");
    await silo.RunAsync();
    return;
}

builder.Services.AddRooms();
builder.Services.AddControllers();
builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(cookie =>
{
    // An API answers 401 and 403, over HTTP and over a socket, instead of redirecting to a login page.
    cookie.Events.OnRedirectToLogin = context => { context.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
    cookie.Events.OnRedirectToAccessDenied = context => { context.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
});
builder.Services.AddAuthorizationBuilder()
    .AddPolicy(ChatPolicies.Member, policy => policy.RequireAuthenticatedUser())
    .AddPolicy(ChatPolicies.Moderator, policy => policy.RequireRole(ChatPolicies.ModeratorRole));

// Several front ends: a cookie signed by one must be good on every other, so they share their keys.
if (builder.Configuration["Chat:KeysFolder"] is { Length: > 0 } keys)
{
    builder.Services.AddDataProtection().SetApplicationName("chat").PersistKeysToFileSystem(new DirectoryInfo(keys));
}

var app = builder.Build();
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseAuthentication();
app.UseAuthorization();
app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(RoomsServiceCollectionExtensions.ReadyTag) });
app.MapRooms();          // /sockets: a socket's requests run through the controllers below, as the socket's user
app.MapRoomsScript();    // /rooms.js: io.socket for wwwroot/index.html
app.MapControllers();
await app.RunAsync();
