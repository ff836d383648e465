using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>
/// <c>POST plans/{id}/order_attributes_validation</c>, the one documented async-task producer (REFERENCE.md §5): documented
/// that it makes a task, that the task's <c>results</c> are <c>{valid, errors, application_attributes}</c>, and that a
/// service needing no validation gets a task completed successfully anyway. Inferred: the answer (202 with the task and a
/// <c>Location</c>), the body in envelope style A with <c>account_id</c> and the plugin attributes beside it, and the rule —
/// the attributes are checked against the plan's <c>order_attributes</c> (a required one must be a non-blank string, a
/// boolean one a boolean). The task is pending on its first poll and completed on the second.
/// </summary>
internal static class OrderAttributesValidation
{
    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/plans/{plan_id}/order_attributes_validation", async (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "plan_id")] string planId, Catalog catalog, AsyncTaskStore tasks) =>
        {
            CallLog.SetKey(context, planId);
            if (!catalog.Plans().Any(p => (string?)p["id"] == planId))
            {
                return Writes.Absent();
            }

            var (attributes, error) = await Writes.AttributesAsync(context, "order_attributes_validations");
            if (attributes is null)
            {
                return error!;
            }

            if (Writes.PositiveId(attributes["account_id"]) is null)
            {
                return Writes.Missing("account_id");
            }

            var errors = new JsonArray();
            var application = new JsonObject();
            foreach (var definition in InferredReads.OrderAttributes(planId).Select(a => a["attributes"]!))
            {
                var key = (string)definition["key"]!;
                var value = attributes[key];
                var wrong = (string?)definition["value_type"] == "boolean"
                    ? value is not null && !Writes.IsBoolean(value)
                    : (bool)definition["required"]! && Writes.Text(attributes, key) is null;
                if (wrong)
                {
                    errors.Add(new JsonObject { [key] = value is null ? "can't be blank" : "is invalid" });
                }
                else if (value is not null)
                {
                    application[key] = value.DeepClone();
                }
            }

            var task = tasks.Create(resellerId, "order_attributes_validation", planId, new AsyncModeSettings { PollsToComplete = 2 }, () => null);
            tasks.SetResults(task.Id, new JsonObject { ["valid"] = errors.Count == 0, ["errors"] = errors, ["application_attributes"] = application });
            context.Response.Headers.Location = $"/api/v3/resellers/{resellerId}/async_tasks/{task.Id}";
            return ApiJson.Document(AsyncTaskStore.ToJson(task), StatusCodes.Status202Accepted);
        });
}

/// <summary>
/// The endpoints outside <c>resellers/{id}</c>: the Customer Store (<c>customer_store/resellers[/{id}]</c>, its product
/// categories and products) and the analytics (<c>analytics_daily</c>, <c>analytics_daily_drafts</c>,
/// <c>analytics_monthly</c>), plus <c>resellers/{id}/reseller_analytics</c>. Inferred throughout: no page of them was read
/// here. They take the same <c>X-Api-Token</c> and reach what the token reaches (its reseller and those below); the Customer
/// Store's products and categories are those the catalog's plans name (<c>product_id</c>/<c>product</c>,
/// <c>product_category_id</c>/<c>product_category</c> of the documented plan objects); analytics are counted from the
/// sandbox's own accounts, subscriptions and orders, so they follow what the API changed.
/// </summary>
internal static class OutsideResellerScope
{
    private const string RootItem = "sandbox.token-root";

    public static void Map(WebApplication app)
    {
        var store = app.MapGroup("/api/v3/customer_store/resellers");
        store.MapGet("", (HttpContext context, ResellerDirectory directory, SandboxClock clock, SandboxPaging paging) =>
            Page(context, paging, [.. directory.All.Where(r => directory.IsWithin(Root(context), r)).Order().Select(r => DirectoryReads.Reseller(r, directory, clock))]))
            .AddEndpointFilter(RequireToken);
        var scoped = store.MapGroup("/{reseller_id:int}").AddEndpointFilter(Auth.RequireToken);
        scoped.MapGet("", ([FromRoute(Name = "reseller_id")] int resellerId, ResellerDirectory directory, SandboxClock clock) =>
            Writes.Ok(DirectoryReads.Reseller(resellerId, directory, clock)));
        scoped.MapGet("/product_categories", (HttpContext context, Catalog catalog, SandboxPaging paging) => Page(context, paging, Categories(catalog)));
        scoped.MapGet("/products", (HttpContext context, Catalog catalog, SandboxPaging paging) => Page(context, paging, Products(catalog)));
        scoped.MapGet("/products/{product_id}", ([FromRoute(Name = "product_id")] string productId, Catalog catalog) =>
            Products(catalog).FirstOrDefault(p => (string?)p["id"] == productId) is { } product ? Writes.Ok(product) : Writes.Absent());

        foreach (var (path, kind) in new[] { ("analytics_daily", "daily"), ("analytics_daily_drafts", "draft"), ("analytics_monthly", "monthly") })
        {
            app.MapGet("/api/v3/" + path, (HttpContext context, ResellerDirectory directory, Catalog catalog, OrderStore orders, SandboxClock clock, SandboxPaging paging) =>
                Page(context, paging, Rows(kind, [.. directory.All.Where(r => directory.IsWithin(Root(context), r)).Order()], catalog, orders, clock)))
                .AddEndpointFilter(RequireToken);
        }
    }

