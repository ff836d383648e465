using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bridge.Tests.Queries;

/// <summary>
/// Strict JSON comparison: the same members (none added, none lost, an explicit null is not an absent member), the same
/// JSON type at every path, strings equal to the character and numbers to the digit (<c>0.0</c> is not <c>0</c>).
/// Fails with the first path that differs.
/// </summary>
internal static class JsonAssert
{
    public static void Same(JsonNode? expected, JsonNode? actual) => Compare(expected, actual, "$");

    private static void Compare(JsonNode? expected, JsonNode? actual, string path)
    {
        var (kindE, kindA) = (Kind(expected), Kind(actual));
        Assert.True(kindE == kindA, $"{path}: expected {kindE} {Show(expected)}, got {kindA} {Show(actual)}");
        switch (expected)
        {
            case JsonObject e:
                var a = actual!.AsObject();
                var missing = e.Select(p => p.Key).Except(a.Select(p => p.Key)).ToList();
                var added = a.Select(p => p.Key).Except(e.Select(p => p.Key)).ToList();
                Assert.True(missing.Count == 0 && added.Count == 0, $"{path}: lost [{string.Join(", ", missing)}], added [{string.Join(", ", added)}]");
                foreach (var (name, value) in e)
                {
                    Compare(value, a[name], $"{path}.{name}");
                }

                break;
            case JsonArray e:
                var array = actual!.AsArray();
                Assert.True(e.Count == array.Count, $"{path}: expected {e.Count} items, got {array.Count}");
                for (var i = 0; i < e.Count; i++)
                {
                    Compare(e[i], array[i], $"{path}[{i}]");
                }

                break;
            case null:
                break;
            default:
                Assert.True(expected.ToJsonString() == actual!.ToJsonString(), $"{path}: expected {expected.ToJsonString()}, got {actual.ToJsonString()}");
                break;
        }
    }

    private static JsonValueKind Kind(JsonNode? node) => node?.GetValueKind() ?? JsonValueKind.Null;

    private static string Show(JsonNode? node) => node?.ToJsonString() is { Length: > 80 } text ? text[..80] + "…" : node?.ToJsonString() ?? "null";
}
