using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>A closing document's writable fields, validated (REFERENCE.md §1.1: all are required).</summary>
internal sealed record ClosingDocumentFields(
    string Key,
    string Type,
    string Name,
    decimal Total,
    string Currency,
    DateOnly StartDate,
    DateOnly EndDate,
    string File,
    string MimeType,
    int FileBytes)
{
    private static readonly string[] Types = ["act", "invoice", "invoice_vat"];

    // The docs list .DOC, .PDF and .XLSX as the supported files.
    private static readonly string[] MimeTypes =
    [
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ];

    /// <summary>Validates like Rails would: every failure becomes one full message, joined into the error title.</summary>
    public static (ClosingDocumentFields? Fields, string? Error) Parse(JsonObject? attributes, int maxFileBytes)
    {
        if (attributes is null)
        {
            return (null, "param is missing or the value is empty: data");
        }

        var errors = new List<string>();
        var key = Required(attributes, "key", "Key", errors);
        var name = Required(attributes, "name", "Name", errors);

        var type = ApiJson.Text(attributes["type"]);
        if (string.IsNullOrWhiteSpace(type))
        {
            errors.Add("Type can't be blank");
        }
        else if (!Types.Contains(type, StringComparer.Ordinal))
        {
            errors.Add("Type is not included in the list");
        }

        var total = 0m;
        var currency = "";
        if (attributes["amount"] is not JsonObject amount)
        {
            errors.Add("Amount can't be blank");
        }
        else
        {
            var totalText = ApiJson.Text(amount["total"]);
            if (string.IsNullOrWhiteSpace(totalText))
            {
                errors.Add("Amount total can't be blank");
            }
            else if (!decimal.TryParse(totalText, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out total))
            {
                errors.Add("Amount total is not a number");
            }

            currency = ApiJson.Text(amount["currency"]) ?? "";
            if (currency.Length == 0)
            {
                errors.Add("Amount currency can't be blank");
            }
            else if (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper))
            {
                errors.Add("Amount currency is invalid");
            }
        }

        var start = RequiredDate(attributes, "start_date", "Start date", errors);
        var end = RequiredDate(attributes, "end_date", "End date", errors);
        if (start is { } s && end is { } e && e < s)
        {
            errors.Add("End date must be on or after start date");
        }

        var file = ApiJson.Text(attributes["file"]);
        var (mimeType, fileBytes) = ("", 0);
        if (string.IsNullOrEmpty(file))
        {
            errors.Add("File can't be blank");
        }
        else if (ValidateFile(file, maxFileBytes, out mimeType, out fileBytes) is { } fileError)
        {
            errors.Add(fileError);
        }

        if (errors.Count > 0)
        {
            return (null, string.Join(", ", errors));
        }

        return (new ClosingDocumentFields(key!, type!, name!, total, currency, start!.Value, end!.Value, file!, mimeType, fileBytes), null);
    }

    /// <summary>"base64 including its MIME type" is read as a data URI: <c>data:application/pdf;base64,JVBERi0…</c>.</summary>
    private static string? ValidateFile(string file, int maxFileBytes, out string mimeType, out int fileBytes)
    {
        mimeType = "";
        fileBytes = 0;
        var comma = file.IndexOf(',', StringComparison.Ordinal);
        if (!file.StartsWith("data:", StringComparison.Ordinal) || comma < 0
            || !file.AsSpan(0, comma).EndsWith(";base64", StringComparison.Ordinal))
        {
            return "File must be base64 including its MIME type (data:<mime>;base64,<data>)";
        }

        mimeType = file[5..file.IndexOf(';', StringComparison.Ordinal)];
        if (!MimeTypes.Contains(mimeType, StringComparer.OrdinalIgnoreCase))
        {
            return "File content type is invalid (DOC, PDF or XLSX expected)";
        }

        var payload = file.AsSpan(comma + 1);
        if (payload.IsEmpty)
        {
            return "File can't be blank";
        }

        var buffer = new byte[(payload.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64Chars(payload, buffer, out fileBytes))
        {
            return "File is not valid base64";
        }

        return fileBytes > maxFileBytes ? "File is too big" : null;
    }

    private static string? Required(JsonObject attributes, string field, string label, List<string> errors)
    {
        var value = ApiJson.Text(attributes[field]);
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{label} can't be blank");
            return null;
        }

        return value;
    }

    private static DateOnly? RequiredDate(JsonObject attributes, string field, string label, List<string> errors)
    {
        var text = ApiJson.Text(attributes[field]);
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add($"{label} can't be blank");
            return null;
        }

        if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            errors.Add($"{label} is invalid");
            return null;
        }

        return date;
    }
}

