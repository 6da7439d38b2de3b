// The smallest app: a silo in the process, the socket hub, rooms.js, and three routes that a socket calls.
using Orleans.Hosting;
using Orleans.Rooms;
using Orleans.Rooms.Membership;
using Orleans.Rooms.VirtualRequests;

var builder = WebApplication.CreateBuilder(args);
builder.UseRoomsSilo();              // embedded: a one-silo cluster on localhost (Orleans:Redis would make it a silo of a cluster)
builder.Services.AddRooms();

var app = builder.Build();
app.MapRooms();                      // the socket hub, /sockets
app.MapRoomsScript();                // /rooms.js for pages: io.socket.post('/join', { room: 'fun' })

app.MapPost("/join", async (HttpContext http, Join body, IRoomService rooms) =>
{
    if (!http.IsSocketRequest()) return Results.BadRequest(new { error = "Only a socket can join a room." });
    await rooms.JoinAsync(http, body.Room);
    return Results.Ok(new { joined = body.Room, socket = http.GetSocketId() });
});

app.MapPost("/say", async (HttpContext http, Said body, IRoomService rooms) =>
{
    await rooms.BroadcastAsync(body.Room, "said", new { body.Text, from = http.GetSocketId() });
    return Results.Ok();
});

app.MapGet("/who", async (string room, IRoomService rooms) => Results.Ok(await rooms.SubscribersAsync(room)));

app.Run();

record Join(string Room);
record Said(string Room, string Text);
