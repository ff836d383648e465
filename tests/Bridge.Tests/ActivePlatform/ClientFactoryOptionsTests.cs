using System.Reflection;
using Bridge.ActivePlatform;

namespace Bridge.Tests.ActivePlatform;

/// <summary>
/// The standalone client (the CLI's, the demo's, the tests') is built from a copy of the caller's options: every setting
/// must reach it. The rate limit did not (found by review): a standalone client never paced its calls.
/// </summary>
public sealed class ClientFactoryOptionsTests
{
    [Fact]
    public void Every_setting_of_the_options_is_copied_to_the_standalone_client()
    {
        var settable = typeof(ActivePlatformOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        var from = new ActivePlatformOptions();
        foreach (var property in settable)
        {
            property.SetValue(from, Changed(property.PropertyType, property.GetValue(from)));
        }

        var to = new ActivePlatformOptions();
        ActivePlatformClientFactory.Copy(from, to);

        Assert.All(settable, property => Assert.Equal(property.GetValue(from), property.GetValue(to)));
    }

    /// <summary>A value of <paramref name="type"/> that differs from <paramref name="current"/> (another instance for an options object).</summary>
    private static object? Changed(Type type, object? current) => type switch
    {
        _ when type == typeof(Uri) => new Uri("http://copied.example/"),
        _ when type == typeof(string) => "copied",
        _ when type == typeof(long) => (long)current! + 7,
        _ when type == typeof(int) => (int)current! + 7,
        _ when type == typeof(double) => (double)current! / 2 + 0.01,
        _ when type == typeof(TimeSpan) => (TimeSpan)current! + TimeSpan.FromSeconds(7),
        _ when type.IsEnum => Enum.GetValues(type).Cast<object>().First(value => !value.Equals(current)),
        _ when type.IsClass => Activator.CreateInstance(type),
        _ => throw new InvalidOperationException($"no changed value for {type}: add one"),
    };
}
