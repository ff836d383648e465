using System.Collections;
using System.Reflection;
using System.Text.Json;
using Bridge.ActivePlatform.Models;

namespace Bridge.Tests.ActivePlatform;

/// <summary>
/// Walks a deserialized model and lists every member that landed in a <c>[JsonExtensionData]</c> catch-all or an
/// <see cref="UnknownResource"/>: anything listed is a field the typed model did not capture.
/// </summary>
internal static class ExtensionDataInspector
{
    public static List<string> Uncaptured(object? root)
    {
        var found = new List<string>();
        Walk(root, "$", found, new HashSet<object>(ReferenceEqualityComparer.Instance));
        return found;
    }

    private static void Walk(object? value, string path, List<string> found, HashSet<object> seen)
    {
        if (value is null || value is string || value is JsonElement || value.GetType().IsValueType || !seen.Add(value))
        {
            return;
        }

        if (value is UnknownResource unknown)
        {
            found.Add($"{path}: resource of unmodelled type '{unknown.Type}'");
        }

        if (value is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                Walk(entry.Value, $"{path}[{entry.Key}]", found, seen);
            }

            return;
        }

        if (value is IEnumerable sequence)
        {
            var index = 0;
            foreach (var item in sequence)
            {
                Walk(item, $"{path}[{index++}]", found, seen);
            }

            return;
        }

        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var child = property.GetValue(value);
            if (property.Name == "ExtensionData")
            {
                if (child is IDictionary<string, JsonElement> { Count: > 0 } extra)
                {
                    found.AddRange(extra.Keys.Select(k => $"{path}.{k}"));
                }

                continue;
            }

            Walk(child, $"{path}.{property.Name}", found, seen);
        }
    }
}
