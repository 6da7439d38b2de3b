using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms;

/// <summary>
/// Binding of settings that check themselves. The one helper both sides of the cluster share besides the grain
/// contracts (silo hosting and front ends each have options of their own), so it lives with them.
/// </summary>
internal static class SelfValidatingOptions
{
    /// <summary>Binds <typeparamref name="TOptions"/> from <paramref name="sectionName"/> and runs its own validation at start-up.</summary>
    public static IServiceCollection AddSelfValidatingOptions<TOptions>(this IServiceCollection services, string sectionName)
        where TOptions : class, ISelfValidatingOptions
    {
        services.AddOptions<TOptions>().BindConfiguration(sectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, Validator<TOptions>>());
        return services;
    }

    private sealed class Validator<TOptions> : IValidateOptions<TOptions>
        where TOptions : class, ISelfValidatingOptions
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
            => options.Validate() is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
