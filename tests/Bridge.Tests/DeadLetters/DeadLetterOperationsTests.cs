using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bridge.Host.DeadLetters;
using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Messaging;
using Bridge.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.DeadLetters;

/// <summary>
/// The operators' actions on dead letters against each real database, with a transport that records every send and fails
/// the ones it is told to: what a message that is applied twice would take (an archived original sent again, an edit
/// retried under a new message id) is seen in what was sent.
/// </summary>
public abstract class DeadLetterOperationsTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IDisposable
    where TFixture : StorageFixture
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TestClock clock = new(Start);
    private readonly string queue = "bridge.test-" + Guid.NewGuid().ToString("N")[..8];
    private readonly RecordingTransport transport = new();
    private readonly ServiceProvider meters = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private SqlDeadLetterStore Store => new(fixture.Database, clock);

    private DeadLetterOperations Operations => new(
        Store,
        transport,
        Options.Create(new DeadLetterOptions { AllowEditAndReplay = true }),
        new DeadLetterMetrics(meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
        NullLogger<DeadLetterOperations>.Instance);

    public void Dispose() => meters.Dispose();

    [StoreFact]
    public async Task Restoring_the_original_of_an_edited_message_is_refused_naming_the_edit()
    {
        var id = (await CaptureAsync(NewLetter("m-edited"))).Id;
        var edited = await Operations.EditAndReplayAsync(id, Body("document-1"), "alice", CancellationToken.None);

        var restore = await Operations.RestoreAsync(id, "bob", CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.Done, edited.Outcome);
        Assert.Equal((DeadLetterActionOutcome.Conflict, DeadLetterStatus.Discarded), (restore.Outcome, restore.Status));
        Assert.Contains("replaced by an edited copy", restore.Detail, StringComparison.Ordinal);
        Assert.Contains(edited.NewMessageId!, restore.Detail, StringComparison.Ordinal);
        var details = (await Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal(DeadLetterStatus.Discarded, details.Letter.Status);
        var refused = details.Audit[^1];
        Assert.Equal(("bob", "Restore", "Refused: edited"), (refused.Actor, refused.Action, refused.Outcome));
        Assert.Contains(edited.NewMessageId!, refused.Detail, StringComparison.Ordinal);
        Assert.Equal([edited.NewMessageId], transport.Attempts.Select(message => message.MessageId));
    }

    [StoreFact]
    public async Task The_original_of_an_edited_message_failing_again_stays_archived_so_only_the_edit_is_ever_sent()
    {
        var letter = NewLetter("m-edited-again");
        var id = (await CaptureAsync(letter)).Id;
        var edited = await Operations.EditAndReplayAsync(id, Body("document-2"), "alice", CancellationToken.None);
        clock.Advance(TimeSpan.FromMinutes(5));

        // The original's second copy (the ERP published it again) fails as the first did.
        var again = await CaptureAsync(letter with { Id = Guid.NewGuid(), FailedAt = clock.GetUtcNow() });
        var restore = await Operations.RestoreAsync(id, "bob", CancellationToken.None);
        var replay = await Operations.ReplayAsync(id, "bulk", "job-1", CancellationToken.None);

        Assert.Equal(new DeadLetterCaptured(id, 2), again);
        var details = (await Store.GetAsync(id, CancellationToken.None))!;
        var summary = details.Letter.Summary;
        Assert.Equal((DeadLetterStatus.Discarded, $"Edited and replayed as message {edited.NewMessageId}.", 2, Start.AddMinutes(5)),
            (summary.Status, summary.StatusReason, summary.FailureCount, summary.LastFailedAt));
        var failedAgain = Assert.Single(details.Audit, entry => entry.Action == "FailedAgain");
        Assert.Equal(("bridge", "Discarded"), (failedAgain.Actor, failedAgain.Outcome));
        Assert.Contains("stays Discarded", failedAgain.Detail, StringComparison.Ordinal);
        Assert.Equal(DeadLetterActionOutcome.Conflict, restore.Outcome);
        Assert.Equal(DeadLetterActionOutcome.Conflict, replay.Outcome);
        Assert.Equal([edited.NewMessageId], transport.Attempts.Select(message => message.MessageId));
    }

    [StoreFact]
    public async Task An_original_captured_again_while_its_edit_was_being_sent_is_never_replayed_beside_the_edit()
    {
        // Found by review (helper-70): the original's second copy fails while the edit is being sent; the capture makes the
        // letter Pending and drops the edit's claim, so the edit cannot archive it. A replay must still not send the original.
        var letter = NewLetter("m-edit-race");
        var id = (await CaptureAsync(letter)).Id;
        transport.OnSend = async () => await CaptureAsync(letter with { Id = Guid.NewGuid(), FailedAt = clock.GetUtcNow() });

        var edited = await Operations.EditAndReplayAsync(id, Body("document-race"), "alice", CancellationToken.None);
        transport.OnSend = null;
        var replay = await Operations.ReplayAsync(id, "bulk", "job-2", CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.Done, edited.Outcome);
        Assert.Equal(DeadLetterStatus.Pending, (await Store.GetAsync(id, CancellationToken.None))!.Letter.Status);
        Assert.Equal(DeadLetterActionOutcome.Conflict, replay.Outcome);
        Assert.Contains("an edited copy of this message was sent", replay.Detail, StringComparison.Ordinal);
        Assert.Equal([edited.NewMessageId], transport.Attempts.Select(message => message.MessageId));
    }

    [StoreFact]
    public async Task A_letter_whose_edit_may_have_reached_the_queue_takes_only_that_edit_even_after_discard_and_restore()
    {
        // The edit's send fails after its frame may have reached the broker: the letter is Pending again, and the edit may be
        // in the queue. Sending the original now, or another edit, could apply two; sending the same edit again cannot. An
        // operator who discarded the letter meanwhile may restore it to send that edit.
        var id = (await CaptureAsync(NewLetter("m-edit-unknown"))).Id;
        transport.FailNext(new TimeoutException("no confirm"));
        var failed = await Operations.EditAndReplayAsync(id, Body("document-unknown"), "alice", CancellationToken.None);

        var replay = await Operations.ReplayAsync(id, "bulk", "job-3", CancellationToken.None);
        var pending = (await Store.GetAsync(id, CancellationToken.None))!.Letter.Status;
        var discarded = await Operations.DiscardAsync(id, "handled by hand", "bob", CancellationToken.None);
        var restore = await Operations.RestoreAsync(id, "carol", CancellationToken.None);
        var replayAfterRestore = await Operations.ReplayAsync(id, "bulk", "job-4", CancellationToken.None);
        var otherEdit = await Operations.EditAndReplayAsync(id, Body("document-other"), "carol", CancellationToken.None);
        var sameEdit = await Operations.EditAndReplayAsync(id, Body("document-unknown"), "carol", CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.SendFailed, failed.Outcome);
        Assert.Equal(DeadLetterActionOutcome.Conflict, replay.Outcome);
        Assert.Contains("its send was begun and may have reached the queue", replay.Detail, StringComparison.Ordinal);
        Assert.Equal(DeadLetterStatus.Pending, pending);
        Assert.Equal(DeadLetterActionOutcome.Done, discarded.Outcome);
        Assert.Equal((DeadLetterActionOutcome.Done, DeadLetterStatus.Pending), (restore.Outcome, restore.Status));
        Assert.Equal(DeadLetterActionOutcome.Conflict, replayAfterRestore.Outcome);
        var edit = EditMessageIdOf(id, "document-unknown");
        Assert.Equal(DeadLetterActionOutcome.Conflict, otherEdit.Outcome);
        Assert.Contains($"an edit with another body (message {edit}) may already be in the queue", otherEdit.Detail, StringComparison.Ordinal);
        Assert.Equal(DeadLetterActionOutcome.Done, sameEdit.Outcome);
        Assert.Equal(edit, sameEdit.NewMessageId);
        Assert.Equal([edit, edit], transport.Attempts.Select(message => message.MessageId));
    }

    [StoreFact]
    public async Task An_original_whose_replay_may_have_reached_the_queue_is_never_edited()
    {
        // The replay's send fails after its frame may have reached the broker: the letter is Pending again and the original
        // may be in the queue. An edit sent now could be applied beside it.
        var id = (await CaptureAsync(NewLetter("m-replay-unknown"))).Id;
        transport.FailNext(new TimeoutException("no confirm"));
        var replay = await Operations.ReplayAsync(id, "bulk", "job-5", CancellationToken.None);

        var edit = await Operations.EditAndReplayAsync(id, Body("document-after-replay"), "alice", CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.SendFailed, replay.Outcome);
        Assert.Equal((DeadLetterActionOutcome.Conflict, DeadLetterStatus.Pending), (edit.Outcome, edit.Status));
        Assert.Contains("the original was replayed and may still be in the queue", edit.Detail, StringComparison.Ordinal);
        Assert.Equal(["m-replay-unknown"], transport.Attempts.Select(message => message.MessageId));
    }

    [StoreFact]
    public async Task An_original_whose_replay_certainly_reached_nothing_can_be_edited()
    {
        // No connection to the broker: nothing of the replay was published, so no copy of the original can be in the queue.
        var id = (await CaptureAsync(NewLetter("m-replay-not-sent"))).Id;
        transport.FailNext(new MessageNotSentException("Nothing was sent.", new System.Net.Sockets.SocketException()));
        var replay = await Operations.ReplayAsync(id, "bulk", "job-6", CancellationToken.None);

        var edit = await Operations.EditAndReplayAsync(id, Body("document-after-unsent-replay"), "alice", CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.SendFailed, replay.Outcome);
        Assert.Contains("Nothing was sent", replay.Detail, StringComparison.Ordinal);
        Assert.Equal(DeadLetterActionOutcome.Done, edit.Outcome);
        Assert.Equal(["m-replay-not-sent", edit.NewMessageId], transport.Attempts.Select(message => message.MessageId));
        var audit = (await Store.GetAsync(id, CancellationToken.None))!.Audit.Select(entry => $"{entry.Action}/{entry.Outcome}");
        Assert.Contains("Replay/Not sent: SocketException", audit);
    }

    [StoreFact]
    public async Task A_replayed_original_discarded_and_restored_is_never_edited()
    {
        var id = (await CaptureAsync(NewLetter("m-replayed-restored"))).Id;
        var replay = await Operations.ReplayAsync(id, "alice", null, CancellationToken.None);
        var discarded = await Operations.DiscardAsync(id, "looks done", "bob", CancellationToken.None);
        var restored = await Operations.RestoreAsync(id, "carol", CancellationToken.None);

        var edit = await Operations.EditAndReplayAsync(id, Body("document-restored"), "carol", CancellationToken.None);

        Assert.Equal((DeadLetterActionOutcome.Done, DeadLetterActionOutcome.Done, DeadLetterActionOutcome.Done), (replay.Outcome, discarded.Outcome, restored.Outcome));
        Assert.Equal(DeadLetterActionOutcome.Conflict, edit.Outcome);
        Assert.Contains("the original was replayed and may still be in the queue", edit.Detail, StringComparison.Ordinal);
        Assert.Equal(["m-replayed-restored"], transport.Attempts.Select(message => message.MessageId));
    }

    [StoreFact]
    public async Task An_original_seen_failing_again_after_its_replay_can_be_edited()
    {
        var letter = NewLetter("m-replayed-failed");
        var id = (await CaptureAsync(letter)).Id;
        await Operations.ReplayAsync(id, "alice", null, CancellationToken.None);

        // The replayed copy was consumed and failed again: nothing of the original is left in the queue.
        await CaptureAsync(ReplayedCopy(letter, transport.Attempts[0]));
        var edit = await Operations.EditAndReplayAsync(id, Body("document-after-failure"), "alice", CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.Done, edit.Outcome);
        Assert.Equal(["m-replayed-failed", edit.NewMessageId], transport.Attempts.Select(message => message.MessageId));
    }

    [StoreFact]
    public async Task An_original_replayed_twice_is_edited_only_once_both_copies_failed_again_and_never_after_the_ERP_sent_it_again()
    {
        // The first replay's send failed after its frame may have reached the broker; the second went out: two copies of the
        // original may be in the queue. One failing again leaves the other, which might succeed beside an edit.
        var letter = NewLetter("m-two-copies");
        var id = (await CaptureAsync(letter)).Id;
        transport.FailNext(new TimeoutException("no confirm"));
        await Operations.ReplayAsync(id, "alice", null, CancellationToken.None);
        await Operations.ReplayAsync(id, "alice", null, CancellationToken.None);

        await CaptureAsync(ReplayedCopy(letter, transport.Attempts[0]));
        var afterOne = await Operations.EditAndReplayAsync(id, Body("document-two-copies"), "alice", CancellationToken.None);
        // The ERP publishing the original again says nothing of Bridge's copies.
        await CaptureAsync(letter with { Id = Guid.NewGuid(), FailedAt = clock.GetUtcNow() });
        var afterErpCopy = await Operations.EditAndReplayAsync(id, Body("document-two-copies"), "alice", CancellationToken.None);
        await CaptureAsync(ReplayedCopy(letter, transport.Attempts[1]));
        var afterBoth = await Operations.EditAndReplayAsync(id, Body("document-two-copies"), "alice", CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.Conflict, afterOne.Outcome);
        Assert.Contains("the original was replayed and may still be in the queue", afterOne.Detail, StringComparison.Ordinal);
        Assert.Equal(DeadLetterActionOutcome.Conflict, afterErpCopy.Outcome);
        Assert.Equal(DeadLetterActionOutcome.Done, afterBoth.Outcome);
        Assert.Equal(["m-two-copies", "m-two-copies", afterBoth.NewMessageId], transport.Attempts.Select(message => message.MessageId));
    }

    [StoreFact]
    public async Task One_replayed_copy_captured_twice_counts_once_so_the_other_copy_still_holds_the_edit()
    {
        // Found by review (helper-74): a copy's capture committed, then its delivery came back (a crash before the ack, the
        // error-queue sweep importing it again) and was captured again. Counted per delivery, that took the other copy away too.
        var letter = NewLetter("m-copy-twice");
        var id = (await CaptureAsync(letter)).Id;
        transport.FailNext(new TimeoutException("no confirm"));
        await Operations.ReplayAsync(id, "alice", null, CancellationToken.None);
        await Operations.ReplayAsync(id, "alice", null, CancellationToken.None);

        await CaptureAsync(ReplayedCopy(letter, transport.Attempts[0]));
        await CaptureAsync(ReplayedCopy(letter, transport.Attempts[0]));
        var edit = await Operations.EditAndReplayAsync(id, Body("document-copy-twice"), "alice", CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.Conflict, edit.Outcome);
        Assert.Contains("the original was replayed and may still be in the queue", edit.Detail, StringComparison.Ordinal);
        Assert.NotEqual(transport.Attempts[0].Headers[NewDeadLetter.ReplayCopyHeader], transport.Attempts[1].Headers[NewDeadLetter.ReplayCopyHeader]);
        Assert.Equal(["m-copy-twice", "m-copy-twice"], transport.Attempts.Select(message => message.MessageId));
    }

    [StoreFact]
    public async Task An_edit_whose_send_failed_can_be_sent_again_after_its_claim_was_released()
    {
        var id = (await CaptureAsync(NewLetter("m-edit-again"))).Id;
        transport.FailNext(new TimeoutException("no confirm"));
        await Operations.EditAndReplayAsync(id, Body("document-again"), "alice", CancellationToken.None);

        var again = await Operations.EditAndReplayAsync(id, Body("document-again"), "alice", CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.Done, again.Outcome);
        Assert.Equal([again.NewMessageId, again.NewMessageId], transport.Attempts.Select(message => message.MessageId));
        var audit = (await Store.GetAsync(id, CancellationToken.None))!.Audit.Where(entry => entry.Action == "EditAndReplay").Select(entry => entry.Outcome);
        Assert.Equal(["Sending", "Failed: TimeoutException", "Sending", "Discarded"], audit);
    }

    [StoreFact]
    public async Task Retrying_an_edit_whose_send_may_have_reached_the_broker_sends_the_same_message_again_and_no_other_edit()
    {
        var id = (await CaptureAsync(NewLetter("m-retried"))).Id;
        var compact = Body("document-3");
        var otherEdit = Body("document-3", total: 99.99m);

        // Cancelled after the frame may have been written: whether the broker has it is unknown, and the letter is Pending again.
        transport.FailNext(new OperationCanceledException("cancelled while waiting for the broker's confirm"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Operations.EditAndReplayAsync(id, compact, "alice", CancellationToken.None));
        var other = await Operations.EditAndReplayAsync(id, otherEdit, "alice", CancellationToken.None);
        // The same correction laid out otherwise (indented, properties in another order), as another client sends it.
        var retried = await Operations.EditAndReplayAsync(id, Relaid(compact), "alice", CancellationToken.None);

        var first = EditMessageIdOf(id, "document-3");
        Assert.Equal(DeadLetterActionOutcome.Conflict, other.Outcome);
        Assert.Contains($"an edit with another body (message {first}) may already be in the queue", other.Detail, StringComparison.Ordinal);
        Assert.Equal(DeadLetterActionOutcome.Done, retried.Outcome);
        // The same edit is the same message (the same id, so the same idempotency key).
        Assert.Equal(first, retried.NewMessageId);
        Assert.Equal([first, first], transport.Attempts.Select(message => message.MessageId));
        Assert.True(Guid.TryParse(first, out _));
        Assert.Equal(DeadLetterStatus.Discarded, (await Store.GetAsync(id, CancellationToken.None))!.Letter.Status);
    }

    [StoreFact]
    public async Task Claims_refused_by_the_key_name_the_letter_that_holds_it_back_and_what_to_do()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        var replayed = (await CaptureAsync(NewLetter("m-key-a") with { IdempotencyKey = key })).Id;
        var other = (await CaptureAsync(NewLetter("m-key-b") with { IdempotencyKey = key })).Id;
        Assert.Equal(DeadLetterActionOutcome.Done, (await Operations.ReplayAsync(replayed, "alice", null, CancellationToken.None)).Outcome);

        var edit = await Operations.EditAndReplayAsync(other, Body("document-key-b"), "bob", CancellationToken.None);

        Assert.Equal((DeadLetterActionOutcome.Conflict, DeadLetterStatus.Pending), (edit.Outcome, edit.Status));
        Assert.Contains($"dead letter {replayed:D} of this message's idempotency key '{key}' was replayed", edit.Detail, StringComparison.Ordinal);
        Assert.Equal(("EditAndReplay", "Refused: key"), ((await Store.GetAsync(other, CancellationToken.None))!.Audit[^1] is var entry ? (entry.Action, entry.Outcome) : default));

        // Another key: one letter edited, the other is not replayed beside it.
        var key2 = "k-" + Guid.NewGuid().ToString("N");
        var edited = (await CaptureAsync(NewLetter("m-key-c") with { IdempotencyKey = key2 })).Id;
        var left = (await CaptureAsync(NewLetter("m-key-d") with { IdempotencyKey = key2 })).Id;
        Assert.Equal(DeadLetterActionOutcome.Done, (await Operations.EditAndReplayAsync(edited, Body("document-key-c"), "bob", CancellationToken.None)).Outcome);

        var replay = await Operations.ReplayAsync(left, "alice", null, CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.Conflict, replay.Outcome);
        Assert.Contains($"dead letter {edited:D} of this message's idempotency key '{key2}' was edited and replayed", replay.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Discard", replay.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// An edit refused by an effect of the letter's key (storage version 17) says which effect and what to do for each state,
    /// and sends nothing.
    /// </summary>
    [StoreFact]
    public async Task An_edit_refused_by_an_effect_of_its_key_names_the_effect_and_what_to_do()
    {
        var journal = new Bridge.Host.Effects.SqlEffectJournal(fixture.Database);
        foreach (var (state, advice) in new (Bridge.Host.Effects.EffectState?, string)[]
                 {
                     (null, "settle the effect (bridge effects show"),
                     (Bridge.Host.Effects.EffectState.Applied, "Correct what was applied through the ERP"),
                     (Bridge.Host.Effects.EffectState.Unknown, "may have reached ActivePlatform and nothing tells"),
                 })
        {
            var key = "k-" + Guid.NewGuid().ToString("N");
            await new Bridge.Host.Storage.SqlIdempotencyStore(fixture.Database, clock).BeginAsync(key, "SendClosingDocument", "fp", null, CancellationToken.None);
            var effect = new Bridge.Host.Effects.EffectId("closing-document-create:1:1", "doc\n" + key, "doc-" + key);
            var attempt = (await journal.TryBeginAsync(effect, key, "fp", null, CancellationToken.None))!;
            if (state is { } settled)
            {
                await journal.ResolveAsync(effect, attempt, settled, null, null, CancellationToken.None);
            }

            var id = (await CaptureAsync(NewLetter("m-" + key) with { IdempotencyKey = key })).Id;

            var edit = await Operations.EditAndReplayAsync(id, Body("document-" + key), "bob", CancellationToken.None);

            Assert.Equal((DeadLetterActionOutcome.Conflict, DeadLetterStatus.Pending), (edit.Outcome, edit.Status));
            Assert.Contains($"(effect {effect.Hash}", edit.Detail, StringComparison.Ordinal);
            Assert.Contains(advice, edit.Detail, StringComparison.Ordinal);
            Assert.Equal(("EditAndReplay", "Refused: key"), ((await Store.GetAsync(id, CancellationToken.None))!.Audit[^1] is var entry ? (entry.Action, entry.Outcome) : default));
        }

        Assert.Empty(transport.Attempts);
    }

    /// <summary>An edit refused because a delivery of its key sent a call the journal does not record: says so, advises no replay.</summary>
    [StoreFact]
    public async Task An_edit_refused_by_a_call_of_its_key_that_journals_nothing_says_so_and_advises_no_replay()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        var records = new Bridge.Host.Storage.SqlIdempotencyStore(fixture.Database, clock);
        await records.BeginAsync(key, "SendClosingDocument", "fp", null, CancellationToken.None);
        Assert.True(await records.TryMarkUnjournaledSendAsync(key, CancellationToken.None));
        var id = (await CaptureAsync(NewLetter("m-" + key) with { IdempotencyKey = key })).Id;

        var edit = await Operations.EditAndReplayAsync(id, Body("document-" + key), "bob", CancellationToken.None);

        Assert.Equal((DeadLetterActionOutcome.Conflict, DeadLetterStatus.Pending), (edit.Outcome, edit.Status));
        Assert.Contains("a call the effect journal does not record", edit.Detail, StringComparison.Ordinal);
        Assert.Contains("then discard this letter, and have the ERP send the corrected message", edit.Detail, StringComparison.Ordinal);
        Assert.Empty(transport.Attempts);
    }

    [StoreFact]
    public async Task An_edit_whose_body_reuses_the_key_its_letter_holds_is_refused_as_invalid()
    {
        var id = (await CaptureAsync(NewLetter("m-own-key"))).Id;
        var document = Document("document-own-key", revision: 1);
        document["idempotencyKey"] = "m-own-key";

        var edit = await Operations.EditAndReplayAsync(id, JsonSerializer.SerializeToElement(document, new JsonSerializerOptions(JsonSerializerDefaults.Web)), "bob", CancellationToken.None);

        Assert.Equal(DeadLetterActionOutcome.Invalid, edit.Outcome);
        Assert.Contains(edit.Errors!, error => error.Contains("m-own-key", StringComparison.Ordinal));
        Assert.Empty(transport.Attempts);
    }

    private static string EditMessageIdOf(Guid id, string key) => DeadLetterOperations.EditMessageId(id, Body(key)).ToString("D");

    /// <summary><paramref name="body"/> indented and with its properties in reverse order: the same content, laid out otherwise.</summary>
    private static JsonElement Relaid(JsonElement body)
    {
        var reversed = new JsonObject(body.EnumerateObject().Reverse().Select(property => KeyValuePair.Create(property.Name, JsonNode.Parse(property.Value.GetRawText()))));
        return JsonDocument.Parse(reversed.ToJsonString(new JsonSerializerOptions { WriteIndented = true })).RootElement;
    }

    /// <summary>A replayed copy, as sent, failing again: the original's capture with the replay's headers.</summary>
    private NewDeadLetter ReplayedCopy(NewDeadLetter letter, OutgoingMessage sent) => letter with
    {
        Id = Guid.NewGuid(),
        Headers = new Dictionary<string, string?>(letter.Headers)
        {
            [DeadLetterOperations.ReplayOfHeader] = sent.Headers[DeadLetterOperations.ReplayOfHeader],
            [NewDeadLetter.ReplayCopyHeader] = sent.Headers[NewDeadLetter.ReplayCopyHeader],
        },
        FailedAt = clock.GetUtcNow(),
    };

    private static JsonElement Body(string key, decimal total = 100.50m) =>
        JsonSerializer.SerializeToElement(Document(key, revision: 1, total: total), new JsonSerializerOptions(JsonSerializerDefaults.Web));

    private NewDeadLetter NewLetter(string messageId) => new(
        Guid.NewGuid(),
        queue,
        "SendClosingDocument",
        messageId,
        null,
        "corr-1",
        "application/json",
        DeadLetterBody.FromBytes(Encoding.UTF8.GetBytes("""{"key": "half a document""")),
        new Dictionary<string, string?> { ["amqp:message_id"] = messageId, ["amqp:content_type"] = "application/json" },
        "System.Text.Json.JsonException",
        "Expected end of string.",
        null,
        1,
        clock.GetUtcNow());

    private async Task<DeadLetterCaptured> CaptureAsync(NewDeadLetter letter)
    {
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        var captured = await Store.CaptureAsync(transaction, letter, CancellationToken.None);
        await transaction.CommitAsync();
        return captured;
    }

    /// <summary>Records every message it is asked to send; fails the next sends with the exceptions it was given.</summary>
    private sealed class RecordingTransport : IQueueTransport
    {
        private readonly Queue<Exception> failures = new();

        public List<OutgoingMessage> Attempts { get; } = [];

        /// <summary>Run during each send, before it completes (e.g. a capture racing it).</summary>
        public Func<Task>? OnSend { get; set; }

        public void FailNext(Exception exception) => failures.Enqueue(exception);

        public async Task SendAsync(OutgoingMessage message, CancellationToken cancellationToken)
        {
            Attempts.Add(message);
            if (OnSend is { } during)
            {
                await during();
            }

            if (failures.TryDequeue(out var failure))
            {
                throw failure;
            }
        }
    }
}

public sealed class PostgreSqlDeadLetterOperationsTests(PostgreSqlStorageFixture fixture) : DeadLetterOperationsTests<PostgreSqlStorageFixture>(fixture);

public sealed class SqliteDeadLetterOperationsTests(SqliteStorageFixture fixture) : DeadLetterOperationsTests<SqliteStorageFixture>(fixture);

[RequiresEnvironmentVariable(SqlServerStorageFixture.Variable)]
public sealed class SqlServerDeadLetterOperationsTests(SqlServerStorageFixture fixture) : DeadLetterOperationsTests<SqlServerStorageFixture>(fixture);