internal sealed record StoredDocument(
    long Id,
    int ResellerId,
    int AccountId,
    ClosingDocumentFields Fields,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int Version)
{
    public JsonObject ToJson(bool withFile)
    {
        var attributes = new JsonObject
        {
            ["created_at"] = ApiJson.Timestamp(CreatedAt),
            ["updated_at"] = ApiJson.Timestamp(UpdatedAt),
            ["key"] = Fields.Key,
            ["name"] = Fields.Name,
            ["amount"] = new JsonObject { ["total"] = ApiJson.Money(Fields.Total), ["currency"] = Fields.Currency },
            ["start_date"] = ApiJson.Date(Fields.StartDate),
            ["end_date"] = ApiJson.Date(Fields.EndDate),
            ["type"] = Fields.Type,
        };
        if (withFile)
        {
            attributes["file"] = Fields.File;
        }

        return new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["id"] = Id.ToString(CultureInfo.InvariantCulture),
                ["type"] = "external_invoices",
                ["attributes"] = attributes,
            },
        };
    }

    public SandboxExternalInvoice View() => new(
        Id.ToString(CultureInfo.InvariantCulture), ResellerId, AccountId, Fields.Key, Fields.Type, Fields.Name,
        ApiJson.Money(Fields.Total), Fields.Currency, ApiJson.Date(Fields.StartDate), ApiJson.Date(Fields.EndDate),
        Fields.MimeType, Fields.FileBytes, CreatedAt, UpdatedAt, Version);
}

internal enum WriteOutcome
{
    Done,
    NotFound,
    KeyTaken,
}

/// <summary>Closing documents; a key is unique per reseller and account, which one lock keeps true under concurrency.</summary>
internal sealed class ClosingDocumentStore(EffectLedger ledger)
{
    public const string KeyTaken = "Key has already been taken";
    public const string NotFound = "Record not found";

    private readonly Lock _gate = new();
    private readonly Dictionary<long, StoredDocument> _documents = [];

    // The lookup by key is every write's first call: an index, not a scan (a scan made a long benchmark quadratic).
    private readonly Dictionary<(int ResellerId, int AccountId, string Key), long> _byKey = [];
    private readonly List<SandboxNotification> _notifications = [];

    // Ids keep growing across resets so an id seen before a reset never names a different document after it.
    private long _lastId = 1000;

