using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Orleans.Rooms.Membership;
using Orleans.Rooms.VirtualRequests;

namespace Chat.Controllers;

/// <summary>
/// The chat, as a Sails controller would be: <c>io.socket.post('/chat/join', { roomName })</c> joins the requesting
/// socket to a room and tracks its user there (presence), <c>/chat/say</c> broadcasts to it,
/// <c>io.socket.get('/chat/who', { roomName })</c> lists its sockets, <c>/chat/online</c> its users, and a moderator
/// may kick a socket out. Every route needs a signed-in user.
/// </summary>
[ApiController]
[Route("chat")]
[Authorize(Policy = ChatPolicies.Member)]
public sealed class ChatController(IRoomService rooms) : ControllerBase
{
    private string UserName => User.Identity?.Name ?? "?";

    [HttpPost("join")]
    public async Task<IActionResult> Join(RoomForm form, CancellationToken cancellationToken)
    {
        if (!HttpContext.IsSocketRequest())
        {
            return BadRequest(new { error = "Only a socket can join a room: io.socket.post('/chat/join', { roomName })." });
        }

        // Joins the room and lists the user there (key: the signed-in user), with when this socket came.
        await rooms.TrackAsync(HttpContext, form.RoomName, meta: new { since = DateTimeOffset.UtcNow }, cancellationToken: cancellationToken);
        await rooms.BroadcastAsync(form.RoomName, "joined", new { user = UserName, roomName = form.RoomName }, except: HttpContext, cancellationToken: cancellationToken);
        return Ok(new { roomName = form.RoomName, user = UserName, socketId = HttpContext.GetSocketId() });
    }

    [HttpPost("leave")]
    public async Task<IActionResult> Leave(RoomForm form, CancellationToken cancellationToken)
    {
        await rooms.LeaveAsync(HttpContext, form.RoomName, cancellationToken);
        return Ok(new { roomName = form.RoomName });
    }

    [HttpPost("say")]
    public async Task<IActionResult> Say(SayForm form, CancellationToken cancellationToken)
    {
        await rooms.BroadcastAsync(form.RoomName, "message", new { from = UserName, text = form.Text, roomName = form.RoomName }, cancellationToken: cancellationToken);
        return Ok();
    }

    [HttpGet("who")]
    public async Task<IActionResult> Who([FromQuery, Required] string roomName, CancellationToken cancellationToken)
        => Ok(await rooms.SubscribersAsync(roomName, cancellationToken));

    /// <summary>Who is in the room: each user with one meta per socket of theirs.</summary>
    [HttpGet("online")]
    public async Task<IActionResult> Online([FromQuery, Required] string roomName, CancellationToken cancellationToken)
        => Ok(await rooms.PresenceAsync(roomName, cancellationToken));

    [HttpPost("kick")]
    [Authorize(Policy = ChatPolicies.Moderator)]
    public async Task<IActionResult> Kick(KickForm form, CancellationToken cancellationToken)
    {
        await rooms.LeaveAsync(form.SocketId, form.RoomName, cancellationToken);
        await rooms.BroadcastAsync(form.RoomName, "kicked", new { socketId = form.SocketId, by = UserName }, cancellationToken: cancellationToken);
        return Ok();
    }
}

/// <summary>A room, by name.</summary>
public sealed record RoomForm([Required] string RoomName);

/// <summary>What to say, and where.</summary>
public sealed record SayForm([Required] string RoomName, [Required, StringLength(2000)] string Text);

/// <summary>Which socket to take out of which room.</summary>
public sealed record KickForm([Required] string RoomName, [Required] string SocketId);
