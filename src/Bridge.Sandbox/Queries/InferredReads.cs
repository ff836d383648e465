using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>
/// GET endpoints of api-coverage.txt whose objects no document available here shows: manager roles, account attributes,
/// a plan's switchable plans and order attributes, notes and free-access documents. Every object below is inferred — a
/// plausible shape (JSON:API envelope, string ids, the conventions of REFERENCE.md §0) so that the client's reads and paging
/// can be exercised, not a claim about ActivePlatform's fields. The client reads them as raw resources.
/// </summary>
internal static class InferredReads
{
    private const string NotFound = "Record not found";

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/manager_roles", (HttpContext context, SandboxPaging paging) => Page(context, paging, ManagerRoles()));
        api.MapGet("/account_attributes", (HttpContext context, SandboxPaging paging) => Page(context, paging, AccountAttributes()));
        api.MapGet("/plans/{plan_id}/switchable_plans", (HttpContext context, [FromRoute(Name = "plan_id")] string planId, Catalog catalog, SandboxPaging paging) =>
            catalog.Plans().Any(p => (string?)p["id"] == planId)
                ? Page(context, paging, [.. catalog.Plans().Where(p => (string?)p["id"] != planId)])
                : ApiJson.Error(StatusCodes.Status404NotFound, NotFound));
        api.MapGet("/plans/{plan_id}/order_attributes", (HttpContext context, [FromRoute(Name = "plan_id")] string planId, Catalog catalog, SandboxPaging paging) =>
            catalog.Plans().Any(p => (string?)p["id"] == planId)
                ? Page(context, paging, OrderAttributes(planId))
                : ApiJson.Error(StatusCodes.Status404NotFound, NotFound));
        api.MapGet("/notes", (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, SandboxPaging paging, ResellerRecords records) => Page(context, paging, records.Notes.Of(resellerId)));
        api.MapGet("/notes/{note_id}", ([FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "note_id")] string noteId, ResellerRecords records) =>
            records.Notes.Find(resellerId, noteId) is { } note
                ? ApiJson.Document(new JsonObject { ["data"] = note })
                : ApiJson.Error(StatusCodes.Status404NotFound, NotFound));
        api.MapGet("/free_access_documents", (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, SandboxPaging paging, ResellerRecords records) =>
            Page(context, paging, records.FreeAccessDocuments.Of(resellerId)));
    }

    private static IResult Page(HttpContext context, SandboxPaging paging, IReadOnlyList<JsonObject> all) =>
        ListFilter.Apply(context, all) is { } error ? error : paging.Page(context, ListFilter.Filtered(context, all));

    private static JsonObject Resource(string id, string type, JsonObject attributes) => new() { ["id"] = id, ["type"] = type, ["attributes"] = attributes };

    private static string Stamp(int days) => ApiJson.Timestamp(new DateTimeOffset(2026, 1, 15, 10, 0, 0, TimeSpan.FromHours(3)).AddDays(days));

    internal static List<JsonObject> ManagerRoles() =>
    [
        .. new[] { ("system_administrator", "System administrator"), ("product_owner", "Product owner"), ("sales", "Sales manager"), ("billing", "Billing manager") }
            .Select((role, i) => Resource((i + 1).ToString(CultureInfo.InvariantCulture), "manager_roles", new JsonObject { ["key"] = role.Item1, ["name"] = role.Item2 })),
    ];

    private static List<JsonObject> AccountAttributes() =>
    [
        .. new[] { ("inn", "ИНН", true), ("position", "Position", false), ("personal_number", "Personal number", false) }
            .Select((a, i) => Resource((i + 1).ToString(CultureInfo.InvariantCulture), "account_attributes", new JsonObject
            {
                ["key"] = a.Item1, ["name"] = a.Item2, ["attribute_type"] = "string", ["required"] = a.Item3, ["created_at"] = Stamp(i), ["updated_at"] = Stamp(i),
            })),
    ];

    internal static List<JsonObject> OrderAttributes(string planId) =>
    [
        Resource(planId + "01", "order_attributes", new JsonObject { ["key"] = "customer_domain", ["name"] = "Domain", ["required"] = true, ["value_type"] = "string" }),
        Resource(planId + "02", "order_attributes", new JsonObject { ["key"] = "is_new_domain", ["name"] = "New domain", ["required"] = false, ["value_type"] = "boolean" }),
    ];

    /// <summary>The seeded notes; <see cref="ResellerRecords"/> keeps the created and deleted ones.</summary>
    internal static List<JsonObject> Notes(int resellerId) =>
    [
        .. Enumerable.Range(1, 5).Select(i => Resource((70_000 + (resellerId * 100) + i).ToString(CultureInfo.InvariantCulture), "notes", new JsonObject
        {
            ["created_at"] = Stamp(i), ["updated_at"] = Stamp(i), ["account_id"] = resellerId == 1 ? 523 : (resellerId * 100_000) + 523,
            ["manager_id"] = 50, ["text"] = FormattableString.Invariant($"Звонок клиенту {i}"),
        })),
    ];

    /// <summary>The seeded free-access documents; <see cref="ResellerRecords"/> keeps the written ones.</summary>
    internal static List<JsonObject> FreeAccessDocuments(int resellerId) =>
    [
        .. Enumerable.Range(1, 3).Select(i => Resource((80_000 + (resellerId * 100) + i).ToString(CultureInfo.InvariantCulture), "free_access_documents", new JsonObject
        {
            ["created_at"] = Stamp(i), ["updated_at"] = Stamp(i), ["name"] = FormattableString.Invariant($"Offer {i}"), ["description"] = "",
            ["file_name"] = FormattableString.Invariant($"offer-{i}.pdf"),
        })),
    ];
}
