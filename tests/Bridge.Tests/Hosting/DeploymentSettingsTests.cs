using System.Reflection;
using System.Text.RegularExpressions;
using Bridge.ActivePlatform;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;

namespace Bridge.Tests.Hosting;

/// <summary>docker-compose.yml is not run on these machines, so at least every setting it passes must be one Bridge reads.</summary>
public sealed partial class DeploymentSettingsTests
{
    private static readonly Dictionary<string, Type> Sections = new(StringComparer.Ordinal)
    {
        ["Bridge:Storage"] = typeof(StorageOptions),
        ["Bridge:Messaging"] = typeof(MessagingOptions),
        ["ActivePlatform"] = typeof(ActivePlatformOptions),
    };

    [Fact]
    public void Every_Bridge_setting_in_docker_compose_names_a_real_option()
    {
        var compose = File.ReadAllText(Path.Combine(RepositoryRoot(), "docker-compose.yml"));
        var keys = SettingKey().Matches(compose).Select(m => m.Groups["key"].Value.Replace("__", ":", StringComparison.Ordinal)).Distinct().ToList();

        Assert.Contains("Bridge:Messaging:RabbitMqUri", keys);
        foreach (var key in keys)
        {
            var section = Sections.Keys.SingleOrDefault(s => key.StartsWith(s + ":", StringComparison.Ordinal));
            Assert.True(section is not null, $"{key}: no known options section");
            var property = key[(section!.Length + 1)..];
            Assert.True(
                Sections[section].GetProperty(property, BindingFlags.Public | BindingFlags.Instance) is not null,
                $"{key}: {Sections[section].Name} has no property {property}");
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Bridge.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Bridge.sln not found above the test output.");
    }

    [GeneratedRegex(@"^\s+(?<key>(?:Bridge|ActivePlatform)__[A-Za-z_]+):", RegexOptions.Multiline)]
    private static partial Regex SettingKey();
}