    public static void MapScoped(RouteGroupBuilder api) =>
        api.MapGet("/reseller_analytics", ([FromRoute(Name = "reseller_id")] int resellerId, Catalog catalog, OrderStore orders, SandboxClock clock) =>
            Writes.Ok(new JsonObject
            {
                ["id"] = Writes.Id(resellerId),
                ["type"] = "reseller_analytics",
                ["attributes"] = Figures(resellerId, catalog, orders, clock.Now),
            }));

    /// <summary>401 without a known token; the token's reseller is kept for the endpoint (these paths name none).</summary>
    private static async ValueTask<object?> RequireToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var token = http.Request.Headers[Auth.TokenHeader].ToString();
        if (token.Length == 0 || !http.RequestServices.GetRequiredService<TokenRegistry>().TryGetScope(token, out var root))
        {
            return ApiJson.Error(StatusCodes.Status401Unauthorized, "Unauthorized");
        }

        http.Items[RootItem] = root;
        return await next(context);
    }

    private static int Root(HttpContext context) => (int)context.Items[RootItem]!;

    private static IResult Page(HttpContext context, SandboxPaging paging, IReadOnlyList<JsonObject> all) =>
        ListFilter.Apply(context, all) is { } error ? error : paging.Page(context, ListFilter.Filtered(context, all));

    private static List<JsonObject> Categories(Catalog catalog) =>
    [
        .. catalog.Plans().Select(p => p["attributes"]!).GroupBy(a => ApiJson.Text(a["product_category_id"])).Select(g => new JsonObject
        {
            ["id"] = g.Key,
            ["type"] = "product_categories",
            ["attributes"] = new JsonObject { ["name"] = ApiJson.Text(g.First()["product_category"]), ["position"] = 1 },
        }),
    ];

    private static List<JsonObject> Products(Catalog catalog) =>
    [
        .. catalog.Plans().GroupBy(p => ApiJson.Text(p["attributes"]!["product_id"])).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var attributes = g.First()["attributes"]!;
            return new JsonObject
            {
                ["id"] = g.Key,
                ["type"] = "products",
                ["attributes"] = new JsonObject
                {
                    ["name"] = ApiJson.Text(attributes["product"]),
                    ["description"] = ApiJson.Text(attributes["description"]) ?? "",
                    ["product_category_id"] = attributes["product_category_id"]?.DeepClone(),
                    ["public"] = g.Any(p => p["attributes"]!["public"]?.GetValue<bool>() == true),
                },
                ["relationships"] = new JsonObject
                {
                    ["product_category"] = Writes.Link(ApiJson.Text(attributes["product_category_id"])!, "product_categories"),
                    ["plans"] = new JsonObject { ["data"] = new JsonArray([.. g.Select(p => (JsonNode)Writes.Ref((string)p["id"]!, "plans"))]) },
                },
            };
        }),
    ];

    /// <summary>What the reseller has now: accounts, subscriptions by status, orders and their total.</summary>
    private static JsonObject Figures(int resellerId, Catalog catalog, OrderStore orders, DateTimeOffset now)
    {
        var accounts = catalog.AccountsOf(resellerId);
        var statuses = accounts
            .SelectMany(a => a["relationships"]?["subscriptions"]?["data"] as JsonArray ?? [])
            .Select(s => catalog.SubscriptionOf(resellerId, long.Parse((string)s!["id"]!, CultureInfo.InvariantCulture))?.Status)
            .ToList();
        var ordered = orders.Of(resellerId);
        var total = ordered.Sum(o => decimal.Parse(ApiJson.Text(o["attributes"]!["total"]) ?? "0", NumberStyles.Float, CultureInfo.InvariantCulture));
        return new JsonObject
        {
            ["reseller_id"] = resellerId,
            ["calculated_at"] = ApiJson.Timestamp(now),
            ["accounts_count"] = accounts.Count,
            ["active_subscriptions_count"] = statuses.Count(s => s == "active"),
            ["stopped_subscriptions_count"] = statuses.Count(s => s == "stopped"),
            ["deleted_subscriptions_count"] = statuses.Count(s => s == "deleted"),
            ["orders_count"] = ordered.Count,
            ["orders_total"] = ApiJson.Money(total),
            ["currency"] = CurrencyRateStore.ResellerCurrency,
        };
    }

    /// <summary>One row per reachable reseller and day (the last 7 closed days; a draft is today's, not closed) or month (the last 3).</summary>
    private static List<JsonObject> Rows(string kind, IReadOnlyList<int> resellers, Catalog catalog, OrderStore orders, SandboxClock clock)
    {
        var now = clock.Now;
        var today = DateOnly.FromDateTime(now.Date);
        var periods = kind switch
        {
            "draft" => [today],
            "daily" => Enumerable.Range(1, 7).Select(d => today.AddDays(-d)).ToList(),
            _ => Enumerable.Range(1, 3).Select(m => new DateOnly(today.Year, today.Month, 1).AddMonths(-m)).ToList(),
        };
        var rows = new List<JsonObject>();
        foreach (var resellerId in resellers)
        {
            var figures = Figures(resellerId, catalog, orders, now);
            foreach (var period in periods)
            {
                var attributes = new JsonObject
                {
                    [kind == "monthly" ? "month" : "date"] = kind == "monthly" ? period.ToString("yyyy-MM", CultureInfo.InvariantCulture) : ApiJson.Date(period),
                    ["reseller_id"] = resellerId,
                    ["accounts_count"] = figures["accounts_count"]!.DeepClone(),
                    ["active_subscriptions_count"] = figures["active_subscriptions_count"]!.DeepClone(),
                    ["revenue"] = figures["orders_total"]!.DeepClone(),
                    ["currency"] = CurrencyRateStore.ResellerCurrency,
                    ["draft"] = kind == "draft",
                };
                rows.Add(new JsonObject
                {
                    ["id"] = FormattableString.Invariant($"{resellerId}-{attributes[kind == "monthly" ? "month" : "date"]}"),
                    ["type"] = kind == "monthly" ? "analytics_monthly" : "analytics_daily",
                    ["attributes"] = attributes,
                });
            }
        }

        return rows;
    }
}

