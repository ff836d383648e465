using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bridge.Sandbox;

/// <summary>
/// The control API under <c>/_sandbox/</c>, for tests and the demo. No token is needed; bodies are camelCase JSON.
/// <list type="bullet">
/// <item><c>POST /_sandbox/reset</c> → 204. Clears closing documents, notifications, async tasks and the call log;
/// faults, async mode and tokens go back to the configured ones, and calls waiting to land late are dropped. Seeded
/// accounts/subscriptions are read-only and stay.</item>
/// <item><c>GET /_sandbox/faults</c> → the active <see cref="FaultRule"/>s with their remaining "next N" counters.</item>
/// <item><c>PUT /_sandbox/faults</c> with one rule object or an array of rules → replaces all rules; 200 with them.
/// e.g. <c>{"method":"POST","pathContains":"/external_invoices","failNext":2}</c>. A rule's <c>thenByHand</c>
/// (<see cref="SandboxHandChange"/>, e.g. <c>{"paymentId":"3001","correctionTotal":12.5}</c>) is a manager's change to a
/// payment made each time the rule faults a call, before its answer goes back; 400 when it names no payment or changes nothing.</item>
/// <item><c>DELETE /_sandbox/faults</c> → 204, no rules.</item>
/// <item><c>GET /_sandbox/late-landings</c> → <c>{"pending":N}</c>: calls answered already and not yet carried out
/// (<see cref="FaultRule.LandLateNext"/>, <see cref="FaultRule.LandLateRate"/>). <c>POST /_sandbox/late-landings/land</c> →
/// <c>{"landing":N}</c>: carries them out now instead of after their delay (a test orders a late landing after its own calls).</item>
/// <item><c>GET|PUT /_sandbox/async</c> → <see cref="AsyncModeSettings"/>, e.g.
/// <c>{"mode":"KeyPattern","keyPattern":"^async-","pollsToComplete":3,"fail":false,"includeDeletes":false}</c>; 400 on a bad pattern.</item>
/// <item><c>GET /_sandbox/calls?method=&amp;pathContains=&amp;key=</c> → <see cref="SandboxCall"/>s in arrival order.</item>
/// <item><c>GET /_sandbox/effects?kind=&amp;subject=&amp;after=</c> → <see cref="SandboxEffect"/>s (what calls changed, including
/// calls whose answer was lost and deferred async-task writes) in the order they took effect; <c>kind</c> may be a prefix
/// ending in a dot (<c>payment.</c>), <c>after</c> a sequence number. Cleared by reset.</item>
/// <item><c>GET /_sandbox/external-invoices?key=</c> → <see cref="SandboxExternalInvoice"/>s (current state).</item>
/// <item><c>GET /_sandbox/async-tasks</c> → <see cref="SandboxAsyncTask"/>s. <c>GET /_sandbox/notifications</c> → <see cref="SandboxNotification"/>s.</item>
/// <item><c>POST /_sandbox/payments</c> with a <see cref="SandboxPaymentSeed"/> → 201 <see cref="SandboxPayment"/>; <c>GET /_sandbox/payments?number=&amp;id=</c>;
/// <c>GET /_sandbox/payment-corrections?paymentId=</c> → <see cref="SandboxPaymentCorrection"/>s. Reset seeds the payments again.
/// <c>POST /_sandbox/payments/{id}/by-hand</c> with a <see cref="SandboxHandChange"/> → 200 <see cref="SandboxPayment"/>: a manager's
/// change in ActivePlatform's own interface (a correction entered, a status set), not an API effect; 400 when it changes nothing.
/// <c>PUT /_sandbox/payment-filters</c> with a <see cref="PaymentFilterSettings"/> → 204: undocumented range operators honoured, ignored or refused.</item>
/// <item><c>GET /_sandbox/corrections</c> → <see cref="SandboxCorrection"/>s (current state; not cleared by reset), those a payment's
/// completion by number or a manager by hand made included (they are approved or declined through the API like any other).</item>
/// <item><c>GET /_sandbox/invoices</c> → <see cref="SandboxInvoice"/>s; <c>POST /_sandbox/invoices</c> with a <see cref="SandboxInvoiceSeed"/> → the added invoice
/// (with <c>linkedPayment</c>, its payment is one of the sandbox's payments and completing the invoice completes it).</item>
/// <item><c>PUT /_sandbox/accounts/{id}</c> with <c>{"resellerId":1}</c> → 204: the account is one of the reseller's (kept across reset);
/// 409 when another reseller owns it (the catalog, a registration or a range says so), or the reseller is not in the tree.
/// <c>GET /_sandbox/accounts/{id}</c> → <c>{"resellerId":…}</c> or 404. Seeding a payment or invoice registers its account alike.</item>
/// <item><c>POST /_sandbox/tokens</c> with <c>{"token":"t","resellerId":2}</c> → 204; the token reaches 2 and its subtree.</item>
/// <item><c>PUT /_sandbox/scope</c> with <c>{"outOfScopeStatus":404}</c> (or 403) → 204: how a reseller outside the token's subtree is answered until reset.</item>
/// <item><c>GET|PUT /_sandbox/paging</c> with a <see cref="SandboxPagingSettings"/> (<c>{"maxPageSize":3,"links":true,"meta":false}</c>) → the settings: every list (subscriptions, payments, invoices, charges, orders) serves at most maxPageSize items a page whatever page[size] asked, with or without links and a meta total, until reset.</item>
/// </list>
/// </summary>
internal static class ControlApi
{
    public const string Prefix = "/_sandbox";

