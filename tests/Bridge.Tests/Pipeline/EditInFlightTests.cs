using System.Text;
using System.Text.Json;
using Bridge.Contracts;
using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Effects;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// A delivery of a message that began before the message's dead letter was captured (the ERP's own duplicate, waiting for the
/// document while the failing delivery's retries ran) read no letter when it began. An operator who edits the letter
/// meanwhile sends the edit under another key: the delivery's own effect must then never be sent beside it (helper-75 #2).
/// </summary>
[Collection(PipelineCollection5.Name)]
public sealed class EditInFlightTests(PipelineFixture fixture)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_delivery_in_flight_when_its_letter_is_edited_sends_nothing_and_is_dead_lettered_with_its_letter()
    {
        var prefix = $"bridge-ef-{Guid.NewGuid():N}"[..21];
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";
        var (key, correctedKey, messageId) = ("efk-" + Guid.NewGuid().ToString("D"), "efk-" + Guid.NewGuid().ToString("D"), NewId.NextGuid().ToString("D"));
        var account = 9_600_000 + Random.Shared.Next(100_000);
        var gate = new GatedJournal.Gate(messageId);
        await using var bridge = await StartAsync(prefix, gate, atTheStamp: false);
        using var openOnExit = gate; // opened before the Bridge stops, should the test fail first

        // The delivery looked the document up and is about to record its create; its letter is edited meanwhile.
        var (letter, _) = await EditWhileInFlightAsync(
            bridge,
            gate,
            queue,
            "SendClosingDocument",
            PipelineTestData.Document(key, revision: 1, accountId: account),
            PipelineTestData.Document(correctedKey, revision: 1, accountId: account));
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == correctedKey, TimeSpan.FromSeconds(60));

        // The delivery goes on: its create's begin is refused, nothing is sent, and it is dead-lettered with the letter.
        gate.Open();
        var held = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId, TimeSpan.FromSeconds(60));

        Assert.Equal(typeof(HeldByDeadLetterException).FullName, held.ExceptionType);
        Assert.Equal(letter, held.DeadLetterId);
        var documents = await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None);
        Assert.DoesNotContain(documents, d => d.Key == key);
        Assert.Single(documents, d => d.Key == correctedKey);
        Assert.Single(
            await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None),
            call => call.Status == 201);
    }

    /// <summary>
    /// The same for a call the effect journal does not record (a correction's approval): the delivery, about to send it, finds
    /// its key held by the edit and approves nothing; the edit approves the correction it names.
    /// </summary>
    [Fact]
    public async Task An_approval_in_flight_when_its_letter_is_edited_approves_nothing_beside_the_edit()
    {
        var prefix = $"bridge-ea-{Guid.NewGuid():N}"[..21];
        var (wrong, right, messageId) = ($"corr-{Guid.NewGuid():N}", $"corr-{Guid.NewGuid():N}", NewId.NextGuid().ToString("D"));
        var gate = new GatedJournal.Gate(messageId);
        await using var bridge = await StartAsync(prefix, gate, atTheStamp: true);
        using var openOnExit = gate; // opened before the Bridge stops, should the test fail first
        foreach (var key in new[] { wrong, right })
        {
            await fixture.Erp.PublishJsonAsync($"{prefix}.{Bridge.Host.Features.Corrections.CreateCorrectionConsumer.Queue}", CorrectionPipelineTests.Create(key), NewId.NextGuid().ToString("D"));
            await fixture.Events.WaitForAsync<CorrectionCreated>(e => e.Key == key, TimeSpan.FromSeconds(60));
        }

        // The ERP's approval of the wrong correction, about to be sent; its other delivery's letter is edited to the right one.
        var queue = $"{prefix}.{Bridge.Host.Features.Corrections.ApproveCorrectionConsumer.Queue}";
        var (letter, _) = await EditWhileInFlightAsync(bridge, gate, queue, "ApproveCorrection", new { key = wrong }, new { key = right });
        await fixture.Events.WaitForAsync<CorrectionApproved>(e => e.Key == right, TimeSpan.FromSeconds(60));

        gate.Open();
        var held = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId, TimeSpan.FromSeconds(60));

        Assert.Equal(typeof(HeldByDeadLetterException).FullName, held.ExceptionType);
        Assert.Equal(letter, held.DeadLetterId);
        var corrections = await fixture.Sandbox.Control.GetCorrectionsAsync(CancellationToken.None);
        Assert.Equal("approval_required", Assert.Single(corrections, c => c.Comment == wrong).Status);
        Assert.Equal("approved", Assert.Single(corrections, c => c.Comment == right).Status);
    }

    /// <summary>
    /// A currency-rate batch, journaled nowhere: the delivery about to send the wrong rate finds its key held by the edit, and
    /// sends nothing; the edit's rate (same pair, same time) is the one ActivePlatform keeps (helper-78 #1: the wrong rate
    /// was sent, and the edit then answered "already applied" and sent nothing).
    /// </summary>
    [Fact]
    public async Task A_rate_batch_in_flight_when_its_letter_is_edited_sends_nothing_and_the_edited_rate_is_kept()
    {
        var prefix = $"bridge-er-{Guid.NewGuid():N}"[..21];
        var queue = $"{prefix}.{Bridge.Host.Features.CurrencyRates.UpdateCurrencyRatesConsumer.Queue}";
        var (key, messageId) = ($"rates-{Guid.NewGuid():N}", NewId.NextGuid().ToString("D"));
        var at = new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.FromHours(3));
        var gate = new GatedJournal.Gate(messageId);
        await using var bridge = await StartAsync(prefix, gate, atTheStamp: true);
        using var openOnExit = gate; // opened before the Bridge stops, should the test fail first
        static UpdateCurrencyRates Batch(string key, DateTimeOffset at, decimal rate) => new()
        {
            Key = key,
            EffectiveAt = at,
            Rates = [new CurrencyRate { BaseCurrency = "RUB", ForeignCurrency = "SEK", Quantity = 1, Rate = rate }],
        };

        var (letter, edit) = await EditWhileInFlightAsync(bridge, gate, queue, "UpdateCurrencyRates", Batch(key, at, 8.15m), Batch(key, at, 9.05m));

        // The delivery holds the reseller's rates while it waits: the edit is handled once it has gone on.
        gate.Open();
        var held = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId, TimeSpan.FromSeconds(60));
        var applied = await fixture.Events.WaitForAsync<CurrencyRatesUpdated>(e => e.Key == key, TimeSpan.FromSeconds(60));

        Assert.Equal(typeof(HeldByDeadLetterException).FullName, held.ExceptionType);
        Assert.Equal(letter, held.DeadLetterId);
        Assert.Equal(edit.NewMessageId, applied.MessageId);
        Assert.False(applied.AlreadyApplied);
        var sek = (await fixture.Sandbox.Control.GetCurrencyRatePatchesAsync(1, CancellationToken.None))
            .SelectMany(p => p.Pairs).Where(p => p.BaseCurrency == "RUB" && p.ForeignCurrency == "SEK").ToList();
        Assert.Equal("9.05", Assert.Single(sek).Rate);
    }

    /// <summary>A Bridge of its own whose deliveries of <paramref name="gate"/>'s key wait at their journal's begin, or at the stamp.</summary>
    private Task<BridgeInstance> StartAsync(string prefix, GatedJournal.Gate gate, bool atTheStamp) => fixture.StartBridgeAsync(
        prefix,
        new Dictionary<string, string?> { ["Bridge:DeadLetters:AllowEditAndReplay"] = "true" },
        services =>
        {
            if (atTheStamp)
            {
                services.AddSingleton<IIdempotencyStore>(provider => new GatedStore(ActivatorUtilities.CreateInstance<SqlIdempotencyStore>(provider), gate));
            }
            else
            {
                services.AddSingleton<IEffectJournal>(provider => new GatedJournal(ActivatorUtilities.CreateInstance<SqlEffectJournal>(provider), gate));
            }
        });

    /// <summary>
    /// Publishes <paramref name="original"/> under the gate's key and waits until its delivery is at the gate; meanwhile the
    /// message's other delivery failed and was captured (its letter holds the key), and the operator edits the letter into
    /// <paramref name="edited"/>, sent as a new message.
    /// </summary>
    private async Task<(Guid Letter, DeadLetterActionResult Edit)> EditWhileInFlightAsync(
        BridgeInstance bridge, GatedJournal.Gate gate, string queue, string messageType, object original, object edited)
    {
        await fixture.Erp.PublishJsonAsync(queue, original, gate.OwnerKey);
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(60));
        var letter = await CaptureAsync(bridge, queue, gate.OwnerKey, JsonSerializer.SerializeToUtf8Bytes(original, Json), messageType);
        var edit = await bridge.Get<DeadLetterOperations>().EditAndReplayAsync(letter, JsonSerializer.SerializeToElement(edited, Json), "alice", CancellationToken.None);
        Assert.Equal(DeadLetterActionOutcome.Done, edit.Outcome);
        return (letter, edit);
    }

    /// <summary>The letter the failing delivery's capture leaves: the message as received, holding its key.</summary>
    private static async Task<Guid> CaptureAsync(BridgeInstance bridge, string queue, string messageId, byte[] body, string messageType)
    {
        var letter = new NewDeadLetter(
            Guid.NewGuid(),
            queue,
            messageType,
            messageId,
            null,
            null,
            "application/json",
            DeadLetterBody.FromBytes(body),
            new Dictionary<string, string?> { ["message_id"] = messageId },
            "Bridge.ActivePlatform.ActivePlatformServerException",
            "ActivePlatform answered 503.",
            null,
            3,
            DateTimeOffset.UtcNow)
        {
            IdempotencyKey = messageId,
        };
        await using var connection = await bridge.Get<IBridgeDatabase>().OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        var captured = await bridge.Get<IDeadLetterStore>().CaptureAsync(transaction, letter, CancellationToken.None);
        await transaction.CommitAsync();
        return captured.Id;
    }

    /// <summary>Holds the stamp before every call of one message's key that journals nothing, until the test opens the gate.</summary>
    private sealed class GatedStore(IIdempotencyStore inner, GatedJournal.Gate gate) : DelegatingIdempotencyStore(inner)
    {
        public override async Task<bool> TryMarkUnjournaledSendAsync(string idempotencyKey, CancellationToken cancellationToken)
        {
            if (idempotencyKey == gate.OwnerKey)
            {
                gate.Arrive();
                await gate.Opened.WaitAsync(cancellationToken);
            }

            return await base.TryMarkUnjournaledSendAsync(idempotencyKey, cancellationToken);
        }
    }

    /// <summary>Holds the begin of every effect of one message's key until the test opens the gate.</summary>
    private sealed class GatedJournal(IEffectJournal inner, GatedJournal.Gate gate) : DelegatingEffectJournal(inner)
    {
        public override async Task<string?> TryBeginAsync(EffectId id, string ownerKey, string fingerprint, string? evidence, ClaimFence? claim, CancellationToken cancellationToken)
        {
            if (ownerKey == gate.OwnerKey)
            {
                gate.Arrive();
                await gate.Opened.WaitAsync(cancellationToken);
            }

            return await base.TryBeginAsync(id, ownerKey, fingerprint, evidence, claim, cancellationToken);
        }

        /// <summary>Opened when disposed too, so a failed test never leaves a consumer of the shared broker waiting.</summary>
        public sealed class Gate(string ownerKey) : IDisposable
        {
            private readonly TaskCompletionSource reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
            private readonly TaskCompletionSource opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public string OwnerKey => ownerKey;

            public Task Reached => reached.Task;

            public Task Opened => opened.Task;

            public void Arrive() => reached.TrySetResult();

            public void Open() => opened.TrySetResult();

            public void Dispose() => Open();
        }
    }
}
