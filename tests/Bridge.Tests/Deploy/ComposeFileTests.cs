using System.Text.RegularExpressions;
using Bridge.Sandbox;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Bridge.Tests.Deploy;

/// <summary>
/// docker-compose.yml cannot be run on these machines (no Docker engine), so what can be checked without one is: it is read
/// with YamlDotNet (anchors and merge keys resolved as Compose does), every dependency names a service that is started with
/// it, each database profile has exactly one Bridge on a database of that profile, no two services started together publish
/// the same host port, every Bridge setting binds strictly to Bridge's options, no secret is written in the file, an operator
/// token is required so the operators' page can be signed in to, and OpenTelemetry goes to the dashboard service.
/// </summary>
public sealed partial class ComposeFileTests
{
    private static readonly Dictionary<string, string> DatabaseProfiles = new()
    {
        ["postgres"] = "PostgreSql",
        ["sqlserver"] = "SqlServer",
    };

    [Fact]
    public void Every_dependency_is_a_service_started_with_the_one_that_needs_it()
    {
        var services = Services();
        foreach (var (name, service) in services)
        {
            foreach (var dependency in Keys(service, "depends_on"))
            {
                Assert.True(services.ContainsKey(dependency), $"{name} depends on {dependency}, which is not a service");
                var needed = Profiles(services[dependency]);
                Assert.True(
                    needed.Count == 0 || Profiles(service).Count > 0 && Profiles(service).All(needed.Contains),
                    $"{name} (profiles: {string.Join(", ", Profiles(service))}) depends on {dependency}, which only profiles {string.Join(", ", needed)} start");
            }
        }
    }

    [Fact]
    public void Each_database_profile_runs_one_Bridge_on_its_own_database_and_nothing_else_needs_a_profile()
    {
        var services = Services();
        Assert.Equal(DatabaseProfiles.Keys.Order(), services.Values.SelectMany(Profiles).Distinct().Order());

        foreach (var (profile, provider) in DatabaseProfiles)
        {
            var active = Active(services, profile);
            var bridge = Assert.Single(active, s => IsBridge(s.Value));
            var environment = Environment(bridge.Value);
            Assert.Equal(provider, environment["Bridge__Storage__Provider"]);

            // The connection string names a database service this profile starts, which the Bridge waits for.
            var host = DatabaseHost().Match(environment["Bridge__Storage__ConnectionString"] ?? "").Groups["host"].Value;
            Assert.True(active.ContainsKey(host), $"{bridge.Key}: its connection string names {host}, which profile {profile} does not start");
            Assert.True(Profiles(active[host]).Contains(profile), $"{host} should start only with profile {profile}");
            Assert.True(DependsOnTransitively(services, bridge.Key, host), $"{bridge.Key} does not wait for {host}");

            // Two services started together must not publish the same host port.
            var ports = active.SelectMany(s => Sequence(s.Value, "ports").Select(p => (Service: s.Key, HostPort: p.Split(':')[0]))).ToList();
            var clash = ports.GroupBy(p => p.HostPort).FirstOrDefault(g => g.Count() > 1);
            Assert.True(clash is null, $"profile {profile}: host port {clash?.Key} is published by {string.Join(" and ", clash?.Select(c => c.Service) ?? [])}");
        }

        // Without a profile no Bridge starts (it would have no database).
        Assert.DoesNotContain(Active(services, profile: null).Values, IsBridge);
    }

    [Fact]
    public void Every_Bridge_setting_is_one_Bridge_reads_and_no_secret_is_written_in_the_file()
    {
        var bridges = Services().Where(s => IsBridge(s.Value)).ToList();
        Assert.Equal(DatabaseProfiles.Count, bridges.Count);

        foreach (var (name, service) in bridges)
        {
            var environment = Environment(service);
            // Interpolations (${VAR…}) are the caller's values: bound here as a stand-in of the right shape.
            var bound = environment.ToDictionary(kv => kv.Key, kv => (string?)Interpolation().Replace(kv.Value ?? "", "interpolated-value-0123456789"));
            Assert.Empty(DeployFiles.SettingProblems(bound).Select(p => $"{name}: {p}"));
            Assert.Contains("Bridge:Messaging:RabbitMqUri", environment.Keys.Select(k => k.Replace("__", ":", StringComparison.Ordinal)));

            foreach (var (key, value) in environment.Where(kv => DeployFiles.IsSecretSetting(kv.Key)))
            {
                Assert.True(IsPublicDevelopmentValue(key, value, environment) || SecretPartsInterpolated(value), $"{name}: {key} is written in the file; take it from the environment (${{VAR}})");
            }
        }
    }