    public (WriteOutcome Outcome, StoredDocument? Document) Create(int resellerId, int accountId, ClosingDocumentFields fields, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (FindByKeyLocked(resellerId, accountId, fields.Key) is not null)
            {
                return (WriteOutcome.KeyTaken, null);
            }

            var document = new StoredDocument(++_lastId, resellerId, accountId, fields, now, now, 1);
            _documents.Add(document.Id, document);
            _byKey[KeyOf(document)] = document.Id;
            Record(EffectKinds.ExternalInvoiceCreated, document);
            return (WriteOutcome.Done, document);
        }
    }

    /// <summary>A full replacement of the fields (PATCH carries every field, REFERENCE.md §1.3).</summary>
    public (WriteOutcome Outcome, StoredDocument? Document) Update(int resellerId, int accountId, long id, ClosingDocumentFields fields, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (FindLocked(resellerId, accountId, id) is not { } existing)
            {
                return (WriteOutcome.NotFound, null);
            }

            if (FindByKeyLocked(resellerId, accountId, fields.Key) is { } other && other.Id != id)
            {
                return (WriteOutcome.KeyTaken, null);
            }

            var updated = existing with { Fields = fields, UpdatedAt = now, Version = existing.Version + 1 };
            _documents[id] = updated;
            _byKey.Remove(KeyOf(existing));
            _byKey[KeyOf(updated)] = id;
            Record(EffectKinds.ExternalInvoiceUpdated, updated);
            return (WriteOutcome.Done, updated);
        }
    }

    public StoredDocument? Delete(int resellerId, int accountId, long id)
    {
        lock (_gate)
        {
            var existing = FindLocked(resellerId, accountId, id);
            if (existing is not null)
            {
                _documents.Remove(id);
                _byKey.Remove(KeyOf(existing));
                Record(EffectKinds.ExternalInvoiceDeleted, existing);
            }

            return existing;
        }
    }

    /// <summary>A manager deletes the document in ActivePlatform's UI: whatever its reseller and account; recorded like any delete.</summary>
    public StoredDocument? DeleteByHand(long id)
    {
        lock (_gate)
        {
            if (_documents.Remove(id, out var existing))
            {
                _byKey.Remove(KeyOf(existing));
                Record(EffectKinds.ExternalInvoiceDeleted, existing);
            }

            return existing;
        }
    }

    public StoredDocument? Find(int resellerId, int accountId, long id)
    {
        lock (_gate)
        {
            return FindLocked(resellerId, accountId, id);
        }
    }

    public StoredDocument? FindByKey(int resellerId, int accountId, string key)
    {
        lock (_gate)
        {
            return FindByKeyLocked(resellerId, accountId, key);
        }
    }

    public IReadOnlyList<StoredDocument> All()
    {
        lock (_gate)
        {
            return [.. _documents.Values.OrderBy(d => d.Id)];
        }
    }

    public SandboxNotification Notify(int resellerId, IReadOnlyList<long> accountIds, DateOnly start, DateOnly end, DateTimeOffset now)
    {
        lock (_gate)
        {
            var keys = _documents.Values
                .Where(d => d.ResellerId == resellerId && accountIds.Contains(d.AccountId)
                    && d.Fields.StartDate <= end && d.Fields.EndDate >= start)
                .OrderBy(d => d.Id)
                .Select(d => d.Fields.Key)
                .ToList();
            var notification = new SandboxNotification(resellerId, accountIds, ApiJson.Date(start), ApiJson.Date(end), keys, now);
            _notifications.Add(notification);
            ledger.Record(resellerId, EffectKinds.NotificationSent, string.Join(',', accountIds),
                ("startDate", notification.StartDate), ("endDate", notification.EndDate), ("documents", keys.Count.ToString(CultureInfo.InvariantCulture)));
            return notification;
        }
    }

    public IReadOnlyList<SandboxNotification> Notifications()
    {
        lock (_gate)
        {
            return [.. _notifications];
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _documents.Clear();
            _byKey.Clear();
            _notifications.Clear();
        }
    }

    private void Record(string kind, StoredDocument document) =>
        ledger.Record(document.ResellerId, kind, document.Fields.Key,
            ("id", document.Id.ToString(CultureInfo.InvariantCulture)),
            ("accountId", document.AccountId.ToString(CultureInfo.InvariantCulture)),
            ("name", document.Fields.Name),
            ("total", ApiJson.Money(document.Fields.Total)),
            ("currency", document.Fields.Currency));

    private StoredDocument? FindLocked(int resellerId, int accountId, long id) =>
        _documents.TryGetValue(id, out var d) && d.ResellerId == resellerId && d.AccountId == accountId ? d : null;

    private StoredDocument? FindByKeyLocked(int resellerId, int accountId, string key) =>
        _byKey.TryGetValue((resellerId, accountId, key), out var id) ? _documents[id] : null;

    private static (int ResellerId, int AccountId, string Key) KeyOf(StoredDocument document) =>
        (document.ResellerId, document.AccountId, document.Fields.Key);
}

