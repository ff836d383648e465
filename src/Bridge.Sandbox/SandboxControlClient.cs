using System.Net.Http.Json;
using System.Text.Json;

namespace Bridge.Sandbox;

/// <summary>A typed client for the control API (<c>/_sandbox/</c>); see <see cref="ControlApi"/> for the wire format.</summary>
public sealed class SandboxControlClient(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;

    /// <summary>Clears documents, tasks, notifications and the call log; faults, async mode and tokens back to configured.</summary>
    public async Task ResetAsync(CancellationToken ct) =>
        (await http.PostAsync(new Uri("_sandbox/reset", UriKind.Relative), null, ct)).EnsureSuccessStatusCode();

    /// <summary>Replaces every fault rule.</summary>
    public async Task SetFaultsAsync(IEnumerable<FaultRule> rules, CancellationToken ct) =>
        (await http.PutAsJsonAsync("_sandbox/faults", rules, Json, ct)).EnsureSuccessStatusCode();

    public Task SetFaultAsync(FaultRule rule, CancellationToken ct) => SetFaultsAsync([rule], ct);

    public async Task ClearFaultsAsync(CancellationToken ct) =>
        (await http.DeleteAsync(new Uri("_sandbox/faults", UriKind.Relative), ct)).EnsureSuccessStatusCode();

    public async Task<IReadOnlyList<FaultRule>> GetFaultsAsync(CancellationToken ct) =>
        await http.GetFromJsonAsync<List<FaultRule>>("_sandbox/faults", Json, ct) ?? [];

    /// <summary>Makes account <paramref name="accountId"/> one of reseller <paramref name="resellerId"/>'s (fails when another reseller owns it).</summary>
    public async Task RegisterAccountAsync(long accountId, int resellerId, CancellationToken ct) =>
        (await http.PutAsJsonAsync(FormattableString.Invariant($"_sandbox/accounts/{accountId}"), new SandboxAccount { ResellerId = resellerId }, Json, ct)).EnsureSuccessStatusCode();

    /// <summary>Answers a reseller outside the token's subtree with <paramref name="status"/> (403 or 404) until reset.</summary>
    public async Task SetOutOfScopeStatusAsync(int status, CancellationToken ct) =>
        (await http.PutAsJsonAsync("_sandbox/scope", new SandboxScope { OutOfScopeStatus = status }, Json, ct)).EnsureSuccessStatusCode();

    /// <summary>How lists are paged until reset: a cap on <c>page[size]</c>, paging links, a <c>meta</c> total.</summary>
    public async Task SetPagingAsync(SandboxPagingSettings settings, CancellationToken ct) =>
        (await http.PutAsJsonAsync("_sandbox/paging", settings, Json, ct)).EnsureSuccessStatusCode();

    public async Task<SandboxPagingSettings> GetPagingAsync(CancellationToken ct) =>
        await http.GetFromJsonAsync<SandboxPagingSettings>("_sandbox/paging", Json, ct) ?? new SandboxPagingSettings();

    public async Task SetAsyncModeAsync(AsyncModeSettings settings, CancellationToken ct) =>
        (await http.PutAsJsonAsync("_sandbox/async", settings, Json, ct)).EnsureSuccessStatusCode();

    /// <summary>Calls answered already and not yet carried out (fault rules' <c>landLateNext</c> / <c>landLateRate</c>).</summary>
    public async Task<int> GetPendingLateLandingsAsync(CancellationToken ct) =>
        (await http.GetFromJsonAsync<JsonElement>("_sandbox/late-landings", Json, ct)).GetProperty("pending").GetInt32();

    /// <summary>Carries out every call answered already and still waiting to land, without waiting for its delay.</summary>
    public async Task LandLateCallsNowAsync(CancellationToken ct) =>
        (await http.PostAsync("_sandbox/late-landings/land", null, ct)).EnsureSuccessStatusCode();

    /// <summary>Waits until every call answered already has been carried out (or dropped by a reset).</summary>
    public async Task AwaitLateLandingsAsync(TimeSpan limit, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(limit);
        while (await GetPendingLateLandingsAsync(bounded.Token) > 0)
        {
            await Task.Delay(20, bounded.Token);
        }
    }

    /// <summary>The API calls received, in arrival order; each filter is optional.</summary>
    public async Task<IReadOnlyList<SandboxCall>> GetCallsAsync(string? method, string? pathContains, string? key, CancellationToken ct)
    {
        var query = new List<string>();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                query.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }

        Add("method", method);
        Add("pathContains", pathContains);
        Add("key", key);
        var uri = "_sandbox/calls" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return await http.GetFromJsonAsync<List<SandboxCall>>(uri, Json, ct) ?? [];
    }

    /// <summary>What the API calls changed, in the order it happened; each filter optional (a kind ending in '.' is a prefix).</summary>
    public async Task<IReadOnlyList<SandboxEffect>> GetEffectsAsync(string? kind, string? subject, CancellationToken ct, long? after = null)
    {
        var query = new List<string>();
        if (kind is not null)
        {
            query.Add("kind=" + Uri.EscapeDataString(kind));
        }

        if (subject is not null)
        {
            query.Add("subject=" + Uri.EscapeDataString(subject));
        }

        if (after is { } sequence)
        {
            query.Add(FormattableString.Invariant($"after={sequence}"));
        }

        var uri = "_sandbox/effects" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return await http.GetFromJsonAsync<List<SandboxEffect>>(uri, Json, ct) ?? [];
    }

    public async Task<IReadOnlyList<SandboxExternalInvoice>> GetExternalInvoicesAsync(CancellationToken ct) =>
        await http.GetFromJsonAsync<List<SandboxExternalInvoice>>("_sandbox/external-invoices", Json, ct) ?? [];

    /// <summary>The task finishes (its write applied when <paramref name="complete"/>) and is forgotten: polls answer 404.</summary>
    public async Task ExpireAsyncTaskAsync(string id, bool complete, CancellationToken ct) =>
        (await http.PostAsync(new Uri($"_sandbox/async-tasks/{Uri.EscapeDataString(id)}/expire?complete={(complete ? "true" : "false")}", UriKind.Relative), null, ct)).EnsureSuccessStatusCode();

    public async Task<IReadOnlyList<SandboxAsyncTask>> GetAsyncTasksAsync(CancellationToken ct) =>
        await http.GetFromJsonAsync<List<SandboxAsyncTask>>("_sandbox/async-tasks", Json, ct) ?? [];

    public async Task<IReadOnlyList<SandboxNotification>> GetNotificationsAsync(CancellationToken ct) =>
        await http.GetFromJsonAsync<List<SandboxNotification>>("_sandbox/notifications", Json, ct) ?? [];

    /// <summary>Puts a payment into the sandbox (any status), for tests of cancel and completion.</summary>
    public async Task<SandboxPayment> AddPaymentAsync(SandboxPaymentSeed seed, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync("_sandbox/payments", seed, Json, ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SandboxPayment>(Json, ct))!;
    }

    /// <summary>A manager changes the payment by hand in ActivePlatform (a correction entered, a status set); returns it as it is then.</summary>
    public async Task<SandboxPayment> ChangePaymentByHandAsync(string paymentId, SandboxHandChange change, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync($"_sandbox/payments/{Uri.EscapeDataString(paymentId)}/by-hand", change, Json, ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<SandboxPayment>(Json, ct))!;
    }

    /// <summary>How the payments list treats the range operators the docs do not name (<c>[gte]</c>, <c>[lt]</c>, <c>[lte]</c>).</summary>
    public async Task SetUndocumentedPaymentFiltersAsync(UndocumentedFilters mode, CancellationToken ct) =>
        (await http.PutAsJsonAsync("_sandbox/payment-filters", new PaymentFilterSettings(mode), Json, ct)).EnsureSuccessStatusCode();

    /// <summary>Payments as they are now; both filters optional.</summary>
    public async Task<IReadOnlyList<SandboxPayment>> GetPaymentsAsync(string? number, string? id, CancellationToken ct)
    {
        var query = string.Join('&', new[] { ("number", number), ("id", id) }.Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
        return await http.GetFromJsonAsync<List<SandboxPayment>>("_sandbox/payments" + (query.Length > 0 ? "?" + query : ""), Json, ct) ?? [];
    }

    /// <summary>The corrections completion by payment number created; optionally of one payment.</summary>
    public async Task<IReadOnlyList<SandboxPaymentCorrection>> GetPaymentCorrectionsAsync(string? paymentId, CancellationToken ct) =>
        await http.GetFromJsonAsync<List<SandboxPaymentCorrection>>(
            "_sandbox/payment-corrections" + (paymentId is null ? "" : "?paymentId=" + Uri.EscapeDataString(paymentId)), Json, ct) ?? [];

    /// <summary>Adds a token reaching <paramref name="resellerId"/> and its downstream resellers.</summary>
    public async Task AddTokenAsync(string token, int resellerId, CancellationToken ct) =>
        (await http.PostAsJsonAsync("_sandbox/tokens", new { token, resellerId }, Json, ct)).EnsureSuccessStatusCode();

    /// <summary>Rate records: the current ones, or every one ever created with <paramref name="all"/>; all resellers when null.</summary>
    public async Task<IReadOnlyList<SandboxCurrencyRate>> GetCurrencyRatesAsync(int? resellerId, CancellationToken ct, bool all = false)
    {
        var query = new List<string>();
        if (resellerId is { } reseller)
        {
            query.Add(FormattableString.Invariant($"resellerId={reseller}"));
        }

        if (all)
        {
            query.Add("all=true");
        }

        var uri = "_sandbox/currency-rates" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return await http.GetFromJsonAsync<List<SandboxCurrencyRate>>(uri, Json, ct) ?? [];
    }

    /// <summary>Every PATCH currency_rates applied, with its pairs as sent, in order; all resellers when null.</summary>
    public async Task<IReadOnlyList<SandboxCurrencyRatePatch>> GetCurrencyRatePatchesAsync(int? resellerId, CancellationToken ct)
    {
        var uri = "_sandbox/currency-rate-patches" + (resellerId is { } reseller ? FormattableString.Invariant($"?resellerId={reseller}") : "");
        return await http.GetFromJsonAsync<List<SandboxCurrencyRatePatch>>(uri, Json, ct) ?? [];
    }

    public async Task<IReadOnlyList<SandboxCorrection>> GetCorrectionsAsync(CancellationToken ct) =>
        await http.GetFromJsonAsync<List<SandboxCorrection>>("_sandbox/corrections", Json, ct) ?? [];

    public async Task<IReadOnlyList<SandboxInvoice>> GetInvoicesAsync(CancellationToken ct) =>
        await http.GetFromJsonAsync<List<SandboxInvoice>>("_sandbox/invoices", Json, ct) ?? [];

    /// <summary>Adds a postpaid invoice with a linked payment (closed, unapproved, waiting for payment unless the seed says otherwise).</summary>
    public async Task<SandboxInvoice> SeedInvoiceAsync(SandboxInvoiceSeed seed, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync("_sandbox/invoices", seed, Json, ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<SandboxInvoice>(Json, ct) ?? throw new InvalidOperationException("The sandbox answered no invoice.");
    }
}
