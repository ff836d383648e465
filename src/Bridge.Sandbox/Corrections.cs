using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>
/// Corrections (REFERENCE.md §4): created in <c>approval_required</c>, then approved or declined once. Errors are not
/// documented; the sandbox answers 422 with the Rails-style title for invalid bodies and for a status change that is not
/// from <c>approval_required</c> [INFERRED], and 404 for an unknown id.
/// </summary>
internal sealed class CorrectionStore(EffectLedger ledger)
{
    public const string ApprovalRequired = "approval_required";
    public const string Approved = "approved";
    public const string Declined = "declined";

    /// <summary>The manager the sandbox's tokens belong to, as in the docs' example.</summary>
    private const long ManagerId = 225;

    private readonly Lock _gate = new();
    private readonly Dictionary<long, StoredCorrection> _corrections = [];
    private long _lastId = 700;

    public StoredCorrection Create(int resellerId, CorrectionFields fields, DateTimeOffset now)
    {
        lock (_gate)
        {
            var correction = new StoredCorrection(++_lastId, resellerId, ManagerId, fields, ApprovalRequired, now, now, null);
            _corrections.Add(correction.Id, correction);
            ledger.Record(resellerId, EffectKinds.CorrectionCreated, correction.Id.ToString(CultureInfo.InvariantCulture),
                ("accountId", fields.AccountId.ToString(CultureInfo.InvariantCulture)), ("total", ApiJson.Money(fields.Total)), ("comment", fields.Comment));
            return correction;
        }
    }

    /// <summary>
    /// A correction ActivePlatform creates itself — completing a payment by number (REFERENCE.md §2.5: "created on behalf of the
    /// token's manager"), or a manager by hand — not through <c>POST corrections</c>: so not a correction.created effect. It is
    /// a correction like any other: <c>PATCH corrections/{id}</c> approves or declines it (§4.2).
    /// </summary>
    public StoredCorrection CreateByPlatform(int resellerId, long accountId, decimal total, string comment, DateTimeOffset now)
    {
        lock (_gate)
        {
            // [INFERRED] Not included in an invoice and created awaiting approval, as every correction is (§4).
            var correction = new StoredCorrection(++_lastId, resellerId, ManagerId, new CorrectionFields(accountId, false, null, null, null, total, comment), ApprovalRequired, now, now, null);
            _corrections.Add(correction.Id, correction);
            return correction;
        }
    }

    public StoredCorrection? Find(long id)
    {
        lock (_gate)
        {
            return _corrections.GetValueOrDefault(id);
        }
    }

    /// <summary>Null when there is no such correction for the reseller; the correction as it is when it is not awaiting approval.</summary>
    public (StoredCorrection? Correction, bool Changed) SetStatus(int resellerId, long id, string status, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_corrections.TryGetValue(id, out var existing) || existing.ResellerId != resellerId)
            {
                return (null, false);
            }

            if (existing.Status != ApprovalRequired)
            {
                return (existing, false);
            }

            var updated = existing with
            {
                Status = status,
                UpdatedAt = now,
                ApprovedAt = status == Approved ? DateOnly.FromDateTime(now.DateTime) : null,
            };
            _corrections[id] = updated;
            ledger.Record(resellerId, status == Approved ? EffectKinds.CorrectionApproved : EffectKinds.CorrectionDeclined, id.ToString(CultureInfo.InvariantCulture));
            return (updated, true);
        }
    }

    public IReadOnlyList<StoredCorrection> All()
    {
        lock (_gate)
        {
            return [.. _corrections.Values.OrderBy(c => c.Id)];
        }
    }
}

