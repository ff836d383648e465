using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>
/// Read-only accounts and subscriptions, seeded at start from the response examples of the public docs
/// (Seed/*.json, copies of the shared fixtures): every object keeps the documented shape, only ids, owners
/// and timestamps vary. Reseller 1 keeps the examples' account ids (167, 523, 685); reseller r gets r*100000 + id.
/// </summary>
internal sealed partial class Catalog
{
    private static readonly int[] AccountTemplateIds = [167, 523, 685];
    private static readonly string[] Relations = ["account", "plan", "subscription_period", "subscription_resources"];

    // Concurrent: accounts are created and updated (CatalogWrites) while reads run; a value is replaced whole, never changed in place.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, JsonObject> _accounts = new();
    private readonly List<Subscription> _subscriptions = [];
    private readonly Dictionary<(string Type, string Id), JsonObject> _related = [];

    private Catalog()
    {
    }

    public static Catalog Seed(ResellerDirectory directory, int subscriptionsPerReseller)
    {
        var catalog = new Catalog();
        var account = Load("child-reseller-account.json")["data"]!.AsObject();
        var page = Load("subscriptions-page.json");
        var included = page["included"]!.AsArray().Select(n => n!.AsObject()).ToList();
        JsonObject Included(string type, string id) =>
            included.Single(o => (string?)o["type"] == type && (string?)o["id"] == id);

        var accountTemplates = new Dictionary<int, JsonObject> { [167] = account };
        foreach (var id in AccountTemplateIds.Skip(1))
        {
            accountTemplates[id] = Included("accounts", id.ToString(CultureInfo.InvariantCulture));
        }

        var subscriptionTemplates = page["data"]!.AsArray().Select(n => n!.AsObject()).ToList();
        foreach (var template in subscriptionTemplates)
        {
            var planId = (string)template["relationships"]!["plan"]!["data"]!["id"]!;
            catalog._related[("plans", planId)] = Included("plans", planId);
        }

        foreach (var resellerId in directory.All.Order())
        {
            foreach (var (templateId, template) in accountTemplates)
            {
                var id = AccountId(resellerId, templateId);
                var clone = template.DeepClone().AsObject();
                clone["id"] = id.ToString(CultureInfo.InvariantCulture);
                clone["attributes"]!["reseller_id"] = resellerId;
                clone.Remove("relationships");
                catalog._accounts[id] = clone;
            }

            for (var i = 0; i < subscriptionsPerReseller; i++)
            {
                var template = subscriptionTemplates[i % subscriptionTemplates.Count];
                var relationships = template["relationships"]!;
                var resourceTemplate = Included("subscription_resources", (string)relationships["subscription_resources"]!["data"]![0]!["id"]!);
                var periodTemplate = Included("subscription_periods", (string)relationships["subscription_period"]!["data"]!["id"]!);
                var planId = (string)relationships["plan"]!["data"]!["id"]!;
                var subscriptionId = 3_000_000 + (resellerId * 10_000) + i + 1;
                var accountId = AccountId(resellerId, AccountTemplateIds[i % AccountTemplateIds.Length]);
                var id = subscriptionId.ToString(CultureInfo.InvariantCulture);

                var attributes = template["attributes"]!.DeepClone().AsObject();
                attributes["account_id"] = accountId;
                Shift(attributes, "created_at", i);
                Shift(attributes, "updated_at", i);

                var item = new JsonObject
                {
                    ["id"] = id,
                    ["type"] = "subscriptions",
                    ["attributes"] = attributes,
                    ["relationships"] = new JsonObject
                    {
                        ["account"] = Link(accountId.ToString(CultureInfo.InvariantCulture), "accounts"),
                        ["subscription_resources"] = new JsonObject { ["data"] = new JsonArray(Ref(id, "subscription_resources")) },
                        ["subscription_period"] = Link(id, "subscription_periods"),
                        ["plan"] = Link(planId, "plans"),
                    },
                };

                var resource = resourceTemplate.DeepClone().AsObject();
                resource["id"] = id;
                var period = periodTemplate.DeepClone().AsObject();
                period["id"] = id;
                catalog._related[("subscription_resources", id)] = resource;
                catalog._related[("subscription_periods", id)] = period;
                catalog._subscriptions.Add(new Subscription(subscriptionId, resellerId, accountId, planId, item, template["meta"]?.DeepClone()));
            }
        }

        catalog.Materialize();
        return catalog;
    }

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/child_reseller_accounts/{account_id}", (
            [FromRoute(Name = "reseller_id")] int resellerId,
            [FromRoute(Name = "account_id")] string accountId,
            Catalog catalog,
            ResellerDirectory directory) => catalog.Account(resellerId, accountId, directory));

        api.MapGet("/subscriptions", (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, Catalog catalog) =>
            catalog.Subscriptions(context, resellerId));
        api.MapGet("/subscriptions/{subscription_id}", (HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "subscription_id")] string subscriptionId, Catalog catalog) =>
            catalog.OneSubscription(context, resellerId, subscriptionId));
    }

    /// <summary>One subscription of the reseller, with <c>include</c> and <c>meta</c> as the list has them (inferred: the single GET's page was not read).</summary>
    private IResult OneSubscription(HttpContext context, int resellerId, string subscriptionId)
    {
        var includes = Split(context.Request.Query["include"]);
        if (includes.FirstOrDefault(i => !Relations.Contains(i, StringComparer.Ordinal)) is { } badInclude)
        {
            return ApiJson.Error(StatusCodes.Status400BadRequest, $"{badInclude} is not a valid relationship of subscriptions");
        }

        var subscription = _subscriptions.FirstOrDefault(s => s.ResellerId == resellerId && s.Id.ToString(CultureInfo.InvariantCulture) == subscriptionId);
        if (subscription is null)
        {
            return ApiJson.Error(StatusCodes.Status404NotFound, "Record not found");
        }

        var item = subscription.Item.DeepClone().AsObject();
        if (context.Request.Query["meta"].ToString() is "true" or "1")
        {
            item["meta"] = subscription.Meta?.DeepClone() ?? new JsonObject { ["applications"] = new JsonArray() };
        }

        var body = new JsonObject { ["data"] = item };
        if (includes.Count > 0)
        {
            body["included"] = new JsonArray([.. includes.SelectMany(subscription.Related).Distinct().Select(r => r.Type == "accounts"
                ? RenderAccount(int.Parse(r.Id, CultureInfo.InvariantCulture), _accounts[int.Parse(r.Id, CultureInfo.InvariantCulture)])
                : _related[(r.Type, r.Id)].DeepClone())]);
        }

        return ApiJson.Document(body);
    }

    /// <summary>The accounts of exactly this reseller, rendered as <c>GET accounts</c> answers them (for the reads in ReadEndpoints).</summary>
    internal IReadOnlyList<JsonObject> AccountsOf(int resellerId) =>
        [.. _accounts.Where(a => (int)a.Value["attributes"]!["reseller_id"]! == resellerId).OrderBy(a => a.Key).Select(a => RenderAccount(a.Key, a.Value))];

    /// <summary>The reseller a seeded account belongs to, or null when the catalog has no such account.</summary>
    internal int? ResellerOf(long accountId) =>
        accountId is > 0 and <= int.MaxValue && _accounts.TryGetValue((int)accountId, out var account) ? (int)account["attributes"]!["reseller_id"]! : null;

    /// <summary>The plans the seeded subscriptions are on (from the documented example).</summary>
    internal IReadOnlyList<JsonObject> Plans() =>
        [.. _related.Where(r => r.Key.Type == "plans").OrderBy(r => r.Key.Id, StringComparer.Ordinal).Select(r => r.Value.DeepClone().AsObject())];

    /// <summary>An account of the reseller or of any reseller below it.</summary>
    private IResult Account(int resellerId, string accountIdText, ResellerDirectory directory)
    {
        if (!int.TryParse(accountIdText, NumberStyles.None, CultureInfo.InvariantCulture, out var accountId)
            || !_accounts.TryGetValue(accountId, out var account)
            || !directory.IsWithin(resellerId, (int)account["attributes"]!["reseller_id"]!))
        {
            return ApiJson.Error(StatusCodes.Status404NotFound, "Record not found");
        }

        return ApiJson.Document(new JsonObject { ["data"] = RenderAccount(accountId, account) });
    }

    private IResult Subscriptions(HttpContext context, int resellerId)
    {
        var query = context.Request.Query;
        if (!TryPositive(query["page[size]"], 50, out var size) || !TryPositive(query["page[number]"], 1, out var number))
        {
            return ApiJson.Error(StatusCodes.Status400BadRequest, "page[size] and page[number] must be positive integers");
        }

        var paging = context.RequestServices.GetRequiredService<SandboxPaging>();
        size = paging.Served(size);
        var includes = Split(query["include"]);
        if (includes.FirstOrDefault(i => !Relations.Contains(i, StringComparer.Ordinal)) is { } badInclude)
        {
            return ApiJson.Error(StatusCodes.Status400BadRequest, $"{badInclude} is not a valid relationship of subscriptions");
        }

        IEnumerable<Subscription> items = _subscriptions.Where(s => s.ResellerId == resellerId);
        foreach (var (name, value) in query)
        {
            if (!name.StartsWith("filter[", StringComparison.Ordinal) || !name.EndsWith(']'))
            {
                continue;
            }

            var field = name["filter[".Length..^1];
            if (field != "id" && !_subscriptions.Any(s => s.Attributes.ContainsKey(field)))
            {
                return ApiJson.Error(StatusCodes.Status400BadRequest, $"{field} is not allowed as a filter");
            }

            var wanted = Split(value).ToHashSet(StringComparer.Ordinal);
            items = items.Where(s => wanted.Contains(s.Field(field) is { } v ? ApiJson.Text(v) ?? "" : ""));
        }

        var ordered = items.OrderBy(s => s.Id).ToList();
        var sort = Split(query["sort"]);
        if (sort.Count > 0)
        {
            var field = sort.Select(f => f.TrimStart('-')).FirstOrDefault(f => f != "id" && !_subscriptions.Any(s => s.Attributes.ContainsKey(f)));
            if (field is not null)
            {
                return ApiJson.Error(StatusCodes.Status400BadRequest, $"{field} is not a valid sort criteria for subscriptions");
            }

            ordered.Sort((a, b) =>
            {
                foreach (var criterion in sort)
                {
                    var descending = criterion.StartsWith('-');
                    var name = criterion.TrimStart('-');
                    var order = Compare(a.Field(name), b.Field(name));
                    if (order != 0)
                    {
                        return descending ? -order : order;
                    }
                }

                return a.Id.CompareTo(b.Id);
            });
        }

        var withMeta = query["meta"].ToString() is "true" or "1";
        var pageItems = ordered.Skip((int)Math.Min(int.MaxValue, (long)(number - 1) * size)).Take(size).ToList();
        var data = new JsonArray();
        var included = new JsonArray();
        var seen = new HashSet<(string, string)>();
        foreach (var subscription in pageItems)
        {
            var item = subscription.Item.DeepClone().AsObject();
            if (withMeta)
            {
                item["meta"] = subscription.Meta?.DeepClone() ?? new JsonObject { ["applications"] = new JsonArray() };
            }

            data.Add(item);
            foreach (var relation in includes)
            {
                foreach (var (type, id) in subscription.Related(relation))
                {
                    if (seen.Add((type, id)))
                    {
                        included.Add(type == "accounts"
                            ? RenderAccount(int.Parse(id, CultureInfo.InvariantCulture), _accounts[int.Parse(id, CultureInfo.InvariantCulture)])
                            : _related[(type, id)].DeepClone());
                    }
                }
            }
        }

        var body = new JsonObject { ["data"] = data };
        if (includes.Count > 0)
        {
            body["included"] = included;
        }

        paging.Decorate(body, context.Request, size, number, ordered.Count);
        return ApiJson.Document(body);
    }

    private JsonObject RenderAccount(int accountId, JsonObject account)
    {
        var rendered = account.DeepClone().AsObject();
        var subscriptions = new JsonArray();
        foreach (var subscription in _subscriptions.Where(s => s.AccountId == accountId))
        {
            subscriptions.Add(Ref(subscription.Id.ToString(CultureInfo.InvariantCulture), "subscriptions"));
        }

        rendered["relationships"] = new JsonObject { ["subscriptions"] = new JsonObject { ["data"] = subscriptions } };
        return rendered;
    }

    /// <summary>
    /// Parsed nodes build their children lazily on first access; touching every node once here means that the
    /// concurrent requests afterwards only ever read.
    /// </summary>
    private void Materialize()
    {
        static void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (_, child) in o)
                    {
                        Walk(child);
                    }

                    break;
                case JsonArray a:
                    foreach (var child in a)
                    {
                        Walk(child);
                    }

                    break;
            }
        }

        foreach (var node in _accounts.Values.Concat(_related.Values).Concat(_subscriptions.SelectMany(s => new[] { s.Item, s.Meta })))
        {
            Walk(node);
        }
    }

    private static int AccountId(int resellerId, int templateId) => resellerId == 1 ? templateId : (resellerId * 100_000) + templateId;

    private static JsonObject Load(string name)
    {
        using var stream = typeof(Catalog).Assembly.GetManifestResourceStream($"Bridge.Sandbox.Seed.{name}")
            ?? throw new InvalidOperationException($"Seed resource {name} is missing from the sandbox assembly");
        return JsonNode.Parse(stream)!.AsObject();
    }

    private static void Shift(JsonObject attributes, string field, int minutes)
    {
        if (DateTimeOffset.TryParse((string?)attributes[field], CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
        {
            attributes[field] = ApiJson.MillisecondTimestamp(value.AddMinutes(minutes));
        }
    }

    private static JsonObject Ref(string id, string type) => new() { ["id"] = id, ["type"] = type };

    private static JsonObject Link(string id, string type) => new() { ["data"] = Ref(id, type) };

    private static List<string> Split(Microsoft.Extensions.Primitives.StringValues value) =>
        [.. value.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static bool TryPositive(Microsoft.Extensions.Primitives.StringValues value, int fallback, out int result)
    {
        if (value.Count == 0 || value.ToString().Length == 0)
        {
            result = fallback;
            return true;
        }

        return int.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out result) && result > 0;
    }

    private static int Compare(JsonNode? a, JsonNode? b)
    {
        if (a is null || b is null)
        {
            return (a is null ? 0 : 1) - (b is null ? 0 : 1);
        }

        var (kindA, kindB) = (a.GetValueKind(), b.GetValueKind());
        if (kindA == JsonValueKind.Number && kindB == JsonValueKind.Number)
        {
            return decimal.Parse(a.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)
                .CompareTo(decimal.Parse(b.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture));
        }

        return string.CompareOrdinal(ApiJson.Text(a) ?? a.ToJsonString(), ApiJson.Text(b) ?? b.ToJsonString());
    }

    private sealed record Subscription(int Id, int ResellerId, int AccountId, string PlanId, JsonObject Seeded, JsonNode? Meta)
    {
        private JsonObject _item = Seeded;

        /// <summary>The subscription as served now; the operations (CatalogWrites) replace it whole, never change it in place.</summary>
        public JsonObject Item
        {
            get => Volatile.Read(ref _item);
            set => Volatile.Write(ref _item, value);
        }

        public JsonObject Attributes => Item["attributes"]!.AsObject();

        public JsonNode? Field(string name) => name == "id" ? JsonValue.Create(Id) : Attributes[name];

        public IEnumerable<(string Type, string Id)> Related(string relation)
        {
            var id = Id.ToString(CultureInfo.InvariantCulture);
            return relation switch
            {
                "account" => [("accounts", AccountId.ToString(CultureInfo.InvariantCulture))],
                "plan" => [("plans", PlanId)],
                "subscription_period" => [("subscription_periods", id)],
                "subscription_resources" => [("subscription_resources", id)],
                _ => [],
            };
        }
    }
}
