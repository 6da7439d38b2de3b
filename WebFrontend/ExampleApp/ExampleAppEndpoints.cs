using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Orleans.Rooms.Authorization;
using Orleans.Rooms.Membership;
using Orleans.Rooms.VirtualRequests;

namespace Orleans.Rooms.WebFrontend.ExampleApp;

/// <summary>
/// The example app of docs/protocol.md over <see cref="IRoomService"/>. Every route takes its parameters from
/// the route, the query, a JSON or form body, over plain HTTP and over a socket alike.
/// </summary>
internal static class ExampleAppEndpoints
{
    /// <summary>The header of <c>GET /presence/list</c> that carries the state's version.</summary>
    public const string PresenceVersionHeader = "Rooms-Presence-Version";

    public static IServiceCollection AddExampleApp(this IServiceCollection services)
    {
        services.AddSingleton<IAuthorizationHandler, PrivateRoomHandler>();
        services.AddRoomsWarmUp(ExampleAppWarmUp.CycleAsync);
        return services;
    }

    public static IEndpointRouteBuilder MapExampleApp(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", Page).ExcludeFromDescription();

        var routes = endpoints.MapGroup(string.Empty).AddEndpointFilter<RoomErrorsFilter>();
        routes.MapPost("/joinFunRoom", JoinFunRoom);
        routes.MapPost("/leaveFunRoom", LeaveFunRoom);
        routes.MapPost("/broadcastFunRoom", BroadcastFunRoom);
        routes.MapPost("/blast", Blast);
        routes.MapGet("/socketId", SocketId);
        routes.MapGet("/socketRooms", SocketRooms);
        routes.MapGet("/funRoomSubscribers", FunRoomSubscribers);
        routes.MapPost("/presence/track", TrackPresence);
        routes.MapPost("/presence/update", UpdatePresence);
        routes.MapPost("/presence/untrack", UntrackPresence);
        routes.MapGet("/presence/list", ListPresence);

        var admin = routes.MapGroup(string.Empty).AddEndpointFilter<AdminKeyFilter>();
        admin.MapPost("/kickFromFunRoom", KickFromFunRoom);
        admin.MapPost("/rooms/addMembers", AddMembers);
        admin.MapPost("/rooms/removeMembers", RemoveMembers);
        admin.MapPost("/rooms/leaveAll", LeaveAll);
        admin.MapGet("/rooms", ListRooms);
        return endpoints;
    }

    // A small page that is one socket: join, leave, broadcast and watch events from a browser.
    private static IResult Page()
        => Results.Stream(typeof(ExampleAppEndpoints).Assembly.GetManifestResourceStream("index.html")!, "text/html; charset=utf-8");

    private static Task<IResult> JoinFunRoom(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options)
        => RequestingSocketInRoom(http, options, authorize: true, rooms.JoinAsync, "Joined a fun room called {0}!");

    private static Task<IResult> LeaveFunRoom(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options)
        => RequestingSocketInRoom(http, options, authorize: false, rooms.LeaveAsync, "Left a fun room called {0}!");

    // The seed's leaveFunRoom, check for check: roomName first, then req.isSocket, then the call, whose
    // failure the error filter answers with 500 (res.serverError). A join asks the app's authorization first.
    private static async Task<IResult> RequestingSocketInRoom(
        HttpContext http,
        IOptions<RoomsOptions> options,
        bool authorize,
        Func<SocketTarget, string, CancellationToken, Task> call,
        string message)
    {
        var p = await http.GetParametersAsync();
        if (!p.Has("roomName"))
        {
            return Answers.RoomNameRequired;
        }

        if (!http.IsSocketRequest())
        {
            return Answers.SocketOnly;
        }

        var room = RoomParameter(p, "roomName", options);
        if (authorize && !(await http.AuthorizeJoinAsync(room)).Succeeded)
        {
            return Answers.Error(StatusCodes.Status403Forbidden, $"This socket may not join room '{room}'.");
        }

        await call(http, room, http.RequestAborted);
        return Answers.Message(string.Format(CultureInfo.InvariantCulture, message, room));
    }

    private static async Task<IResult> BroadcastFunRoom(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options, IOptions<SocketLimitsOptions> limits)
    {
        var p = await http.GetParametersAsync();
        if (!p.Has("roomName"))
        {
            return Answers.RoomNameRequired;
        }

        var targets = RoomListParameter(p, "roomName", options, limits);
        var eventName = EventParameter(p, options);
        var except = ExceptSelf(http, p);
        if (PayloadTooLarge(p, limits) is { } tooLarge)
        {
            return tooLarge;
        }

        await rooms.BroadcastAsync(targets, eventName, p.Get("data"), except, http.RequestAborted);
        return Answers.Ok;
    }

