using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>An MVC action that only <see cref="HeaderAuthentication"/>'s scheme may reach: it answers the user's name.</summary>
[Route("mvc")]
public sealed class WhoAmIController : ControllerBase
{
    [HttpGet("me")]
    [Authorize(AuthenticationSchemes = HeaderAuthentication.SchemeName)]
    public string Me() => User.Identity!.Name!;
}
