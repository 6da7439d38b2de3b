using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms.WebFrontend.ExampleApp;

/// <summary>
/// Admin routes answer 403 unless header <c>x-admin-key</c> equals the configured <c>Rooms:AdminKey</c>. The
/// two are compared as SHA-256 hashes in constant time, so neither the time taken nor an early exit tells
/// how long the key is or how much of it was right; neither key is ever logged.
/// </summary>
internal sealed class AdminKeyFilter(IOptionsMonitor<RoomsOptions> options) : IEndpointFilter
{
    public const string HeaderName = "x-admin-key";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var configured = options.CurrentValue.AdminKey;
        if (string.IsNullOrEmpty(configured))
        {
            return ValueTask.FromResult<object?>(Answers.Error(StatusCodes.Status403Forbidden, "Admin routes are disabled: no Rooms:AdminKey is configured."));
        }

        var given = context.HttpContext.Request.Headers[HeaderName].ToString();
        if (!Matches(given, configured))
        {
            return ValueTask.FromResult<object?>(Answers.Error(StatusCodes.Status403Forbidden, $"Admin routes need header {HeaderName} with the admin key."));
        }

        return next(context);
    }

    internal static bool Matches(string given, string configured)
    {
        Span<byte> givenHash = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> configuredHash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(given), givenHash);
        SHA256.HashData(Encoding.UTF8.GetBytes(configured), configuredHash);
        return CryptographicOperations.FixedTimeEquals(givenHash, configuredHash);
    }
}
