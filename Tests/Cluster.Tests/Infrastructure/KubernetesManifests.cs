using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// The resources of deploy/kubernetes as <c>kubectl apply -k</c> reads them: every document of every file its
/// kustomization.yaml lists, each as plain maps and lists, with the few paths the tests read named.
/// </summary>
public sealed class KubernetesManifests
{
    private KubernetesManifests(string folder, IReadOnlyList<string> files, IReadOnlyList<Resource> resources)
    {
        Folder = folder;
        Files = files;
        Resources = resources;
    }

    public string Folder { get; }

    /// <summary>The files kustomization.yaml lists.</summary>
    public IReadOnlyList<string> Files { get; }

    public IReadOnlyList<Resource> Resources { get; }

    public static KubernetesManifests Load(string folder)
    {
        var yaml = new DeserializerBuilder().Build();
        var kustomization = (Dictionary<object, object>)yaml.Deserialize<object>(File.ReadAllText(Path.Combine(folder, "kustomization.yaml")))!;
        var files = ((List<object>)kustomization["resources"]).Cast<string>().ToList();
        var resources = new List<Resource>();
        foreach (var file in files)
        {
            var parser = new Parser(new StringReader(File.ReadAllText(Path.Combine(folder, file))));
            parser.Consume<StreamStart>();
            while (parser.Accept<DocumentStart>(out _))
            {
                var map = (Dictionary<object, object>)yaml.Deserialize<object>(parser)!;
                resources.Add(new Resource(file, map));
            }
        }

        return new KubernetesManifests(folder, files, resources);
    }

    public Resource Single(string kind, string name)
        => Resources.SingleOrDefault(r => r.Kind == kind && r.Name == name) ?? throw new InvalidOperationException($"deploy/kubernetes has no {kind} {name}");

    public IEnumerable<Resource> OfKind(string kind) => Resources.Where(r => r.Kind == kind);

    public sealed class Resource(string file, Dictionary<object, object> map)
    {
        public string File { get; } = file;

        public string Kind => (string)map["kind"];

        public string Name => (string)Map("metadata")["name"];

        public override string ToString() => $"{Kind} {Name} ({File})";

        /// <summary>The map at <paramref name="path"/> (keys), or an empty one when any is missing.</summary>
        public Dictionary<object, object> Map(params string[] path)
        {
            var at = map;
            foreach (var key in path)
            {
                if (!at.TryGetValue(key, out var next) || next is not Dictionary<object, object> child)
                {
                    return [];
                }

                at = child;
            }

            return at;
        }

        public string? Scalar(params string[] path) => Map(path[..^1]).GetValueOrDefault(path[^1]) as string;

        public IReadOnlyList<Dictionary<object, object>> List(params string[] path)
            => Map(path[..^1]).GetValueOrDefault(path[^1]) is List<object> items ? [.. items.Cast<Dictionary<object, object>>()] : [];

        /// <summary>A Deployment's pod spec.</summary>
        public Dictionary<object, object> PodSpec => Map("spec", "template", "spec");

        public IReadOnlyDictionary<string, string> PodLabels => Strings(Map("spec", "template", "metadata", "labels"));

        /// <summary>A Service's or a PodDisruptionBudget's (or a Deployment's) pod selector.</summary>
        public IReadOnlyDictionary<string, string> Selector => Kind == "Service" ? Strings(Map("spec", "selector")) : Strings(Map("spec", "selector", "matchLabels"));

        public Container SingleContainer()
        {
            var containers = PodSpec.GetValueOrDefault("containers") as List<object> ?? [];
            return new Container(this, (Dictionary<object, object>)containers.Single());
        }

        public static IReadOnlyDictionary<string, string> Strings(Dictionary<object, object> map)
            => map.ToDictionary(e => (string)e.Key, e => (string)e.Value);
    }

    public sealed class Container(Resource owner, Dictionary<object, object> map)
    {
        public string Image => (string)map["image"];

        private IEnumerable<Dictionary<object, object>> Env => (map.GetValueOrDefault("env") as List<object> ?? []).Cast<Dictionary<object, object>>();

        /// <summary>Variables set to a value.</summary>
        public IReadOnlyDictionary<string, string> Values => Env.Where(e => e.ContainsKey("value")).ToDictionary(e => (string)e["name"], e => (string)e["value"]);

        /// <summary>Every variable's name, those read from the pod (<c>valueFrom</c>) too.</summary>
        public IEnumerable<string> Names => Env.Select(e => (string)e["name"]);

        /// <summary>The pod field a variable is read from (<c>valueFrom.fieldRef.fieldPath</c>), if it is.</summary>
        public string? FieldOf(string name)
            => Env.SingleOrDefault(e => (string)e["name"] == name)?.GetValueOrDefault("valueFrom") is Dictionary<object, object> from
               && from.GetValueOrDefault("fieldRef") is Dictionary<object, object> field ? field["fieldPath"] as string : null;

        /// <summary>Container port by name.</summary>
        public IReadOnlyDictionary<string, int> Ports => (map.GetValueOrDefault("ports") as List<object> ?? []).Cast<Dictionary<object, object>>()
            .ToDictionary(p => (string)p["name"], p => int.Parse((string)p["containerPort"]));

        /// <summary>An HTTP probe's path and port number (a named port resolved), or null when it is not an HTTP probe.</summary>
        public (string Path, int Port)? HttpProbe(string probe)
            => map.GetValueOrDefault(probe) is Dictionary<object, object> p && p.GetValueOrDefault("httpGet") is Dictionary<object, object> get
                ? ((string)get["path"], PortNumber((string)get["port"]))
                : null;

        public IReadOnlyList<Dictionary<object, object>> Mounts => [.. (map.GetValueOrDefault("volumeMounts") as List<object> ?? []).Cast<Dictionary<object, object>>()];

        public int PortNumber(string port) => int.TryParse(port, out var number) ? number
            : Ports.TryGetValue(port, out var named) ? named : throw new InvalidOperationException($"{owner}: no container port named {port}");
    }
}
