using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>
/// The reads of the query gateway that the write flows' stores did not serve: invoices (with their charges), charges and
/// orders, all paged by <see cref="SandboxPaging"/>; and <c>GET|PUT /_sandbox/paging</c>. Invoices are the
/// <see cref="InvoiceStore"/>'s (those the invoice flow approves and completes, with their linked payments); charges are
/// derived from them, two per invoice, summing to its total; orders are seeded. Single reads answer 404 "Record not found"
/// for an id the reseller does not have.
/// </summary>
internal static class ReadEndpoints
{
    private const string NotFound = "Record not found";
    private static readonly string[] InvoiceRelations = ["charges", "payments"];

    public static IServiceCollection AddSandboxReads(this IServiceCollection services, SandboxSettings settings)
    {
        services.AddSingleton<SandboxPaging>();
        services.AddSingleton(sp => new OrderStore(sp.GetRequiredService<ResellerDirectory>(), sp.GetRequiredService<SandboxClock>(), settings.OrdersPerReseller));
        return services;
    }

    public static void Map(RouteGroupBuilder api, WebApplication app)
    {
        api.MapGet("/invoices", ListInvoices);
        api.MapGet("/invoices/{invoice_id}", GetInvoice);
        api.MapGet("/charges", ListCharges);
        api.MapGet("/charges/{charge_id}", GetCharge);
        api.MapGet("/orders", ListOrders);
        api.MapGet("/orders/{order_id}", GetOrder);
        DirectoryReads.Map(api);
        InferredReads.Map(api);

        app.MapGet(ControlApi.Prefix + "/paging", (SandboxPaging paging) => paging.Current);
        app.MapPut(ControlApi.Prefix + "/paging", (SandboxPagingSettings settings, SandboxPaging paging) =>
        {
            if (settings.MaxPageSize is < 1)
            {
                return Results.BadRequest(new { error = "maxPageSize must be positive (or null: no cap)" });
            }

            paging.Current = settings;
            return Results.Ok(paging.Current);
        });

        // POST /_sandbox/reset restores the paging defaults too; hooked here so the shared reset endpoint needs no change.
        app.Use(async (context, next) =>
        {
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(ControlApi.Prefix + "/reset", StringComparison.OrdinalIgnoreCase))
            {
                context.RequestServices.GetRequiredService<SandboxPaging>().Reset();
            }

            await next(context);
        });
    }

    private static IResult ListInvoices(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, InvoiceStore invoices, PaymentStore payments, SandboxPaging paging)
    {
        if (Includes(context, InvoiceRelations) is not { } includes)
        {
            return BadInclude(context, "invoices");
        }

        var all = invoices.All().Where(i => i.ResellerId == resellerId).Select(InvoiceResource).ToList();
        return ListFilter.Apply(context, all) is { } error
            ? error
            : paging.Page(context, ListFilter.Filtered(context, all), Related(resellerId, includes, invoices, payments));
    }

    private static IResult GetInvoice(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "invoice_id")] string invoiceId, InvoiceStore invoices, PaymentStore payments)
    {
        if (Includes(context, InvoiceRelations) is not { } includes)
        {
            return BadInclude(context, "invoices");
        }

        var invoice = invoices.All().FirstOrDefault(i => i.ResellerId == resellerId && i.Id.ToString(CultureInfo.InvariantCulture) == invoiceId);
        if (invoice is null)
        {
            return ApiJson.Error(StatusCodes.Status404NotFound, NotFound);
        }

        var resource = InvoiceResource(invoice);
        var body = new JsonObject { ["data"] = resource };
        if (includes.Count > 0)
        {
            body["included"] = new JsonArray([.. Related(resellerId, includes, invoices, payments)(resource).Select(r => (JsonNode)r.DeepClone())]);
        }

        return ApiJson.Document(body);
    }

    private static IResult ListCharges(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, InvoiceStore invoices, SandboxPaging paging)
    {
        if (Includes(context, []) is null)
        {
            return BadInclude(context, "charges");
        }

        var all = invoices.All().Where(i => i.ResellerId == resellerId).SelectMany(Charges.Of).ToList();
        return ListFilter.Apply(context, all) is { } error ? error : paging.Page(context, ListFilter.Filtered(context, all));
    }

    private static IResult GetCharge([FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "charge_id")] string chargeId, InvoiceStore invoices)
    {
        var charge = invoices.All().Where(i => i.ResellerId == resellerId).SelectMany(Charges.Of).FirstOrDefault(c => (string?)c["id"] == chargeId);
        return charge is null ? ApiJson.Error(StatusCodes.Status404NotFound, NotFound) : ApiJson.Document(new JsonObject { ["data"] = charge });
    }

    private static IResult ListOrders(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, OrderStore orders, SandboxPaging paging)
    {
        if (Includes(context, []) is null)
        {
            return BadInclude(context, "orders");
        }

        var all = orders.Of(resellerId);
        return ListFilter.Apply(context, all) is { } error ? error : paging.Page(context, ListFilter.Filtered(context, all));
    }

    private static IResult GetOrder([FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "order_id")] string orderId, OrderStore orders)
    {
        var order = orders.Of(resellerId).FirstOrDefault(o => (string?)o["id"] == orderId);
        return order is null ? ApiJson.Error(StatusCodes.Status404NotFound, NotFound) : ApiJson.Document(new JsonObject { ["data"] = order.DeepClone() });
    }

    /// <summary>The invoice as the invoice flow answers it, with its charges named in <c>relationships.charges</c>.</summary>
    private static JsonObject InvoiceResource(StoredInvoice invoice)
    {
        var resource = invoice.ToJson()["data"]!.DeepClone().AsObject();
        resource["relationships"]!["charges"] = new JsonObject
        {
            ["data"] = new JsonArray([.. Charges.Of(invoice).Select(c => (JsonNode)new JsonObject { ["id"] = (string?)c["id"], ["type"] = "charges" })]),
        };
        return resource;
    }

    private static Func<JsonObject, IEnumerable<JsonObject>> Related(int resellerId, IReadOnlyCollection<string> includes, InvoiceStore invoices, PaymentStore payments) =>
        resource =>
        {
            var id = (string?)resource["id"];
            var invoice = invoices.All().First(i => i.ResellerId == resellerId && i.Id.ToString(CultureInfo.InvariantCulture) == id);
            var related = new List<JsonObject>();
            if (includes.Contains("charges"))
            {
                related.AddRange(Charges.Of(invoice));
            }

            // Only a payment the payment store holds (an invoice seeded without linkedPayment names one kept apart).
            if (includes.Contains("payments") && payments.Get(resellerId, invoice.PaymentId, includeCorrections: false)?["data"] is JsonObject payment)
            {
                related.Add(payment);
            }

            return related;
        };

    /// <summary>The include list, or null when it names a relation the resource does not have.</summary>
    private static List<string>? Includes(HttpContext context, IReadOnlyCollection<string> allowed)
    {
        var includes = Split(context.Request.Query["include"].ToString());
        return includes.All(allowed.Contains) ? includes : null;
    }

    private static IResult BadInclude(HttpContext context, string type)
    {
        var include = context.Request.Query["include"].ToString();
        return ApiJson.Error(StatusCodes.Status400BadRequest, $"{include} is not a valid relationship of {type}");
    }

    internal static List<string> Split(string value) =>
        [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}