    public static void Map(WebApplication app)
    {
        var control = app.MapGroup(Prefix);

        control.MapPost("/reset", (ClosingDocumentStore documents, AsyncTaskStore tasks, CallLog calls, FaultInjector faults,
            AsyncModeState asyncMode, TokenRegistry tokens, PaymentStore payments, EffectLedger effects, LateLandings late) =>
        {
            late.Reset();
            payments.Reset();
            documents.Clear();
            tasks.Clear();
            calls.Clear();
            effects.Clear();
            faults.Reset();
            asyncMode.Reset();
            tokens.Reset();
            return Results.NoContent();
        });

        control.MapGet("/faults", (FaultInjector faults) => faults.Rules);
        control.MapGet("/late-landings", (LateLandings late) => new { pending = late.Pending });
        control.MapPost("/late-landings/land", (LateLandings late) => new { landing = late.LandNow() });
        control.MapPut("/faults", async (HttpContext context, FaultInjector faults, PaymentStore payments) =>
        {
            List<FaultRule>? rules;
            try
            {
                var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                rules = body is JsonArray
                    ? body.Deserialize<List<FaultRule>>(JsonSerializerOptions.Web)
                    : body?.Deserialize<FaultRule>(JsonSerializerOptions.Web) is { } rule ? [rule] : null;
            }
            catch (JsonException e)
            {
                return Results.BadRequest(new { error = e.Message });
            }

            if (rules is null || rules.Any(r => r is null || !r.RatesAreValid() || r.ErrorStatus is < 100 or > 599 || r.LostAnswerStatus is < 100 or > 599))
            {
                return Results.BadRequest(new { error = "expected a fault rule or an array of them (errorRate, hangRate, throttleRate, loseAnswerRate and landLateRate 0..1, 0 ≤ landLateMinMs ≤ landLateMaxMs ≤ 86400000, errorStatus and lostAnswerStatus 100..599)" });
            }

            if (rules.Select(r => r.ThenByHand).OfType<SandboxHandChange>().Select(change => payments.RefuseHandChange(change.PaymentId, change)).FirstOrDefault(refused => refused is not null) is { } badChange)
            {
                return Results.BadRequest(new { error = "thenByHand: " + badChange });
            }

            faults.Set(rules);
            return Results.Ok(faults.Rules);
        });
        control.MapDelete("/faults", (FaultInjector faults) =>
        {
            faults.Set([]);
            return Results.NoContent();
        });

        control.MapGet("/async", (AsyncModeState asyncMode) => asyncMode.Current);
        control.MapPut("/async", (AsyncModeSettings settings, AsyncModeState asyncMode) =>
        {
            try
            {
                asyncMode.Set(settings);
            }
            catch (ArgumentException e)
            {
                return Results.BadRequest(new { error = e.Message });
            }

            return Results.Ok(asyncMode.Current);
        });

        control.MapGet("/calls", (string? method, string? pathContains, string? key, CallLog calls) =>
            calls.Query(method, pathContains, key));

        control.MapGet("/effects", (string? kind, string? subject, long? after, EffectLedger effects) =>
            effects.Query(kind, subject, after));

        control.MapGet("/external-invoices", (string? key, ClosingDocumentStore documents) =>
            documents.All().Where(d => key is null || d.Fields.Key == key).Select(d => d.View()).ToList());

        control.MapGet("/async-tasks", (AsyncTaskStore tasks) => tasks.All());
        control.MapPost("/async-tasks/{id}/expire", (string id, bool? complete, AsyncTaskStore tasks) =>
            tasks.Expire(id, complete ?? true) ? Results.NoContent() : Results.NotFound());

        control.MapGet("/notifications", (ClosingDocumentStore documents) => documents.Notifications());

        control.MapPost("/tokens", (SandboxToken token, TokenRegistry tokens, ResellerDirectory directory) =>
        {
            if (string.IsNullOrEmpty(token.Token) || !directory.Exists(token.ResellerId))
            {
                return Results.BadRequest(new { error = "token must be non-empty and resellerId a reseller of the tree" });
            }

            tokens.Add(token.Token, token.ResellerId);
            return Results.NoContent();
        });

        control.MapPut("/scope", (SandboxScope scope, TokenRegistry tokens) =>
        {
            if (scope.OutOfScopeStatus is not (StatusCodes.Status403Forbidden or StatusCodes.Status404NotFound))
            {
                return Results.BadRequest(new { error = "outOfScopeStatus must be 403 or 404" });
            }

            tokens.OutOfScopeStatus = scope.OutOfScopeStatus;
            return Results.NoContent();
        });

        PaymentEndpoints.MapControl(control);

        control.MapPut("/accounts/{id:long}", (long id, SandboxAccount account, AccountDirectory accounts) =>
            accounts.Register(id, account.ResellerId) is { } refused
                ? Results.Conflict(new { error = refused })
                : Results.NoContent());
        control.MapGet("/accounts/{id:long}", (long id, AccountDirectory accounts) =>
            accounts.OwnerOf(id) is { } owner ? Results.Ok(new SandboxAccount { ResellerId = owner }) : Results.NotFound());

        // Corrections are not cleared by /reset: their ids keep growing and tests use their own.
        control.MapGet("/corrections", (CorrectionStore corrections) => corrections.All().Select(c => c.View()).ToList());

        // Postpaid invoices with their linked payments: seeded for reseller 1, added per test; not cleared by /reset.
        control.MapGet("/invoices", (InvoiceStore invoices) => invoices.All().Select(i => i.View()).ToList());
        control.MapPost("/invoices", (SandboxInvoiceSeed seed, InvoiceStore invoices, ResellerDirectory directory, AccountDirectory accounts, SandboxClock clock) =>
        {
            if (!directory.Exists(seed.ResellerId) || seed.AccountId <= 0 || seed.BillingDate == default)
            {
                return Results.BadRequest(new { error = "resellerId must be a reseller of the tree, accountId positive and billingDate set" });
            }

            // An invoice is billed to an account of its reseller: naming a new account registers it, another reseller's is refused.
            if (accounts.Register(seed.AccountId, seed.ResellerId) is { } refused)
            {
                return Results.BadRequest(new { error = refused });
            }

            return Results.Ok(invoices.Seed(seed, clock.Now).View());
        });
    }
}