internal sealed record CorrectionFields(
    long AccountId,
    bool IncludedInvoice,
    long? SubscriptionId,
    DateOnly? PeriodFrom,
    DateOnly? PeriodTo,
    decimal Total,
    string? Comment)
{
    /// <summary>Validates like Rails would; every failure is one message, joined into the error title.</summary>
    public static (CorrectionFields? Fields, string? Error) Parse(JsonObject? attributes)
    {
        if (attributes is null)
        {
            return (null, "param is missing or the value is empty: data");
        }

        var errors = new List<string>();
        var accountText = ApiJson.Text(attributes["account_id"]);
        if (!long.TryParse(accountText, NumberStyles.None, CultureInfo.InvariantCulture, out var accountId) || accountId <= 0)
        {
            errors.Add(string.IsNullOrWhiteSpace(accountText) ? "Account can't be blank" : "Account is invalid");
        }

        var includedText = ApiJson.Text(attributes["included_invoice"]);
        var included = false;
        if (string.IsNullOrWhiteSpace(includedText) || !bool.TryParse(includedText, out included))
        {
            errors.Add("Included invoice is not included in the list");
        }

        long? subscriptionId = null;
        DateOnly? from = null;
        DateOnly? to = null;
        if (included)
        {
            var subscriptionText = ApiJson.Text(attributes["subscription_id"]);
            if (long.TryParse(subscriptionText, NumberStyles.None, CultureInfo.InvariantCulture, out var subscription) && subscription > 0)
            {
                subscriptionId = subscription;
            }
            else
            {
                errors.Add("Subscription can't be blank");
            }

            from = Date(attributes, "period_from", "Period from", errors);
            to = Date(attributes, "period_to", "Period to", errors);
            if (from is { } f && to is { } t && t < f)
            {
                errors.Add("Period to must be on or after period from");
            }
        }

        var totalText = ApiJson.Text(attributes["total"]);
        var total = 0m;
        if (string.IsNullOrWhiteSpace(totalText))
        {
            errors.Add("Total can't be blank");
        }
        else if (!decimal.TryParse(totalText, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out total))
        {
            errors.Add("Total is not a number");
        }
        else if (total == 0)
        {
            errors.Add("Total must be other than 0");
        }
        else if (decimal.Round(total, 2) != total)
        {
            errors.Add("Total must have at most 2 decimal places");
        }

        var comment = ApiJson.Text(attributes["comment"]);
        return errors.Count > 0
            ? (null, string.Join(", ", errors))
            : (new CorrectionFields(accountId, included, subscriptionId, from, to, total, comment), null);
    }

    private static DateOnly? Date(JsonObject attributes, string field, string label, List<string> errors)
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

internal sealed record StoredCorrection(
    long Id,
    int ResellerId,
    long ManagerId,
    CorrectionFields Fields,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateOnly? ApprovedAt)
{
    public JsonObject ToJson()
    {
        var attributes = new JsonObject
        {
            ["created_at"] = ApiJson.Timestamp(CreatedAt),
            ["updated_at"] = ApiJson.Timestamp(UpdatedAt),
            ["account_id"] = Fields.AccountId,
            ["manager_id"] = ManagerId,
            ["status"] = Status,
            ["total"] = ApiJson.Money(Fields.Total),
            ["included_invoice"] = Fields.IncludedInvoice,
            ["subscription_id"] = Fields.SubscriptionId,
            ["period_from"] = Fields.PeriodFrom is { } from ? ApiJson.Date(from) : null,
            ["period_to"] = Fields.PeriodTo is { } to ? ApiJson.Date(to) : null,
            ["comment"] = Fields.Comment,
        };
        if (ApprovedAt is { } approvedAt)
        {
            attributes["approved_at"] = ApiJson.Date(approvedAt);
        }

        return new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["id"] = Id.ToString(CultureInfo.InvariantCulture),
                ["type"] = "corrections",
                ["attributes"] = attributes,
            },
        };
    }

    public SandboxCorrection View() => new(
        Id.ToString(CultureInfo.InvariantCulture), ResellerId, Fields.AccountId, Status, ApiJson.Money(Fields.Total),
        Fields.IncludedInvoice, Fields.SubscriptionId, Fields.PeriodFrom, Fields.PeriodTo, Fields.Comment, CreatedAt, UpdatedAt, ApprovedAt);
}

/// <summary>The correction endpoints (REFERENCE.md §4.1, §4.2).</summary>
internal static class CorrectionEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/corrections", Create);
        api.MapPatch("/corrections/{id}", UpdateStatus);
    }

    private static async Task<IResult> Create(
        HttpContext context,
        [FromRoute(Name = "reseller_id")] int resellerId,
        CorrectionStore store,
        AccountDirectory accounts,
        SandboxClock clock)
    {
        var (ok, body) = await ApiJson.ReadBodyAsync(context);
        if (!ok)
        {
            return ApiJson.Error(StatusCodes.Status400BadRequest, "The request body is not valid JSON");
        }

        var (fields, error) = CorrectionFields.Parse(ApiJson.DataAttributes(body));
        if (fields is null)
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, error!);
        }

        return accounts.Owns(resellerId, fields.AccountId)
            ? ApiJson.Document(store.Create(resellerId, fields, clock.Now).ToJson(), StatusCodes.Status201Created)
            : AccountDirectory.UnknownInBody([fields.AccountId]);
    }

    private static async Task<IResult> UpdateStatus(
        HttpContext context,
        [FromRoute(Name = "reseller_id")] int resellerId,
        string id,
        CorrectionStore store,
        SandboxClock clock)
    {
        var (ok, body) = await ApiJson.ReadBodyAsync(context);
        if (!ok)
        {
            return ApiJson.Error(StatusCodes.Status400BadRequest, "The request body is not valid JSON");
        }

        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var correctionId))
        {
            return ApiJson.Error(StatusCodes.Status404NotFound, ClosingDocumentStore.NotFound);
        }

        var status = ApiJson.Text(ApiJson.DataAttributes(body)?["status"]);
        if (string.IsNullOrWhiteSpace(status))
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "param is missing or the value is empty: status");
        }

        if (status is not (CorrectionStore.Approved or CorrectionStore.Declined))
        {
            return ApiJson.Error(StatusCodes.Status422UnprocessableEntity, "Status is not included in the list");
        }

        var (correction, changed) = store.SetStatus(resellerId, correctionId, status, clock.Now);
        if (correction is null)
        {
            return ApiJson.Error(StatusCodes.Status404NotFound, ClosingDocumentStore.NotFound);
        }

        return changed
            ? ApiJson.Document(correction.ToJson())
            : ApiJson.Error(
                StatusCodes.Status422UnprocessableEntity,
                $"Status can be changed only for a correction in approval_required status (this one is {correction.Status})");
    }
}

/// <summary>A correction as the control API shows it (<c>GET /_sandbox/corrections</c>).</summary>
public sealed record SandboxCorrection(
    string Id,
    int ResellerId,
    long AccountId,
    string Status,
    string Total,
    bool IncludedInvoice,
    long? SubscriptionId,
    DateOnly? PeriodFrom,
    DateOnly? PeriodTo,
    string? Comment,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateOnly? ApprovedAt);