/// <summary>Two charges per invoice (60% and the rest of its total), derived from the invoice, so they follow it.</summary>
internal static class Charges
{
    // inferred: the charge model follows the unofficial support script (REFERENCE.md §8); nothing public documents it.
    public static IEnumerable<JsonObject> Of(StoredInvoice invoice)
    {
        var first = Math.Round(invoice.Total * 0.6m, 2, MidpointRounding.AwayFromZero);
        var lines = new[] { (Part: 1, Amount: first, Description: "Recurring fee"), (Part: 2, Amount: invoice.Total - first, Description: "Overuse fee") };
        foreach (var (part, amount, description) in lines)
        {
            yield return new JsonObject
            {
                ["id"] = ((invoice.Id * 100) + part).ToString(CultureInfo.InvariantCulture),
                ["type"] = "charges",
                ["attributes"] = new JsonObject
                {
                    ["created_at"] = ApiJson.Timestamp(invoice.CreatedAt),
                    ["updated_at"] = ApiJson.Timestamp(invoice.UpdatedAt),
                    ["account_id"] = invoice.AccountId,
                    ["subscription_id"] = 3_000_000 + (invoice.ResellerId * 10_000) + part,
                    ["invoice_id"] = invoice.Id,
                    ["status"] = "closed",
                    ["application_template_key"] = "vendor_service",
                    ["description"] = description,
                    ["operate_from"] = ApiJson.Date(invoice.FromDate),
                    ["operate_to"] = ApiJson.Date(invoice.ToDate),
                    ["close_date"] = ApiJson.Date(invoice.ToDate),
                    ["billing_date"] = ApiJson.Date(invoice.FromDate),
                    ["quantity"] = 1,
                    ["duration"] = 1,
                    ["unit_price"] = ApiJson.Money(amount),
                    ["net_cost"] = ApiJson.Money(amount),
                    ["amount"] = ApiJson.Money(amount),
                    ["currency_unit"] = "RUB",
                    ["additional_params"] = new JsonArray(),
                },
                ["relationships"] = new JsonObject
                {
                    ["account"] = new JsonObject { ["data"] = new JsonObject { ["id"] = invoice.AccountId.ToString(CultureInfo.InvariantCulture), ["type"] = "accounts" } },
                    ["discount"] = new JsonObject { ["data"] = null },
                },
            };
        }
    }
}

