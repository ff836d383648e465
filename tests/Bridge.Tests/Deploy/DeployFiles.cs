using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Bridge.Tests.Deploy;

/// <summary>Where the deploy kit lives, and the checks its Kubernetes manifests and compose file share.</summary>
internal static class DeployFiles
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([RepositoryRoot, .. parts]);

    /// <summary>Settings Bridge reads that are not its own options: the ASP.NET Core port and the standard OpenTelemetry variables.</summary>
    private static readonly string[] PlatformPrefixes = ["ASPNETCORE_", "DOTNET_", "OTEL_"];

    /// <summary>
    /// Settings that must never be written in plain text in a manifest or the compose file: they come from a Secret (or, in
    /// compose, from the caller's environment).
    /// </summary>
    public static bool IsSecretSetting(string key)
    {
        var normalized = key.Replace("__", ":", StringComparison.Ordinal);
        return normalized.EndsWith(":ConnectionString", StringComparison.OrdinalIgnoreCase)
            || normalized.Equals("ActivePlatform:ApiToken", StringComparison.OrdinalIgnoreCase)
            || normalized.Equals("Bridge:Messaging:RabbitMqUri", StringComparison.OrdinalIgnoreCase)
            || (normalized.StartsWith("Bridge:Admin:Tokens:", StringComparison.OrdinalIgnoreCase) && normalized.EndsWith(":Token", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Every options class Bridge binds (a type with a public <c>Section</c> or <c>SectionName</c> constant), by section: found
    /// by reflection, so options added later are checked too.
    /// </summary>
    public static IReadOnlyDictionary<string, Type> OptionSections { get; } = FindOptionSections();

    /// <summary>
    /// Problems of the environment variables given to Bridge: each key must be a setting of one of Bridge's options classes
    /// (bound with <see cref="BinderOptions.ErrorOnUnknownConfiguration"/>, so a misspelt key or a value that does not convert
    /// is named) or a platform variable (<c>ASPNETCORE_*</c>, <c>OTEL_*</c>, <c>DOTNET_*</c>). Values that are placeholders
    /// resolved elsewhere (a Secret, compose interpolation) are bound as given only when <paramref name="bindValues"/>.
    /// </summary>
    public static IReadOnlyList<string> SettingProblems(IReadOnlyDictionary<string, string?> environment, bool bindValues = true)
    {
        var problems = new List<string>();
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in environment)
        {
            if (PlatformPrefixes.Any(prefix => key.StartsWith(prefix, StringComparison.Ordinal)))
            {
                continue;
            }

            var name = key.Replace("__", ":", StringComparison.Ordinal);
            if (!OptionSections.Keys.Any(section => name.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add($"{key}: not under any of Bridge's settings sections ({string.Join(", ", OptionSections.Keys)})");
                continue;
            }

            settings[name] = bindValues ? value : null;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        foreach (var (section, type) in OptionSections)
        {
            var child = configuration.GetSection(section);
            if (!child.Exists())
            {
                continue;
            }

            try
            {
                child.Get(type, options => options.ErrorOnUnknownConfiguration = true);
            }
            catch (InvalidOperationException ex)
            {
                problems.Add($"{section}: {ex.Message}");
            }
        }

        return problems;
    }

    private static Dictionary<string, Type> FindOptionSections()
    {
        var sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
        foreach (var assembly in new[] { typeof(Bridge.Host.Storage.StorageOptions).Assembly, typeof(Bridge.ActivePlatform.ActivePlatformOptions).Assembly })
        {
            foreach (var type in assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false } && t.GetConstructor(Type.EmptyTypes) is not null))
            {
                var field = type.GetField("Section", BindingFlags.Public | BindingFlags.Static) ?? type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static);
                if (field is { IsLiteral: true } && field.GetRawConstantValue() is string section)
                {
                    sections.Add(section, type);
                }
            }
        }

        return sections;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Bridge.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Bridge.sln not found above the test output.");
    }
}

/// <summary>
/// kubectl on this machine, for <c>kubectl kustomize</c>: the .NET machines' image has one (Google Cloud CLI's kubectl 1.32,
/// kustomize v5). Debian's own kubernetes-client (1.20) embeds kustomize v2, which cannot read current kustomizations
/// (<c>labels</c>, <c>patches</c>), so it is not installed for this and such a kubectl is reported as unusable.
/// </summary>
internal static class Kubectl
{
    public static string? Executable { get; } = Find();

    /// <summary>Why the kubectl tests cannot run here, or null when they can.</summary>
    public static string? UnavailableReason { get; } = Check();

    private static string? Check()
    {
        if (Executable is null)
        {
            return "kubectl is not installed (it is on the .NET machines' image; set BRIDGE_TEST_KUBECTL to use another): the kustomize rendering is not checked";
        }

        var (exitCode, output, error) = Run("version", "--client");
        var match = System.Text.RegularExpressions.Regex.Match(output, @"Kustomize Version: v(?<major>\d+)\.");
        return exitCode != 0
            ? $"{Executable} version --client failed ({exitCode}): {error.Trim()}"
            : match.Success && int.Parse(match.Groups["major"].Value, System.Globalization.CultureInfo.InvariantCulture) >= 5
                ? null
                : $"{Executable} embeds no kustomize v5 or later (Debian's kubernetes-client 1.20 has v2, which cannot read these kustomizations); kubectl 1.27+ is needed";
    }

    /// <summary>Runs kubectl with no cluster configured (KUBECONFIG points nowhere): only client-side commands can succeed.</summary>
    public static (int ExitCode, string Output, string Error) Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable ?? throw new InvalidOperationException("kubectl is not installed"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = DeployFiles.RepositoryRoot,
        };
        start.Environment["KUBECONFIG"] = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"bridge-no-kubeconfig-{Guid.NewGuid():N}");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(' ', arguments)} did not end within 2 minutes");
        }

        return (process.ExitCode, output.Result, error.Result);
    }

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("BRIDGE_TEST_KUBECTL") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => System.IO.Path.Combine(directory, "kubectl"))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>A test that needs kubectl: reported as skipped, with the reason, where kubectl is not installed.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (Kubectl.UnavailableReason is { } reason)
        {
            Skip = reason;
        }
    }
}
