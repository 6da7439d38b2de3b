using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace Chat.Controllers;

/// <summary>
/// Sign-in over plain HTTP (a cookie is set on a real response, then the socket connects with it). A sample: any
/// name is accepted, and a name that starts with <c>mod-</c> is a moderator; an app checks a password here.
/// </summary>
[ApiController]
[Route("account")]
public sealed class AccountController : ControllerBase
{
    [HttpPost("login")]
    public async Task<IActionResult> Login(LoginForm form)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, form.Name) };
        if (form.Name.StartsWith("mod-", StringComparison.Ordinal))
        {
            claims.Add(new Claim(ClaimTypes.Role, ChatPolicies.ModeratorRole));
        }

        await HttpContext.SignInAsync(new ClaimsPrincipal(new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme)));
        return Ok(new { name = form.Name });
    }
}

/// <summary>The sign-in form: the user's name.</summary>
public sealed record LoginForm([Required, StringLength(40, MinimumLength = 1)] string Name);
