using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Orleans.Rooms.Authorization;

/// <summary>Asks the app's authorization whether the user of a request may join a room.</summary>
public static class RoomsAuthorization
{
    /// <summary>The policy that decides joins: <see cref="JoinRoomRequirement"/>, resource the room name.</summary>
    public const string JoinPolicy = "Orleans.Rooms.Join";

    /// <summary>Whether the user of <paramref name="context"/> may join <paramref name="room"/>, and why not when not.</summary>
    public static async Task<AuthorizationResult> AuthorizeJoinAsync(this HttpContext context, string room)
    {
        var authorization = context.RequestServices.GetRequiredService<IAuthorizationService>();
        return await authorization.AuthorizeAsync(context.User, room, JoinPolicy);
    }
}
