using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.Contracts;

namespace Bridge.Tests.Contracts;

/// <summary>
/// What the Bridge.Contracts assembly declares, found by reflection so that a new message cannot be added without a schema.
/// Events implement <see cref="IResultEvent"/>; commands carry an <c>IdempotencyKey</c> (every command must, for publishers
/// that cannot set a message id); every other public record is a value type used inside a message.
/// </summary>
internal static class ContractCatalog
{
    public static Assembly Assembly { get; } = typeof(IResultEvent).Assembly;

    public static IReadOnlyList<Type> Records { get; } = Assembly.GetExportedTypes()
        .Where(type => type is { IsClass: true, IsAbstract: false } && type.GetMethod("<Clone>$") is not null)
        .OrderBy(type => type.Name, StringComparer.Ordinal)
        .ToList();

    public static IReadOnlyList<Type> Events { get; } = Records.Where(typeof(IResultEvent).IsAssignableFrom).ToList();

    public static IReadOnlyList<Type> Commands { get; } = Records
        .Where(type => !typeof(IResultEvent).IsAssignableFrom(type) && type.GetProperty("IdempotencyKey") is not null)
        .ToList();

    /// <summary>
    /// The query queue's request and its two answers: neither commands (nothing is applied, so no idempotency key) nor
    /// result events, but messages with a schema all the same.
    /// </summary>
    public static IReadOnlyList<Type> Queries { get; } = [typeof(QueryActivePlatform), typeof(QueryAnswered), typeof(QueryFailed)];

    public static IReadOnlyList<Type> Messages { get; } = [.. Commands, .. Events, .. Queries];

    public static IReadOnlyList<Type> ValueRecords { get; } = Records.Except(Messages).ToList();

    /// <summary>
    /// The <see cref="BridgeQueues"/> constant of each command (the query queue's, <see cref="BridgeQueues.Queries"/>, is no command's), by the command's name: what ERP teams publish to (under the
    /// deployment's prefix) and what the consumer reads from.
    /// </summary>
    public static IReadOnlyDictionary<string, string> QueueConstants { get; } = typeof(BridgeQueues)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(field => field is { IsLiteral: true } && field.FieldType == typeof(string) && field.Name is not (nameof(BridgeQueues.DefaultPrefix) or nameof(BridgeQueues.Queries)))
        .ToDictionary(field => field.Name, field => (string)field.GetRawConstantValue()!, StringComparer.Ordinal);

    /// <summary>The command's input queue under the default prefix, e.g. <c>bridge.send-closing-document</c>.</summary>
    public static string InputQueue(string commandName) =>
        QueueConstants.TryGetValue(commandName, out var queue)
            ? BridgeQueues.Name(queue)
            : throw new InvalidOperationException($"BridgeQueues has no constant {commandName}.");

    public static Type Message(string name) =>
        Messages.SingleOrDefault(type => type.Name == name)
        ?? throw new InvalidOperationException($"Bridge.Contracts has no command or event named {name}.");

    public static bool IsContractRecord(Type type) => Records.Contains(type);

    public static IReadOnlyList<PropertyInfo> SerializedProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.GetMethod is { IsPublic: true } && property.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .ToList();

    /// <summary>The property's name on the wire: its <see cref="JsonPropertyNameAttribute"/>, else camelCase.</summary>
    public static string JsonName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);

    /// <summary>
    /// Required on the wire: C# <c>required</c> members, and the non-nullable parameters without a default of a positional
    /// record's constructor (System.Text.Json fills a missing one with a default, but Bridge always writes them and a reader
    /// without them has no value).
    /// </summary>
    public static IReadOnlySet<string> RequiredJsonNames(Type type)
    {
        var nullability = new NullabilityInfoContext();
        var required = new HashSet<string>(StringComparer.Ordinal);
        var properties = SerializedProperties(type);
        foreach (var property in properties.Where(property => property.IsDefined(typeof(RequiredMemberAttribute), inherit: false)))
        {
            required.Add(JsonName(property));
        }

        var positional = type.GetConstructors()
            .Where(constructor => constructor.GetParameters() is { Length: > 0 } parameters
                && !(parameters.Length == 1 && parameters[0].ParameterType == type)
                && parameters.All(parameter => properties.Any(property => string.Equals(property.Name, parameter.Name, StringComparison.OrdinalIgnoreCase))))
            .MaxBy(constructor => constructor.GetParameters().Length);
        foreach (var parameter in positional?.GetParameters() ?? [])
        {
            var isNullable = Nullable.GetUnderlyingType(parameter.ParameterType) is not null
                || nullability.Create(parameter).ReadState == NullabilityState.Nullable;
            if (!isNullable && !parameter.HasDefaultValue)
            {
                required.Add(JsonName(properties.Single(property => string.Equals(property.Name, parameter.Name, StringComparison.OrdinalIgnoreCase))));
            }
        }

        return required;
    }

    /// <summary>The names an enum has on the wire, as its own converter writes them.</summary>
    public static IReadOnlySet<string> EnumWireNames(Type enumType) =>
        Enum.GetValues(enumType).Cast<object>()
            .Select(value => JsonSerializer.Deserialize<string>(JsonSerializer.Serialize(value, enumType))!)
            .ToHashSet(StringComparer.Ordinal);
}
