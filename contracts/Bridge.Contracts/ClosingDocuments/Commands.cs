namespace Bridge.Contracts;

/// <summary>
/// Create or update a closing document (акт, счёт, счёт-фактура) in ActivePlatform, identified by the ERP's <see cref="Key"/>.
/// A newer version of the same document is a new message with the same <see cref="Key"/> and a higher
/// <see cref="Revision"/> (or a later <see cref="ModifiedAt"/>); an older version arriving late is skipped.
/// </summary>
public sealed record SendClosingDocument
{
    /// <summary>Explicit idempotency key, for publishers that cannot set the AMQP <c>message_id</c>.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>ActivePlatform reseller; the configured default reseller when absent.</summary>
    public long? ResellerId { get; init; }

    public required long AccountId { get; init; }

    /// <summary>The closing document's GUID in the ERP.</summary>
    public required string Key { get; init; }

    public required ClosingDocumentType Type { get; init; }

    public required string Name { get; init; }

    public required Money Amount { get; init; }

    public required DateOnly StartDate { get; init; }

    public required DateOnly EndDate { get; init; }

    public required DocumentFile File { get; init; }

    /// <summary>The ERP's revision number of this document version. Either this or <see cref="ModifiedAt"/> is required.</summary>
    public long? Revision { get; init; }

    /// <summary>When the ERP last modified this document version. Used for ordering when <see cref="Revision"/> is absent.</summary>
    public DateTimeOffset? ModifiedAt { get; init; }
}

/// <summary>
/// Delete a closing document from ActivePlatform by the ERP's <see cref="Key"/>. A delete may carry a version, ordered with
/// the document's <see cref="SendClosingDocument"/> versions: then it is the last word over every version not newer than
/// it, however the messages are delivered. Without one, it comes after whatever Bridge handled for the key before it.
/// </summary>
public sealed record DeleteClosingDocument
{
    public string? IdempotencyKey { get; init; }

    public long? ResellerId { get; init; }

    public required long AccountId { get; init; }

    public required string Key { get; init; }

    /// <summary>
    /// The version of the deletion, ordered with <see cref="SendClosingDocument.Revision"/> (e.g. one above the last version
    /// sent). Optional: with it (or <see cref="ModifiedAt"/>), a version not newer than the deletion is skipped whenever it
    /// arrives, a newer one creates the document again, and a delete older than the version applied is skipped itself.
    /// </summary>
    public long? Revision { get; init; }

    /// <summary>When the ERP deleted the document; orders the deletion as <see cref="SendClosingDocument.ModifiedAt"/> does when <see cref="Revision"/> is absent.</summary>
    public DateTimeOffset? ModifiedAt { get; init; }
}

/// <summary>Ask ActivePlatform to notify the accounts about their new closing documents for a billing period.</summary>
public sealed record NotifyClosingDocuments
{
    public string? IdempotencyKey { get; init; }

    public long? ResellerId { get; init; }

    /// <summary>The ERP's identifier of this notification run; events carry it as their key.</summary>
    public required string Key { get; init; }

    public required IReadOnlyList<long> AccountIds { get; init; }

    public required DateOnly StartDate { get; init; }

    public required DateOnly EndDate { get; init; }
}