/// <summary>
/// Seeded orders, read-only: per reseller, one of each kind in turn over its three accounts (the catalog's ids). Inferred
/// throughout: the order model is not in the documents this sandbox was built from.
/// </summary>
internal sealed partial class OrderStore
{
    private static readonly string[] Kinds = ["sales_order", "change_order", "renewal_order", "prolong_order", "switch_order"];
    private static readonly int[] AccountTemplateIds = [167, 523, 685];
    private readonly Dictionary<int, List<JsonObject>> _byReseller = [];

    public OrderStore(ResellerDirectory directory, SandboxClock clock, int perReseller)
    {
        var origin = clock.Now.AddDays(-30);
        foreach (var resellerId in directory.All.Order())
        {
            var orders = new List<JsonObject>();
            for (var i = 0; i < perReseller; i++)
            {
                var template = AccountTemplateIds[i % AccountTemplateIds.Length];
                var accountId = resellerId == 1 ? template : (resellerId * 100_000) + template;
                var id = 500_000 + (resellerId * 10_000) + i + 1;
                var at = origin.AddHours(i);
                orders.Add(new JsonObject
                {
                    ["id"] = id.ToString(CultureInfo.InvariantCulture),
                    ["type"] = "orders",
                    ["attributes"] = new JsonObject
                    {
                        ["created_at"] = ApiJson.Timestamp(at),
                        ["updated_at"] = ApiJson.Timestamp(at.AddMinutes(5)),
                        ["document_id"] = FormattableString.Invariant($"SO{id:D7}"),
                        ["order_type"] = Kinds[i % Kinds.Length],
                        ["status"] = i % 4 == 3 ? "cancelled" : "completed",
                        ["account_id"] = accountId,
                        ["manager_id"] = null,
                        ["total"] = ApiJson.Money(100m + (i * 12.5m)),
                        ["currency_code"] = "RUB",
                        ["comment"] = i % 2 == 0 ? "Заказ из каталога" : "",
                        ["processed_at"] = ApiJson.Timestamp(at.AddMinutes(5)),
                    },
                    ["relationships"] = new JsonObject
                    {
                        ["account"] = new JsonObject { ["data"] = new JsonObject { ["id"] = accountId.ToString(CultureInfo.InvariantCulture), ["type"] = "accounts" } },
                    },
                });
            }

            _byReseller[resellerId] = orders;
        }
    }

