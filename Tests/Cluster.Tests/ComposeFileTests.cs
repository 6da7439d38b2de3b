using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.Extensions.Configuration;
using Orleans.Rooms.Cluster.Tests.Infrastructure;
using Orleans.Rooms.Hosting;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.WebFrontend.ExampleApp;

namespace Orleans.Rooms.Cluster.Tests;

/// <summary>
/// docker-compose.yml cannot be run here (no Docker engine), so it is held against the code: what it builds
/// exists, every variable it sets is a setting the app reads, and its ports agree with those settings; and its
/// balancer's config (deploy/haproxy/haproxy.cfg, which scripts/cluster runs too) against the front ends and HAProxy.
/// </summary>
public sealed partial class ComposeFileTests
{
    private static readonly ComposeFile Compose = ComposeFile.Load(Repository.PathOf("docker-compose.yml"));

    private static readonly string LbConfigPath = Repository.PathOf("deploy/haproxy/haproxy.cfg");

    /// <summary>The balancer's config as compose runs it (none of scripts/cluster's variables set).</summary>
    private static readonly HaproxyConfig LbConfig = HaproxyConfig.Load(LbConfigPath, new HashSet<string>());

    /// <summary>Where the haproxy image reads its config.</summary>
    private const string LbConfigInImage = "/usr/local/etc/haproxy/haproxy.cfg";

    private static IEnumerable<ComposeFile.Service> Apps(AppKind kind) => Compose.Services.Values.Where(s => KindOf(s) == kind);

    private static IEnumerable<ComposeFile.Service> Silos => Apps(AppKind.Silo);

    private static IEnumerable<ComposeFile.Service> FrontEnds => Apps(AppKind.FrontEnd);

    private static ComposeFile.Service Lb => Compose.Services.Values.Single(IsBalancer);

    [Fact]
    public void TheFileDescribesTwoSilosTwoFrontEndsRedisAndTheBalancer()
    {
        Assert.Equal(2, Silos.Count());
        Assert.Equal(2, FrontEnds.Count());
        Assert.Single(Compose.Services.Values, IsRedis);
        Assert.Single(Compose.Services.Values, IsBalancer);
        Assert.All(Compose.Services.Values, s => Assert.True(s.Build is not null || IsRedis(s) || IsBalancer(s), $"{s.Name} is neither built from this repository nor Redis nor the balancer."));
    }

    [Fact]
    public void OnlyTheBalancerIsPublishedOnLoopbackPort5000OnThePortItsConfigBinds()
    {
        var bind = Assert.Single(Assert.Single(LbConfig.Lines("frontend rooms", "bind")));
        var published = Assert.Single(Lb.Ports);
        Assert.Equal(new ComposeFile.PublishedPort("127.0.0.1", 5000, int.Parse(bind.Split(':')[^1])), published);
        Assert.All(Silos.Concat(FrontEnds), s => Assert.True(s.Ports.Count == 0, $"{s.Name} is published itself; clients go through the balancer"));
        Assert.True(FrontEnds.All(fe => Lb.DependsOn.Contains(fe.Name)), $"the balancer should start with every front end (depends_on: {string.Join(", ", Lb.DependsOn)})");
    }

    [Fact]
    public void TheBalancerRunsTheCheckedInConfigAndBalancesEveryFrontEndOnItsHttpPortByItsReadiness()
    {
        var (source, target) = Assert.Single(Lb.Volumes);
        Assert.Equal(LbConfigInImage, target);
        Assert.Equal(LbConfigPath, Path.GetFullPath(Path.Combine(Compose.Folder, source)));

        const string backend = "backend frontends";
        var servers = LbConfig.Lines(backend, "server");
        Assert.Equal(FrontEnds.Select(fe => $"{fe.Name} {fe.Name}:{HttpPortOf(fe)}").Order(), servers.Select(s => $"{s[0]} {s[1]}").Order());
        Assert.All(servers, s => Assert.Contains("check", s));
        Assert.All(FrontEnds, fe => Assert.Contains(HttpPortOf(fe), fe.Exposed));
        Assert.Equal(["roundrobin"], Assert.Single(LbConfig.Lines(backend, "balance")));
        Assert.Equal(["httpchk", "GET", "/readyz"], Assert.Single(LbConfig.Lines(backend, "option")));

        // SignalR's connect goes to the front end that negotiated: the header its negotiate answer names the
        // connection token in is learned, and matched against the connect's id.
        Assert.Equal([$"res.hdr({NegotiateAffinity.HeaderName.ToLowerInvariant()})"], Assert.Single(LbConfig.Lines(backend, "stick"), l => l[0] == "store-response")[1..]);
        Assert.Equal(["url_param(id)"], Assert.Single(LbConfig.Lines(backend, "stick"), l => l[0] == "match")[1..]);
    }

