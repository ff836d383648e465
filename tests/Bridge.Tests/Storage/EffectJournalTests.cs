using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using Dapper;
using Xunit;

namespace Bridge.Tests.Storage;

/// <summary>The effect journal against each real database: its states, its one-unresolved-per-group constraint, database time.</summary>
public abstract class EffectJournalTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : StorageFixture
{
    protected TFixture Fixture { get; } = fixture;

    protected SqlEffectJournal Journal => new(Fixture.Database);

    private static EffectId Line(string payment, string line) => new("statement-line:1", $"{payment}|{line}", payment);

    public async Task InitializeAsync()
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync($"DELETE FROM {Fixture.Table("effect_journal")};");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [StoreFact]
    public async Task A_begun_effect_is_open_with_its_owner_fingerprint_and_evidence_and_sent_by_database_time()
    {
        var id = Line("P1", "A");

        Assert.NotNull(await Journal.TryBeginAsync(id, "msg-1", "fp-1", """{"status":"waiting_for_payment"}""", CancellationToken.None));

        var entry = Assert.IsType<EffectEntry>(await Journal.FindAsync(id, CancellationToken.None));
        Assert.Equal(EffectState.Sending, entry.State);
        Assert.True(entry.IsOpen);
        Assert.Equal(("msg-1", "fp-1"), (entry.OwnerKey, entry.Fingerprint));
        Assert.Equal(id, entry.Id);
        Assert.Contains("waiting_for_payment", entry.Evidence, StringComparison.Ordinal);
        Assert.True(entry.SinceSent < TimeSpan.FromMinutes(1), $"sent {entry.SinceSent} ago by the database's clock");
        var open = await Journal.FindOpenAsync(id.Scope, "P1", CancellationToken.None);
        Assert.Equal(32, entry.Attempt.Length);
        Assert.Equal(entry with { SinceSent = TimeSpan.Zero }, open! with { SinceSent = TimeSpan.Zero });
    }

    [StoreFact]
    public async Task Recording_a_send_stamps_the_clocks_before_it_for_the_next_write_of_the_work()
    {
        // The HTTP client's send deadline counts from this stamp, so a pause between the record and the request counts too.
        using (Bridge.ActivePlatform.SendDeadline.OpenScope())
        {
            var before = Bridge.ActivePlatform.SendDeadline.Stamp(TimeProvider.System);
            var attempt = await Journal.TryBeginAsync(Line("P20", "A"), "msg-1", "fp-1", null, CancellationToken.None);
            var after = Bridge.ActivePlatform.SendDeadline.Stamp(TimeProvider.System);

            var begun = Assert.IsType<Bridge.ActivePlatform.SendStamp>(Bridge.ActivePlatform.SendDeadline.TakeRecorded());
            Assert.InRange(begun.Timestamp, before.Timestamp, after.Timestamp);
            Assert.Null(Bridge.ActivePlatform.SendDeadline.TakeRecorded());

            Assert.True(await Journal.TryStampSendAsync(Line("P20", "A"), attempt!, CancellationToken.None));
            Assert.True(Bridge.ActivePlatform.SendDeadline.TakeRecorded()?.Timestamp >= after.Timestamp);
        }

        // Outside a piece of work nothing is left behind.
        Assert.NotNull(await Journal.TryBeginAsync(Line("P21", "A"), "msg-2", "fp-2", null, CancellationToken.None));
        Assert.Null(Bridge.ActivePlatform.SendDeadline.TakeRecorded());
    }

