using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Json;

namespace Bridge.ActivePlatform.Models;

/// <summary>
/// A JSON:API top-level document. <see cref="Data"/> is a list whether the API sent an object, an array or null,
/// because the documentation disagrees between versions on which one an endpoint returns.
/// </summary>
public sealed record JsonApiDocument<TResource>
{
    [JsonConverter(typeof(SingleOrArrayConverterFactory))]
    public IReadOnlyList<TResource>? Data { get; init; }

    /// <summary>Related resources requested with <c>include=</c>; each is typed by its <c>type</c>.</summary>
    public IReadOnlyList<JsonApiResource>? Included { get; init; }

    public JsonApiLinks? Links { get; init; }

    public IReadOnlyDictionary<string, JsonElement>? Meta { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }

    [JsonIgnore]
    public IReadOnlyList<TResource> Items => Data ?? [];
}

/// <summary>
/// A JSON:API resource object. Concrete types (<see cref="ExternalInvoice"/>, <see cref="AsyncTask"/>, …) add
/// typed <c>attributes</c>; a list typed as this base class is read by <c>type</c> into the matching subclass,
/// and into <see cref="UnknownResource"/> for types this client does not model.
/// </summary>
public abstract record JsonApiResource
{
    public string Id { get; init; } = string.Empty;

    public string Type { get; init; } = string.Empty;

    public IReadOnlyDictionary<string, JsonApiRelationship>? Relationships { get; init; }

    public JsonApiLinks? Links { get; init; }

    /// <summary>Every member the typed model does not name. Empty for every documented example.</summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A resource of a type this client does not model; its attributes are kept as raw JSON.</summary>
public sealed record UnknownResource : JsonApiResource
{
    public JsonElement? Attributes { get; init; }

    public JsonElement? Meta { get; init; }
}

public sealed record JsonApiRelationship
{
    /// <summary>Resource linkage: one identifier for to-one, several for to-many.</summary>
    [JsonConverter(typeof(SingleOrArrayConverterFactory))]
    public IReadOnlyList<JsonApiResourceIdentifier>? Data { get; init; }

    public JsonApiLinks? Links { get; init; }

    public IReadOnlyDictionary<string, JsonElement>? Meta { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record JsonApiResourceIdentifier
{
    public string Id { get; init; } = string.Empty;

    public string Type { get; init; } = string.Empty;

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record JsonApiLinks
{
    public string? Self { get; init; }

    public string? Related { get; init; }

    public string? First { get; init; }

    public string? Prev { get; init; }

    public string? Next { get; init; }

    public string? Last { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A money amount as ActivePlatform answers it; the total arrives as a string (<c>"123.45"</c>) or a number.</summary>
public sealed record MoneyAmount
{
    public decimal? Total { get; init; }

    public string? Currency { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
