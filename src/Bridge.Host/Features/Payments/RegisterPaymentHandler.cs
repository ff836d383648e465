using System.Globalization;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.Payments;

/// <summary>
/// Creates one top-up payment per ERP key. ActivePlatform has no key of its own for payments, so Bridge records one:
/// once applied, the key is answered from that record with <c>AlreadyApplied</c>. Before the POST is sent, the key's
/// record is marked with the time; any later attempt for the key (a retry, or a republish under a new message id) then
/// looks for the payment that send may have created (same account, total, comment and purpose, created since) and
/// adopts it instead of creating a second one.
/// </summary>
public sealed class RegisterPaymentHandler(
    IdempotentExecutor executor,
    IPaymentsClient payments,
    IEffectJournal journal,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<RegisterPaymentCommand, HandlingOutcome>, IErpCommandRules<RegisterPaymentCommand>
{
    // Bridge's and ActivePlatform's clocks differ; the search for a lost create starts this much before the first attempt.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    // Checked by ErpCommandValidation before Handle runs.
    public List<string> Validate(RegisterPaymentCommand command) => PaymentValidation.Validate(command.Message);

    public IResultEvent Rejected(RegisterPaymentCommand command, Rejection rejection) => Rejected(command.Message?.Key, command.Incoming, rejection);

    public object? Payload(RegisterPaymentCommand command) => command.Message;

    public async ValueTask<HandlingOutcome> Handle(RegisterPaymentCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;

        var resellerId = message.ResellerId ?? activePlatformOptions.Value.ResellerId;
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            Scope = PaymentScopes.TopUp(resellerId),
            DocumentKey = message.Key,
            Reject = rejection => Rejected(message.Key, incoming, rejection),
            Apply = (context, ct) => ApplyAsync(context, message, incoming, resellerId, ct),
        }, cancellationToken);
    }

    private async Task<WorkResult> ApplyAsync(WorkContext context, RegisterPayment message, IncomingMessage incoming, long resellerId, CancellationToken cancellationToken)
    {
        // Top-ups created before the effect journal existed are answered from the document state they were recorded in.
        if (context.Document is { ResourceId: { } existingId } && AppliedTopUp.TryParse(context.Document.AppliedVersion, out var applied))
        {
            return new WorkResult(HandlingOutcome.Applied, Registered(message, incoming, resellerId, existingId, applied.Number, applied.Status, applied.Currency, alreadyApplied: true), existingId, null);
        }

        var id = new EffectId(PaymentScopes.TopUp(resellerId), message.Key, message.Key);
        var figures = new TopUpFigures(message.AccountId, message.Total, message.Comment, message.Purpose);
        var fingerprint = PayloadFingerprint.Of(figures);
        var me = incoming.IdempotencyKey!;

        // The create is an effect of the ERP key, not of this message: a republish under a new id after a lost answer
        // settles the first send (with the first send's figures) before anything else.
        var entry = await journal.FindAsync(id, cancellationToken);
        if (entry is { IsOpen: true })
        {
            entry = await SettleLostCreateAsync(entry, resellerId, cancellationToken);
        }

        switch (entry?.State)
        {
            case EffectState.Applied when !string.Equals(entry.Fingerprint, fingerprint, StringComparison.Ordinal):
                throw new NaturalKeyConflictException(
                    $"Top-up '{message.Key}' was already created with other figures (account, total, comment or purpose); this message was not applied.");
            case EffectState.Applied:
                var done = OperatorResolution.Of(entry) is { } byOperator
                    ? await CreatedByOperatorAsync(resellerId, entry.ResourceId!, byOperator, cancellationToken)
                    : entry.EvidenceAs<TopUpCreated>()!;
                var ownSend = string.Equals(entry.OwnerKey, me, StringComparison.Ordinal);
                return new WorkResult(HandlingOutcome.Applied, Registered(message, incoming, resellerId, entry.ResourceId!, done.Number, done.Status, done.Currency, alreadyApplied: !ownSend), entry.ResourceId, null);
            case EffectState.Unknown:
                throw new EffectOutcomeUnknownException(
                    $"Top-up '{message.Key}' for account {message.AccountId} was sent to ActivePlatform and its answer was lost; Bridge cannot tell which payment, if any, it created ({entry.EvidenceAs<TopUpUnresolved>()?.Reason}). Check the account's payments in ActivePlatform. "
                    + EffectInstructions.Resolve(id, "--resource-id <the payment's id>"));
        }

        if (await journal.TryBeginAsync(id, me, fingerprint, EffectEvidence.Of(new TopUpSent(figures)), cancellationToken) is not { } attempt)
        {
            throw new EffectPendingException($"Top-up '{message.Key}' is being settled by another delivery.");
        }

        Payment payment;
        try
        {
            // Once sent, the create is not cancelled: a payment ActivePlatform created must reach Bridge's record.
            payment = await payments.CreateTopUpAsync(resellerId, new TopUpPayment(message.AccountId, message.Total, message.Comment, message.Purpose), CancellationToken.None);
        }
        catch (Exception ex) when (EffectFailures.ProvesNotApplied(ex))
        {
            await journal.ResolveAsync(id, attempt, EffectState.NotApplied, null, EffectEvidence.Of(new TopUpUnresolved("answered: " + ex.Message)), CancellationToken.None);
            throw;
        }

        var attributes = payment.Attributes;
        var created = new TopUpCreated(attributes.DocumentId, attributes.Status, attributes.CurrencyCode, "ActivePlatform's answer to the create");

        // The answer is recorded before the commit that completes the message: if that commit fails (database stopped, instance
        // killed), the next delivery answers from it instead of reading back a payment it may not be able to tell apart.
        await journal.ResolveAsync(id, attempt, EffectState.Applied, payment.Id, EffectEvidence.Of(created), CancellationToken.None);
        return new WorkResult(
            HandlingOutcome.Applied,
            Registered(message, incoming, resellerId, payment.Id, attributes.DocumentId, attributes.Status, attributes.CurrencyCode, alreadyApplied: false),
            payment.Id,
            null)
        {
            Effects = [new EffectResolution(id, attempt, EffectState.Applied, payment.Id, EffectEvidence.Of(created))],
        };
    }

    /// <summary>
    /// A top-up an operator resolved as applied, naming the payment it created: that payment as ActivePlatform shows it
    /// now (read, never written), so the answer carries its number, status and currency.
    /// </summary>
    private async Task<TopUpCreated> CreatedByOperatorAsync(long resellerId, string paymentId, OperatorResolution resolution, CancellationToken cancellationToken)
    {
        var how = $"resolved as applied by operator {resolution.ResolvedBy}: {resolution.Note}";
        // Never a PaymentRegistered for a payment ActivePlatform does not have: the resolution was checked when it was made
        // (TopUpResourceCheck), so the payment was removed since, or the resolution predates the check.
        var payment = await payments.GetAsync(resellerId, paymentId, cancellationToken)
            ?? throw new EffectOutcomeUnknownException(
                $"Top-up was resolved by operator {resolution.ResolvedBy} as payment {paymentId}, which ActivePlatform does not have (404 for a reseller the token reaches): "
                + "Bridge does not report a top-up credited with a payment it cannot read. Check the account's payments in ActivePlatform; the effect stays resolved, so "
                + "discard this dead letter once the ERP has been told, or restore the payment and replay it.");
        return new TopUpCreated(payment.Attributes.DocumentId, payment.Attributes.Status, payment.Attributes.CurrencyCode, how);
    }

    /// <summary>
    /// A top-up sent earlier whose answer never reached Bridge's record: the payment it may have created is looked for by the
    /// figures that send carried, among payments no other key owns. One → applied; none, once the send can no longer be
    /// in flight → not applied; more than one → unknown, for an operator.
    /// </summary>
    private async Task<EffectEntry> SettleLostCreateAsync(EffectEntry open, long resellerId, CancellationToken cancellationToken)
    {
        var sent = open.EvidenceAs<TopUpSent>()!.Figures;
        var since = open.SentAt - ClockSkew;
        // Only what ActivePlatform documents narrows the list: filter[created_at][gt] (gte is inferred, and an installation
        // may ignore or refuse it) and page[size]/page[number], paged until a short page. The server's filter is only a
        // narrowing: each payment's own created_at decides below, so a server that ignores it costs pages, not correctness.
        var query = new PaymentQuery
        {
            Filters = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["created_at[gt]"] = since.ToUniversalTime().AddSeconds(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            },
        };
        // A list answered with an error proves nothing about the top-up: retried, never a rejection, never Unknown.
        var listed = await EffectReadBack.RunAsync($"Top-up '{open.Id.Key}'", async () =>
        {
            var all = new List<Payment>();
            await foreach (var payment in payments.ListAsync(resellerId, query, cancellationToken))
            {
                all.Add(payment);
            }

            return all;
        });
        var candidates = new List<Payment>();
        foreach (var candidate in listed)
        {
            var a = candidate.Attributes;
            // initial_total is the amount the payment was created with (REFERENCE §2.1); total can move after (paid from
            // balance, discounted), and a payment it no longer matches would be concluded not created, then created twice.
            if (a.AccountId == sent.AccountId && (a.InitialTotal ?? a.Total) == sent.Total
                && string.Equals(a.Comment, sent.Comment, StringComparison.Ordinal)
                && string.Equals(a.Purpose ?? "", sent.Purpose ?? "", StringComparison.Ordinal)
                && (a.CreatedAt is null || a.CreatedAt >= since) // a payment that does not say when it was made cannot be ruled out
                && !await journal.IsOwnedByAnotherAsync(open.Id, candidate.Id, cancellationToken))
            {
                candidates.Add(candidate);
            }
        }

        (EffectState State, string? ResourceId, string Evidence) settled;
        switch (candidates.Count)
        {
            case 1:
                var found = candidates[0].Attributes;
                settled = (EffectState.Applied, candidates[0].Id, EffectEvidence.Of(new TopUpCreated(found.DocumentId, found.Status, found.CurrencyCode, "answer lost; the one payment with the send's figures that no other key owns")));
                break;
            case 0:
                var window = EffectTiming.InFlightWindow(activePlatformOptions.Value, open);
                if (open.SinceSent < window)
                {
                    throw new EffectPendingException(
                        $"Top-up '{open.Id.Key}' was sent {open.SinceSent.TotalSeconds:0} s ago and its answer was lost; no payment found yet, waiting until {window.TotalSeconds:0} s have passed before concluding it was not created.");
                }

                settled = (EffectState.NotApplied, null, EffectEvidence.Of(new TopUpUnresolved("answer lost; no payment with the send's figures was created")));
                break;
            default:
                settled = (EffectState.Unknown, null, EffectEvidence.Of(new TopUpUnresolved(
                    $"answer lost; {candidates.Count} payments ({string.Join(", ", candidates.Select(c => c.Id))}) match the send's figures and no other key owns them", sent)));
                break;
        }

        try
        {
            await journal.ResolveAsync(open.Id, open.Attempt, settled.State, settled.ResourceId, settled.Evidence, CancellationToken.None);
        }
        catch (System.Data.Common.DbException ex) when (Storage.SqlValues.IsUniqueViolation(ex))
        {
            // Another key adopted that payment at the same moment: it is owned now; look again.
            throw new EffectPendingException($"Top-up '{open.Id.Key}': the payment found for it was adopted by another key meanwhile; settling again.");
        }

        return open with { State = settled.State, ResourceId = settled.ResourceId ?? open.ResourceId, Evidence = settled.Evidence };
    }

    private PaymentRegistered Registered(RegisterPayment message, IncomingMessage incoming, long resellerId, string paymentId, string? number, string? status, string? currency, bool alreadyApplied)
        => new()
        {
            Key = message.Key,
            MessageId = incoming.IdempotencyKey!,
            CorrelationId = incoming.CorrelationId,
            OccurredAt = clock.GetUtcNow(),
            ResellerId = resellerId,
            AccountId = message.AccountId,
            PaymentId = paymentId,
            PaymentNumber = number,
            PaymentStatus = status,
            Total = message.Total,
            CurrencyCode = currency,
            AlreadyApplied = alreadyApplied,
        };

    private PaymentRejected Rejected(string? key, IncomingMessage incoming, Rejection rejection)
        => PaymentRejections.Build(key, nameof(RegisterPayment), incoming, rejection, clock);
}