    [Fact]
    public void The_operators_page_can_be_signed_in_to_with_a_token_the_caller_must_provide()
    {
        foreach (var (name, service) in Services().Where(s => IsBridge(s.Value)))
        {
            var environment = Environment(service);
            var operatorIndex = environment.Keys.Select(k => AdminRole().Match(k)).Where(m => m.Success)
                .Where(m => environment[m.Value] == "Operator").Select(m => m.Groups["index"].Value).FirstOrDefault();
            Assert.True(operatorIndex is not null, $"{name}: no admin token with the Operator role");
            Assert.False(string.IsNullOrWhiteSpace(environment[$"Bridge__Admin__Tokens__{operatorIndex}__Name"]));
            // Required (${VAR:?…}): compose refuses to start without it rather than run a page nobody can sign in to.
            Assert.Matches(@"^\$\{[A-Z_]+:\?[^}]+\}$", environment[$"Bridge__Admin__Tokens__{operatorIndex}__Token"] ?? "");
            // The healthcheck asks the readiness endpoint, as Kubernetes does.
            Assert.Contains("/health/ready", string.Join(' ', Sequence(Map(service, "healthcheck")!, "test")), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void OpenTelemetry_is_exported_to_the_dashboard_started_with_every_profile()
    {
        var services = Services();
        foreach (var (name, service) in services.Where(s => IsBridge(s.Value)))
        {
            var endpoint = new Uri(Environment(service)["OTEL_EXPORTER_OTLP_ENDPOINT"]!);
            Assert.True(services.TryGetValue(endpoint.Host, out var collector), $"{name}: OTEL_EXPORTER_OTLP_ENDPOINT names {endpoint.Host}, which is not a service");
            Assert.Empty(Profiles(collector));
            // The Aspire dashboard takes OTLP/gRPC on 18889 inside the network.
            Assert.StartsWith("mcr.microsoft.com/dotnet/aspire-dashboard:", Scalar(collector, "image"), StringComparison.Ordinal);
            Assert.Equal(18889, endpoint.Port);
        }
    }

    /// <summary>The sandbox's published default token and RabbitMQ's guest user (the image lets it in from other containers).</summary>
    private static bool IsPublicDevelopmentValue(string key, string? value, Dictionary<string, string?> environment) => key switch
    {
        "ActivePlatform__ApiToken" => value == SandboxSettings.DefaultToken && environment["ActivePlatform__BaseUrl"]!.StartsWith("http://sandbox:", StringComparison.Ordinal),
        "Bridge__Messaging__RabbitMqUri" => value?.StartsWith("amqp://guest:guest@rabbitmq:", StringComparison.Ordinal) == true,
        _ => false,
    };

    /// <summary>The whole value interpolated, or, in a connection string, its password.</summary>
    private static bool SecretPartsInterpolated(string? value) =>
        value is not null && (Regex.IsMatch(value, @"^\$\{[^}]+\}$") || Regex.IsMatch(value, @"Password=\$\{[^}]+\}(;|$)", RegexOptions.IgnoreCase));

    private static bool IsBridge(YamlMappingNode service) => Map(service, "build") is { } build && Scalar(build, "dockerfile") == "deploy/Dockerfile";

    private static Dictionary<string, YamlMappingNode> Active(Dictionary<string, YamlMappingNode> services, string? profile) =>
        services.Where(s => Profiles(s.Value).Count == 0 || (profile is not null && Profiles(s.Value).Contains(profile))).ToDictionary();

    private static bool DependsOnTransitively(Dictionary<string, YamlMappingNode> services, string from, string to) =>
        Keys(services[from], "depends_on").Any(d => d == to || DependsOnTransitively(services, d, to));

    private static Dictionary<string, YamlMappingNode> Services()
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(DeployFiles.Path("docker-compose.yml")))
        {
            // Merge keys (<<: *anchor) are resolved as Compose resolves them.
            stream.Load(new MergingParser(new Parser(reader)));
        }

        var root = (YamlMappingNode)stream.Documents.Single().RootNode;
        return Map(root, "services")!.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (YamlMappingNode)kv.Value);
    }

    private static Dictionary<string, string?> Environment(YamlMappingNode service) =>
        Map(service, "environment")?.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value)
        ?? throw new InvalidOperationException("environment must be a mapping");

    private static List<string> Profiles(YamlMappingNode service) => Sequence(service, "profiles");

    private static List<string> Keys(YamlMappingNode node, string key) => node.Children.TryGetValue(new YamlScalarNode(key), out var value)
        ? value switch
        {
            YamlMappingNode map => map.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList(),
            YamlSequenceNode list => list.Children.Select(n => ((YamlScalarNode)n).Value!).ToList(),
            _ => throw new InvalidOperationException($"{key} must be a mapping or a list"),
        }
        : [];

    private static List<string> Sequence(YamlMappingNode node, string key) => node.Children.TryGetValue(new YamlScalarNode(key), out var value)
        ? ((YamlSequenceNode)value).Children.Select(n => ((YamlScalarNode)n).Value!).ToList()
        : [];

    private static YamlMappingNode? Map(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? (YamlMappingNode)value : null;

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value : null;

    [GeneratedRegex(@"\$\{[^}]+\}")]
    private static partial Regex Interpolation();

    [GeneratedRegex(@"^(?:Host|Server)=(?<host>[A-Za-z0-9_.-]+)", RegexOptions.IgnoreCase)]
    private static partial Regex DatabaseHost();

    [GeneratedRegex(@"^Bridge__Admin__Tokens__(?<index>\d+)__Role$")]
    private static partial Regex AdminRole();
}