    private static async Task<IResult> Blast(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options, IOptions<SocketLimitsOptions> limits)
    {
        var p = await http.GetParametersAsync();
        var eventName = EventParameter(p, options);
        var except = ExceptSelf(http, p);
        if (PayloadTooLarge(p, limits) is { } tooLarge)
        {
            return tooLarge;
        }

        await rooms.BlastAsync(eventName, p.Get("data"), except, http.RequestAborted);
        return Answers.Ok;
    }

    // Checked before anything is sent: the payload is copied into the queue of every target connection.
    private static IResult? PayloadTooLarge(RequestParameters p, IOptions<SocketLimitsOptions> limits)
    {
        var size = p.Get("data") is { } data ? JsonMarshal.GetRawUtf8Value(data).Length : 0;
        return size > limits.Value.MaxBroadcastPayloadBytes
            ? Answers.Error(StatusCodes.Status413PayloadTooLarge, $"`data` is {size} bytes of JSON; at most {limits.Value.MaxBroadcastPayloadBytes} may be broadcast (Rooms:Limits:MaxBroadcastPayloadBytes).")
            : null;
    }

    private static IResult SocketId(HttpContext http, IRoomService rooms)
        => http.IsSocketRequest() ? Results.Json(rooms.GetId(http)) : Answers.SocketOnly;

    private static async Task<IResult> SocketRooms(HttpContext http, IRoomService rooms)
    {
        var p = await http.GetParametersAsync();
        var socketId = p.GetString("socketId") ?? http.GetSocketId()
            ?? throw new BadParameterException("socketId", "`socketId` is required over plain HTTP (a socket request defaults to its own socket).");
        return Results.Json(await rooms.SocketRoomsAsync(socketId, http.RequestAborted));
    }

    private static async Task<IResult> FunRoomSubscribers(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options)
    {
        var p = await http.GetParametersAsync();
        if (!p.Has("roomName"))
        {
            return Answers.RoomNameRequired;
        }

        return Results.Json(await rooms.SubscribersAsync(RoomParameter(p, "roomName", options), http.RequestAborted));
    }

    // Presence (docs/presence.md): the requesting socket tracks itself, under `key` (default: its user, else its
    // id) with `meta` (a JSON object); tracking joins the room, and asks the app's authorization as a join does.
    private static async Task<IResult> TrackPresence(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options)
    {
        var p = await http.GetParametersAsync();
        var room = RoomParameter(p, "roomName", options);
        if (!http.IsSocketRequest())
        {
            return Answers.SocketOnly;
        }

        if (!(await http.AuthorizeJoinAsync(room)).Succeeded)
        {
            return Answers.Error(StatusCodes.Status403Forbidden, $"This socket may not join room '{room}'.");
        }

        await rooms.TrackAsync(http, room, p.GetString("key"), p.Get("meta"), http.RequestAborted);
        return Answers.Ok;
    }

    private static async Task<IResult> UpdatePresence(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options)
    {
        var p = await http.GetParametersAsync();
        var room = RoomParameter(p, "roomName", options);
        await rooms.UpdatePresenceAsync(http, room, p.Get("meta"), http.RequestAborted);
        return Answers.Ok;
    }

    private static async Task<IResult> UntrackPresence(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options)
    {
        var p = await http.GetParametersAsync();
        var room = RoomParameter(p, "roomName", options);
        await rooms.UntrackAsync(http, room, http.RequestAborted);
        return Answers.Ok;
    }

    // The room's state, `{ "<key>": { "metas": [...] } }`, and its version in a header: a client applies the
    // room's presence_diff events with a higher version on top of it.
    private static async Task<IResult> ListPresence(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options)
    {
        var p = await http.GetParametersAsync();
        var presence = await rooms.PresenceAsync(RoomParameter(p, "roomName", options), http.RequestAborted);
        http.Response.Headers[PresenceVersionHeader] = presence.Version;
        return Results.Json(presence);
    }