/// <summary>
/// <c>GET resellers/{id}/user_authentication/token?token=…</c>: which customer user a user token belongs to. Inferred: the
/// query parameter, the object (a <c>users</c> resource with the documented account <c>owner</c> member's attributes, the
/// owner's id and the account) and the tokens — in the sandbox, the owner of account <c>N</c> holds the token
/// <c>user-token-N</c>. An unknown token, or one of another reseller's account, is 404.
/// </summary>
internal static class UserAuthentication
{
    public const string TokenPrefix = "user-token-";

    public static void Map(RouteGroupBuilder api) =>
        api.MapGet("/user_authentication/token", (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, Catalog catalog) =>
        {
            var token = context.Request.Query["token"].ToString();
            if (token.Length == 0)
            {
                return Writes.Missing("token");
            }

            if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal)
                || !int.TryParse(token.AsSpan(TokenPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var accountId)
                || catalog.OwnerOf(resellerId, accountId) is not { } user)
            {
                return Writes.Absent();
            }

            var attributes = user.Owner;
            attributes["account_id"] = user.AccountId;
            attributes["reseller_id"] = resellerId;
            return Writes.Ok(new JsonObject { ["id"] = Writes.Id(user.UserId), ["type"] = "users", ["attributes"] = attributes });
        });
}

/// <summary>
/// <c>PATCH vendor/subscriptions/{id}/close_charges</c>, the vendor API. Inferred throughout: the body (envelope style A with
/// <c>close_date</c>, the charge member the unofficial support script names), the answer (200 with the charges it closed) and
/// the rule — every subscription has two open charges for the current month; closing closes the open ones that began on or
/// before <c>close_date</c>; with none left to close it is 422. The vendor's token reaches the subscriptions of the resellers
/// it reaches; any other subscription is 404. These charges are kept apart from <c>GET charges</c> (which derives its charges
/// from invoices).
/// </summary>
internal sealed class VendorCharges(SandboxClock clock, EffectLedger ledger)
{
    public const string NothingToClose = "There are no open charges to close";

