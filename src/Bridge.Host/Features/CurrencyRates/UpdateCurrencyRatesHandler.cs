using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.CurrencyRates;
using Bridge.Contracts;
using Bridge.Host.Effects;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;
using Mediator;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Features.CurrencyRates;

/// <summary>
/// Applies a batch of the ERP's currency rates so that, for each (reseller, base, foreign) pair, a rate that took effect
/// earlier than one already applied is never applied after it — whatever order the batches arrive in, however often.
/// <list type="number">
/// <item>The executor claims the reseller (<see cref="ClaimScope"/>, key = reseller id): batches of one reseller never
/// interleave, across instances.</item>
/// <item>Under that claim each pair's applied effective time is read (<see cref="PairScope"/>, key <c>BASE/FOREIGN</c>).
/// Later than the batch: the pair is stale and skipped. Equal: already applied (a republished batch), not sent again.
/// Earlier or none: sent.</item>
/// <item>Before the PATCH, an intent (<see cref="IntentScope"/>) records "this message may be writing these pairs at this
/// time" in its own transaction. A write whose answer is lost, or a crash after ActivePlatform applied it, leaves the claim
/// released before the applied time is recorded: without the intent an older batch taking the claim in between would be
/// written after the newer one. With it, the older batch sees the pending newer time and is skipped; the message that wrote
/// the intent ignores its own intent when it is redelivered and sends again. The intent also holds each pair for the in-flight
/// window, so that a newer batch is not sent while this write may still land (and be overwritten by it).</item>
/// <item>One PATCH with only the pairs to send; then one transaction records each sent pair's effective time
/// (<see cref="WorkResult.OtherChanges"/>), completes the idempotency record and writes the event to the outbox.</item>
/// </list>
/// A permanent refusal by ActivePlatform withdraws the intents (nothing of the batch was applied); a transient failure keeps
/// them, so that the retry — or an operator's replay from the error queue — is not overtaken by an older batch.
/// </summary>
public sealed class UpdateCurrencyRatesHandler(
    IdempotentExecutor executor,
    ICurrencyRatesClient activePlatform,
    IDocumentStateStore documents,
    IBridgeDatabase database,
    IOptions<ActivePlatformOptions> activePlatformOptions,
    TimeProvider clock) : ICommandHandler<UpdateCurrencyRatesCommand, HandlingOutcome>, IErpCommandRules<UpdateCurrencyRatesCommand>
{
    public const string ClaimScope = "currency-rates";

    public static string PairScope(long resellerId) => FormattableString.Invariant($"currency-rate:{resellerId}");

    public static string IntentScope(long resellerId) => FormattableString.Invariant($"currency-rate-intent:{resellerId}");

    /// <summary>The ordering token of an effective time: UTC, round-trip format, so equal instants give equal tokens.</summary>
    public static string Version(DateTimeOffset effectiveAt) => effectiveAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseVersion(string? version) =>
        DateTimeOffset.TryParseExact(version, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed) ? parsed : null;

    // Checked by ErpCommandValidation before Handle runs.
    public List<string> Validate(UpdateCurrencyRatesCommand command) => CurrencyRateValidation.Validate(command.Message);

    public IResultEvent Rejected(UpdateCurrencyRatesCommand command, Rejection rejection) => Rejected(command.Message, command.Incoming, rejection);

    public object? Payload(UpdateCurrencyRatesCommand command) => command.Message;

    public async ValueTask<HandlingOutcome> Handle(UpdateCurrencyRatesCommand command, CancellationToken cancellationToken)
    {
        var (message, incoming) = command;

        var resellerId = message.ResellerId ?? activePlatformOptions.Value.ResellerId;
        return await executor.ExecuteAsync(new IdempotentWork
        {
            Incoming = incoming,
            IdempotencyKey = incoming.IdempotencyKey!,
            Fingerprint = PayloadFingerprint.Of(message),
            Scope = ClaimScope,
            DocumentKey = resellerId.ToString(CultureInfo.InvariantCulture),
            Reject = rejection => Rejected(message, incoming, rejection),
            Apply = (context, ct) => ApplyAsync(context, message, incoming, resellerId, ct),
        }, cancellationToken);
    }

    private async Task<WorkResult> ApplyAsync(WorkContext context, UpdateCurrencyRates message, IncomingMessage incoming, long resellerId, CancellationToken cancellationToken)
    {
        var effectiveAt = message.EffectiveAt;
        var version = Version(effectiveAt);
        var me = IntentOwner(incoming.IdempotencyKey!);

        var toSend = new List<(CurrencyRate Rate, DocumentState? Intent)>();
        var unchanged = new List<CurrencyPair>();
        var skipped = new List<SkippedCurrencyPair>();
        foreach (var rate in message.Rates)
        {
            var key = CurrencyRateValidation.PairKey(rate);
            var appliedAt = ParseVersion((await documents.GetAsync(PairScope(resellerId), key, cancellationToken))?.AppliedVersion);
            var intent = await documents.GetAsync(IntentScope(resellerId), key, cancellationToken);
            var pendingAt = intent is not null && intent.ResourceId != me ? ParseVersion(intent.AppliedVersion) : null;
            var newest = Max(appliedAt, pendingAt);

            if (newest > effectiveAt)
            {
                skipped.Add(new SkippedCurrencyPair(rate.BaseCurrency, rate.ForeignCurrency, newest.Value));
            }
            else if (appliedAt == effectiveAt)
            {
                unchanged.Add(new CurrencyPair(rate.BaseCurrency, rate.ForeignCurrency));
            }
            else
            {
                // Includes another message's pending intent at this same time: sending the same time's rate again is harmless
                // (once that write can no longer land — the intent's hold, RecordIntentAsync).
                toSend.Add((rate, intent));
            }
        }

        if (toSend.Count == 0)
        {
            return skipped.Count > 0
                ? new WorkResult(HandlingOutcome.Skipped, Skipped(message, incoming, resellerId, skipped, unchanged), null, null)
                : new WorkResult(HandlingOutcome.Applied, Updated(message, incoming, resellerId, [], unchanged, skipped), null, null);
        }

        var pairKeys = toSend.Select(p => CurrencyRateValidation.PairKey(p.Rate)).ToList();

        // Journaled nowhere: the message's record is stamped first, and an operator's edit of its dead letter holds it back.
        await context.MarkUnjournaledSendAsync(cancellationToken);
        await RecordIntentAsync(context.ClaimFence, resellerId, pairKeys, version, me, cancellationToken);

        // The holds on the pairs are given back with the answer only when no write of this batch can land after it: no earlier
        // delivery of this message recorded an intent (its PATCH may have left: the intent is written right before it, and
        // stays this message's until another batch writes the pair after the hold ran out), and no earlier attempt of this
        // PATCH (the HTTP layer repeats one) went without an answer proving it did nothing. Otherwise they run out with the
        // in-flight window.
        var sentBefore = toSend.Any(p => p.Intent?.ResourceId == me);
        IReadOnlyList<ScopedClaim> Holds(bool anAttemptMayHaveApplied) => sentBefore || anAttemptMayHaveApplied
            ? []
            : [.. pairKeys.Select(key => new ScopedClaim(IntentScope(resellerId), key, me))];

        CurrencyRatesWritten written;
        try
        {
            written = await activePlatform.UpdateCurrencyRatesAsync(resellerId, [.. toSend.Select(p => Write(p.Rate))], cancellationToken);
        }
        catch (Exception ex) when (PermanentFailures.TryClassify(ex, out var rejection))
        {
            // This PATCH applied nothing (a refusal after an attempt that may have applied is never classified as permanent):
            // the intents go back to what they were — another message's pending write, or this message's own from an earlier
            // delivery, whose PATCH may have landed, stays.
            return new WorkResult(HandlingOutcome.Rejected, Rejected(message, incoming, rejection), null, null)
            {
                OtherChanges = [.. toSend.Select(p => new ScopedDocumentChange(
                    IntentScope(resellerId),
                    CurrencyRateValidation.PairKey(p.Rate),
                    p.Intent is { } previous
                        ? new DocumentChange(previous.AppliedVersion, previous.ResourceId, false)
                        : new DocumentChange(null, null, false)))],
                ReleasedClaims = Holds(anAttemptMayHaveApplied: false),
            };
        }

        // ActivePlatform answers one record per pair, in the order sent; an answer that does not match leaves the ids unknown.
        var records = written.Records;
        var recordIds = records.Count == toSend.Count ? records.Select(r => (string?)r.Id).ToList() : [.. toSend.Select(_ => (string?)null)];
        var sent = toSend.Select(p => p.Rate).ToList();
        return new WorkResult(HandlingOutcome.Applied, Updated(message, incoming, resellerId, sent, unchanged, skipped), null, null)
        {
            OtherChanges = [.. sent.Select((rate, i) => new ScopedDocumentChange(
                PairScope(resellerId), CurrencyRateValidation.PairKey(rate), new DocumentChange(version, recordIds[i], false)))],
            ReleasedClaims = Holds(written.AnAttemptMayHaveApplied),
        };
    }

    /// <summary>
    /// Commits the intent on its own, before the PATCH can reach ActivePlatform, fenced by the reseller's claim: recorded only
    /// while this delivery has held the claim all along (renewed in the same transaction, so it is kept until the intent is
    /// committed), else <see cref="DocumentBusyException"/> and nothing is recorded or sent. A delivery whose claim ran out
    /// after it read the pairs (a paused process) — another batch may have sent a newer rate meanwhile — so never sends the
    /// older rate it decided on before; and it never touches an intent the claim's new holder is writing.
    /// <para>
    /// Each pair's intent is also held, by the database's clock, for the in-flight window (<see cref="EffectTiming.InFlightWindow(Bridge.ActivePlatform.ActivePlatformOptions)"/>):
    /// a PATCH whose answer was lost may still be carried out by ActivePlatform until then. While another batch holds a pair
    /// (its write unanswered, or answered after an unanswered attempt), nothing is recorded or sent and
    /// <see cref="EffectPendingException"/> makes this batch wait — were it sent, the older write could land after it and
    /// leave the older rate in ActivePlatform while Bridge records the newer. A redelivery of the same batch renews its own hold.
    /// </para>
    /// </summary>
    private async Task RecordIntentAsync(ClaimFence? claim, long resellerId, IReadOnlyList<string> pairKeys, string version, string owner, CancellationToken cancellationToken)
    {
        var window = EffectTiming.InFlightWindow(activePlatformOptions.Value);

        // Before any pair's hold is written: the PATCH must leave within its total timeout of this moment.
        Bridge.ActivePlatform.SendDeadline.SendBegins(clock);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (claim is not null && !await documents.TryRenewAsync(transaction, claim.Scope, claim.DocumentKey, claim.Owner, claim.Lease, cancellationToken))
        {
            throw claim.Lost();
        }

        foreach (var key in pairKeys)
        {
            if (await documents.ClaimAsync(transaction, IntentScope(resellerId), key, owner, window, cancellationToken) is null)
            {
                throw new EffectPendingException(
                    $"Currency pair {key} of reseller {resellerId}: another batch's write of it may still be carried out by ActivePlatform (its answer was lost); "
                    + "this batch is sent once that write can no longer land, so that it is never overwritten by an older rate.");
            }

            await documents.SetAppliedAsync(transaction, IntentScope(resellerId), key, version, owner, deleted: false, cancellationToken);
        }

        // A hold counts from its statement; the PATCH leaves after the last one. Each earlier pair's hold is renewed now, so
        // that none runs out before the window has passed since the send (a batch may name hundreds of pairs).
        foreach (var key in pairKeys.SkipLast(1))
        {
            await documents.TryRenewAsync(transaction, IntentScope(resellerId), key, owner, window, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Who wrote an intent: a hash of the idempotency key (which may be longer than the column holding it).</summary>
    private static string IntentOwner(string idempotencyKey) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)));

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : (a > b ? a : b);

    private static CurrencyRateWrite Write(CurrencyRate rate) => new()
    {
        BaseCurrency = rate.BaseCurrency,
        ForeignCurrency = rate.ForeignCurrency,
        Quantity = rate.Quantity,
        Rate = rate.Rate,
        Adjustment = rate.Adjustment,
        ShowForClient = rate.ShowForClient,
    };

    private CurrencyRatesUpdated Updated(
        UpdateCurrencyRates message, IncomingMessage incoming, long resellerId, IReadOnlyList<CurrencyRate> applied,
        IReadOnlyList<CurrencyPair> unchanged, IReadOnlyList<SkippedCurrencyPair> skipped) => new()
        {
            Key = message.Key,
            MessageId = incoming.IdempotencyKey!,
            CorrelationId = incoming.CorrelationId,
            OccurredAt = clock.GetUtcNow(),
            ResellerId = resellerId,
            EffectiveAt = message.EffectiveAt,
            Applied = applied,
            Unchanged = unchanged,
            Skipped = skipped,
            AlreadyApplied = applied.Count == 0 && skipped.Count == 0,
        };

    private CurrencyRatesSkipped Skipped(
        UpdateCurrencyRates message, IncomingMessage incoming, long resellerId, IReadOnlyList<SkippedCurrencyPair> skipped,
        IReadOnlyList<CurrencyPair> unchanged) => new()
        {
            Key = message.Key,
            MessageId = incoming.IdempotencyKey!,
            CorrelationId = incoming.CorrelationId,
            OccurredAt = clock.GetUtcNow(),
            ResellerId = resellerId,
            EffectiveAt = message.EffectiveAt,
            Skipped = skipped,
            Unchanged = unchanged,
        };

    private CurrencyRatesRejected Rejected(UpdateCurrencyRates? message, IncomingMessage incoming, Rejection rejection) => new()
    {
        Key = message?.Key ?? string.Empty,
        MessageId = incoming.IdempotencyKey ?? string.Empty,
        CorrelationId = incoming.CorrelationId,
        OccurredAt = clock.GetUtcNow(),
        MessageType = nameof(UpdateCurrencyRates),
        Reason = rejection.Reason,
        Description = rejection.Description,
        ValidationErrors = rejection.ValidationErrors,
        ActivePlatformError = rejection.ActivePlatformError,
    };
}