    /// <summary>The seeded orders (read-only); <c>Of</c> (OrderWrites) adds the created ones and the changes.</summary>
    private IReadOnlyList<JsonObject> SeededOf(int resellerId) => _byReseller.GetValueOrDefault(resellerId) ?? [];
}

/// <summary>
/// <c>filter[field]=a,b</c> (the attribute's text is one of them; <c>id</c> too) and <c>filter[field][gt|gte|lt|lte]</c>
/// (numbers and timestamps by value, other text by ordinal), and <c>sort</c>; a field the resources do not have is 400, as
/// the catalog answers for subscriptions.
/// </summary>
internal static class ListFilter
{
    public static IResult? Apply(HttpContext context, IReadOnlyList<JsonObject> all)
    {
        foreach (var (name, _) in context.Request.Query)
        {
            if (Field(name) is { } field && field.Name != "id" && !all.Any(r => r["attributes"] is JsonObject a && a.ContainsKey(field.Name)) && all.Count > 0)
            {
                return ApiJson.Error(StatusCodes.Status400BadRequest, $"{field.Name} is not allowed as a filter");
            }

            if (Field(name) is { Operator: { } op } && op is not ("gt" or "gte" or "lt" or "lte"))
            {
                return ApiJson.Error(StatusCodes.Status400BadRequest, $"{name} is not a supported filter");
            }
        }

        var sort = ReadEndpoints.Split(context.Request.Query["sort"].ToString());
        return sort.Select(s => s.TrimStart('-')).FirstOrDefault(s => s != "id" && all.Count > 0 && !all.Any(r => r["attributes"] is JsonObject a && a.ContainsKey(s))) is { } bad
            ? ApiJson.Error(StatusCodes.Status400BadRequest, $"{bad} is not a valid sort criteria")
            : null;
    }

    public static List<JsonObject> Filtered(HttpContext context, IReadOnlyList<JsonObject> all)
    {
        IEnumerable<JsonObject> items = all;
        foreach (var (name, value) in context.Request.Query)
        {
            if (Field(name) is not { } field)
            {
                continue;
            }

            var text = value.ToString();
            items = field.Operator is null
                ? items.Where(r => ReadEndpoints.Split(text).Contains(ApiJson.Text(Value(r, field.Name)) ?? ""))
                : items.Where(r => Compare(Value(r, field.Name), text) is { } order && field.Operator switch
                {
                    "gt" => order > 0,
                    "gte" => order >= 0,
                    "lt" => order < 0,
                    _ => order <= 0,
                });
        }

        var list = items.ToList();
        var sort = ReadEndpoints.Split(context.Request.Query["sort"].ToString());
        if (sort.Count > 0)
        {
            list.Sort((a, b) =>
            {
                foreach (var criterion in sort)
                {
                    var name = criterion.TrimStart('-');
                    var order = Compare(Value(a, name), ApiJson.Text(Value(b, name)) ?? "") ?? 0;
                    if (order != 0)
                    {
                        return criterion.StartsWith('-') ? -order : order;
                    }
                }

                return 0;
            });
        }

        return list;
    }

    private static (string Name, string? Operator)? Field(string key)
    {
        if (!key.StartsWith("filter[", StringComparison.Ordinal) || !key.EndsWith(']'))
        {
            return null;
        }

        var inner = key["filter[".Length..^1];
        var split = inner.IndexOf("][", StringComparison.Ordinal);
        return split < 0 ? (inner, null) : (inner[..split], inner[(split + 2)..]);
    }

    private static JsonNode? Value(JsonObject resource, string field) => field == "id" ? resource["id"] : resource["attributes"]?[field];

    private static int? Compare(JsonNode? node, string other)
    {
        var text = ApiJson.Text(node);
        if (text is null)
        {
            return null;
        }

        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var a) && decimal.TryParse(other, NumberStyles.Float, CultureInfo.InvariantCulture, out var b))
        {
            return a.CompareTo(b);
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var x)
            && DateTimeOffset.TryParse(other, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var y))
        {
            return x.CompareTo(y);
        }

        return string.CompareOrdinal(text, other);
    }
}
