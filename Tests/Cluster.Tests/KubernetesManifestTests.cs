using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Orleans.Hosting.Kubernetes;
using Orleans.Rooms.Cluster.Tests.Infrastructure;
using Orleans.Rooms.Hosting;
using Orleans.Rooms.Sockets;
using Orleans.Rooms.WebFrontend.Hosting;

namespace Orleans.Rooms.Cluster.Tests;

/// <summary>
/// deploy/kubernetes cannot be applied here (no cluster), so, as docker-compose.yml is (ComposeFileTests), it is
/// held against the code: the settings it sets exist and validate, the ports and probe paths are the apps' own, the
/// silos have what Orleans' Kubernetes hosting needs, the front ends' grace covers their drain, and the balancer runs
/// deploy/haproxy/haproxy.cfg as it is.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private static readonly KubernetesManifests Manifests = KubernetesManifests.Load(Repository.PathOf("deploy/kubernetes"));

    private static readonly string LbConfigPath = Repository.PathOf("deploy/haproxy/haproxy.cfg");

    private static readonly Dictionary<AppKind, (string Deployment, string Image, string Dockerfile)> Apps = new()
    {
        [AppKind.Silo] = ("rooms-silo", "orleans-rooms/silo", "Silo/Dockerfile"),
        [AppKind.FrontEnd] = ("rooms-frontend", "orleans-rooms/frontend", "WebFrontend/Dockerfile"),
    };

    private static KubernetesManifests.Resource Deployment(AppKind kind) => Manifests.Single("Deployment", Apps[kind].Deployment);

    private static KubernetesManifests.Container Container(AppKind kind) => Deployment(kind).SingleContainer();

    [Fact]
    public void EveryDeploymentHasADisruptionBudgetAndEveryServiceAndBudgetSelectsADeploymentsPods()
    {
        var deployments = Manifests.OfKind("Deployment").ToList();
        Assert.Equal(["redis", "rooms-frontend", "rooms-lb", "rooms-silo"], deployments.Select(d => d.Name).Order());
        foreach (var selecting in Manifests.OfKind("Service").Concat(Manifests.OfKind("PodDisruptionBudget")))
        {
            Assert.True(selecting.Selector.Count > 0, $"{selecting} selects nothing");
            Assert.True(deployments.Any(d => Selects(selecting, d)), $"{selecting} selects no Deployment's pods ({string.Join(", ", selecting.Selector)})");
        }

        foreach (var deployment in deployments.Where(d => d.Name != "redis"))
        {
            Assert.True(Selects(deployment, deployment), $"{deployment}: its selector does not match its own pods");
            Assert.True(Manifests.OfKind("PodDisruptionBudget").Any(b => Selects(b, deployment)), $"{deployment} has no PodDisruptionBudget");
        }
    }

    [Fact]
    public void EveryEnvironmentVariableIsASettingTheAppReadsAndTheSettingsPassTheirValidation()
    {
        string[] podFields = [KubernetesHostingOptions.PodNameEnvironmentVariable, KubernetesHostingOptions.PodNamespaceEnvironmentVariable, KubernetesHostingOptions.PodIPEnvironmentVariable];
        foreach (var kind in Apps.Keys)
        {
            foreach (var name in Container(kind).Names)
            {
                Assert.True(AppSettings.IsReadBy(kind, name) || (kind == AppKind.Silo && podFields.Contains(name)), $"{Apps[kind].Deployment} sets {name}, which a {kind} does not read.");
            }

            foreach (var (section, type) in AppSettings.Read[kind])
            {
                if (Bind(kind, section, type) is ISelfValidatingOptions options)
                {
                    Assert.True(options.Validate() is null, $"{Apps[kind].Deployment}, {type.Name}: {options.Validate()}");
                }
            }
        }
    }

    [Fact]
    public void SilosUseKubernetesHostingWithThePodsNameNamespaceAddressClusterLabelsAndRights()
    {
        var silo = Container(AppKind.Silo);
        var cluster = ClusterSettingsOf(AppKind.Silo);
        var environment = new Dictionary<string, string> { ["KUBERNETES_SERVICE_HOST"] = "10.0.0.1" };
        foreach (var name in silo.Names)
        {
            environment[name] = silo.Values.GetValueOrDefault(name, "from the pod");
        }

        Assert.True(cluster.UsesKubernetesHosting(environment.GetValueOrDefault), "a silo pod does not turn Orleans' Kubernetes hosting on (Orleans:Kubernetes, POD_NAME)");
        Assert.Equal("metadata.name", silo.FieldOf(KubernetesHostingOptions.PodNameEnvironmentVariable));
        Assert.Equal("metadata.namespace", silo.FieldOf(KubernetesHostingOptions.PodNamespaceEnvironmentVariable));
        Assert.Equal("status.podIP", silo.FieldOf(KubernetesHostingOptions.PodIPEnvironmentVariable));
        Assert.Null(cluster.AdvertisedIPAddress); // the pod's address is advertised

        // The agent watches the pods labelled with the cluster's ids, as the silo binds them.
        var labels = Deployment(AppKind.Silo).PodLabels;
        Assert.Equal(cluster.ServiceId, labels.GetValueOrDefault(KubernetesHostingOptions.ServiceIdLabel));
        Assert.Equal(cluster.ClusterId, labels.GetValueOrDefault(KubernetesHostingOptions.ClusterIdLabel));
        Assert.Equal(cluster.ClusterId, ClusterSettingsOf(AppKind.FrontEnd).ClusterId);
        Assert.Equal(cluster.ServiceId, ClusterSettingsOf(AppKind.FrontEnd).ServiceId);

        // Its service account may read, watch and label pods.
        var account = (string)Deployment(AppKind.Silo).PodSpec["serviceAccountName"];
        var binding = Assert.Single(Manifests.OfKind("RoleBinding"), b => b.List("subjects").Any(s => (string)s["kind"] == "ServiceAccount" && (string)s["name"] == account));
        var role = Manifests.Single("Role", binding.Scalar("roleRef", "name")!);
        var rule = Assert.Single(role.List("rules"), r => ((List<object>)r["resources"]).Contains("pods"));
        Assert.Equal(["get", "list", "patch", "watch"], ((List<object>)rule["verbs"]).Cast<string>().Order());
        Manifests.Single("ServiceAccount", account);
    }

    [Fact]
    public void AppsListenOnTheirHttpPortWhereTheProbesAskReadyzAndHealthz()
    {
        foreach (var kind in Apps.Keys)
        {
            var container = Container(kind);
            var port = HttpPortOf(kind);
            Assert.Equal(port, container.Ports.GetValueOrDefault("http"));
            Assert.Equal((FrontEndApp.ReadyPath, port), container.HttpProbe("readinessProbe"));
            Assert.Equal((FrontEndApp.HealthPath, port), container.HttpProbe("livenessProbe"));
        }

        var cluster = ClusterSettingsOf(AppKind.Silo);
        Assert.Equal(cluster.SiloPort, Container(AppKind.Silo).Ports.GetValueOrDefault("silo"));
        Assert.Equal(cluster.GatewayPort, Container(AppKind.Silo).Ports.GetValueOrDefault("gateway"));
    }

    [Fact]
    public void AppsFindRedisAtItsServiceAndItKeepsNothingOnDisk()
    {
        var service = Manifests.Single("Service", "redis");
        var port = (string)Assert.Single(service.List("spec", "ports"))["port"];
        Assert.All(Apps.Keys, kind => Assert.Equal($"{service.Name}:{port}", ClusterSettingsOf(kind).Redis));
        Assert.Equal(ClusterRole.Client, ClusterSettingsOf(AppKind.FrontEnd).Role);

        var args = ((List<object>)((Dictionary<object, object>)((List<object>)Manifests.Single("Deployment", "redis").PodSpec["containers"]).Single())["args"]).Cast<string>().ToList();
        Assert.Equal(["--save", "", "--appendonly", "no"], args);
    }

    [Fact]
    public void AFrontEndsGraceCoversItsDrainTheMoveAndItsDetachWithRoomToSpare()
    {
        var drain = Bind<FrontEndOptions>(AppKind.FrontEnd, FrontEndOptions.SectionName).DrainTimeout;
        var grace = TimeSpan.FromSeconds(int.Parse((string)Deployment(AppKind.FrontEnd).PodSpec["terminationGracePeriodSeconds"]));

        // Drain, the last move's bound, the detach (FrontEndLease, 5 s), and at least 5 s more.
        var needed = drain + RoomsHubLifetimeManager.MoveBound + TimeSpan.FromSeconds(5) + TimeSpan.FromSeconds(5);
        Assert.True(grace >= needed, $"rooms-frontend's terminationGracePeriodSeconds ({grace.TotalSeconds} s) is under drain {drain.TotalSeconds} s + move {RoomsHubLifetimeManager.MoveBound.TotalSeconds} s + detach 5 s + 5 s");
        Assert.True(grace <= needed + TimeSpan.FromSeconds(15), $"rooms-frontend's grace ({grace.TotalSeconds} s) is far past what its stop takes ({needed.TotalSeconds} s): a stuck pod is held that long");
    }

    [Fact]
    public void TheBalancerRunsTheCheckedInConfigOverTheFrontEndsHeadlessService()
    {
        var configMap = Manifests.Single("ConfigMap", "rooms-lb");
        Assert.True(File.ReadAllText(LbConfigPath) == configMap.Scalar("data", "haproxy.cfg"), "data.haproxy.cfg of ConfigMap rooms-lb (deploy/kubernetes/balancer.yaml) differs from deploy/haproxy/haproxy.cfg: copy the file into it again, indented by four spaces");
        var lb = Manifests.Single("Deployment", "rooms-lb");
        var container = lb.SingleContainer();
        var mount = Assert.Single(container.Mounts);
        Assert.Equal(("/usr/local/etc/haproxy/haproxy.cfg", "haproxy.cfg"), ((string)mount["mountPath"], (string)mount["subPath"]));
        var volume = Assert.Single(((List<object>)lb.PodSpec["volumes"]).Cast<Dictionary<object, object>>(), v => (string)v["name"] == (string)mount["name"]);
        Assert.Equal(configMap.Name, ((Dictionary<object, object>)volume["configMap"])["name"]);

        // Its servers: the front ends' headless Service, by its complete name, on the port the front ends listen on.
        var frontEnds = Manifests.Single("Service", Apps[AppKind.FrontEnd].Deployment);
        Assert.Equal("None", frontEnds.Scalar("spec", "clusterIP"));
        Assert.True(Selects(frontEnds, Deployment(AppKind.FrontEnd)), $"{frontEnds} does not select the front ends");
        var target = container.Values["ROOMS_LB_FRONTENDS"];
        Assert.Equal($"{frontEnds.Name}.$(POD_NAMESPACE).svc.cluster.local:{HttpPortOf(AppKind.FrontEnd)}", target);
        Assert.Equal("metadata.namespace", container.FieldOf("POD_NAMESPACE"));
        var withTarget = new Dictionary<string, string> { ["ROOMS_LB_FRONTENDS"] = target.Replace("$(POD_NAMESPACE)", "default", StringComparison.Ordinal) };
        Assert.Null(HaproxyConfig.Check(LbConfigPath, withTarget));
        var config = HaproxyConfig.Load(LbConfigPath, withTarget.Keys.ToHashSet());
        Assert.Equal(["fe", "1-32", "\"${ROOMS_LB_FRONTENDS}\"", "check", "resolvers", "cluster", "init-addr", "none"], Assert.Single(config.Lines("backend frontends", "server-template")));

        // Clients reach it on the port its config binds, each client on one replica (one stick table).
        var bind = int.Parse(Assert.Single(Assert.Single(config.Lines("frontend rooms", "bind"))).Split(':')[^1]);
        Assert.Equal(bind, container.Ports["http"]);
        var service = Manifests.Single("Service", "rooms-lb");
        Assert.Equal(bind, container.PortNumber((string)Assert.Single(service.List("spec", "ports"))["targetPort"]));
        Assert.Equal("ClientIP", service.Scalar("spec", "sessionAffinity"));
        Assert.True(Selects(service, lb), $"{service} does not select the balancer");
    }

    [Fact]
    public void TheImagesAreTheOnesTheKustomizationSaysToBuildFromTheirDockerfiles()
    {
        var text = File.ReadAllText(Path.Combine(Manifests.Folder, "kustomization.yaml"));
        foreach (var kind in Apps.Keys)
        {
            var (deployment, image, dockerfile) = Apps[kind];
            Assert.Equal(image, Container(kind).Image.Split(':')[0]);
            Assert.True(File.Exists(Repository.PathOf(dockerfile)), $"no {dockerfile}");
            Assert.Matches($@"-f {Regex.Escape(dockerfile)} -t {Regex.Escape(Container(kind).Image)}", text);
            Assert.Equal(deployment, Deployment(kind).Name);
        }
    }

    private static bool Selects(KubernetesManifests.Resource selecting, KubernetesManifests.Resource deployment)
        => selecting.Selector.All(l => deployment.PodLabels.GetValueOrDefault(l.Key) == l.Value);

    private static int HttpPortOf(AppKind kind)
        => int.Parse(UrlPort().Match(Container(kind).Values["ASPNETCORE_URLS"]).Groups[1].Value);

    private static ClusterHostingOptions ClusterSettingsOf(AppKind kind) => Bind<ClusterHostingOptions>(kind, ClusterHostingOptions.SectionName);

    private static T Bind<T>(AppKind kind, string section) => (T)Bind(kind, section, typeof(T));

    /// <summary>The options the app would bind from its container's environment.</summary>
    private static object Bind(AppKind kind, string section, Type type)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(Container(kind).Values.Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), (string?)e.Value)))
            .Build();
        var options = Activator.CreateInstance(type)!;
        configuration.GetSection(section).Bind(options);
        return options;
    }

    [GeneratedRegex(@":(\d+)/?$")]
    private static partial Regex UrlPort();
}
