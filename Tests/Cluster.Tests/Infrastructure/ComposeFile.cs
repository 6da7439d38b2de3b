using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Orleans.Rooms.Cluster.Tests.Infrastructure;

/// <summary>
/// The parts of a compose file these tests read, with its anchors and merge keys (<c>&lt;&lt;: *silo</c>)
/// resolved, in both of the forms compose allows where it allows two (a map or a list of <c>KEY=VALUE</c>).
/// </summary>
public sealed class ComposeFile
{
    private ComposeFile(string folder, IReadOnlyDictionary<string, Service> services)
    {
        Folder = folder;
        Services = services;
    }

    /// <summary>The folder relative paths in the file start from.</summary>
    public string Folder { get; }

    public IReadOnlyDictionary<string, Service> Services { get; }

    public static ComposeFile Load(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(new MergingParser(new Parser(reader)));
        }

        var root = (YamlMappingNode)stream.Documents.Single().RootNode;
        var services = ((YamlMappingNode)root[new YamlScalarNode("services")]).Children
            .ToDictionary(e => Text(e.Key), e => new Service(Text(e.Key), (YamlMappingNode)e.Value));
        return new ComposeFile(Path.GetDirectoryName(Path.GetFullPath(path))!, services);
    }

    private static string Text(YamlNode node) => ((YamlScalarNode)node).Value ?? "";

    public sealed class Service(string name, YamlMappingNode node)
    {
        public string Name { get; } = name;

        public string? Image => Scalar("image");

        /// <summary>Build context and Dockerfile (relative to the context), or null for an image-only service.</summary>
        public (string Context, string Dockerfile)? Build => Child("build") switch
        {
            null => null,
            YamlScalarNode context => (context.Value!, "Dockerfile"),
            YamlMappingNode build => (ScalarOf(build, "context") ?? ".", ScalarOf(build, "dockerfile") ?? "Dockerfile"),
            var other => throw new FormatException($"{Name}: build is neither a path nor a map: {other}"),
        };

        public IReadOnlyDictionary<string, string> Environment => Child("environment") switch
        {
            null => new Dictionary<string, string>(),
            YamlMappingNode map => map.Children.ToDictionary(e => Text(e.Key), e => ((YamlScalarNode)e.Value).Value ?? ""),
            YamlSequenceNode list => list.Children.Select(Text).Select(line => line.Split('=', 2))
                .ToDictionary(parts => parts[0], parts => parts.Length == 2 ? parts[1] : ""),
            var other => throw new FormatException($"{Name}: environment is neither a map nor a list: {other}"),
        };

        public IReadOnlyList<string> Command => Strings("command");

        /// <summary>The container ports named by <c>expose</c>.</summary>
        public IReadOnlyList<int> Exposed => [.. Strings("expose").Select(p => int.Parse(p.Split('/')[0]))];

        /// <summary>The <c>volumes</c> in the short form, <c>SOURCE:TARGET[:MODE]</c>, as (source, target).</summary>
        public IReadOnlyList<(string Source, string Target)> Volumes => [.. Strings("volumes").Select(v => v.Split(':')).Select(parts => (parts[0], parts[1]))];

        public IReadOnlyList<PublishedPort> Ports => Child("ports") is YamlSequenceNode ports
            ? [.. ports.Children.Select(PublishedPort.Parse)]
            : [];

        /// <summary>The health check's command, e.g. <c>CMD curl ... http://127.0.0.1:8080/readyz</c>.</summary>
        public IReadOnlyList<string> HealthCheck => Child("healthcheck") is YamlMappingNode check && check.Children.TryGetValue(new YamlScalarNode("test"), out var test)
            ? test is YamlSequenceNode parts ? [.. parts.Children.Select(Text)] : [Text(test)]
            : [];

        public IReadOnlyList<string> DependsOn => Child("depends_on") switch
        {
            null => [],
            YamlSequenceNode list => [.. list.Children.Select(Text)],
            YamlMappingNode map => [.. map.Children.Keys.Select(Text)],
            var other => throw new FormatException($"{Name}: depends_on is neither a list nor a map: {other}"),
        };

        private YamlNode? Child(string key) => node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        private string? Scalar(string key) => ScalarOf(node, key);

        private static string? ScalarOf(YamlMappingNode map, string key)
            => map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

        private IReadOnlyList<string> Strings(string key) => Child(key) switch
        {
            null => [],
            YamlSequenceNode list => [.. list.Children.Select(Text)],
            YamlScalarNode one => one.Value!.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            var other => throw new FormatException($"{Name}: {key} is neither a list nor a string: {other}"),
        };
    }

    /// <summary>One entry of <c>ports</c>: <c>[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]</c> or the long form.</summary>
    public sealed record PublishedPort(string? HostIp, int? HostPort, int ContainerPort)
    {
        public static PublishedPort Parse(YamlNode entry)
        {
            if (entry is YamlMappingNode map)
            {
                string? Get(string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlScalarNode)v).Value : null;
                return new PublishedPort(Get("host_ip"), Get("published") is { } published ? int.Parse(published) : null, int.Parse(Get("target")!));
            }

            var parts = Text(entry).Split('/')[0].Split(':');
            return parts.Length switch
            {
                1 => new PublishedPort(null, null, int.Parse(parts[0])),
                2 => new PublishedPort(null, int.Parse(parts[0]), int.Parse(parts[1])),
                3 => new PublishedPort(parts[0], parts[1].Length == 0 ? null : int.Parse(parts[1]), int.Parse(parts[2])),
                _ => throw new FormatException($"Not a port mapping: {Text(entry)}"),
            };
        }
    }
}
