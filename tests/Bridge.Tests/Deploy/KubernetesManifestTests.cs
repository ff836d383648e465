using Bridge.Host;
using Bridge.Host.Hosting;
using Bridge.Host.Storage;
using k8s;
using k8s.Models;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using YamlDotNet.RepresentationModel;

namespace Bridge.Tests.Deploy;

/// <summary>
/// The Kubernetes kit (deploy/k8s) checked without a cluster: every manifest is read strictly into the Kubernetes API's own
/// models (KubernetesClient, generated from the API's OpenAPI: an unknown apiVersion/kind or a misspelt field fails), and
/// what the kit promises is asserted on the result — probes on the host's real health endpoints, a grace period longer than
/// the host's own stop, secrets only from Secrets, a PodDisruptionBudget over the service's pods, migrations as a Job. The
/// base is checked as written; with kubectl, the base and the example overlay are also rendered by <c>kubectl kustomize</c>
/// and the rendered output checked the same way. No API server runs here, so nothing is applied, not even with
/// <c>--dry-run=client</c> (kubectl asks the server for its resource list first).
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Base = DeployFiles.Path("deploy", "k8s", "base");
    private static readonly string Overlay = DeployFiles.Path("deploy", "k8s", "overlays", "example");

    [Fact]
    public void The_base_manifests_are_valid_Kubernetes_objects_and_keep_the_kits_promises()
    {
        var objects = ReadKustomizationResources(Base).SelectMany(file => Load(File.ReadAllText(file), file)).ToList();

        Check(objects, "deploy/k8s/base");
    }

    [KubectlFact]
    public void The_base_rendered_by_kubectl_kustomize_keeps_the_kits_promises() =>
        Check(Load(Kustomize(Base), "kubectl kustomize deploy/k8s/base"), "kubectl kustomize deploy/k8s/base");

    [KubectlFact]
    public void The_example_overlay_rendered_by_kubectl_kustomize_keeps_the_kits_promises()
    {
        var objects = Load(Kustomize(Overlay), "kubectl kustomize deploy/k8s/overlays/example");

        Check(objects, "the example overlay");
        // The overlay's own changes arrived: its namespace on every namespaced object, its image on every container.
        Assert.Contains(objects, o => o is V1Namespace { Metadata.Name: "bridge" });
        Assert.All(objects.Where(o => o is not V1Namespace), o => Assert.Equal("bridge", ((IMetadata<V1ObjectMeta>)o).Metadata.NamespaceProperty));
        Assert.All(PodTemplates(objects).SelectMany(t => t.Template.Spec.Containers), c => Assert.Equal("registry.example.com/bridge:1.0.0", c.Image));
        Assert.Equal(3, objects.OfType<V1Deployment>().Single().Spec.Replicas);

        // The README's first step, `kubectl apply -k … -l 'app.kubernetes.io/component!=service'`, brings what the migration
        // Job needs (its namespace and ConfigMap) and the Job, and nothing of the service.
        var firstStep = objects.Where(o => ((IMetadata<V1ObjectMeta>)o).Metadata.Labels is not { } labels || !labels.TryGetValue("app.kubernetes.io/component", out var component) || component != "service").ToList();
        Assert.Equal(["ConfigMap", "Job", "Namespace"], firstStep.Select(o => ((IKubernetesObject)o).Kind).Order());
    }

    [Fact]
    public void Every_file_a_kustomization_names_exists_and_every_manifest_file_is_named()
    {
        foreach (var directory in new[] { Base, Overlay })
        {
            foreach (var path in KustomizationEntries(directory))
            {
                var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, path));
                Assert.True(File.Exists(full) || File.Exists(System.IO.Path.Combine(full, "kustomization.yaml")), $"{directory}/kustomization.yaml names {path}, which does not exist");
            }

            // A manifest left out of the kustomization would never be deployed.
            var named = KustomizationEntries(directory).Select(p => System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, p))).ToHashSet();
            foreach (var file in Directory.GetFiles(directory, "*.yaml").Where(f => System.IO.Path.GetFileName(f) != "kustomization.yaml"))
            {
                Assert.True(named.Contains(file), $"{file} is not named by {directory}/kustomization.yaml");
            }
        }
    }

    [Fact]
    public void The_secret_template_holds_every_key_the_manifests_use_and_no_value()
    {
        var secrets = SecretTemplate();

        Assert.Equal(["bridge-migrate-secrets", "bridge-secrets"], secrets.Keys.Order());
        foreach (var (name, data) in secrets)
        {
            Assert.All(data, entry => Assert.True(entry.Value.Length == 0, $"{name}.{entry.Key} holds a value: the template must hold none"));
        }

        var used = ReadKustomizationResources(Base).SelectMany(file => Load(File.ReadAllText(file), file))
            .SelectMany(o => PodTemplates([o])).SelectMany(t => t.Template.Spec.Containers)
            .SelectMany(c => c.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>()
            .Select(s => $"{s.Name}/{s.Key}").ToHashSet();
        var provided = secrets.SelectMany(s => s.Value.Keys.Select(k => $"{s.Key}/{k}")).ToHashSet();
        Assert.Equal(provided.Order(), used.Order());
    }

    [Fact]
    public void A_broken_manifest_is_refused_by_the_strict_reading()
    {
        // The check above is only worth something if the reading refuses what a cluster would.
        const string misspelt = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 2\n";
        const string unknownKind = "apiVersion: apps/v1\nkind: Deploymnet\nmetadata:\n  name: x\n";
        Assert.ThrowsAny<Exception>(() => Load(misspelt, "misspelt"));
        Assert.ThrowsAny<Exception>(() => Load(unknownKind, "unknown kind"));
    }

    /// <summary>The Bridge container of the base Deployment, as written.</summary>
    internal static V1Container BaseBridgeContainer() =>
        Load(File.ReadAllText(System.IO.Path.Combine(Base, "deployment.yaml")), "deployment.yaml").OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single();

    /// <summary>What the kit promises, on a set of objects as they would reach the cluster.</summary>
    private static void Check(IReadOnlyList<object> objects, string where)
    {
        Assert.True(objects.Count > 0, $"{where}: no object");
        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        var job = Assert.Single(objects.OfType<V1Job>());
        var pdb = Assert.Single(objects.OfType<V1PodDisruptionBudget>());
        var service = Assert.Single(objects.OfType<V1Service>());
        var settings = Assert.Single(objects.OfType<V1ConfigMap>());
        Assert.DoesNotContain(objects, o => o is V1Secret); // secrets are created apart (secrets.template.yaml)

        var pod = deployment.Spec.Template.Spec;
        var bridge = Assert.Single(pod.Containers);
        var host = HostStopSettings();

        // Probes: startup and liveness on /health/live (no dependency check: an outage never restarts a pod), readiness on
        // /health/ready (database and bus), all on a port the container declares.
        Assert.Equal("/health/live", bridge.StartupProbe?.HttpGet?.Path);
        Assert.Equal("/health/live", bridge.LivenessProbe?.HttpGet?.Path);
        Assert.Equal("/health/ready", bridge.ReadinessProbe?.HttpGet?.Path);
        foreach (var probe in new[] { bridge.StartupProbe!, bridge.LivenessProbe!, bridge.ReadinessProbe! })
        {
            var port = probe.HttpGet.Port.Value;
            Assert.Contains(bridge.Ports, p => p.Name == port || p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture) == port);
        }

        // The HTTP port opens only after start-up has waited for the database: the startup probe must outlast that wait.
        var startupWait = settings.Data.TryGetValue("Bridge__Storage__StartupWait", out var wait) ? TimeSpan.Parse(wait, System.Globalization.CultureInfo.InvariantCulture) : StorageOptions.DefaultStartupWait;
        var startupWindow = TimeSpan.FromSeconds((bridge.StartupProbe!.InitialDelaySeconds ?? 0) + ((bridge.StartupProbe.PeriodSeconds ?? 10) * (bridge.StartupProbe.FailureThreshold ?? 3)));
        Assert.True(startupWindow > startupWait, $"{where}: the startup probe gives up after {startupWindow}, before Bridge:Storage:StartupWait ({startupWait})");

        // The kubelet's SIGKILL must come after Bridge's own stop: the bus's stop timeout within the host's shutdown timeout.
        var grace = TimeSpan.FromSeconds(pod.TerminationGracePeriodSeconds ?? 30);
        Assert.True(grace > host.BusStop && grace > host.HostShutdown, $"{where}: terminationGracePeriodSeconds {grace.TotalSeconds} s is not longer than the bus stop timeout ({host.BusStop}) and the host's shutdown timeout ({host.HostShutdown})");

        // Migrations are their own step: the service only checks, the Job runs `bridge migrate` with its own login.
        Assert.Contains(bridge.Env, e => e.Name == "Bridge__Storage__MigrateOnStart" && e.Value == "false");
        var migrate = Assert.Single(job.Spec.Template.Spec.Containers);
        Assert.Equal(["migrate"], migrate.Args);
        Assert.Null(migrate.Command); // the image's entrypoint, dotnet bridge.dll
        Assert.Equal(deployment.Spec.Template.Spec.Containers[0].Image, migrate.Image);
        Assert.Contains(migrate.Env, e => e.Name == "Bridge__Storage__ConnectionString" && e.ValueFrom?.SecretKeyRef is not null);
        Assert.Contains(job.Spec.Template.Spec.RestartPolicy, new[] { "Never", "OnFailure" });

        // The PodDisruptionBudget and the Service select exactly the service's pods, never the migration Job's.
        var podLabels = deployment.Spec.Template.Metadata.Labels;
        Assert.True(Matches(deployment.Spec.Selector.MatchLabels, podLabels), $"{where}: the Deployment's selector does not match its pods");
        Assert.True(Matches(pdb.Spec.Selector.MatchLabels, podLabels), $"{where}: the PodDisruptionBudget's selector does not match the Deployment's pods");
        Assert.False(Matches(pdb.Spec.Selector.MatchLabels, job.Spec.Template.Metadata.Labels), $"{where}: the PodDisruptionBudget also selects the migration Job's pods");
        Assert.True(pdb.Spec.MinAvailable is not null || pdb.Spec.MaxUnavailable is not null);
        Assert.True(Matches(service.Spec.Selector, podLabels), $"{where}: the Service's selector does not match the Deployment's pods");
        Assert.False(Matches(service.Spec.Selector, job.Spec.Template.Metadata.Labels));
        Assert.Contains(service.Spec.Ports, p => p.TargetPort.Value == "http" && bridge.Ports.Any(c => c.Name == "http"));

        foreach (var template in PodTemplates(objects))
        {
            var spec = template.Template.Spec;
            foreach (var container in spec.Containers.Concat(spec.InitContainers ?? []))
            {
                var name = $"{where}: container {container.Name}";
                // Non-root, read-only root filesystem (Bridge writes no file; /tmp is an emptyDir), no privilege escalation.
                Assert.True((container.SecurityContext?.RunAsNonRoot ?? spec.SecurityContext?.RunAsNonRoot) == true, $"{name} may run as root");
                Assert.True(container.SecurityContext?.ReadOnlyRootFilesystem == true, $"{name}: root filesystem not read-only");
                Assert.True(container.SecurityContext?.AllowPrivilegeEscalation == false, $"{name} allows privilege escalation");
                Assert.Contains("ALL", container.SecurityContext?.Capabilities?.Drop ?? []);
                Assert.Contains(container.VolumeMounts ?? [], m => m.MountPath == "/tmp" && spec.Volumes.Any(v => v.Name == m.Name && v.EmptyDir is not null));
                // Requests and limits for CPU and memory.
                foreach (var resource in new[] { "cpu", "memory" })
                {
                    Assert.True(container.Resources?.Requests?.ContainsKey(resource) == true, $"{name}: no {resource} request");
                    Assert.True(container.Resources?.Limits?.ContainsKey(resource) == true, $"{name}: no {resource} limit");
                }

                // Secret settings only from Secrets, every ConfigMap reference to a key the ConfigMap has.
                foreach (var variable in container.Env ?? [])
                {
                    if (DeployFiles.IsSecretSetting(variable.Name))
                    {
                        Assert.True(variable.ValueFrom?.SecretKeyRef is not null, $"{name}: {variable.Name} is not taken from a Secret");
                    }

                    if (variable.ValueFrom?.ConfigMapKeyRef is { } reference)
                    {
                        Assert.Equal(settings.Metadata.Name, reference.Name);
                        Assert.True(settings.Data.ContainsKey(reference.Key), $"{name}: {variable.Name} names ConfigMap key {reference.Key}, which it lacks");
                    }
                }

                foreach (var source in container.EnvFrom ?? [])
                {
                    Assert.Null(source.SecretRef); // explicit keys only: each variable's origin is visible
                    Assert.Equal(settings.Metadata.Name, source.ConfigMapRef?.Name);
                }

                var environment = (container.EnvFrom is { Count: > 0 } ? settings.Data : new Dictionary<string, string>())
                    .ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
                foreach (var variable in container.Env ?? [])
                {
                    environment[variable.Name] = variable.Value ?? (variable.ValueFrom?.ConfigMapKeyRef is { } r ? settings.Data[r.Key] : null);
                }

                Assert.Empty(DeployFiles.SettingProblems(environment).Select(p => $"{name}: {p}"));
            }
        }

        // The ConfigMap: every key one of Bridge's settings (bound strictly, so a misspelt key or a bad value is named), none secret.
        Assert.Empty(DeployFiles.SettingProblems(settings.Data.ToDictionary(kv => kv.Key, kv => (string?)kv.Value)).Select(p => $"{where}: ConfigMap: {p}"));
        Assert.DoesNotContain(settings.Data.Keys, DeployFiles.IsSecretSetting);
        Assert.DoesNotContain(settings.Data.Values, v => v.Contains("password=", StringComparison.OrdinalIgnoreCase) || System.Text.RegularExpressions.Regex.IsMatch(v, "://[^/@:]+:[^/@]+@"));
    }

    /// <summary>The bus's stop timeout and the host's shutdown timeout, from Bridge's host as Program.cs builds it.</summary>
    private static (TimeSpan BusStop, TimeSpan HostShutdown) HostStopSettings()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bridge:Storage:Provider"] = "Sqlite",
            ["Bridge:Storage:ConnectionString"] = "Data Source=:memory:",
            ["Bridge:Messaging:Transport"] = "InMemory",
            ["ActivePlatform:BaseUrl"] = "http://127.0.0.1:9/",
            ["ActivePlatform:ApiToken"] = "stop-settings-token",
        });
        builder.AddBridge();
        using var app = builder.Build();
        var bus = app.Services.GetRequiredService<IOptions<MassTransitHostOptions>>().Value.StopTimeout;
        Assert.NotNull(bus);
        return (bus.Value, app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    private static bool Matches(IDictionary<string, string>? selector, IDictionary<string, string>? labels) =>
        selector is { Count: > 0 } && labels is not null && selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value);

    private static IEnumerable<(string Owner, V1PodTemplateSpec Template)> PodTemplates(IEnumerable<object> objects)
    {
        foreach (var o in objects)
        {
            switch (o)
            {
                case V1Deployment d: yield return (d.Metadata.Name, d.Spec.Template); break;
                case V1Job j: yield return (j.Metadata.Name, j.Spec.Template); break;
                case V1StatefulSet s: yield return (s.Metadata.Name, s.Spec.Template); break;
                case V1DaemonSet s: yield return (s.Metadata.Name, s.Spec.Template); break;
            }
        }
    }

    /// <summary>Reads YAML documents strictly into the Kubernetes models: an unknown apiVersion/kind or field throws.</summary>
    private static List<object> Load(string yaml, string source)
    {
        try
        {
            var objects = KubernetesYaml.LoadAllFromString(yaml, typeMap: null, strict: true);
            foreach (var o in objects)
            {
                var typed = Assert.IsAssignableFrom<IKubernetesObject<V1ObjectMeta>>(o);
                Assert.False(string.IsNullOrEmpty(typed.ApiVersion), $"{source}: an object without apiVersion");
                Assert.False(string.IsNullOrEmpty(typed.Metadata?.Name), $"{source}: a {typed.Kind} without metadata.name");
            }

            return objects;
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{source} is not a valid Kubernetes manifest: {ex.Message}", ex);
        }
    }

    private static string Kustomize(string directory)
    {
        var (exitCode, output, error) = Kubectl.Run("kustomize", directory);
        Assert.True(exitCode == 0, $"kubectl kustomize {directory} failed ({exitCode}): {error}");
        return output;
    }

    /// <summary>The files and directories a kustomization.yaml names: resources, and patches given by path.</summary>
    private static List<string> KustomizationEntries(string directory)
    {
        var root = ReadYaml(System.IO.Path.Combine(directory, "kustomization.yaml"));
        var entries = new List<string>();
        if (root.Children.TryGetValue(new YamlScalarNode("resources"), out var resources))
        {
            entries.AddRange(((YamlSequenceNode)resources).Children.Select(n => ((YamlScalarNode)n).Value!));
        }

        if (root.Children.TryGetValue(new YamlScalarNode("patches"), out var patches))
        {
            foreach (var patch in ((YamlSequenceNode)patches).Children.OfType<YamlMappingNode>())
            {
                if (patch.Children.TryGetValue(new YamlScalarNode("path"), out var path))
                {
                    entries.Add(((YamlScalarNode)path).Value!);
                }
            }
        }

        return entries;
    }

    private static IEnumerable<string> ReadKustomizationResources(string directory) =>
        KustomizationEntries(directory).Select(p => System.IO.Path.Combine(directory, p)).Where(File.Exists);

    /// <summary>deploy/k8s/secrets.template.yaml: each Secret's name and its stringData/data keys with their values.</summary>
    private static Dictionary<string, Dictionary<string, string>> SecretTemplate() =>
        Load(File.ReadAllText(DeployFiles.Path("deploy", "k8s", "secrets.template.yaml")), "secrets.template.yaml")
            .Select(o => Assert.IsType<V1Secret>(o))
            .ToDictionary(
                s => s.Metadata.Name,
                s => (s.StringData ?? new Dictionary<string, string>())
                    .Concat((s.Data ?? new Dictionary<string, byte[]>()).Select(kv => KeyValuePair.Create(kv.Key, System.Text.Encoding.UTF8.GetString(kv.Value))))
                    .ToDictionary(kv => kv.Key, kv => kv.Value ?? ""));

    internal static YamlMappingNode ReadYaml(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }
}
