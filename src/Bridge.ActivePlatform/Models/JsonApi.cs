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
    public IReadOnlyList<TResource>? Data { get; set; }

    /// <summary>Related resources requested with <c>include=</c>; each is typed by its <c>type</c>.</summary>
    public IReadOnlyList<JsonApiResource>? Included { get; set; }

    public JsonApiLinks? Links { get; set; }

    public IReadOnlyDictionary<string, JsonElement>? Meta { get; set; }

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
    public string Id { get; set; } = string.Empty;

    public string Type { get; set; } = string.Empty;

    public IReadOnlyDictionary<string, JsonApiRelationship>? Relationships { get; set; }

    public JsonApiLinks? Links { get; set; }

    /// <summary>Every member the typed model does not name. Empty for every documented example.</summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A resource of a type this client does not model; its attributes are kept as raw JSON.</summary>
public sealed record UnknownResource : JsonApiResource
{
    public JsonElement? Attributes { get; set; }

    public JsonElement? Meta { get; set; }
}

public sealed record JsonApiRelationship
{
    /// <summary>Resource linkage: one identifier for to-one, several for to-many.</summary>
    [JsonConverter(typeof(SingleOrArrayConverterFactory))]
    public IReadOnlyList<JsonApiResourceIdentifier>? Data { get; set; }

    public JsonApiLinks? Links { get; set; }

    public IReadOnlyDictionary<string, JsonElement>? Meta { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record JsonApiResourceIdentifier
{
    public string Id { get; set; } = string.Empty;

    public string Type { get; set; } = string.Empty;

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

public sealed record JsonApiLinks
{
    public string? Self { get; set; }

    public string? Related { get; set; }

    public string? First { get; set; }

    public string? Prev { get; set; }

    public string? Next { get; set; }

    public string? Last { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A money amount as ActivePlatform answers it; the total arrives as a string (<c>"123.45"</c>) or a number.</summary>
public sealed record MoneyAmount
{
    public decimal? Total { get; set; }

    public string? Currency { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
