using System.Reflection;
using System.Text.Json.Nodes;

namespace Bridge.Tests.Contracts;

/// <summary>
/// Compares a contract record with its hand-written JSON Schema, property by property: names, required list, JSON types,
/// formats, enum values, nullability, and nested records through <c>#/definitions</c>. Works on the raw schema JSON so
/// that what is compared is exactly what publishers read.
/// </summary>
internal sealed class SchemaShape
{
    private readonly JsonObject _root;
    private readonly List<string> _problems = [];
    private readonly NullabilityInfoContext _nullability = new();

    private SchemaShape(JsonObject root) => _root = root;

    public static IReadOnlyList<string> Compare(Type type, JsonObject schema)
    {
        var shape = new SchemaShape(schema);
        shape.CompareObject(type, schema, type.Name);
        return shape._problems;
    }

    private void CompareObject(Type type, JsonObject schema, string path)
    {
        if (!TypesOf(schema).SetEquals(["object"]))
        {
            _problems.Add($"{path}: schema type should be object for {type.Name}");
        }

        var properties = ContractCatalog.SerializedProperties(type).ToDictionary(ContractCatalog.JsonName, StringComparer.Ordinal);
        var schemaProperties = schema["properties"] as JsonObject ?? [];

        foreach (var name in properties.Keys.Except(schemaProperties.Select(pair => pair.Key)))
        {
            _problems.Add($"{path}.{name}: C# property {type.Name}.{properties[name].Name} is missing from the schema");
        }

        foreach (var name in schemaProperties.Select(pair => pair.Key).Except(properties.Keys))
        {
            _problems.Add($"{path}.{name}: the schema has a property {type.Name} does not have");
        }

        var required = (schema["required"] as JsonArray ?? []).Select(node => node!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        var expectedRequired = ContractCatalog.RequiredJsonNames(type);
        foreach (var name in expectedRequired.Except(required))
        {
            _problems.Add($"{path}.{name}: required in C# but not in the schema's required list");
        }

        foreach (var name in required.Except(expectedRequired))
        {
            _problems.Add($"{path}.{name}: in the schema's required list but not required in C#");
        }

        foreach (var (name, property) in properties)
        {
            if (schemaProperties[name] is JsonObject propertySchema)
            {
                var info = _nullability.Create(property);
                CompareValue(property.PropertyType, info, propertySchema, $"{path}.{name}");
            }
        }
    }

    private void CompareValue(Type clrType, NullabilityInfo info, JsonObject schema, string path)
    {
        var branches = Branches(schema);
        var types = branches.SelectMany(TypesOf).ToHashSet(StringComparer.Ordinal);

        var underlying = Nullable.GetUnderlyingType(clrType);
        var isNullable = underlying is not null || info.ReadState == NullabilityState.Nullable;
        clrType = underlying ?? clrType;
        if (isNullable != types.Contains("null"))
        {
            _problems.Add(isNullable
                ? $"{path}: nullable in C# ({clrType.Name}?) but the schema does not allow null"
                : $"{path}: not nullable in C# but the schema allows null");
        }

        types.Remove("null");
        var (expectedType, expectedFormat) = JsonTypeOf(clrType);
        if (expectedType is null)
        {
            _problems.Add($"{path}: no JSON mapping known for {clrType}; extend {nameof(SchemaShape)}");
            return;
        }

        if (!types.SetEquals([expectedType]))
        {
            _problems.Add($"{path}: schema type is [{string.Join(", ", types)}], C# {clrType.Name} is {expectedType}");
            return;
        }

        var branch = branches.First(candidate => TypesOf(candidate).Contains(expectedType));
        var format = branch["format"]?.GetValue<string>();
        if (format != expectedFormat)
        {
            _problems.Add($"{path}: schema format is '{format}', C# {clrType.Name} is '{expectedFormat}'");
        }

        // A closed list on a plain string (the MIME types) is a schema-only constraint; on an enum it must match C#.
        if (clrType.IsEnum)
        {
            var values = (branch["enum"] as JsonArray ?? []).Where(node => node is not null).Select(node => node!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
            var expected = ContractCatalog.EnumWireNames(clrType);
            if (!values.SetEquals(expected))
            {
                _problems.Add($"{path}: schema enum [{string.Join(", ", values)}], C# {clrType.Name} writes [{string.Join(", ", expected)}]");
            }
        }

        if (expectedType == "array")
        {
            var elementType = ElementType(clrType);
            if (branch["items"] is not JsonObject items)
            {
                _problems.Add($"{path}: array without an items schema");
                return;
            }

            CompareValue(elementType, info.ElementType ?? info.GenericTypeArguments.FirstOrDefault() ?? info, Resolve(items), $"{path}[]");
        }
        else if (expectedType == "object" && DictionaryValueType(clrType) is { } valueType)
        {
            // A map: its values' schema is additionalProperties.
            if (branch["additionalProperties"] is not JsonObject values || !TypesOf(values).SetEquals([JsonTypeOf(valueType).Type!]))
            {
                _problems.Add($"{path}: a map of {valueType.Name} needs additionalProperties of type {JsonTypeOf(valueType).Type}");
            }
        }
        else if (expectedType == "object" && clrType != typeof(System.Text.Json.JsonElement))
        {
            CompareObject(clrType, branch, path);
        }
    }

    private static (string? Type, string? Format) JsonTypeOf(Type type)
    {
        if (type == typeof(string)) return ("string", null);
        if (type == typeof(long) || type == typeof(int) || type == typeof(short)) return ("integer", null);
        if (type == typeof(decimal) || type == typeof(double)) return ("number", null);
        if (type == typeof(bool)) return ("boolean", null);
        if (type == typeof(DateOnly)) return ("string", "date");
        if (type == typeof(DateTimeOffset)) return ("string", "date-time");
        if (type == typeof(Guid)) return ("string", "uuid");
        if (type.IsEnum) return ("string", null);

        // A JSON document carried as it is (a query's answer): any object.
        if (type == typeof(System.Text.Json.JsonElement)) return ("object", null);
        if (DictionaryValueType(type) is not null) return ("object", null);
        if (type.IsArray || (type.IsGenericType && type.GetInterfaces().Append(type).Any(candidate => candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IEnumerable<>)))) return ("array", null);
        if (ContractCatalog.IsContractRecord(type)) return ("object", null);
        return (null, null);
    }

    /// <summary>The value type of a string-keyed map (<c>IReadOnlyDictionary&lt;string, T&gt;</c> and its kin), else null.</summary>
    private static Type? DictionaryValueType(Type type) =>
        type.GetInterfaces().Append(type)
            .FirstOrDefault(candidate => candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) && candidate.GetGenericArguments()[0] == typeof(string))
            ?.GetGenericArguments()[1];