    private static async Task<IResult> KickFromFunRoom(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options)
    {
        var p = await http.GetParametersAsync();
        if (!p.Has("roomName"))
        {
            return Answers.RoomNameRequired;
        }

        var socketId = Required(p, "socketId");
        var room = RoomParameter(p, "roomName", options);
        await rooms.LeaveAsync(socketId, room, http.RequestAborted);
        return Answers.Message($"Kicked {socketId} from {room}!");
    }

    private static async Task<IResult> AddMembers(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options, IOptions<SocketLimitsOptions> limits)
    {
        var p = await http.GetParametersAsync();
        await rooms.AddRoomMembersToRoomsAsync(RoomParameter(p, "sourceRoom", options), RoomListParameter(p, "destRooms", options, limits), http.RequestAborted);
        return Answers.Ok;
    }

    private static async Task<IResult> RemoveMembers(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options, IOptions<SocketLimitsOptions> limits)
    {
        var p = await http.GetParametersAsync();
        await rooms.RemoveRoomMembersFromRoomsAsync(RoomParameter(p, "sourceRoom", options), RoomListParameter(p, "destRooms", options, limits), http.RequestAborted);
        return Answers.Ok;
    }

    private static async Task<IResult> LeaveAll(HttpContext http, IRoomService rooms, IOptions<RoomsOptions> options)
    {
        var p = await http.GetParametersAsync();
        if (!p.Has("roomName"))
        {
            return Answers.RoomNameRequired;
        }

        var leaveAll = new LeaveAllOptions(p.GetBool("includeSocketRooms") ?? false, p.GetBool("includeSourceRoom") ?? true);
        await rooms.LeaveAllAsync(RoomParameter(p, "roomName", options), leaveAll, http.RequestAborted);
        return Answers.Ok;
    }

    private static async Task<IResult> ListRooms(HttpContext http, IRoomService rooms, IOptions<SocketLimitsOptions> limits)
    {
        var p = await http.GetParametersAsync();
        var most = limits.Value.MaxRoomsPageSize;
        var limit = p.GetInt("limit") ?? Math.Min(RoomPage.DefaultLimit, most);
        if (limit < 1 || limit > most)
        {
            throw new BadParameterException("limit", $"`limit` must be between 1 and {most} (Rooms:Limits:MaxRoomsPageSize); got {limit}.");
        }

        var page = await rooms.RoomsAsync(p.GetString("after"), limit, http.RequestAborted);
        return Results.Json(new { rooms = page.Rooms, next = page.Next });
    }

    private static string Required(RequestParameters p, string name)
        => p.GetString(name) is { Length: > 0 } value ? value : throw new BadParameterException(name, $"`{name}` is required.");

    private static string RoomParameter(RequestParameters p, string name, IOptions<RoomsOptions> options)
    {
        var room = p.GetString(name) ?? throw new BadParameterException(name, $"`{name}` is required.");
        Names.ValidateRoom(room, options.Value.MaxRoomNameLength, name);
        return room;
    }

    private static string[] RoomListParameter(RequestParameters p, string name, IOptions<RoomsOptions> options, IOptions<SocketLimitsOptions> limits)
    {
        // Counted before the names are read: each name may activate a room grain.
        if (p.Get(name) is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() > limits.Value.MaxRoomsPerList)
        {
            throw new BadParameterException(name, $"`{name}` names {list.GetArrayLength()} rooms; at most {limits.Value.MaxRoomsPerList} per request (Rooms:Limits:MaxRoomsPerList).");
        }

        var rooms = p.GetStringList(name) ?? throw new BadParameterException(name, $"`{name}` is required: a room name or a list of them.");
        if (rooms.Count == 0)
        {
            throw new BadParameterException(name, $"`{name}` must name at least one room.");
        }

        foreach (var room in rooms)
        {
            Names.ValidateRoom(room, options.Value.MaxRoomNameLength, name);
        }

        return [.. rooms];
    }

    private static string? EventParameter(RequestParameters p, IOptions<RoomsOptions> options)
    {
        var eventName = p.GetString("eventName");
        if (eventName is not null)
        {
            Names.ValidateEvent(eventName, options.Value.MaxEventNameLength, "eventName");
        }

        return eventName;
    }

    private static SocketTarget? ExceptSelf(HttpContext http, RequestParameters p)
    {
        if (p.GetBool("exceptSelf") != true)
        {
            return null;
        }

        return http.IsSocketRequest()
            ? http
            : throw new BadParameterException("exceptSelf", "`exceptSelf` needs a socket request: a plain HTTP request has no socket to leave out.");
    }
}