/// <summary>The figures a top-up is created with: its natural payload, and what a lost answer is looked for by.</summary>
public sealed record TopUpFigures(long AccountId, decimal Total, string Comment, string? Purpose);

public sealed record TopUpSent(TopUpFigures Figures);

public sealed record TopUpCreated(string? Number, string? Status, string? Currency, string How);

/// <param name="Reason">Why the outcome is not known, or why it was not applied.</param>
/// <param name="Figures">What the send carried, kept so an operator's resolution can be checked against it (absent before 2026-12).</param>
public sealed record TopUpUnresolved(string Reason, TopUpFigures? Figures = null);

/// <summary>
/// An operator's "applied, payment X" for a top-up is recorded only when ActivePlatform has payment X for the reseller and,
/// where the effect kept the send's figures, X is for the same account and total.
/// </summary>
public sealed class TopUpResourceCheck(IPaymentsClient payments) : IEffectResourceCheck
{
    public string Prefix => PaymentScopes.TopUpPrefix;

    public async Task<string?> RefusalAsync(EffectEntry entry, string resourceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (!long.TryParse(entry.Id.Scope.AsSpan(Prefix.Length + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var resellerId))
        {
            return $"The effect's scope '{entry.Id.Scope}' names no reseller, so payment {resourceId} cannot be checked.";
        }

        Payment? payment;
        try
        {
            payment = await payments.GetAsync(resellerId, resourceId, cancellationToken);
        }
        catch (ActivePlatformException ex)
        {
            return $"Payment {resourceId} could not be read from ActivePlatform to check it ({ex.Message}); resolve again once ActivePlatform answers.";
        }

        if (payment is null)
        {
            return $"ActivePlatform has no payment {resourceId} for reseller {resellerId}: give the payment's id (not its number) as ActivePlatform shows it.";
        }

        // ActivePlatform reads "0042" as payment 42, while the journal's one-payment-one-key rule compares ids as written:
        // only the id as ActivePlatform writes it is recorded, so another key's payment cannot be named under another spelling.
        if (!string.Equals(payment.Id, resourceId, StringComparison.Ordinal))
        {
            return $"ActivePlatform writes this payment's id as {payment.Id}, not {resourceId}: give it as ActivePlatform shows it.";
        }

        var sent = entry.EvidenceAs<TopUpSent>()?.Figures ?? entry.EvidenceAs<TopUpUnresolved>()?.Figures;
        var found = payment.Attributes;
        var createdWith = found.InitialTotal ?? found.Total; // as the automatic match compares: total can move after creation
        if (sent is not null && (found.AccountId != sent.AccountId || createdWith != sent.Total))
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"Payment {resourceId} is for account {found.AccountId}, created with total {createdWith}; this top-up was sent for account {sent.AccountId} with total {sent.Total}: it cannot be this top-up's payment.");
        }

        return null;
    }
}

/// <summary>The created top-up, kept as the document's applied version: <c>{number}|{status}|{currency}</c>.</summary>
internal sealed record AppliedTopUp(string? Number, string? Status, string? Currency)
{
    public override string ToString() => $"{Number}|{Status}|{Currency}";

    public static bool TryParse(string? value, out AppliedTopUp topUp)
    {
        topUp = null!;
        var parts = value?.Split('|');
        if (parts is not { Length: 3 })
        {
            return false;
        }

        static string? OrNull(string part) => part.Length == 0 ? null : part;
        topUp = new AppliedTopUp(OrNull(parts[0]), OrNull(parts[1]), OrNull(parts[2]));
        return true;
    }
}