    private static Type ElementType(Type type) =>
        type.IsArray ? type.GetElementType()! : type.GetGenericArguments()[0];

    /// <summary>The alternatives a property schema allows: its oneOf/anyOf branches, or itself.</summary>
    private List<JsonObject> Branches(JsonObject schema)
    {
        schema = Resolve(schema);
        var alternatives = schema["oneOf"] as JsonArray ?? schema["anyOf"] as JsonArray;
        return alternatives is null ? [schema] : alternatives.Select(node => Resolve((JsonObject)node!)).ToList();
    }

    private JsonObject Resolve(JsonObject schema)
    {
        while (schema["$ref"]?.GetValue<string>() is { } reference)
        {
            const string prefix = "#/definitions/";
            if (!reference.StartsWith(prefix, StringComparison.Ordinal) || _root["definitions"]?[reference[prefix.Length..]] is not JsonObject target)
            {
                throw new InvalidOperationException($"Unresolvable $ref '{reference}'.");
            }

            schema = target;
        }

        return schema;
    }

    private static HashSet<string> TypesOf(JsonObject schema) => schema["type"] switch
    {
        JsonArray array => array.Select(node => node!.GetValue<string>()).ToHashSet(StringComparer.Ordinal),
        JsonValue value => [value.GetValue<string>()],
        _ => [],
    };
}
