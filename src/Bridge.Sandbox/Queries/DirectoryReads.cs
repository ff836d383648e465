using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>
/// Reads of the reseller's directory: the reseller and its downstream resellers, its accounts, plans and managers. The
/// account and plan objects are the catalog's (the documented examples); the reseller and manager objects are inferred (the
/// manager's attributes are those an account's documented <c>manager</c> member has).
/// </summary>
internal static class DirectoryReads
{
    private const string NotFound = "Record not found";

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("", (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, ResellerDirectory directory, SandboxClock clock) =>
            ApiJson.Document(new JsonObject { ["data"] = Reseller(resellerId, directory, clock) }));
        api.MapGet("/child_resellers", (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, ResellerDirectory directory, SandboxClock clock, SandboxPaging paging) =>
            Page(context, paging, [.. directory.All.Where(r => directory.ParentOf(r) == resellerId).Order().Select(r => Reseller(r, directory, clock))]));

        api.MapGet("/accounts", (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, Catalog catalog, SandboxPaging paging) =>
            Page(context, paging, catalog.AccountsOf(resellerId)));
        api.MapGet("/accounts/{account_id}", ([FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "account_id")] string accountId, Catalog catalog) =>
            One(catalog.AccountsOf(resellerId), accountId));

        api.MapGet("/plans", (HttpContext context, Catalog catalog, SandboxPaging paging) => Page(context, paging, catalog.Plans()));
        api.MapGet("/plans/{plan_id}", ([FromRoute(Name = "plan_id")] string planId, Catalog catalog) => One(catalog.Plans(), planId));

        api.MapGet("/managers", (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, ResellerRecords records, SandboxPaging paging) =>
            Page(context, paging, records.Managers.Of(resellerId)));
        api.MapGet("/managers/{manager_id}", ([FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "manager_id")] string managerId, ResellerRecords records) =>
            One(records.Managers.Of(resellerId), managerId));
    }

    private static IResult Page(HttpContext context, SandboxPaging paging, IReadOnlyList<JsonObject> all) =>
        ListFilter.Apply(context, all) is { } error ? error : paging.Page(context, ListFilter.Filtered(context, all));

    private static IResult One(IReadOnlyList<JsonObject> all, string id) =>
        all.FirstOrDefault(r => (string?)r["id"] == id) is { } found
            ? ApiJson.Document(new JsonObject { ["data"] = found.DeepClone() })
            : ApiJson.Error(StatusCodes.Status404NotFound, NotFound);

    // inferred: the reseller object is not in the documents this sandbox was built from.
    internal static JsonObject Reseller(int id, ResellerDirectory directory, SandboxClock clock) => new()
    {
        ["id"] = id.ToString(CultureInfo.InvariantCulture),
        ["type"] = "resellers",
        ["attributes"] = new JsonObject
        {
            ["created_at"] = ApiJson.MillisecondTimestamp(new DateTimeOffset(2016, 8, 25, 9, 26, 12, TimeSpan.FromHours(3)).AddDays(id)),
            ["updated_at"] = ApiJson.MillisecondTimestamp(new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.FromHours(3))),
            ["name"] = id == 1 ? "Root reseller" : FormattableString.Invariant($"Reseller {id}"),
            ["status"] = "active",
            ["parent_id"] = directory.ParentOf(id),
            ["currency_iso_code"] = CurrencyRateStore.ResellerCurrency,
        },
    };

    // inferred: the attributes of the account document's documented "manager" member.
    internal static List<JsonObject> Managers(int resellerId)
    {
        var managers = new List<JsonObject>();
        foreach (var (id, name, role) in new[] { (50L, "Sales manager", "sales"), (PaymentStore.ManagerId, "Billing manager", "billing"), (300L, "Администратор", "system_administrator") })
        {
            var managerId = resellerId == 1 ? id : (resellerId * 100_000) + id;
            managers.Add(new JsonObject
            {
                ["id"] = managerId.ToString(CultureInfo.InvariantCulture),
                ["type"] = "managers",
                ["attributes"] = new JsonObject
                {
                    ["created_at"] = ApiJson.MillisecondTimestamp(new DateTimeOffset(2016, 11, 30, 13, 16, 27, 169, TimeSpan.FromHours(3))),
                    ["updated_at"] = ApiJson.MillisecondTimestamp(new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.FromHours(3))),
                    ["reseller_id"] = resellerId,
                    ["name"] = name,
                    ["status"] = "active",
                    ["email"] = FormattableString.Invariant($"{role}@reseller{resellerId}.example.com"),
                    ["role"] = role,
                    ["custom_attributes"] = new JsonObject(),
                },
            });
        }

        return managers;
    }
}