    [Fact]
    public void TheBalancersConfigIsValidForComposeAndForScriptsCluster()
    {
        var socket = Path.Combine(Path.GetTempPath(), $"rooms-lb-check-{Guid.NewGuid():N}.sock");
        Assert.Null(HaproxyConfig.Check(LbConfigPath, new Dictionary<string, string>()));
        Assert.Null(HaproxyConfig.Check(LbConfigPath, new Dictionary<string, string> { ["ROOMS_LB_BIND"] = "127.0.0.1:5000", ["ROOMS_LB_SOCKET"] = socket }));
    }

    [Fact]
    public void EveryBuildContextDockerfileAndPublishedProjectExists()
    {
        foreach (var service in Compose.Services.Values.Where(s => s.Build is not null))
        {
            var (context, dockerfile) = service.Build!.Value;
            var contextPath = Path.GetFullPath(Path.Combine(Compose.Folder, context));
            var dockerfilePath = Path.Combine(contextPath, dockerfile);
            Assert.True(System.IO.Directory.Exists(contextPath), $"{service.Name}: no build context {contextPath}");
            Assert.True(File.Exists(dockerfilePath), $"{service.Name}: no Dockerfile {dockerfilePath}");

            // The project it publishes exists (inside the context) and its entry point is that project's assembly.
            var text = File.ReadAllText(dockerfilePath);
            var project = PublishedProject().Match(text);
            Assert.True(project.Success, $"{dockerfilePath} publishes no project (dotnet publish X.csproj)");
            var projectPath = Path.Combine(contextPath, project.Groups[1].Value);
            Assert.True(File.Exists(projectPath), $"{dockerfilePath} publishes {projectPath}, which does not exist");
            var assemblyName = XDocument.Load(projectPath).Descendants("AssemblyName").Single().Value;
            Assert.Contains($"\"{assemblyName}.dll\"", EntryPoint().Match(text).Value);
        }
    }

    [Fact]
    public void EveryEnvironmentVariableIsASettingTheAppReads()
    {
        foreach (var service in Silos.Concat(FrontEnds))
        {
            foreach (var variable in service.Environment.Keys)
            {
                Assert.True(AppSettings.IsReadBy(KindOf(service), variable), $"{service.Name} sets {variable}, which a {KindOf(service)} does not read.");
            }
        }
    }

    [Fact]
    public void EveryAppsSettingsBindAndPassTheirOwnValidation()
    {
        foreach (var service in Silos.Concat(FrontEnds))
        {
            foreach (var (section, type) in AppSettings.Read[KindOf(service)!.Value])
            {
                var options = Bind(service, section, type);
                if (options is ISelfValidatingOptions validating)
                {
                    Assert.True(validating.Validate() is null, $"{service.Name}, {type.Name}: {validating.Validate()}");
                }
            }
        }
    }