    private readonly Lock _gate = new();
    private readonly Dictionary<long, List<JsonObject>> _charges = [];

    public void Reset()
    {
        lock (_gate)
        {
            _charges.Clear();
        }
    }

    public static void Map(WebApplication app) =>
        app.MapPatch("/api/v3/vendor/subscriptions/{subscription_id}/close_charges", async (HttpContext context, [FromRoute(Name = "subscription_id")] string subscriptionId, Catalog catalog, ResellerDirectory directory, TokenRegistry tokens, VendorCharges charges) =>
        {
            var token = context.Request.Headers[Auth.TokenHeader].ToString();
            if (token.Length == 0 || !tokens.TryGetScope(token, out var root))
            {
                return ApiJson.Error(StatusCodes.Status401Unauthorized, "Unauthorized");
            }

            CallLog.SetKey(context, subscriptionId);
            if (Writes.PositiveId(subscriptionId) is not { } id || catalog.SubscriptionOwner(id) is not { } owner || !directory.IsWithin(root, owner.ResellerId))
            {
                return Writes.Absent();
            }

            var (attributes, error) = await Writes.AttributesAsync(context, "charges");
            if (attributes is null)
            {
                return error!;
            }

            if (Writes.Date(attributes["close_date"]) is not { } closeDate)
            {
                return Writes.Missing("close_date");
            }

            var closed = charges.Close(id, owner.ResellerId, owner.AccountId, closeDate);
            return closed.Count == 0
                ? Writes.Invalid(NothingToClose)
                : ApiJson.Document(new JsonObject { ["data"] = new JsonArray([.. closed]) });
        });

    private List<JsonNode> Close(long subscriptionId, int resellerId, int accountId, DateOnly closeDate)
    {
        lock (_gate)
        {
            if (!_charges.TryGetValue(subscriptionId, out var charges))
            {
                charges = Seed(subscriptionId, accountId);
                _charges[subscriptionId] = charges;
            }

            var closed = new List<JsonNode>();
            for (var i = 0; i < charges.Count; i++)
            {
                var attributes = charges[i]["attributes"]!;
                if (ApiJson.Text(attributes["status"]) != "open" || Writes.Date(attributes["operate_from"]) > closeDate)
                {
                    continue;
                }

                var charge = charges[i].DeepClone().AsObject();
                charge["attributes"]!["status"] = "closed";
                charge["attributes"]!["close_date"] = ApiJson.Date(closeDate);
                charge["attributes"]!["updated_at"] = ApiJson.Timestamp(clock.Now);
                charges[i] = charge;
                closed.Add(charge.DeepClone());
            }

            if (closed.Count > 0)
            {
                ledger.Record(resellerId, EffectKinds.ChargesClosed, Writes.Id(subscriptionId), ("closeDate", ApiJson.Date(closeDate)),
                    ("charges", string.Join(',', closed.Select(c => (string?)c["id"]))));
            }

            return closed;
        }
    }

    private List<JsonObject> Seed(long subscriptionId, int accountId)
    {
        var now = clock.Now;
        var from = new DateOnly(now.Year, now.Month, 1);
        return
        [
            .. new[] { (Part: 1, Amount: 100m, Description: "Recurring fee"), (Part: 2, Amount: 25.5m, Description: "Overuse fee") }.Select(line => new JsonObject
            {
                ["id"] = Writes.Id((subscriptionId * 10) + line.Part),
                ["type"] = "charges",
                ["attributes"] = new JsonObject
                {
                    ["created_at"] = ApiJson.Timestamp(now),
                    ["updated_at"] = ApiJson.Timestamp(now),
                    ["account_id"] = accountId,
                    ["subscription_id"] = subscriptionId,
                    ["status"] = "open",
                    ["application_template_key"] = "vendor_service",
                    ["description"] = line.Description,
                    ["operate_from"] = ApiJson.Date(from),
                    ["operate_to"] = ApiJson.Date(from.AddMonths(1).AddDays(-1)),
                    ["close_date"] = null,
                    ["quantity"] = 1,
                    ["unit_price"] = ApiJson.Money(line.Amount),
                    ["amount"] = ApiJson.Money(line.Amount),
                    ["currency_unit"] = CurrencyRateStore.ResellerCurrency,
                },
            }),
        ];
    }
}