    [StoreFact]
    public async Task A_send_records_its_senders_in_flight_window_and_polling_deadline_and_a_new_attempt_its_own()
    {
        // Instances may run with different timeouts: whoever settles the send must know the sender's.
        static SqlEffectJournal With(IBridgeDatabase database, int totalSeconds, int attemptSeconds, int deadlineSeconds) => new(
            database,
            TimeProvider.System,
            Microsoft.Extensions.Options.Options.Create(new Bridge.ActivePlatform.ActivePlatformOptions
            {
                TotalTimeout = TimeSpan.FromSeconds(totalSeconds),
                AttemptTimeout = TimeSpan.FromSeconds(attemptSeconds),
                AsyncTaskPolling = new Bridge.ActivePlatform.AsyncTaskPollingOptions { Deadline = TimeSpan.FromSeconds(deadlineSeconds) },
            }));
        var id = Line("P30", "A");
        var slow = With(Fixture.Database, 600, 60, 1800);
        var attempt = await slow.TryBeginAsync(id, "msg-1", "fp-1", null, CancellationToken.None);
        var entry = Assert.IsType<EffectEntry>(await Journal.FindAsync(id, CancellationToken.None));
        Assert.Equal((TimeSpan.FromSeconds(660), TimeSpan.FromSeconds(1800)), (entry.SenderWindow, entry.SenderTaskDeadline));

        // Read by an instance with shorter timeouts, the send is judged by the larger of both.
        var fast = new Bridge.ActivePlatform.ActivePlatformOptions
        {
            TotalTimeout = TimeSpan.FromSeconds(2),
            AttemptTimeout = TimeSpan.FromSeconds(1),
            AsyncTaskPolling = new Bridge.ActivePlatform.AsyncTaskPollingOptions { Deadline = TimeSpan.FromSeconds(1) },
        };
        Assert.Equal(TimeSpan.FromSeconds(660), EffectTiming.InFlightWindow(fast, entry));
        Assert.Equal(TimeSpan.FromSeconds(2460), EffectTiming.OperatorMayResolveOpenAfter(fast, entry));
        Assert.Equal(TimeSpan.FromSeconds(2460), Bridge.Host.Features.ClosingDocuments.ClosingDocumentWrites.LostWriteWait(fast, entry));
        Assert.Equal(TimeSpan.FromSeconds(3), EffectTiming.InFlightWindow(fast));

        // Settled as not applied and sent again by another instance: the new attempt carries that instance's values.
        await slow.ResolveAsync(id, attempt!, EffectState.NotApplied, null, null, CancellationToken.None);
        Assert.NotNull(await With(Fixture.Database, 2, 1, 1).TryBeginAsync(id, "msg-2", "fp-1", null, CancellationToken.None));
        entry = Assert.IsType<EffectEntry>(await Journal.FindAsync(id, CancellationToken.None));
        Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1)), (entry.SenderWindow, entry.SenderTaskDeadline));
        Assert.Equal(TimeSpan.FromSeconds(3), EffectTiming.InFlightWindow(fast, entry));

        // Fenced by a document's claim (one statement on PostgreSQL), the same.
        var (write, document) = DocumentWrite();
        Assert.True(await Documents.TryClaimAsync("scope", document, "owner-1", Lease, CancellationToken.None));
        Assert.NotNull(await slow.TryBeginAsync(write, "msg-3", "fp-1", null, new ClaimFence("scope", document, "owner-1", Lease), CancellationToken.None));
        entry = Assert.IsType<EffectEntry>(await Journal.FindAsync(write, CancellationToken.None));
        Assert.Equal((TimeSpan.FromSeconds(660), TimeSpan.FromSeconds(1800)), (entry.SenderWindow, entry.SenderTaskDeadline));

        // A journal without settings (and an older Bridge) records none: a settling instance goes by its own.
        var bare = Line("P31", "A");
        Assert.NotNull(await Journal.TryBeginAsync(bare, "msg-4", "fp-1", null, CancellationToken.None));
        entry = Assert.IsType<EffectEntry>(await Journal.FindAsync(bare, CancellationToken.None));
        Assert.Equal((null, null), (entry.SenderWindow, entry.SenderTaskDeadline));
        Assert.Equal(TimeSpan.FromSeconds(3), EffectTiming.InFlightWindow(fast, entry));
    }

    [StoreFact]
    public async Task The_open_effect_of_a_group_and_an_effect_by_id_are_read_together_in_every_combination()
    {
        var first = Line("P9", "A");
        var second = Line("P9", "B");
        var elsewhere = Line("P10", "A");

        Assert.Equal((null, null), await Journal.FindOpenAndOwnAsync(first.Scope, "P9", first, CancellationToken.None));

        var attempt = await Journal.TryBeginAsync(first, "msg-1", "fp-1", null, CancellationToken.None);
        Assert.NotNull(attempt);

        // The own effect is the open one: both roles name it.
        var (open, own) = await Journal.FindOpenAndOwnAsync(first.Scope, "P9", first, CancellationToken.None);
        Assert.Equal((first, first), (open?.Id, own?.Id));

        // Another message's effect of the group, not journaled yet: the open one only.
        (open, own) = await Journal.FindOpenAndOwnAsync(first.Scope, "P9", second, CancellationToken.None);
        Assert.Equal((first, null), (open?.Id, own?.Id));

        // Resolved: the group has none open, and the effect by id is read with its outcome.
        await Journal.ResolveAsync(first, attempt!, EffectState.Applied, "3006", null, CancellationToken.None);
        (open, own) = await Journal.FindOpenAndOwnAsync(first.Scope, "P9", first, CancellationToken.None);
        Assert.Null(open);
        Assert.Equal((EffectState.Applied, "3006"), (own?.State, own?.ResourceId));

        // An effect of another group is not the open one of this group.
        Assert.NotNull(await Journal.TryBeginAsync(elsewhere, "msg-2", "fp-2", null, CancellationToken.None));
        (open, own) = await Journal.FindOpenAndOwnAsync(first.Scope, "P9", elsewhere, CancellationToken.None);
        Assert.Null(open);
        Assert.Equal(elsewhere, own?.Id);
    }

    [StoreFact]
    public async Task A_second_effect_of_a_group_cannot_begin_while_the_first_is_unresolved()
    {
        var first = await Journal.TryBeginAsync(Line("P2", "A"), "msg-1", "fp", null, CancellationToken.None);
        Assert.NotNull(first);

        Assert.Null(await Journal.TryBeginAsync(Line("P2", "B"), "msg-2", "fp", null, CancellationToken.None));
        Assert.Null(await Journal.FindAsync(Line("P2", "B"), CancellationToken.None));

        // Another payment is another group.
        Assert.NotNull(await Journal.TryBeginAsync(Line("P3", "B"), "msg-3", "fp", null, CancellationToken.None));

        await Journal.ResolveAsync(Line("P2", "A"), first, EffectState.Applied, "corr-1", """{"correctionId":"corr-1"}""", CancellationToken.None);
        Assert.NotNull(await Journal.TryBeginAsync(Line("P2", "B"), "msg-2", "fp", null, CancellationToken.None));
    }

    [StoreFact]
    public async Task Only_an_effect_that_did_not_happen_can_be_sent_again()
    {
        var id = Line("P4", "A");
        var first = await Journal.TryBeginAsync(id, "msg-1", "fp", null, CancellationToken.None);
        Assert.NotNull(first);
        Assert.Null(await Journal.TryBeginAsync(id, "msg-1", "fp", null, CancellationToken.None));

        await Journal.ResolveAsync(id, first, EffectState.NotApplied, null, """{"reason":"503"}""", CancellationToken.None);
        var second = await Journal.TryBeginAsync(id, "msg-2", "fp-2", null, CancellationToken.None);
        Assert.NotNull(second);
        var again = await Journal.FindAsync(id, CancellationToken.None);
        Assert.Equal((EffectState.Sending, "msg-2", "fp-2", second), (again!.State, again.OwnerKey, again.Fingerprint, again.Attempt));

        // The first attempt was settled and sent again: nothing it concludes late can overwrite the second.
        await Assert.ThrowsAsync<EffectAttemptSupersededException>(() => Journal.ResolveAsync(id, first, EffectState.Applied, "c-1", null, CancellationToken.None));
        await Journal.ResolveAsync(id, second, EffectState.Applied, "c-9", null, CancellationToken.None);
        Assert.Null(await Journal.TryBeginAsync(id, "msg-3", "fp", null, CancellationToken.None));
        await Assert.ThrowsAsync<EffectAttemptSupersededException>(() => Journal.ResolveAsync(id, second, EffectState.NotApplied, null, null, CancellationToken.None));
        Assert.Equal(("c-9", EffectState.Applied), ((await Journal.FindAsync(id, CancellationToken.None))!.ResourceId, (await Journal.FindAsync(id, CancellationToken.None))!.State));

        var unknown = Line("P4", "B");
        var attempt = await Journal.TryBeginAsync(unknown, "msg-4", "fp", null, CancellationToken.None);
        await Journal.ResolveAsync(unknown, attempt!, EffectState.Unknown, null, null, CancellationToken.None);
        Assert.Null(await Journal.TryBeginAsync(unknown, "msg-4", "fp", null, CancellationToken.None));
    }

    [StoreFact]
    public async Task An_answer_recorded_at_once_is_recorded_again_by_the_commit_but_never_changed_to_another_state()
    {
        // The answer is written in its own transaction right after ActivePlatform gave it; the message's commit writes the
        // same resolution again, and must succeed. A different conclusion about the same attempt must not.
        var id = Line("P6", "A");
        var attempt = await Journal.TryBeginAsync(id, "msg-1", "fp", null, CancellationToken.None);

        await Journal.ResolveAsync(id, attempt!, EffectState.Applied, "c-6", "{}", CancellationToken.None);
        await Journal.ResolveAsync(id, attempt!, EffectState.Applied, "c-6", "{}", CancellationToken.None);

        await Assert.ThrowsAsync<EffectAttemptSupersededException>(() => Journal.ResolveAsync(id, attempt!, EffectState.Unknown, null, null, CancellationToken.None));
        await Assert.ThrowsAsync<EffectAttemptSupersededException>(() => Journal.ResolveAsync(id, attempt!, EffectState.NotApplied, null, null, CancellationToken.None));
        var entry = await Journal.FindAsync(id, CancellationToken.None);
        Assert.Equal((EffectState.Applied, "c-6"), (entry!.State, entry.ResourceId));
    }

    [StoreFact]
    public async Task An_async_task_is_recorded_on_the_open_effect_and_kept_after_it_resolves()
    {
        var id = new EffectId("closing-document-create:1:505", "DOC-1\nmsg-1", "DOC-1");
        var attempt = await Journal.TryBeginAsync(id, "msg-1", "fp", null, CancellationToken.None);

        await Journal.SetAsyncTaskAsync(id, attempt!, "task-7", CancellationToken.None);
        var polling = await Journal.FindOpenAsync(id.Scope, "DOC-1", CancellationToken.None);
        Assert.Equal((EffectState.AsyncTask, "task-7"), (polling!.State, polling.AsyncTaskId));

        await Journal.ResolveAsync(id, attempt!, EffectState.Applied, "ext-1", null, CancellationToken.None);
        var applied = await Journal.FindAsync(id, CancellationToken.None);
        Assert.Equal((EffectState.Applied, "task-7", "ext-1"), (applied!.State, applied.AsyncTaskId, applied.ResourceId));
        Assert.Null(await Journal.FindOpenAsync(id.Scope, "DOC-1", CancellationToken.None));
        await Assert.ThrowsAsync<EffectAttemptSupersededException>(() => Journal.SetAsyncTaskAsync(id, attempt!, "task-8", CancellationToken.None));
    }

    [StoreFact]
    public async Task An_effect_an_older_bridge_sent_is_adopted_once_even_by_adopters_racing_and_is_open_since_it_was_sent()
    {
        // Four instances see the same marker at once: one row is written, the others find it there.
        var id = new EffectId("closing-document-create:1:505", "DOC-A\nold-msg", "DOC-A");
        var sentAt = DateTimeOffset.UtcNow.AddMinutes(-10);
        var adopted = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(
            () => Journal.TryAdoptAsync(id, "old-msg", null, sentAt, """{"version":"","kind":"create"}""", CancellationToken.None))));

        Assert.Single(adopted, a => a);
        var entry = await Journal.FindOpenAsync(id.Scope, "DOC-A", CancellationToken.None);
        Assert.Equal((id, EffectState.Sending, "old-msg", (string?)null), (entry!.Id, entry.State, entry.OwnerKey, entry.AsyncTaskId));
        Assert.InRange(entry.SinceSent, TimeSpan.FromMinutes(9.9), TimeSpan.FromMinutes(11));
        Assert.Equal(32, entry.Attempt.Length);

        // Seen again later (by any message): already journaled, and then settled like any open effect.
        Assert.False(await Journal.TryAdoptAsync(id, "old-msg", null, sentAt, null, CancellationToken.None));
        await Journal.ResolveAsync(id, entry.Attempt, EffectState.Applied, "ext-A", null, CancellationToken.None);
        Assert.False(await Journal.TryAdoptAsync(id, "old-msg", null, sentAt, null, CancellationToken.None));
        Assert.Equal(EffectState.Applied, (await Journal.FindAsync(id, CancellationToken.None))!.State);

        // An async task the older Bridge awaited is adopted as one.
        var task = new EffectId("closing-document-create:1:505", "DOC-B\nold-msg", "DOC-B");
        Assert.True(await Journal.TryAdoptAsync(task, "old-msg", "task-9", sentAt, null, CancellationToken.None));
        var polling = await Journal.FindOpenAsync(task.Scope, "DOC-B", CancellationToken.None);
        Assert.Equal((EffectState.AsyncTask, "task-9"), (polling!.State, polling.AsyncTaskId));
    }

    [StoreFact]
    public async Task An_effect_an_older_bridge_sent_is_adopted_only_once_its_groups_unresolved_effect_is_settled()
    {
        var scope = "closing-document-create:1:505";
        var open = new EffectId(scope, "DOC-C\nnew-msg", "DOC-C");
        var legacy = new EffectId(scope, "DOC-C\nold-msg", "DOC-C");
        var attempt = await Journal.TryBeginAsync(open, "new-msg", "", null, CancellationToken.None);

        Assert.False(await Journal.TryAdoptAsync(legacy, "old-msg", null, DateTimeOffset.UtcNow, null, CancellationToken.None));
        Assert.Null(await Journal.FindAsync(legacy, CancellationToken.None));

        await Journal.ResolveAsync(open, attempt!, EffectState.NotApplied, null, null, CancellationToken.None);
        Assert.True(await Journal.TryAdoptAsync(legacy, "old-msg", null, DateTimeOffset.UtcNow, null, CancellationToken.None));
        Assert.Equal(legacy, (await Journal.FindOpenAsync(scope, "DOC-C", CancellationToken.None))!.Id);
        Assert.Null(await Journal.TryBeginAsync(open, "new-msg", "", null, CancellationToken.None));
    }

    [StoreFact]
    public async Task Time_since_sent_is_the_databases_not_the_callers()
    {
        var id = Line("P5", "A");
        Assert.NotNull(await Journal.TryBeginAsync(id, "msg-1", "fp", null, CancellationToken.None));

        await SentTenMinutesEarlierAsync(id);

        var entry = await Journal.FindAsync(id, CancellationToken.None);
        Assert.InRange(entry!.SinceSent, TimeSpan.FromMinutes(9.9), TimeSpan.FromMinutes(11));
    }

    [StoreFact]
    public async Task A_send_stamped_before_it_leaves_counts_from_then_and_only_while_its_attempt_is_open()
    {
        var id = Line("P6", "A");
        var attempt = await Journal.TryBeginAsync(id, "msg-1", "fp", null, CancellationToken.None);

        // Begun ten minutes ago, as the database sees it; stamped now, it was sent just now.
        await SentTenMinutesEarlierAsync(id);

        Assert.True(await Journal.TryStampSendAsync(id, attempt!, CancellationToken.None));
        var stamped = Assert.IsType<EffectEntry>(await Journal.FindAsync(id, CancellationToken.None));
        Assert.True(stamped.SinceSent < TimeSpan.FromMinutes(1), $"sent {stamped.SinceSent} ago after the stamp");
        Assert.Equal((EffectState.Sending, attempt), (stamped.State, stamped.Attempt));

        // Another attempt's stamp, or one after the attempt was settled, changes nothing and says so.
        Assert.False(await Journal.TryStampSendAsync(id, "someone-else", CancellationToken.None));
        await Journal.ResolveAsync(id, attempt!, EffectState.NotApplied, null, null, CancellationToken.None);
        Assert.False(await Journal.TryStampSendAsync(id, attempt!, CancellationToken.None));
        Assert.Equal(EffectState.NotApplied, (await Journal.FindAsync(id, CancellationToken.None))!.State);
    }

    [StoreFact]
    public async Task A_read_back_closes_an_effect_as_not_applied_only_while_the_window_since_its_send_as_it_stands_has_passed()
    {
        var id = Line("P7", "A");
        var attempt = await Journal.TryBeginAsync(id, "msg-1", "fp", null, CancellationToken.None);
        await SentTenMinutesEarlierAsync(id);

        // Its sender stamped it sent just now: a read-back taken before proves nothing.
        Assert.True(await Journal.TryStampSendAsync(id, attempt!, CancellationToken.None));
        Assert.False(await Journal.TryResolveUnlandedAsync(id, attempt!, EffectState.NotApplied, null, """{"how":"unchanged"}""", TimeSpan.FromMinutes(5), CancellationToken.None));
        Assert.Equal(EffectState.Sending, (await Journal.FindAsync(id, CancellationToken.None))!.State);

        // Ten minutes on, with a five-minute window: not applied. Not again, and not for another attempt.
        await SentTenMinutesEarlierAsync(id);
        Assert.False(await Journal.TryResolveUnlandedAsync(id, "someone-else", EffectState.NotApplied, null, null, TimeSpan.FromMinutes(5), CancellationToken.None));
        Assert.True(await Journal.TryResolveUnlandedAsync(id, attempt!, EffectState.NotApplied, null, """{"how":"unchanged"}""", TimeSpan.FromMinutes(5), CancellationToken.None));
        var entry = Assert.IsType<EffectEntry>(await Journal.FindAsync(id, CancellationToken.None));
        Assert.Equal((EffectState.NotApplied, false), (entry.State, entry.IsOpen));
        Assert.Contains("unchanged", entry.Evidence, StringComparison.Ordinal);
        Assert.False(await Journal.TryResolveUnlandedAsync(id, attempt!, EffectState.NotApplied, null, null, TimeSpan.FromMinutes(5), CancellationToken.None));
    }

    /// <summary>Back-dates the effect's send by ten minutes, as the database sees it.</summary>
    private async Task SentTenMinutesEarlierAsync(EffectId id)
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        var earlier = Fixture.Dialect switch
        {
            SqlDialect.PostgreSql => "sent_at - interval '10 minutes'",
            SqlDialect.Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', sent_at, '-10 minutes')",
            _ => "DATEADD(minute, -10, sent_at)",
        };
        await connection.ExecuteAsync($"UPDATE {Fixture.Table("effect_journal")} SET sent_at = {earlier} WHERE effect_id = @Id;", new { Id = id.Hash });
    }

    protected static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    protected SqlDocumentStateStore Documents => new(Fixture.Database, TimeProvider.System);

    /// <summary>A closing document's write, in its own group (the document), claimed under <c>scope</c>.</summary>
    protected static (EffectId Id, string Document) DocumentWrite()
    {
        var document = "doc-" + Guid.NewGuid().ToString("N");
        return (new EffectId("closing-document-create:1:1", document + "\nmsg-1", document), document);
    }

    [StoreFact]
    public async Task An_effect_fenced_by_a_claim_held_all_along_is_begun_and_the_claim_renewed_with_it()
    {
        var (id, document) = DocumentWrite();
        Assert.True(await Documents.TryClaimAsync("scope", document, "owner-1", Lease, CancellationToken.None));

        // Its lease ran out and nobody took it: still held all along.
        await Fixture.AgeLeasesAsync(Lease + TimeSpan.FromSeconds(30));
        var attempt = await Journal.TryBeginAsync(id, "msg-1", "fp", """{"version":"r1"}""", new ClaimFence("scope", document, "owner-1", Lease), CancellationToken.None);

        Assert.NotNull(attempt);
        var entry = Assert.IsType<EffectEntry>(await Journal.FindAsync(id, CancellationToken.None));
        Assert.Equal((EffectState.Sending, attempt, "msg-1", "fp"), (entry.State, entry.Attempt, entry.OwnerKey, entry.Fingerprint));

        // Renewed with it: the lease runs again, so no other delivery can take the document now.
        Assert.False(await Documents.TryClaimAsync("scope", document, "owner-2", Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task An_effect_fenced_by_a_lost_claim_is_not_recorded_and_the_document_is_busy()
    {
        // A new effect, the claim taken by another delivery after this one's ran out.
        var (id, document) = DocumentWrite();
        Assert.NotNull(await Documents.ClaimAsync("scope", document, "owner-2", Lease, CancellationToken.None));
        var lost = 0;
        var fence = new ClaimFence("scope", document, "owner-1", Lease, () => lost++);

        var busy = await Assert.ThrowsAsync<DocumentBusyException>(() => Journal.TryBeginAsync(id, "msg-1", "fp", null, fence, CancellationToken.None));

        Assert.Equal(("scope", document), (busy.Scope, busy.DocumentKey));
        Assert.Equal(1, lost);
        Assert.Null(await Journal.FindAsync(id, CancellationToken.None));
        Assert.Null(await Journal.FindOpenAsync(id.Scope, id.Group, CancellationToken.None));

        // An effect that did not happen is not restarted either, and a claim given back is no more held than a taken one.
        var first = await Journal.TryBeginAsync(id, "msg-1", "fp", null, CancellationToken.None);
        await Journal.ResolveAsync(id, first!, EffectState.NotApplied, null, """{"reason":"503"}""", CancellationToken.None);
        await Documents.ReleaseAsync(null, "scope", document, "owner-2", CancellationToken.None);

        await Assert.ThrowsAsync<DocumentBusyException>(() => Journal.TryBeginAsync(id, "msg-1", "fp", null, fence, CancellationToken.None));

        var entry = Assert.IsType<EffectEntry>(await Journal.FindAsync(id, CancellationToken.None));
        Assert.Equal((EffectState.NotApplied, first), (entry.State, entry.Attempt));
        Assert.Equal(2, lost);
    }

    [StoreFact]
    public async Task A_fenced_effect_is_begun_again_only_when_it_did_not_happen()
    {
        var (id, document) = DocumentWrite();
        Assert.True(await Documents.TryClaimAsync("scope", document, "owner-1", Lease, CancellationToken.None));
        var fence = new ClaimFence("scope", document, "owner-1", Lease);
        var first = await Journal.TryBeginAsync(id, "msg-1", "fp", null, fence, CancellationToken.None);
        Assert.NotNull(first);

        // Still open: not sent a second time.
        Assert.Null(await Journal.TryBeginAsync(id, "msg-1", "fp", null, fence, CancellationToken.None));

        // It did not happen: a new attempt.
        await Journal.ResolveAsync(id, first!, EffectState.NotApplied, null, null, CancellationToken.None);
        var second = await Journal.TryBeginAsync(id, "msg-1", "fp-2", null, fence, CancellationToken.None);
        Assert.NotNull(second);
        Assert.NotEqual(first, second);
        var entry = Assert.IsType<EffectEntry>(await Journal.FindAsync(id, CancellationToken.None));
        Assert.Equal((EffectState.Sending, second, "fp-2"), (entry.State, entry.Attempt, entry.Fingerprint));

        // It happened: never again. Nor while another write of the document is unresolved.
        await Journal.ResolveAsync(id, second!, EffectState.Applied, "doc-id", null, CancellationToken.None);
        Assert.Null(await Journal.TryBeginAsync(id, "msg-1", "fp", null, fence, CancellationToken.None));
        var other = new EffectId(id.Scope, document + "\nmsg-2", document);
        Assert.NotNull(await Journal.TryBeginAsync(other, "msg-2", "fp", null, fence, CancellationToken.None));
        var third = new EffectId(id.Scope, document + "\nmsg-3", document);
        Assert.Null(await Journal.TryBeginAsync(third, "msg-3", "fp", null, fence, CancellationToken.None));
        Assert.Null(await Journal.FindAsync(third, CancellationToken.None));
    }
}

public sealed class PostgreSqlEffectJournalTests(PostgreSqlStorageFixture fixture) : EffectJournalTests<PostgreSqlStorageFixture>(fixture)
{
    /// <summary>
    /// On PostgreSQL the renewal and the write are one statement: a delivery that lost its claim writes no journal row, so it
    /// is told the document is busy even while another transaction is recording the document's next write (the claim's new
    /// holder), instead of waiting for that transaction on the one-open-write-per-document index.
    /// </summary>
    [StoreFact]
    public async Task A_lost_claim_is_the_answer_without_waiting_on_the_write_another_transaction_is_recording()
    {
        var (id, document) = DocumentWrite();
        Assert.NotNull(await Documents.ClaimAsync("scope", document, "owner-2", Lease, CancellationToken.None));

        await using var holder = await Fixture.Database.OpenAsync(CancellationToken.None);
        await using var holding = await holder.BeginTransactionAsync();
        var next = new EffectId(id.Scope, document + "\nmsg-2", document);
        Assert.Equal(1, await holder.ExecuteAsync(
            EffectJournalSql.For(SqlDialect.PostgreSql).Insert,
            new { EffectId = next.Hash, next.Scope, EffectKey = next.Key, GroupKey = next.Group, OwnerKey = "msg-2", AttemptId = "a2", Fingerprint = "", Evidence = (string?)null, SendWindowMs = (long?)null, TaskDeadlineMs = (long?)null },
            holding));

        // Bounded only so that a write stuck on the index fails the test instead of hanging it.
        await Assert.ThrowsAsync<DocumentBusyException>(
            () => Journal.TryBeginAsync(id, "msg-1", "fp", null, new ClaimFence("scope", document, "owner-1", Lease), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        await holding.RollbackAsync();
        Assert.Null(await Journal.FindAsync(id, CancellationToken.None));
    }
}

public sealed class SqliteEffectJournalTests(SqliteStorageFixture fixture) : EffectJournalTests<SqliteStorageFixture>(fixture);

[RequiresEnvironmentVariable(SqlServerStorageFixture.Variable)]
public sealed class SqlServerEffectJournalTests(SqlServerStorageFixture fixture) : EffectJournalTests<SqlServerStorageFixture>(fixture);
