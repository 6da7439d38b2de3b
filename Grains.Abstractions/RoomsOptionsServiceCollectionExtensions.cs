using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms;

public static class RoomsOptionsServiceCollectionExtensions
{
    /// <summary>Binds <see cref="RoomsOptions"/> from section <c>Rooms</c> and validates it at start-up, naming the bad setting.</summary>
    public static IServiceCollection AddRoomsOptions(this IServiceCollection services)
    {
        services.AddOptions<RoomsOptions>().BindConfiguration(RoomsOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RoomsOptions>, RoomsOptionsValidator>());
        return services;
    }

    private sealed class RoomsOptionsValidator : IValidateOptions<RoomsOptions>
    {
        public ValidateOptionsResult Validate(string? name, RoomsOptions options)
            => options.Validate() is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
