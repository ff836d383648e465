using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>
/// Order creation (<c>sales_order</c>, <c>switch_order</c>, <c>change_order</c>, <c>renewal_order</c>, <c>prolong_order</c>) and
/// <c>orders/{id}/cancel_operation</c>. Inferred throughout — bodies, statuses and errors: no page of them was read here. A
/// created order is <c>new</c>; cancelling is allowed while it is neither <c>completed</c> nor <c>cancelled</c>. Creating an
/// order here provisions nothing and bills nothing (no payment, no subscription): only the order is kept.
/// </summary>
internal sealed partial class OrderStore
{
    public const string StatusNew = "new";
    public const string OnlyNotCompletedCanBeCancelled = "Only orders that are not completed can be cancelled";
    public const string AlreadyCancelled = "Order has already been cancelled";
    public const string DeletedSubscription = "Orders cannot be placed on a deleted subscription";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, JsonObject> _changed = new(StringComparer.Ordinal);
    private readonly List<(int ResellerId, JsonObject Order)> _created = [];
    private long _lastOrderId = 900_000;

    /// <summary>The reseller's orders: the seeded ones (as changed) and the created ones, a snapshot.</summary>
    public IReadOnlyList<JsonObject> Of(int resellerId)
    {
        lock (_gate)
        {
            return
            [
                .. SeededOf(resellerId).Select(o => _changed.GetValueOrDefault((string)o["id"]!) ?? o),
                .. _created.Where(c => c.ResellerId == resellerId).Select(c => _changed.GetValueOrDefault((string)c.Order["id"]!) ?? c.Order),
            ];
        }
    }

    public void ResetWrites()
    {
        lock (_gate)
        {
            _changed.Clear();
            _created.Clear();
        }
    }

