using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>
/// The writes on the catalog's accounts and subscriptions: <c>POST accounts</c>, <c>PATCH accounts/{id}</c>, the subscription
/// operations (<c>stop_operation</c>, <c>activate_operation</c>, <c>delete_operation</c>) and <c>PATCH subscriptions/{id}</c>.
/// Inferred throughout: none of these pages was read (api-coverage.txt lists the endpoints only). The objects answered are
/// the documented ones (the account and subscription examples), changed where the write says.
/// </summary>
internal sealed partial class Catalog
{
    public const string OnlyActiveCanBeStopped = "Only active subscriptions can be stopped";
    public const string OnlyStoppedCanBeActivated = "Only stopped subscriptions can be activated";
    public const string AlreadyDeleted = "Subscription has already been deleted";
    public const string DeletedCannotBeUpdated = "Deleted subscriptions cannot be updated";

    // Inferred: the writable account members are the contact members of the documented account object.
    private static readonly string[] AccountWritable =
    [
        "name", "primary_name", "first_name", "middle_name", "last_name", "country", "region", "city", "street", "building", "office",
        "zip", "phone", "email", "custom_attributes",
    ];

    // Inferred: a subscription's name and renewal settings are what an operator changes on its page; the rest is the plan's.
    private static readonly string[] SubscriptionWritable = ["name", "renewal_settings"];
    private static readonly string[] RenewalMembers = ["autorenew", "disable_autorenew", "autorenew_point", "manual_renew_point"];

    private readonly Lock _writeGate = new();
    private Dictionary<int, JsonObject>? _seedAccounts;
    private int _lastAccountId = 900_000;

    public static void MapWrites(RouteGroupBuilder api)
    {
        api.MapPost("/accounts", CreateAccount);
        api.MapPatch("/accounts/{account_id}", UpdateAccount);
        api.MapPost("/subscriptions/{subscription_id}/stop_operation", (HttpContext c, [FromRoute(Name = "reseller_id")] int r, [FromRoute(Name = "subscription_id")] string s, Catalog catalog, EffectLedger l, SandboxClock k) =>
            catalog.Operate(c, r, s, "stopped", l, k));
        api.MapPost("/subscriptions/{subscription_id}/activate_operation", (HttpContext c, [FromRoute(Name = "reseller_id")] int r, [FromRoute(Name = "subscription_id")] string s, Catalog catalog, EffectLedger l, SandboxClock k) =>
            catalog.Operate(c, r, s, "active", l, k));
        api.MapPost("/subscriptions/{subscription_id}/delete_operation", (HttpContext c, [FromRoute(Name = "reseller_id")] int r, [FromRoute(Name = "subscription_id")] string s, Catalog catalog, EffectLedger l, SandboxClock k) =>
            catalog.Operate(c, r, s, "deleted", l, k));
        api.MapPatch("/subscriptions/{subscription_id}", UpdateSubscription);
    }

    /// <summary>Accounts and subscriptions back to the seed (created accounts gone, changed ones restored).</summary>
    public void ResetWrites()
    {
        lock (_writeGate)
        {
            if (_seedAccounts is { } seed)
            {
                foreach (var id in _accounts.Keys.Where(id => !seed.ContainsKey(id)).ToList())
                {
                    _accounts.TryRemove(id, out _);
                }

                foreach (var (id, account) in seed)
                {
                    _accounts[id] = account;
                }
            }

            foreach (var subscription in _subscriptions)
            {
                subscription.Item = subscription.Seeded;
            }
        }
    }

    /// <summary>The reseller's subscription as the orders on it need it: status, plan and account; null when the reseller has none such.</summary>
    internal (string? Status, string PlanId, int AccountId)? SubscriptionOf(int resellerId, long subscriptionId) =>
        _subscriptions.FirstOrDefault(s => s.ResellerId == resellerId && s.Id == subscriptionId) is { } s
            ? (ApiJson.Text(s.Attributes["status"]), s.PlanId, s.AccountId)
            : null;

