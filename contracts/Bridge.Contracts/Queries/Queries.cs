using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bridge.Contracts;

/// <summary>
/// What a <see cref="QueryActivePlatform"/> reads: the path segment of the HTTP query gateway (<c>/api/queries/{query}</c>).
/// With <see cref="QueryActivePlatform.Id"/> one object is read, without it the whole list.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<QueryKind>))]
public enum QueryKind
{
    // No member is 0: a request without "query" reads as no kind at all and is answered InvalidRequest.

    /// <summary>An account of a downstream reseller, by its numeric <see cref="QueryActivePlatform.Id"/> (required).</summary>
    [JsonStringEnumMemberName("accounts")] Accounts = 1,

    /// <summary>Subscriptions: all of them (filters, <c>include</c>, <c>meta</c>, <c>sort</c>) or one by id.</summary>
    [JsonStringEnumMemberName("subscriptions")] Subscriptions,

    /// <summary>Invoices (<c>include: ["charges"]</c> brings the charges closing documents are built from), or one by id.</summary>
    [JsonStringEnumMemberName("invoices")] Invoices,

    /// <summary>Payments (reconciliation), or one by id.</summary>
    [JsonStringEnumMemberName("payments")] Payments,

    /// <summary>The reseller's currency rates; no id.</summary>
    [JsonStringEnumMemberName("currency-rates")] CurrencyRates,

    /// <summary>Orders, or one by id.</summary>
    [JsonStringEnumMemberName("orders")] Orders,
}

/// <summary>
/// A read of ActivePlatform through Bridge, sent to the query queue (<see cref="BridgeQueues.Queries"/>) and answered to the
/// asker with <see cref="QueryAnswered"/> or <see cref="QueryFailed"/> — from .NET with MassTransit's request client, from any
/// AMQP client with the <c>reply_to</c> and <c>correlation_id</c> properties and this record as plain JSON. A list is read to
/// its end (every page) or not at all. Nothing is written, so a query needs no idempotency key and may be asked again freely.
/// </summary>
public sealed record QueryActivePlatform
{
    public required QueryKind Query { get; init; }

    /// <summary>The reseller to read as; Bridge's configured default reseller when absent.</summary>
    public long? ResellerId { get; init; }

    /// <summary>One object's id (an account's is a number); absent for a whole list. Not for <see cref="QueryKind.CurrencyRates"/>.</summary>
    public string? Id { get; init; }

    /// <summary>Related objects to bring in <c>included</c>, e.g. <c>account</c>, <c>plan</c>, <c>charges</c>, <c>payments</c>. Not for accounts, orders by id or currency rates.</summary>
    public IReadOnlyList<string>? Include { get; init; }

    /// <summary>Lists only: <c>meta=true</c>, the plugin-specific attributes of each subscription.</summary>
    public bool? Meta { get; init; }

    /// <summary>
    /// Lists only: ActivePlatform's filters by field, e.g. <c>{"account_id": "523,685", "created_at[gt]": "2026-01-01"}</c>
    /// (a full <c>filter[…]</c> key is taken as it is). A filter ActivePlatform does not know is refused, not ignored.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Filter { get; init; }

    /// <summary>Lists only: <c>field</c> ascending, <c>-field</c> descending.</summary>
    public string? Sort { get; init; }
}

/// <summary>The answer to a <see cref="QueryActivePlatform"/> that ActivePlatform answered: its JSON:API document.</summary>
public sealed record QueryAnswered
{
    public required QueryKind Query { get; init; }

    /// <summary>The reseller read as (the default one when the query named none).</summary>
    public required long ResellerId { get; init; }

    /// <summary>The object's id, for a read of one object.</summary>
    public string? Id { get; init; }

    /// <summary>
    /// ActivePlatform's JSON:API document as read, member names as ActivePlatform writes them: for one object <c>data</c> is
    /// that object; for a list <c>data</c> holds every item of every page, <c>included</c> the related objects of all pages
    /// (each once), and there are no paging links (the list is whole).
    /// </summary>
    public required JsonElement Document { get; init; }

    /// <summary>For a list, how many pages Bridge read to get all of it.</summary>
    public int? PagesRead { get; init; }
}

/// <summary>Why a <see cref="QueryActivePlatform"/> has no document: the same outcomes, in the same words, as the HTTP gateway's.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<QueryFailure>))]
public enum QueryFailure
{
    /// <summary>ActivePlatform has no such object for this reseller (HTTP: 404). Only said when the reseller is reachable.</summary>
    [JsonStringEnumMemberName("absent")] Absent = 1,

    /// <summary>Bridge's ActivePlatform token does not reach this reseller (HTTP: 403).</summary>
    [JsonStringEnumMemberName("not-reachable")] NotReachable,

    /// <summary>ActivePlatform refused the read, e.g. an unknown filter; <see cref="QueryFailed.Error"/> says how (HTTP: 502).</summary>
    [JsonStringEnumMemberName("refused")] Refused,

    /// <summary>A list could not be read to its end; no part of it is given as the whole (HTTP: 502).</summary>
    [JsonStringEnumMemberName("incomplete")] Incomplete,

    /// <summary>ActivePlatform did not answer in time, or answered with a transient error: ask again later (HTTP: 503).</summary>
    [JsonStringEnumMemberName("unavailable")] Unavailable,

    /// <summary>The query itself is wrong: not JSON, an unknown query, an id where none goes, … (HTTP: 400).</summary>
    [JsonStringEnumMemberName("invalid-request")] InvalidRequest,
}

/// <summary>The answer to a <see cref="QueryActivePlatform"/> that has no document. The message names no secret.</summary>
public sealed record QueryFailed
{
    /// <summary>The query asked, when it could be read.</summary>
    public QueryKind? Query { get; init; }

    public long? ResellerId { get; init; }

    public string? Id { get; init; }

    public required QueryFailure Failure { get; init; }

    /// <summary>What went wrong, for a person to read.</summary>
    public required string Message { get; init; }

    /// <summary>ActivePlatform's error, when it answered with one (<see cref="QueryFailure.Refused"/>).</summary>
    public ActivePlatformError? Error { get; init; }
}
