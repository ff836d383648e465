using System.Runtime.CompilerServices;
using System.Text.Json.Serialization.Metadata;

namespace Bridge.ActivePlatform.Json;

/// <summary>
/// Remembers which members a document actually had, so that writing it again leaves out what was absent and keeps what was
/// an explicit <c>null</c> (<c>"promo_code": null</c>, <c>"manager": null</c>): a typed model alone cannot tell the two
/// apart, and the query gateway must hand an ERP what ActivePlatform said, no member added or lost. Applied as a type-info
/// modifier to the models' settable properties (an <c>init</c> accessor is set through the constructor path, which the
/// modifier does not see). A model built in code, not read, writes its non-null members only.
/// </summary>
public static class MemberPresence
{
    private static readonly ConditionalWeakTable<object, HashSet<string>> Present = new();
    private static readonly Lock Gate = new();

    public static void Track(JsonTypeInfo typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        if (typeInfo.Kind != JsonTypeInfoKind.Object || typeInfo.Type.Namespace?.StartsWith("Bridge.ActivePlatform", StringComparison.Ordinal) != true)
        {
            return;
        }

        foreach (var property in typeInfo.Properties)
        {
            if (property.IsExtensionData || property.Set is not { } set || !CanBeNull(property.PropertyType))
            {
                continue;
            }

            var name = property.Name;
            property.Set = (target, value) =>
            {
                set(target, value);
                lock (Gate)
                {
                    Present.GetOrCreateValue(target).Add(name);
                }
            };
            property.ShouldSerialize = (target, value) => value is not null || WasPresent(target, name);
        }
    }

    /// <summary>Whether <paramref name="member"/> (its JSON name) was in the document <paramref name="target"/> was read from.</summary>
    public static bool WasPresent(object target, string member)
    {
        lock (Gate)
        {
            return Present.TryGetValue(target, out var names) && names.Contains(member);
        }
    }

    private static bool CanBeNull(Type type) => !type.IsValueType || Nullable.GetUnderlyingType(type) is not null;
}