/// <summary>The closing-document endpoints (REFERENCE.md §1).</summary>
internal static class ExternalInvoiceEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var documents = api.MapGroup("/accounts/{account_id:int}/external_invoices").AddEndpointFilter(AccountDirectory.RequireOwnedAccount);
        documents.MapGet("", Get);
        documents.MapPost("", Create);
        documents.MapPatch("/{id}", Update);
        documents.MapDelete("/{id}", Delete);
        api.MapPost("/notifications/external_invoices", Notify);
    }

    private static IResult Get(
        HttpContext context,
        [FromRoute(Name = "reseller_id")] int resellerId,
        [FromRoute(Name = "account_id")] int accountId,
        ClosingDocumentStore store)
    {
        var key = context.Request.Query["filter[key]"].ToString();
        if (key.Length == 0)
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "param is missing or the value is empty: filter[key]");
        }

        // Not-found is undocumented (REFERENCE.md §1.2); 404 with the errors object is the inferred answer.
        return store.FindByKey(resellerId, accountId, key) is { } document
            ? ApiJson.Document(document.ToJson(withFile: true))
            : ApiJson.Error(StatusCodes.Status404NotFound, ClosingDocumentStore.NotFound);
    }

    private static async Task<IResult> Create(
        HttpContext context,
        [FromRoute(Name = "reseller_id")] int resellerId,
        [FromRoute(Name = "account_id")] int accountId,
        ClosingDocumentStore store,
        AsyncModeState asyncMode,
        AsyncTaskStore tasks,
        SandboxClock clock,
        SandboxSettings settings)
    {
        var (fields, error) = await ReadFields(context, settings);
        if (fields is null)
        {
            return error!;
        }

        if (asyncMode.Decide(HttpMethods.Post, fields.Key) is { } taskSettings)
        {
            // Validation, the duplicate check included, happens before the task is queued, as a synchronous 422.
            if (store.FindByKey(resellerId, accountId, fields.Key) is not null)
            {
                return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, ClosingDocumentStore.KeyTaken);
            }

            var task = tasks.Create(resellerId, "create", fields.Key, taskSettings, () =>
                store.Create(resellerId, accountId, fields, clock.Now).Outcome == WriteOutcome.KeyTaken ? ClosingDocumentStore.KeyTaken : null);
            return Accepted(context, resellerId, task);
        }

        var (outcome, document) = store.Create(resellerId, accountId, fields, clock.Now);
        return outcome == WriteOutcome.KeyTaken
            ? ApiJson.Error(StatusCodes.Status422UnprocessableEntity, ClosingDocumentStore.KeyTaken)
            : ApiJson.Document(document!.ToJson(withFile: true), StatusCodes.Status201Created);
    }

    private static async Task<IResult> Update(
        HttpContext context,
        [FromRoute(Name = "reseller_id")] int resellerId,
        [FromRoute(Name = "account_id")] int accountId,
        string id,
        ClosingDocumentStore store,
        AsyncModeState asyncMode,
        AsyncTaskStore tasks,
        SandboxClock clock,
        SandboxSettings settings)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var documentId)
            || store.Find(resellerId, accountId, documentId) is null)
        {
            return ApiJson.Error(StatusCodes.Status404NotFound, ClosingDocumentStore.NotFound);
        }

        var (fields, error) = await ReadFields(context, settings);
        if (fields is null)
        {
            return error!;
        }

        if (asyncMode.Decide(HttpMethods.Patch, fields.Key) is { } taskSettings)
        {
            var task = tasks.Create(resellerId, "update", fields.Key, taskSettings, () =>
                store.Update(resellerId, accountId, documentId, fields, clock.Now).Outcome switch
                {
                    WriteOutcome.NotFound => ClosingDocumentStore.NotFound,
                    WriteOutcome.KeyTaken => ClosingDocumentStore.KeyTaken,
                    _ => null,
                });
            return Accepted(context, resellerId, task);
        }

        var (outcome, document) = store.Update(resellerId, accountId, documentId, fields, clock.Now);
        return outcome switch
        {
            WriteOutcome.NotFound => ApiJson.Error(StatusCodes.Status404NotFound, ClosingDocumentStore.NotFound),
            WriteOutcome.KeyTaken => ApiJson.Error(StatusCodes.Status422UnprocessableEntity, ClosingDocumentStore.KeyTaken),
            _ => ApiJson.Document(document!.ToJson(withFile: true)),
        };
    }

    private static IResult Delete(
        HttpContext context,
        [FromRoute(Name = "reseller_id")] int resellerId,
        [FromRoute(Name = "account_id")] int accountId,
        string id,
        ClosingDocumentStore store,
        AsyncModeState asyncMode,
        AsyncTaskStore tasks)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var documentId)
            || store.Find(resellerId, accountId, documentId) is not { } existing)
        {
            return ApiJson.Error(StatusCodes.Status404NotFound, ClosingDocumentStore.NotFound);
        }

        if (asyncMode.Decide(HttpMethods.Delete, existing.Fields.Key) is { } taskSettings)
        {
            var task = tasks.Create(resellerId, "delete", existing.Fields.Key, taskSettings, () =>
                store.Delete(resellerId, accountId, documentId) is null ? ClosingDocumentStore.NotFound : null);
            return Accepted(context, resellerId, task);
        }

        // "returns information about the closing document except for file" (REFERENCE.md §1.4).
        return store.Delete(resellerId, accountId, documentId) is { } deleted
            ? ApiJson.Document(deleted.ToJson(withFile: false))
            : ApiJson.Error(StatusCodes.Status404NotFound, ClosingDocumentStore.NotFound);
    }

    /// <summary>Documented body is flat; 200 with body <c>null</c>; a documented 422 for bad account_ids (REFERENCE.md §1.5).</summary>
    private static async Task<IResult> Notify(
        HttpContext context,
        [FromRoute(Name = "reseller_id")] int resellerId,
        ClosingDocumentStore store,
        AccountDirectory accounts,
        SandboxClock clock)
    {
        var (ok, body) = await ApiJson.ReadBodyAsync(context);
        if (!ok)
        {
            return InvalidJson();
        }

        var attributes = ApiJson.Flat(body);
        var accountIds = AccountIds(attributes?["account_ids"]);
        if (accountIds is null)
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "param is missing or the value is empty: account_ids");
        }

        // The call log keys a notification by its accounts, as the effect ledger does.
        CallLog.SetKey(context, string.Join(',', accountIds));
        if (accountIds.Where(id => !accounts.Owns(resellerId, id)).ToList() is { Count: > 0 } unknown)
        {
            // [INFERRED] Refused whole, nothing sent: the documented 422 of this endpoint is for account_ids it cannot use.
            return AccountDirectory.UnknownInBody(unknown);
        }

        var dates = new DateOnly[2];
        string[] names = ["start_date", "end_date"];
        for (var i = 0; i < names.Length; i++)
        {
            var text = ApiJson.Text(attributes?[names[i]]);
            if (string.IsNullOrWhiteSpace(text))
            {
                return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, $"param is missing or the value is empty: {names[i]}");
            }

            if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out dates[i]))
            {
                return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, $"{names[i]} is invalid");
            }
        }

        store.Notify(resellerId, accountIds, dates[0], dates[1], clock.Now);
        return ApiJson.Document(null);
    }

    /// <summary>A JSON array of integers (the docs' example) or a comma-separated string ("comma-separated list").</summary>
    private static List<long>? AccountIds(JsonNode? node)
    {
        IEnumerable<string?> items = node switch
        {
            JsonArray array => array.Select(item => item is JsonValue v && v.GetValueKind() is JsonValueKind.Number or JsonValueKind.String ? ApiJson.Text(v) : null),
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>().Split(','),
            _ => [],
        };

        var ids = new List<long>();
        foreach (var item in items)
        {
            if (!long.TryParse(item?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
            {
                return null;
            }

            ids.Add(id);
        }

        return ids.Count == 0 ? null : ids;
    }

    private static async Task<(ClosingDocumentFields? Fields, IResult? Error)> ReadFields(HttpContext context, SandboxSettings settings)
    {
        var (ok, body) = await ApiJson.ReadBodyAsync(context);
        if (!ok)
        {
            return (null, InvalidJson());
        }

        var (fields, error) = ClosingDocumentFields.Parse(ApiJson.Attributes(body), settings.MaxFileBytes);
        return fields is null
            ? (null, ApiJson.Error(StatusCodes.Status422UnprocessableEntity, error!))
            : (fields, null);
    }

    private static IResult Accepted(HttpContext context, int resellerId, SandboxAsyncTask task)
    {
        context.Response.Headers.Location = $"/api/v3/resellers/{resellerId}/async_tasks/{task.Id}";
        return ApiJson.Document(AsyncTaskStore.ToJson(task), StatusCodes.Status202Accepted);
    }

    private static IResult InvalidJson() => ApiJson.Error(StatusCodes.Status400BadRequest, "The request body is not valid JSON");
}

/// <summary>A closing document as the control API shows it (<c>GET /_sandbox/external-invoices</c>).</summary>
public sealed record SandboxExternalInvoice(
    string Id,
    int ResellerId,
    int AccountId,
    string Key,
    string Type,
    string Name,
    string Total,
    string Currency,
    string StartDate,
    string EndDate,
    string MimeType,
    int FileBytes,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int Version);

/// <summary>A notifications call that was accepted, with the keys of the documents it covers.</summary>
public sealed record SandboxNotification(
    int ResellerId,
    IReadOnlyList<long> AccountIds,
    string StartDate,
    string EndDate,
    IReadOnlyList<string> DocumentKeys,
    DateTimeOffset ReceivedAt);
