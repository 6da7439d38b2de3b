using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms.WebFrontend.ExampleApp;

/// <summary>Admin routes answer 403 unless header <c>x-admin-key</c> equals the configured <c>Rooms:AdminKey</c>.</summary>
internal sealed class AdminKeyFilter(IOptionsMonitor<ExampleAppOptions> options) : IEndpointFilter
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
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(configured)))
        {
            return ValueTask.FromResult<object?>(Answers.Error(StatusCodes.Status403Forbidden, $"Admin routes need header {HeaderName} with the admin key."));
        }

        return next(context);
    }
}