    public static void MapWrites(RouteGroupBuilder api)
    {
        foreach (var kind in new[] { "sales_order", "switch_order", "change_order", "renewal_order", "prolong_order" })
        {
            api.MapPost("/" + kind, (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, OrderStore orders, Catalog catalog, EffectLedger ledger, SandboxClock clock) =>
                orders.CreateAsync(context, resellerId, kind, catalog, ledger, clock));
        }

        api.MapPost("/orders/{order_id}/cancel_operation", (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "order_id")] string orderId, OrderStore orders, EffectLedger ledger, SandboxClock clock) =>
            orders.Cancel(context, resellerId, orderId, ledger, clock));
    }

    private async Task<IResult> CreateAsync(HttpContext context, int resellerId, string kind, Catalog catalog, EffectLedger ledger, SandboxClock clock)
    {
        var (attributes, error) = await Writes.AttributesAsync(context, "orders");
        if (attributes is null)
        {
            return error!;
        }

        // Inferred bodies: a sales order names the account and the plan period; the others name the subscription, and say
        // what changes (switch: the new plan period; change: resource amounts; prolong: the new expiration date).
        long accountId;
        long? subscriptionId = null;
        JsonObject? period = null;
        if (kind == "sales_order")
        {
            if (Writes.PositiveId(attributes["account_id"]) is not { } account)
            {
                return Writes.Missing("account_id");
            }

            accountId = account;
        }
        else
        {
            if (Writes.PositiveId(attributes["subscription_id"]) is not { } id)
            {
                return Writes.Missing("subscription_id");
            }

            // The subscription is looked up in the reseller's: another reseller's (or none) is not found, as Rails' scoped find answers.
            if (catalog.SubscriptionOf(resellerId, id) is not { } subscription)
            {
                return Writes.Absent();
            }

            if (subscription.Status == "deleted")
            {
                return Writes.Invalid(DeletedSubscription);
            }

            subscriptionId = id;
            accountId = subscription.AccountId;
            if (kind == "switch_order" && attributes["plan_period_id"] is { } target
                && PlanOf(catalog, ApiJson.Text(target)) is { PlanId: var planId } && planId == subscription.PlanId)
            {
                return Writes.Invalid("Plan period must belong to another plan (see switchable_plans)");
            }
        }

        if (kind is "sales_order" or "switch_order")
        {
            if (Writes.Text(attributes, "plan_period_id") is not { } periodId)
            {
                return Writes.Missing("plan_period_id");
            }

            if (PlanOf(catalog, periodId) is not { Period: var found })
            {
                return Writes.Invalid("Plan period must exist");
            }

            period = found;
        }

        if (kind == "change_order" && !ValidResources(attributes["resources"]))
        {
            return Writes.Missing("resources");
        }

        if (kind == "prolong_order" && Writes.Date(attributes["expiration_date"]) is null)
        {
            return Writes.Missing("expiration_date");
        }

        var now = clock.Now;
        var total = period is null ? 0m : Fee(period, "setup_fee") + Fee(period, "recurring_fee");
        JsonObject order;
        lock (_gate)
        {
            var id = ++_lastOrderId;
            order = new JsonObject
            {
                ["id"] = Writes.Id(id),
                ["type"] = "orders",
                ["attributes"] = new JsonObject
                {
                    ["created_at"] = ApiJson.Timestamp(now),
                    ["updated_at"] = ApiJson.Timestamp(now),
                    ["document_id"] = FormattableString.Invariant($"SO{id:D7}"),
                    ["order_type"] = kind,
                    ["status"] = StatusNew,
                    ["account_id"] = accountId,
                    ["manager_id"] = PaymentStore.ManagerId,
                    ["total"] = ApiJson.Money(total),
                    ["currency_code"] = CurrencyRateStore.ResellerCurrency,
                    ["comment"] = ApiJson.Text(attributes["comment"]) ?? "",
                    ["processed_at"] = null,
                },
                ["relationships"] = new JsonObject
                {
                    ["account"] = Writes.Link(Writes.Id(accountId), "accounts"),
                    ["subscription"] = new JsonObject { ["data"] = subscriptionId is { } s ? Writes.Ref(Writes.Id(s), "subscriptions") : null },
                },
            };
            _created.Add((resellerId, Writes.Materialized(order)));
        }

        CallLog.SetKey(context, (string)order["id"]!);
        ledger.Record(resellerId, EffectKinds.OrderCreated, (string)order["id"]!, ("orderType", kind), ("accountId", Writes.Id(accountId)),
            ("subscriptionId", subscriptionId is { } sid ? Writes.Id(sid) : null), ("total", ApiJson.Money(total)));
        return Writes.Created(order.DeepClone().AsObject());
    }

    private IResult Cancel(HttpContext context, int resellerId, string orderId, EffectLedger ledger, SandboxClock clock)
    {
        CallLog.SetKey(context, orderId);
        lock (_gate)
        {
            if (Of(resellerId).FirstOrDefault(o => (string?)o["id"] == orderId) is not { } order)
            {
                return Writes.Absent();
            }

            var status = ApiJson.Text(order["attributes"]!["status"]);
            if (status == "completed")
            {
                return Writes.Invalid(OnlyNotCompletedCanBeCancelled);
            }

            if (status == "cancelled")
            {
                return Writes.Invalid(AlreadyCancelled);
            }

            var cancelled = order.DeepClone().AsObject();
            cancelled["attributes"]!["status"] = "cancelled";
            cancelled["attributes"]!["updated_at"] = ApiJson.Timestamp(clock.Now);
            _changed[orderId] = Writes.Materialized(cancelled);
            ledger.Record(resellerId, EffectKinds.OrderCancelled, orderId, ("statusBefore", status));
            return Writes.Ok(cancelled.DeepClone().AsObject());
        }
    }

    /// <summary>The plan a period belongs to, among the catalog's plans (the documented example's periods).</summary>
    internal static (string PlanId, JsonObject Period)? PlanOf(Catalog catalog, string? periodId)
    {
        foreach (var plan in catalog.Plans())
        {
            if (plan["attributes"]?["plan_periods"]?["data"] is JsonArray periods
                && periods.OfType<JsonObject>().FirstOrDefault(p => (string?)p["id"] == periodId) is { } period)
            {
                return ((string)plan["id"]!, period);
            }
        }

        return null;
    }

    private static decimal Fee(JsonObject period, string name) =>
        decimal.TryParse(ApiJson.Text(period["attributes"]?[name]), NumberStyles.Float, CultureInfo.InvariantCulture, out var fee) ? fee : 0m;

    /// <summary>A non-empty array of <c>{resource_id, amount}</c> with a positive id and a non-negative amount.</summary>
    private static bool ValidResources(JsonNode? node) =>
        node is JsonArray { Count: > 0 } items
        && items.All(i => i is JsonObject o && Writes.PositiveId(o["resource_id"]) is not null
            && decimal.TryParse(ApiJson.Text(o["amount"]), NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount >= 0);
}