    [Fact]
    public void FrontEndsAreClientsAndSilosAdvertiseTheirOwnAddressOnTheComposeRedis()
    {
        var redis = Compose.Services.Values.Single(IsRedis);
        foreach (var service in Silos.Concat(FrontEnds))
        {
            var cluster = ClusterSettingsOf(service);
            Assert.Equal($"{redis.Name}:6379", cluster.Redis);
            Assert.Contains(redis.Name, service.DependsOn);
        }

        Assert.All(FrontEnds, fe => Assert.Equal(ClusterRole.Client, ClusterSettingsOf(fe).Role));
        Assert.All(Silos, silo => Assert.Null(ClusterSettingsOf(silo).AdvertisedIPAddress));
        Assert.All(Silos, silo => Assert.DoesNotContain(silo.Environment.Keys, key => key.EndsWith("__Role", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public void SilosExposeTheSiloGatewayAndHttpPortsTheirSettingsGiveThem()
    {
        foreach (var silo in Silos)
        {
            var cluster = ClusterSettingsOf(silo);
            var open = silo.Exposed.Concat(silo.Ports.Select(p => p.ContainerPort)).ToHashSet();
            foreach (var (what, port) in new[] { ("silo port", cluster.SiloPort), ("gateway port", cluster.GatewayPort), ("HTTP port", HttpPortOf(silo)) })
            {
                Assert.True(open.Contains(port), $"{silo.Name}: its {what} {port} is not among the ports it exposes ({string.Join(", ", open)})");
            }
        }
    }

    [Fact]
    public void PublishedPortsAndHealthChecksUseThePortEachAppListensOn()
    {
        foreach (var service in Silos.Concat(FrontEnds))
        {
            var port = HttpPortOf(service);
            var url = service.HealthCheck.SingleOrDefault(part => part.StartsWith("http://", StringComparison.Ordinal));
            Assert.True(url is not null, $"{service.Name}: the health check names no URL ({string.Join(' ', service.HealthCheck)})");
            var health = new Uri(url);
            Assert.True((health.Port, health.AbsolutePath) == (port, "/readyz"), $"{service.Name} listens on {port}, its health check asks {url}");
            Assert.All(service.Ports, p => Assert.True(p.ContainerPort == port, $"{service.Name} listens on {port}, it publishes {p.ContainerPort}"));
        }
    }

    [Fact]
    public void RedisKeepsNothingOnDisk()
    {
        var command = Compose.Services.Values.Single(IsRedis).Command;
        Assert.Equal(["--save", ""], command.SkipWhile(a => a != "--save").Take(2));
        Assert.Equal(["--appendonly", "no"], command.SkipWhile(a => a != "--appendonly").Take(2));
    }

    private static AppKind? KindOf(ComposeFile.Service service) => service.Build?.Dockerfile.Replace('\\', '/') switch
    {
        "Silo/Dockerfile" => AppKind.Silo,
        "WebFrontend/Dockerfile" => AppKind.FrontEnd,
        _ => null,
    };

    private static bool IsRedis(ComposeFile.Service service) => service.Image?.Split(':')[0] == "redis";

    private static bool IsBalancer(ComposeFile.Service service) => service.Image?.Split(':')[0] == "haproxy";

    private static ClusterHostingOptions ClusterSettingsOf(ComposeFile.Service service)
        => (ClusterHostingOptions)Bind(service, ClusterHostingOptions.SectionName, typeof(ClusterHostingOptions));

    /// <summary>The options the app would bind from this service's environment (compose defaults filled in).</summary>
    private static object Bind(ComposeFile.Service service, string section, Type type)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(service.Environment.Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), (string?)WithDefaults(e.Value))))
            .Build();
        var options = Activator.CreateInstance(type)!;
        configuration.GetSection(section).Bind(options);
        return options;
    }

    /// <summary>What the app sees when the variables the value interpolates are not set: <c>${X:-d}</c> is d.</summary>
    private static string WithDefaults(string value) => Interpolation().Replace(value, m => m.Groups["default"].Value);

    private static int HttpPortOf(ComposeFile.Service service)
    {
        Assert.True(service.Environment.TryGetValue("ASPNETCORE_URLS", out var urls), $"{service.Name} sets no ASPNETCORE_URLS");
        var ports = urls!.Split(';').Select(url => int.Parse(UrlPort().Match(url).Groups[1].Value)).Distinct().ToList();
        return Assert.Single(ports);
    }

    [GeneratedRegex(@"dotnet\s+publish\s+(\S+\.csproj)")]
    private static partial Regex PublishedProject();

    [GeneratedRegex(@"^ENTRYPOINT\s.*$", RegexOptions.Multiline)]
    private static partial Regex EntryPoint();

    [GeneratedRegex(@"\$\{\w+(?::?-(?<default>[^}]*))?\}")]
    private static partial Regex Interpolation();

    [GeneratedRegex(@":(\d+)/?$")]
    private static partial Regex UrlPort();
}
