using System.Reflection;
using Orleans.Rooms.Hosting;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>The kinds of app this repository deploys, and which environment variables each reads.</summary>
public enum AppKind
{
    Silo,
    FrontEnd,
}

/// <summary>
/// The settings each kind of app binds (section and options class), for the tests that hold deployment files
/// (docker-compose.yml, deploy/kubernetes) against the code.
/// </summary>
public static class AppSettings
{
    public static readonly IReadOnlyDictionary<AppKind, (string Section, Type Options)[]> Read = new Dictionary<AppKind, (string, Type)[]>
    {
        [AppKind.Silo] =
        [
            (ClusterHostingOptions.SectionName, typeof(ClusterHostingOptions)),
            (MembershipTableGuardOptions.SectionName, typeof(MembershipTableGuardOptions)),
        ],
        [AppKind.FrontEnd] =
        [
            (ClusterHostingOptions.SectionName, typeof(ClusterHostingOptions)),
            (RoomsOptions.SectionName, typeof(RoomsOptions)),
            (SocketLimitsOptions.SectionName, typeof(SocketLimitsOptions)),
            (FrontEndOptions.SectionName, typeof(FrontEndOptions)),
        ],
    };

    /// <summary>
    /// <c>Section__Key</c> is read when <c>Key</c> is a public settable property of an options class that the
    /// app binds from <c>Section</c>; the host's own variables are read by ASP.NET Core and the runtime.
    /// </summary>
    public static bool IsReadBy(AppKind? kind, string variable)
    {
        if (variable is "ASPNETCORE_URLS" or "ASPNETCORE_ENVIRONMENT" || variable.StartsWith("DOTNET_", StringComparison.Ordinal))
        {
            return true;
        }

        var key = variable.Replace("__", ":", StringComparison.Ordinal);
        var cut = key.LastIndexOf(':');
        if (kind is null || cut < 0)
        {
            return false;
        }

        var (section, name) = (key[..cut], key[(cut + 1)..]);
        if (kind == AppKind.Silo && section == ClusterHostingOptions.SectionName && name == nameof(ClusterHostingOptions.Role))
        {
            return false; // front ends only
        }

        return Read[kind.Value].Any(s =>
            string.Equals(s.Section, section, StringComparison.OrdinalIgnoreCase)
            && s.Options.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is { SetMethod.IsPublic: true });
    }
}
