using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Orleans.Rooms;

/// <summary>Settings classes that check themselves and name the bad setting.</summary>
internal interface ISelfValidatingOptions
{
    /// <summary>The first problem with these settings, naming the setting, or null when they are valid.</summary>
    string? Validate();
}
