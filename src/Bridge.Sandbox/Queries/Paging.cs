using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Primitives;

namespace Bridge.Sandbox;

/// <summary>
/// How the sandbox pages its lists (<c>GET|PUT /_sandbox/paging</c>, back to the defaults on <c>POST /_sandbox/reset</c>):
/// <c>{"maxPageSize":3,"links":true,"meta":false}</c>.
/// </summary>
public sealed class SandboxPagingSettings
{
    /// <summary>
    /// The most items a page holds, whatever <c>page[size]</c> asked (null: as asked). A larger <c>page[size]</c> is served
    /// silently capped, as servers do — the client has to notice. ActivePlatform documents no cap.
    /// </summary>
    public int? MaxPageSize { get; set; }

    /// <summary>Paging links (<c>self</c>, <c>first</c>, <c>prev</c>, <c>next</c>, <c>last</c>), as the documented subscriptions example has. On by default.</summary>
    public bool Links { get; set; } = true;

    /// <summary>
    /// A top-level <c>meta</c> with <c>record_count</c> and <c>page_count</c> — inferred: no documented list shows one (the
    /// names are those of Rails' jsonapi-resources). Off by default.
    /// </summary>
    public bool Meta { get; set; }

    internal SandboxPagingSettings Copy() => new() { MaxPageSize = MaxPageSize, Links = Links, Meta = Meta };
}

/// <summary>The current paging settings; every list endpoint pages through <see cref="Page"/>.</summary>
internal sealed class SandboxPaging
{
    private readonly Lock _gate = new();
    private SandboxPagingSettings _current = new();

    public SandboxPagingSettings Current
    {
        get
        {
            lock (_gate)
            {
                return _current.Copy();
            }
        }

        set
        {
            lock (_gate)
            {
                _current = value.Copy();
            }
        }
    }

    public void Reset() => Current = new SandboxPagingSettings();

    /// <summary><c>page[size]</c> (default 50) and <c>page[number]</c> (default 1); false when either is not a positive integer.</summary>
    public static bool TryReadPage(IQueryCollection query, out int size, out int number) =>
        TryPositive(query["page[size]"], 50, out size) & TryPositive(query["page[number]"], 1, out number);

    /// <summary>The size a page is served with: as asked, or the cap.</summary>
    public int Served(int asked) => Current.MaxPageSize is { } cap && cap < asked ? cap : asked;

    /// <summary>
    /// One page of <paramref name="all"/> as a JSON:API list document: <c>data</c>, <c>included</c> (when
    /// <paramref name="related"/> gives any), and <c>links</c>/<c>meta</c> as configured. 400 for a bad page parameter.
    /// </summary>
    public IResult Page(HttpContext context, IReadOnlyList<JsonObject> all, Func<JsonObject, IEnumerable<JsonObject>>? related = null)
    {
        if (!TryReadPage(context.Request.Query, out var asked, out var number))
        {
            return ApiJson.Error(StatusCodes.Status400BadRequest, "page[size] and page[number] must be positive integers");
        }

        var size = Served(asked);
        var data = new JsonArray();
        var included = new JsonArray();
        var seen = new HashSet<(string?, string?)>();
        foreach (var item in all.Skip((int)Math.Min(int.MaxValue, (long)(number - 1) * size)).Take(size))
        {
            data.Add(item.DeepClone());
            foreach (var resource in related?.Invoke(item) ?? [])
            {
                if (seen.Add(((string?)resource["type"], (string?)resource["id"])))
                {
                    included.Add(resource.DeepClone());
                }
            }
        }

        var body = new JsonObject { ["data"] = data };
        if (related is not null)
        {
            body["included"] = included;
        }

        Decorate(body, context.Request, size, number, all.Count);
        return ApiJson.Document(body);
    }

    /// <summary>Adds <c>links</c> and <c>meta</c> to a page of <paramref name="total"/> items served <paramref name="size"/> at a time, as configured.</summary>
    public void Decorate(JsonObject body, HttpRequest request, int size, int number, int total)
    {
        var settings = Current;
        var last = Math.Max(1, (total + size - 1) / size);
        if (settings.Links)
        {
            body["links"] = Links(request, size, number, last);
        }

        if (settings.Meta)
        {
            body["meta"] = new JsonObject { ["record_count"] = total, ["page_count"] = last };
        }
    }

    /// <summary>
    /// JSON:API paging links like the docs' example: the query sorted by name and URL-encoded. A capped page's links carry
    /// the size it was served with.
    /// </summary>
    private static JsonObject Links(HttpRequest request, int size, int number, int last)
    {
        var parameters = request.Query
            .Where(p => p.Key is not "page[size]" and not "page[number]")
            .Select(p => (p.Key, Value: p.Value.ToString()))
            .ToList();
        string Page(int n)
        {
            var all = parameters.Append(("page[number]", n.ToString(CultureInfo.InvariantCulture)))
                .Append(("page[size]", size.ToString(CultureInfo.InvariantCulture)))
                .OrderBy(p => p.Item1, StringComparer.Ordinal)
                .Select(p => $"{Uri.EscapeDataString(p.Item1)}={Uri.EscapeDataString(p.Item2)}");
            return $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}?{string.Join('&', all)}";
        }

        var links = new JsonObject { ["self"] = Page(number), ["first"] = Page(1) };
        if (number > 1)
        {
            links["prev"] = Page(number - 1);
        }

        if (number < last)
        {
            links["next"] = Page(number + 1);
        }

        links["last"] = Page(last);
        return links;
    }

    private static bool TryPositive(StringValues value, int fallback, out int result)
    {
        if (value.Count == 0 || value.ToString().Length == 0)
        {
            result = fallback;
            return true;
        }

        return int.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out result) && result > 0;
    }
}
