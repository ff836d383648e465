using System.Collections.Frozen;
using System.Text.Json;
using Bridge.Host.Messaging;
using Json.Schema;

namespace Bridge.Host.Ingress;

/// <summary>One message the HTTP door takes: its contract, its input queue (without the prefix) and its JSON Schema.</summary>
public sealed record IngressMessageType(string Name, Type Contract, string Queue, JsonSchema Schema);

/// <summary>One thing wrong with a submitted body: where (a JSON Pointer into it) and what.</summary>
public sealed record IngressProblem(string Path, string Message);

/// <summary>
/// The messages the HTTP door takes: exactly the ERP consumers (<see cref="BridgeConsumers"/>), each with the schema
/// <c>contracts/schemas/&lt;Name&gt;.schema.json</c> embedded in this assembly — the same files ERP teams are given.
/// A route names a message by its contract name (<c>RegisterPayment</c>) or its queue (<c>register-payment</c>), in any case.
/// </summary>
public static class IngressCatalog
{
    private static readonly Lazy<FrozenDictionary<string, IngressMessageType>> ByName = new(Build);

    public static IReadOnlyCollection<IngressMessageType> All => ByName.Value.Values.Distinct().OrderBy(type => type.Name, StringComparer.Ordinal).ToList();

    public static IngressMessageType? Find(string name) => ByName.Value.GetValueOrDefault(name);

    /// <summary>Every problem the schema finds in <paramref name="body"/>, in document order; empty when it is valid.</summary>
    public static IReadOnlyList<IngressProblem> Validate(IngressMessageType type, JsonElement body)
    {
        ArgumentNullException.ThrowIfNull(type);
        var results = type.Schema.Evaluate(body, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return [];
        }

        var problems = new List<IngressProblem>();
        foreach (var detail in (results.Details ?? []).Prepend(results))
        {
            if (detail.Errors is null)
            {
                continue;
            }

            foreach (var (keyword, message) in detail.Errors)
            {
                // "additionalProperties" and the like are not used by these schemas; every error names its keyword's rule.
                var path = detail.InstanceLocation.ToString();
                problems.Add(new IngressProblem(path.Length == 0 ? "/" : path, $"{message} ({keyword})"));
            }
        }

        return problems.Distinct().ToList();
    }

    private static FrozenDictionary<string, IngressMessageType> Build()
    {
        var assembly = typeof(IngressCatalog).Assembly;
        var map = new Dictionary<string, IngressMessageType>(StringComparer.OrdinalIgnoreCase);
        foreach (var (consumer, queue) in BridgeConsumers.All)
        {
            var contract = BridgeConsumers.ContractOf(consumer);
            var resource = $"Bridge.Host.Ingress.schemas.{contract.Name}.schema.json";
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The JSON Schema of {contract.Name} is not embedded ({resource}): contracts/schemas must have one per input queue.");
            using var reader = new StreamReader(stream);

            // Each schema gets a registry of its own: they are built once per process, and their $ids never collide.
            var schema = JsonSchema.FromText(reader.ReadToEnd(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
            var type = new IngressMessageType(contract.Name, contract, queue, schema);
            map.Add(contract.Name, type);
            map.Add(queue, type);
        }

        return map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}
