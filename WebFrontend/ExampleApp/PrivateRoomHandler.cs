using Microsoft.AspNetCore.Authorization;
using Orleans.Rooms.Authorization;

namespace Orleans.Rooms.WebFrontend.ExampleApp;

/// <summary>
/// The example app's private rooms: a room named <c>private:&lt;user&gt;</c> may be joined only by a socket
/// whose user is authenticated under that name. Every other room stays open to all.
/// </summary>
internal sealed class PrivateRoomHandler : AuthorizationHandler<JoinRoomRequirement, string>
{
    public const string Prefix = "private:";

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, JoinRoomRequirement requirement, string room)
    {
        if (room.StartsWith(Prefix, StringComparison.Ordinal)
            && !(context.User.Identity is { IsAuthenticated: true, Name: { } name } && string.Equals(name, room[Prefix.Length..], StringComparison.Ordinal)))
        {
            context.Fail(new AuthorizationFailureReason(this, $"Room '{room}' is private to user '{room[Prefix.Length..]}'."));
        }

        return Task.CompletedTask;
    }
}
