using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.ActivePlatform.Models;

namespace Bridge.ActivePlatform.Queries;

/// <summary>
/// The answer to a read of one resource (<c>GET …/{id}</c>): <c>data</c> is an object, and stays one when the document is
/// written again (<see cref="JsonApiDocument{TResource}"/> reads any shape as a list and writes a list).
/// </summary>
public sealed record JsonApiResourceDocument<TResource>
    where TResource : JsonApiResource
{
    public TResource? Data { get; set; }

    /// <summary>Related resources asked for with <c>include=</c>, each read into the model its <c>type</c> names.</summary>
    public IReadOnlyList<JsonApiResource>? Included { get; set; }

    public JsonApiLinks? Links { get; set; }

    public IReadOnlyDictionary<string, JsonElement>? Meta { get; set; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>Parameters of a list read: <c>include</c>, <c>meta</c>, <c>filter[…]</c>, <c>sort</c> and paging.</summary>
public sealed record ListQuery
{
    /// <summary>Related objects to include, e.g. <c>account</c>, <c>plan</c> (subscriptions) or <c>charges</c> (invoices).</summary>
    public IReadOnlyList<string>? Include { get; init; }

    /// <summary><c>meta=true</c>: the plugin-specific attributes of each subscription (documented for subscriptions only).</summary>
    public bool Meta { get; init; }

    /// <summary>
    /// Filters by field: <c>["account_id"] = "523,685"</c> becomes <c>filter[account_id]=523,685</c>;
    /// <c>["created_at[gt]"] = "2024-01-01"</c> becomes <c>filter[created_at][gt]=2024-01-01</c>; a full <c>filter[…]</c> key is kept.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Filters { get; init; }

    /// <summary><c>field</c> ascending, <c>-field</c> descending.</summary>
    public string? Sort { get; init; }

    /// <summary>Items per page asked for; the API's default is 50. The server may serve fewer (a cap): paging notices.</summary>
    public int PageSize { get; init; } = 50;

    public int FirstPage { get; init; } = 1;

    /// <summary>More pages than this fails with <see cref="IncompleteListingException"/> rather than return part of the list.</summary>
    public int MaxPages { get; init; } = 1_000;
}

/// <summary>
/// Every page of a list, read to its end: the items of all pages in order, the <c>included</c> resources of all pages
/// (each once), and how the server paged.
/// </summary>
public sealed record AllPages<TResource>
    where TResource : JsonApiResource
{
    public required IReadOnlyList<TResource> Data { get; init; }

    public required IReadOnlyList<JsonApiResource> Included { get; init; }

    public required int PagesRead { get; init; }

    public required int RequestedPageSize { get; init; }

    /// <summary>The most items one page held: below <see cref="RequestedPageSize"/> when the server capped <c>page[size]</c> (or the list is short).</summary>
    public required int LargestPage { get; init; }

    /// <summary>The total the server announced in <c>meta</c>, when it did.</summary>
    public long? AnnouncedTotal { get; init; }

    /// <summary>How paging knew where the list ended: by <c>links.next</c>, by the total in <c>meta</c>, or by the item counts.</summary>
    public required PagingEvidence Evidence { get; init; }

    /// <summary>The whole list as one JSON:API document (no paging links: it is complete).</summary>
    public JsonApiDocument<TResource> ToDocument() => new()
    {
        Data = Data,
        Included = Included.Count > 0 ? Included : null,
    };
}

public enum PagingEvidence
{
    /// <summary>Followed <c>links.next</c> until a page had none.</summary>
    NextLinks,

    /// <summary>Read until the number of items <c>meta</c> announced.</summary>
    AnnouncedTotal,

    /// <summary>
    /// Neither links nor a total: read until an empty page, or a page shorter than the pages before it (a short first page
    /// is not trusted as the end: the server may have capped <c>page[size]</c>, so the next page is asked for).
    /// </summary>
    ItemCounts,
}

/// <summary>
/// A list could not be read to its end — the server repeated items, skipped pages, announced more than it served or went on
/// past <see cref="ListQuery.MaxPages"/>. Permanent: the caller gets no list rather than part of one presented as whole.
/// </summary>
public sealed class IncompleteListingException : ActivePlatformPermanentException
{
    public IncompleteListingException()
    {
    }

    public IncompleteListingException(string message)
        : base(message)
    {
    }

    public IncompleteListingException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public IncompleteListingException(string message, ActivePlatformFailureDetails details)
        : base(message, details)
    {
    }
}