    /// <summary>The reseller's subscriptions (id, account id), for the vendor charges.</summary>
    internal (int ResellerId, int AccountId)? SubscriptionOwner(long subscriptionId) =>
        _subscriptions.FirstOrDefault(s => s.Id == subscriptionId) is { } s ? (s.ResellerId, s.AccountId) : null;

    /// <summary>The account's owner user, for user authentication: the documented <c>owner</c> member and <c>owner_id</c>.</summary>
    internal (long UserId, int AccountId, JsonObject Owner)? OwnerOf(int resellerId, int accountId) =>
        _accounts.TryGetValue(accountId, out var account) && (int?)account["attributes"]?["reseller_id"] == resellerId
        && account["attributes"]?["owner"] is JsonObject owner && Writes.PositiveId(account["attributes"]?["owner_id"]) is { } ownerId
            ? (ownerId, accountId, (JsonObject)owner.DeepClone())
            : null;

    private static async Task<IResult> CreateAccount(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, Catalog catalog, EffectLedger ledger, SandboxClock clock)
    {
        var (attributes, error) = await Writes.AttributesAsync(context, "accounts");
        if (attributes is null)
        {
            return error!;
        }

        if (CheckAccount(attributes, creating: true) is { } refused)
        {
            return refused;
        }

        var account = catalog.AddAccount(resellerId, attributes, clock.Now);
        var id = (string)account["id"]!;
        CallLog.SetKey(context, id);
        ledger.Record(resellerId, EffectKinds.AccountCreated, id, ("name", ApiJson.Text(account["attributes"]!["name"])), ("email", ApiJson.Text(account["attributes"]!["email"])));
        return Writes.Created(catalog.RenderAccount(int.Parse(id, CultureInfo.InvariantCulture), account));
    }

