using Microsoft.AspNetCore.Authorization;

namespace Orleans.Rooms.Authorization;

/// <summary>
/// The requirement of <see cref="RoomsAuthorization.JoinPolicy"/>, with the room name (a <see cref="string"/>)
/// as the resource. Every room may be joined unless a handler of the app fails this requirement: write an
/// <c>AuthorizationHandler&lt;JoinRoomRequirement, string&gt;</c> that calls <c>context.Fail(...)</c> for
/// the rooms the user may not join, and register it as an <see cref="IAuthorizationHandler"/>.
/// </summary>
public sealed class JoinRoomRequirement : IAuthorizationRequirement
{
    /// <summary>The one instance (the requirement has no settings).</summary>
    public static JoinRoomRequirement Instance { get; } = new();

    private JoinRoomRequirement()
    {
    }

    /// <summary>Meets the requirement for every room, so that only an app handler's <c>Fail()</c> refuses a join.</summary>
    internal sealed class AllowUnlessRefused : AuthorizationHandler<JoinRoomRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, JoinRoomRequirement requirement)
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }
}
