using System.Globalization;
using System.Text.Json;
using Bridge.ActivePlatform.Models;
using Microsoft.AspNetCore.WebUtilities;
using Refit;

namespace Bridge.ActivePlatform.Queries;

/// <summary>
/// Reads a list to its end, page by page, and never hands back part of a list as the whole of it.
/// <list type="number">
/// <item>Where a page carries paging <c>links</c> (as the documented subscriptions example does), <c>links.next</c> is
/// followed: its <c>page[number]</c> and <c>page[size]</c> are asked for next (the rest of the query is Bridge's own, and the
/// host is always the configured installation), until a page has no <c>next</c>.</item>
/// <item>Else, where <c>meta</c> announces a total (<c>record_count</c>, <c>total_count</c> or <c>total</c> — inferred, the docs
/// show none), pages are read until that many items came.</item>
/// <item>Else by the item counts: until an empty page, or a page shorter than the short page before it. A short page is not
/// taken as the end: the server may have capped <c>page[size]</c> below what was asked, so the next page is asked for — one
/// extra request for a list that really ended.</item>
/// </list>
/// Whatever the evidence, an item repeated from an earlier page, a total not reached, a <c>next</c> link going backwards or
/// naming no page, or more pages than <see cref="ListQuery.MaxPages"/> fail with <see cref="IncompleteListingException"/>.
/// Every page is one call through the client's shared rate limit, resilience pipeline and error translation.
/// </summary>
internal static class JsonApiPaging
{
    private static readonly string[] TotalKeys = ["record_count", "total_count", "total"];

    public static async Task<AllPages<TResource>> ReadAllAsync<TResource>(
        ActivePlatformClient core,
        string what,
        ListQuery query,
        Func<int, int, CancellationToken, Task<IApiResponse<JsonApiDocument<TResource>>>> fetchPage,
        CancellationToken cancellationToken)
        where TResource : JsonApiResource
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.FirstPage, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.MaxPages, 1);

        var items = new List<TResource>();
        var seen = new HashSet<(string Type, string Id)>();
        var included = new List<JsonApiResource>();
        var seenIncluded = new HashSet<(string Type, string Id)>();
        var (number, size) = (query.FirstPage, query.PageSize);
        var (pages, largest) = (0, 0);
        int? shortPage = null;
        long? total = null;
        var evidence = PagingEvidence.ItemCounts;
        Uri? lastUri = null;

        while (true)
        {
            if (pages == query.MaxPages)
            {
                throw Incomplete(lastUri, string.Create(CultureInfo.InvariantCulture,
                    $"ActivePlatform had more than {query.MaxPages} pages of {what} ({items.Count} items so far); stopped rather than return part of the list as all of it."));
            }

            using var response = await core.CallAsync(ct => fetchPage(number, size, ct), cancellationToken).ConfigureAwait(false);
            core.EnsureSuccess(response);
            lastUri = response.RequestMessage?.RequestUri;
            var document = response.Content
                ?? throw Incomplete(lastUri, string.Create(CultureInfo.InvariantCulture, $"page {number} of {what} came without a document."));
            pages++;

            var page = document.Items;
            foreach (var item in page)
            {
                if (!seen.Add((item.Type, item.Id)))
                {
                    throw Incomplete(lastUri, string.Create(CultureInfo.InvariantCulture,
                        $"page {number} of {what} repeats {item.Type} {item.Id} from an earlier page: the server is not paging by page[number], or the list changed while it was read."));
                }
            }

            items.AddRange(page);
            largest = Math.Max(largest, page.Count);
            foreach (var resource in document.Included ?? [])
            {
                if (seenIncluded.Add((resource.Type, resource.Id)))
                {
                    included.Add(resource);
                }
            }

            total = AnnouncedTotal(document.Meta) ?? total;

            if (document.Links is { } links && (links.Next ?? links.Self ?? links.First ?? links.Last) is not null)
            {
                evidence = PagingEvidence.NextLinks;
                if (links.Next is null)
                {
                    break;
                }

                var next = NextPage(links.Next)
                    ?? throw Incomplete(lastUri, $"the next link of {what} names no page[number]: {links.Next}");
                if (next.Number <= number || page.Count == 0)
                {
                    throw Incomplete(lastUri, string.Create(CultureInfo.InvariantCulture,
                        $"page {number} of {what} ({page.Count} items) links to page {next.Number} as the next one."));
                }

                (number, size) = (next.Number, next.Size ?? size);
                continue;
            }

            if (total is { } announced)
            {
                evidence = PagingEvidence.AnnouncedTotal;
                if (items.Count >= announced)
                {
                    break;
                }

                if (page.Count == 0)
                {
                    break; // checked below: fewer than announced
                }

                number++;
                continue;
            }

            evidence = PagingEvidence.ItemCounts;
            if (page.Count == 0)
            {
                break;
            }

            if (shortPage is null)
            {
                // A page as long as asked, or a short one that may be a cap: ask for the next either way.
                if (page.Count < size)
                {
                    shortPage = page.Count;
                }
            }
            else if (page.Count < shortPage)
            {
                break;
            }
            else if (page.Count > shortPage)
            {
                throw Incomplete(lastUri, string.Create(CultureInfo.InvariantCulture,
                    $"page {number} of {what} has {page.Count} items after a page of {shortPage}: the pages do not add up to one list."));
            }

            number++;
        }

        if (total is { } expected && items.Count != expected)
        {
            throw Incomplete(lastUri, string.Create(CultureInfo.InvariantCulture,
                $"ActivePlatform announced {expected} {what} but its pages held {items.Count}."));
        }

        return new AllPages<TResource>
        {
            Data = items,
            Included = included,
            PagesRead = pages,
            RequestedPageSize = query.PageSize,
            LargestPage = largest,
            AnnouncedTotal = total,
            Evidence = evidence,
        };
    }

    /// <summary><c>page[number]</c> and <c>page[size]</c> of a next link, absolute or relative.</summary>
    internal static (int Number, int? Size)? NextPage(string next)
    {
        var question = next.IndexOf('?', StringComparison.Ordinal);
        if (question < 0)
        {
            return null;
        }

        var parameters = QueryHelpers.ParseQuery(next[question..]);
        if (!parameters.TryGetValue("page[number]", out var numberText)
            || !int.TryParse(numberText, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }

        int? size = parameters.TryGetValue("page[size]", out var sizeText)
            && int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0
                ? parsed
                : null;
        return (number, size);
    }

    // inferred: ActivePlatform documents no top-level meta for lists; these are the names Rails JSON:API servers use.
    private static long? AnnouncedTotal(IReadOnlyDictionary<string, JsonElement>? meta)
    {
        foreach (var key in TotalKeys)
        {
            if (meta?.GetValueOrDefault(key) is { } value
                && (value.ValueKind == JsonValueKind.Number ? value.TryGetInt64(out var count)
                    : long.TryParse(value.ValueKind == JsonValueKind.String ? value.GetString() : null, NumberStyles.None, CultureInfo.InvariantCulture, out count)))
            {
                return count;
            }
        }

        return null;
    }

    private static IncompleteListingException Incomplete(Uri? uri, string message) =>
        new(message, new ActivePlatformFailureDetails { Method = "GET", RequestUri = uri });
}