    private static async Task<IResult> UpdateAccount(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "account_id")] string accountId, Catalog catalog, EffectLedger ledger, SandboxClock clock)
    {
        CallLog.SetKey(context, accountId);
        if (!int.TryParse(accountId, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !catalog._accounts.TryGetValue(id, out var existing) || (int?)existing["attributes"]?["reseller_id"] != resellerId)
        {
            return Writes.Absent();
        }

        var (attributes, error) = await Writes.AttributesAsync(context, "accounts");
        if (attributes is null)
        {
            return error!;
        }

        if (CheckAccount(attributes, creating: false) is { } refused)
        {
            return refused;
        }

        var updated = catalog.ChangeAccount(id, attributes, clock.Now);
        ledger.Record(resellerId, EffectKinds.AccountUpdated, accountId, ("members", string.Join(',', attributes.Select(a => a.Key))));
        return Writes.Ok(catalog.RenderAccount(id, updated));
    }

    /// <summary>Inferred validation: name and email required on create, a read-only member (balance, status, …) refused.</summary>
    private static IResult? CheckAccount(JsonObject attributes, bool creating)
    {
        if (Writes.Unpermitted(attributes, AccountWritable) is { } unpermitted)
        {
            return Writes.Invalid($"{unpermitted} cannot be changed through the API");
        }

        if (attributes.Count == 0)
        {
            return Writes.Missing("data.attributes");
        }

        var errors = new List<string>();
        foreach (var (field, label) in new[] { ("name", "Name"), ("email", "Email") })
        {
            if ((creating || attributes.ContainsKey(field)) && Writes.Text(attributes, field) is null)
            {
                errors.Add($"{label} can't be blank");
            }
        }

        if (Writes.Text(attributes, "email") is { } email && !email.Contains('@', StringComparison.Ordinal))
        {
            errors.Add("Email is invalid");
        }

        if (Writes.Text(attributes, "country") is { } country && (country.Length != 2 || !country.All(char.IsAsciiLetterUpper)))
        {
            errors.Add("Country is invalid");
        }

        if (attributes["custom_attributes"] is { } custom && custom is not JsonObject)
        {
            errors.Add("Custom attributes must be an object");
        }

        return errors.Count > 0 ? Writes.Invalid(string.Join(", ", errors)) : null;
    }

    private JsonObject AddAccount(int resellerId, JsonObject attributes, DateTimeOffset now)
    {
        lock (_writeGate)
        {
            Snapshot();
            var id = Interlocked.Increment(ref _lastAccountId);
            var account = _seedAccounts![AccountTemplateIds[1]].DeepClone().AsObject();
            account["id"] = id.ToString(CultureInfo.InvariantCulture);
            var target = account["attributes"]!.AsObject();
            target["created_at"] = ApiJson.MillisecondTimestamp(now);
            target["updated_at"] = ApiJson.MillisecondTimestamp(now);
            target["reseller_id"] = resellerId;
            foreach (var field in AccountWritable.Where(f => f != "custom_attributes"))
            {
                target[field] = "";
            }

            target["primary_name"] = ApiJson.Text(attributes["name"]);
            target["status"] = "active";
            target["balance"] = "0.0";
            target["usable_balance"] = "0.0";
            target["current_debt"] = 0;
            target["manager_id"] = null;
            target["manager"] = null;
            if (target["custom_attributes"] is JsonObject custom)
            {
                foreach (var key in custom.Select(c => c.Key).ToList())
                {
                    custom[key] = "";
                }
            }

            Apply(target, attributes);
            if (target["owner"] is JsonObject owner)
            {
                owner["email"] = target["email"]?.DeepClone();
                owner["first_name"] = target["first_name"]?.DeepClone();
                owner["middle_name"] = target["middle_name"]?.DeepClone();
                owner["last_name"] = target["last_name"]?.DeepClone();
                owner["created_at"] = ApiJson.MillisecondTimestamp(now);
                owner["updated_at"] = ApiJson.MillisecondTimestamp(now);
            }

            _accounts[id] = Writes.Materialized(account);
            return account;
        }
    }

    private JsonObject ChangeAccount(int id, JsonObject attributes, DateTimeOffset now)
    {
        lock (_writeGate)
        {
            Snapshot();
            var account = _accounts[id].DeepClone().AsObject();
            var target = account["attributes"]!.AsObject();
            Apply(target, attributes);
            target["updated_at"] = ApiJson.MillisecondTimestamp(now);
            _accounts[id] = Writes.Materialized(account);
            return account;
        }
    }

    /// <summary>Copies the written members; custom attributes are merged by key, as a form of them would be.</summary>
    private static void Apply(JsonObject target, JsonObject attributes)
    {
        foreach (var (field, value) in attributes)
        {
            if (field == "custom_attributes" && value is JsonObject written)
            {
                var custom = target["custom_attributes"] as JsonObject ?? [];
                foreach (var (key, item) in written)
                {
                    custom[key] = item?.DeepClone();
                }

                target["custom_attributes"] = custom;
            }
            else
            {
                target[field] = value?.DeepClone();
            }
        }
    }

    private void Snapshot() => _seedAccounts ??= _accounts.ToDictionary(a => a.Key, a => a.Value);

    /// <summary>
    /// One subscription operation. Inferred: synchronous, answered 200 with the subscription — REFERENCE.md §5 documents one
    /// async producer only (order_attributes_validation) and no subscription operation; the transitions are
    /// active → stopped (stop), stopped → active (activate), active|stopped → deleted (delete), every other one a 422.
    /// </summary>
    private IResult Operate(HttpContext context, int resellerId, string subscriptionId, string target, EffectLedger ledger, SandboxClock clock)
    {
        CallLog.SetKey(context, subscriptionId);
        lock (_writeGate)
        {
            if (Find(resellerId, subscriptionId) is not { } subscription)
            {
                return Writes.Absent();
            }

            var status = ApiJson.Text(subscription.Attributes["status"]);
            var refusal = target switch
            {
                "stopped" when status != "active" => OnlyActiveCanBeStopped,
                "active" when status != "stopped" => OnlyStoppedCanBeActivated,
                "deleted" when status == "deleted" => AlreadyDeleted,
                _ => null,
            };
            if (refusal is not null)
            {
                return Writes.Invalid(refusal);
            }

            var item = Change(subscription, attributes => attributes["status"] = target, clock.Now);
            ledger.Record(resellerId, target switch
            {
                "stopped" => EffectKinds.SubscriptionStopped,
                "active" => EffectKinds.SubscriptionActivated,
                _ => EffectKinds.SubscriptionDeleted,
            }, subscriptionId, ("statusBefore", status), ("statusAfter", target));
            return Writes.Ok(item.DeepClone().AsObject());
        }
    }

    private static async Task<IResult> UpdateSubscription(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "subscription_id")] string subscriptionId, Catalog catalog, EffectLedger ledger, SandboxClock clock)
    {
        CallLog.SetKey(context, subscriptionId);
        if (catalog.Find(resellerId, subscriptionId) is null)
        {
            return Writes.Absent();
        }

        var (attributes, error) = await Writes.AttributesAsync(context, "subscriptions");
        if (attributes is null)
        {
            return error!;
        }

        if (Writes.Unpermitted(attributes, SubscriptionWritable) is { } unpermitted)
        {
            return Writes.Invalid($"{unpermitted} cannot be changed through the API");
        }

        if (attributes.Count == 0)
        {
            return Writes.Missing("data.attributes");
        }

        if (attributes.ContainsKey("name") && Writes.Text(attributes, "name") is null)
        {
            return Writes.Invalid("Name can't be blank");
        }

        if (attributes.ContainsKey("renewal_settings"))
        {
            if (attributes["renewal_settings"] is not JsonObject renewal
                || Writes.Unpermitted(renewal, RenewalMembers) is not null
                || renewal.Any(r => r.Key.EndsWith("_point", StringComparison.Ordinal) ? !Writes.IsInteger(r.Value) : !Writes.IsBoolean(r.Value)))
            {
                return Writes.Invalid("Renewal settings are invalid");
            }
        }

        lock (catalog._writeGate)
        {
            var subscription = catalog.Find(resellerId, subscriptionId)!;
            if (ApiJson.Text(subscription.Attributes["status"]) == "deleted")
            {
                return Writes.Invalid(DeletedCannotBeUpdated);
            }

            var item = catalog.Change(subscription, target =>
            {
                if (attributes["name"] is { } name)
                {
                    target["name"] = name.DeepClone();
                }

                if (attributes["renewal_settings"] is JsonObject renewal)
                {
                    var settings = target["renewal_settings"] as JsonObject ?? [];
                    foreach (var (key, value) in renewal)
                    {
                        settings[key] = value?.DeepClone();
                    }

                    target["renewal_settings"] = settings;
                }
            }, clock.Now);
            ledger.Record(resellerId, EffectKinds.SubscriptionUpdated, subscriptionId, ("members", string.Join(',', attributes.Select(a => a.Key))));
            return Writes.Ok(item.DeepClone().AsObject());
        }
    }

    private Subscription? Find(int resellerId, string subscriptionId) =>
        _subscriptions.FirstOrDefault(s => s.ResellerId == resellerId && s.Id.ToString(CultureInfo.InvariantCulture) == subscriptionId);

    private JsonObject Change(Subscription subscription, Action<JsonObject> change, DateTimeOffset now)
    {
        var item = subscription.Item.DeepClone().AsObject();
        var attributes = item["attributes"]!.AsObject();
        change(attributes);
        attributes["updated_at"] = ApiJson.MillisecondTimestamp(now);
        subscription.Item = Writes.Materialized(item);
        return item;
    }
}
