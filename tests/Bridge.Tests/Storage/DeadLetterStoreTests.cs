using System.Text;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using Dapper;
using Npgsql;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Storage;

/// <summary>
/// The dead-letter store, run against each real database like the rest of the storage suite. Every test uses its own queue
/// name, and time is a <see cref="TestClock"/> so leases and retention are reached by advancing it.
/// </summary>
public abstract class DeadLetterStoreTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : StorageFixture
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    protected static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private readonly TestClock clock = new(Start);
    private readonly string queue = "bridge.test-" + Guid.NewGuid().ToString("N")[..8];

    protected TFixture Fixture => fixture;

    protected SqlDeadLetterStore Store => new(fixture.Database, clock);

    public async Task InitializeAsync()
    {
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync($"DELETE FROM {fixture.Table("dead_letter_audit")}; DELETE FROM {fixture.Table("dead_letters")};");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [StoreFact]
    public async Task Capture_stores_the_message_and_its_failure_with_a_Captured_audit_entry()
    {
        var letter = NewLetter(messageId: "m-1", erpKey: "doc-1") with
        {
            Headers = new Dictionary<string, string?> { ["message_id"] = "m-1", ["x-erp"] = "1c", ["traceparent"] = null },
            StackTrace = "   at Somewhere()",
            AttemptCount = 7,
        };

        var captured = await CaptureAsync(letter);
        var details = await Store.GetAsync(captured.Id, CancellationToken.None);

        Assert.Equal(new DeadLetterCaptured(letter.Id, 1), captured);
        Assert.NotNull(details);
        var stored = details.Letter;
        Assert.Equal(
            new DeadLetterSummary(
                letter.Id, queue, "SendClosingDocument", "m-1", "doc-1", "Bridge.ActivePlatform.ActivePlatformServerException",
                "ActivePlatform answered 503 for document 'doc-1'.", FailureCause.Group("Bridge.ActivePlatform.ActivePlatformServerException", "ActivePlatform answered {n} for document '…'."),
                7, 1, Start, Start, DeadLetterStatus.Pending, null, 0),
            stored.Summary);
        Assert.Equal("corr-1", stored.CorrelationId);
        Assert.Equal("application/json", stored.ContentType);
        Assert.Equal(letter.Body, stored.Body);
        Assert.Equal(letter.Headers, stored.Headers);
        Assert.Equal("   at Somewhere()", stored.StackTrace);
        Assert.Equal("ActivePlatform answered {n} for document '…'.", stored.NormalizedMessage);
        var audit = Assert.Single(details.Audit);
        Assert.Equal(("bridge", "Captured", "Pending", Start), (audit.Actor, audit.Action, audit.Outcome, audit.At));
        Assert.Null(await Store.GetAsync(Guid.NewGuid(), CancellationToken.None));
    }

    [StoreFact]
    public async Task A_body_that_is_not_UTF8_is_kept_as_base64_and_comes_back_byte_for_byte()
    {
        byte[] bytes = [0xff, 0xfe, 0x00, 0x41, 0xc3];
        var captured = await CaptureAsync(NewLetter(messageId: null) with { Body = DeadLetterBody.FromBytes(bytes) });

        var stored = (await Store.GetAsync(captured.Id, CancellationToken.None))!.Letter;

        Assert.Equal(DeadLetterBody.Base64, stored.Body.Encoding);
        Assert.Equal(bytes, stored.Body.ToBytes());
    }

    [StoreFact]
    public async Task The_same_message_failing_again_counts_on_its_dead_letter_and_makes_it_Pending_again()
    {
        var first = await CaptureAsync(NewLetter(messageId: "m-again") with { AttemptCount = 3 });
        Assert.True(await Store.TryClaimReplayAsync(first.Id, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        Assert.True(await Store.CompleteReplayAsync(first.Id, "replayer", new("ops", "Replay", "Replayed"), CancellationToken.None));
        clock.Advance(TimeSpan.FromMinutes(5));

        var second = await CaptureAsync(NewLetter(messageId: "m-again") with { AttemptCount = 4, ExceptionMessage = "timed out" });
        var otherQueue = await CaptureAsync(NewLetter(messageId: "m-again") with { SourceQueue = queue + "-other" });

        Assert.Equal(new DeadLetterCaptured(first.Id, 2), second);
        Assert.NotEqual(first.Id, otherQueue.Id);
        var details = (await Store.GetAsync(first.Id, CancellationToken.None))!;
        var summary = details.Letter.Summary;
        Assert.Equal((7, 2, Start, Start.AddMinutes(5)), (summary.AttemptCount, summary.FailureCount, summary.FirstFailedAt, summary.LastFailedAt));
        Assert.Equal((DeadLetterStatus.Pending, 1, "timed out"), (summary.Status, summary.ReplayCount, summary.ExceptionMessage));
        Assert.Equal(["Captured", "Replay", "FailedAgain"], details.Audit.Select(entry => entry.Action));
    }

    [StoreFact]
    public async Task Messages_without_a_message_id_are_never_merged()
    {
        var first = await CaptureAsync(NewLetter(messageId: null));
        var second = await CaptureAsync(NewLetter(messageId: null));

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(2, (await Store.QueryAsync(new DeadLetterFilter(Queue: queue), 1, 10, CancellationToken.None)).Total);
    }

    [StoreFact]
    public async Task Two_messages_sharing_one_message_id_with_different_bodies_are_two_dead_letters()
    {
        var first = NewLetter("m-shared", erpKey: "doc-1") with { Body = Utf8Body("""{"idempotencyKey":"k-1","key":"doc-1"}""") };
        var second = NewLetter("m-shared", erpKey: "doc-2") with { Body = Utf8Body("""{"idempotencyKey":"k-2","key":"doc-2"}""") };

        var a = await CaptureAsync(first);
        var b = await CaptureAsync(second);
        var aAgain = await CaptureAsync(first with { Id = Guid.NewGuid() });

        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(new DeadLetterCaptured(a.Id, 2), aAgain);
        Assert.Equal(first.Body, (await Store.GetAsync(a.Id, CancellationToken.None))!.Letter.Body);
        Assert.Equal(second.Body, (await Store.GetAsync(b.Id, CancellationToken.None))!.Letter.Body);
        Assert.Equal(2, (await Store.QueryAsync(new DeadLetterFilter(Queue: queue), 1, 10, CancellationToken.None)).Total);
    }

    [StoreFact]
    public async Task Values_a_database_refuses_are_stored_escaped_while_body_and_headers_come_back_byte_for_byte()
    {
        // PostgreSQL refuses U+0000 in text and Npgsql refuses an unpaired surrogate; the body holds a raw NUL byte.
        var body = Encoding.UTF8.GetBytes("not json \0 but a NUL: \0 and a bell \a");
        var letter = NewLetter("m\0nul", erpKey: "doc\0nul") with
        {
            CorrelationId = "corr\0",
            ContentType = "text/plain\0",
            Body = DeadLetterBody.FromBytes(body),
            Headers = new Dictionary<string, string?> { ["amqp:message_id"] = "m\0nul", ["x-\0name"] = "value\0\u001f" },
            ExceptionType = "Bridge.Poison\0Exception",
            ExceptionMessage = "Document 'doc\0nul' \ud800 refused",
            StackTrace = "   at Poison(\0)",
        };

        var captured = await CaptureAsync(letter);
        var again = await CaptureAsync(letter with { Id = Guid.NewGuid() });
        var stored = (await Store.GetAsync(captured.Id, CancellationToken.None))!;

        Assert.Equal(new DeadLetterCaptured(captured.Id, 2), again);
        Assert.Equal(body, stored.Letter.Body.ToBytes());
        Assert.Equal(letter.Headers, stored.Letter.Headers);
        var summary = stored.Letter.Summary;
        Assert.Equal(("m\\u0000nul", "doc\\u0000nul"), (summary.MessageId, summary.ErpKey));
        Assert.Equal(("corr\\u0000", "text/plain\\u0000"), (stored.Letter.CorrelationId, stored.Letter.ContentType));
        Assert.Equal(("Bridge.Poison\\u0000Exception", "Document 'doc\\u0000nul' \\ud800 refused"), (summary.ExceptionType, summary.ExceptionMessage));
        Assert.Equal("   at Poison(\\u0000)", stored.Letter.StackTrace);
        Assert.All(stored.Audit, entry => Assert.DoesNotContain('\0', entry.Detail ?? ""));
        Assert.Equal([captured.Id], (await Store.QueryAsync(new DeadLetterFilter(Queue: queue, ErpKey: "doc\0nul"), 1, 10, CancellationToken.None)).Items.Select(item => item.Id));
        Assert.Equal([captured.Id], (await Store.QueryAsync(new DeadLetterFilter(Queue: queue, Text: "m\0nul"), 1, 10, CancellationToken.None)).Items.Select(item => item.Id));
        Assert.True(await Store.DiscardAsync(captured.Id, "reason with a \0", new("ops\0", "Discard", "Discarded", "detail \0"), CancellationToken.None));
    }

    [StoreFact]
    public async Task A_replay_claim_is_judged_by_the_database_clock_not_by_the_instance_clock()
    {
        var expired = (await CaptureAsync(NewLetter("m-expired"))).Id;
        var live = (await CaptureAsync(NewLetter("m-live"))).Id;
        await StuckReplayingAsync(expired, "crashed-replayer", LongAgo);
        await StuckReplayingAsync(live, "live-replayer", FarAhead);

        // An instance whose clock runs decades behind still sees the expired claim as expired, and one whose clock runs
        // centuries ahead does not steal the live claim.
        var behind = new SqlDeadLetterStore(fixture.Database, new TestClock(new DateTimeOffset(1990, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        var ahead = new SqlDeadLetterStore(fixture.Database, new TestClock(new DateTimeOffset(3100, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.True(await behind.TryClaimReplayAsync(expired, "behind", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        Assert.False(await ahead.TryClaimReplayAsync(live, "ahead", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));

        var claimed = (await Store.GetAsync(expired, CancellationToken.None))!;
        Assert.Equal(("behind", DeadLetterStatus.Replaying), (claimed.Letter.ReplayClaimedBy, claimed.Letter.Status));
        // The new lease runs from the database's now (this machine's clock), not from the instance's 1990.
        Assert.InRange(claimed.Letter.ReplayClaimExpiresAt!.Value, DateTimeOffset.UtcNow - TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow + Lease + TimeSpan.FromMinutes(5));
        var audit = claimed.Audit.Single(entry => entry.Action == "ReplayLeaseExpired");
        Assert.Equal(("bridge", "Pending"), (audit.Actor, audit.Outcome));
        Assert.Contains("crashed-replayer", audit.Detail, StringComparison.Ordinal);
        Assert.Equal(("live-replayer", DeadLetterStatus.Replaying), ((await Store.GetAsync(live, CancellationToken.None))!.Letter.ReplayClaimedBy, (await Store.GetAsync(live, CancellationToken.None))!.Letter.Status));
    }

    [StoreFact]
    public async Task Releasing_expired_replays_makes_each_Pending_once_with_an_audit_entry_and_leaves_live_ones_alone()
    {
        var stuck = (await CaptureAsync(NewLetter("m-stuck-1"))).Id;
        var stuck2 = (await CaptureAsync(NewLetter("m-stuck-2"))).Id;
        var live = (await CaptureAsync(NewLetter("m-live"))).Id;
        var pending = (await CaptureAsync(NewLetter("m-pending"))).Id;
        await StuckReplayingAsync(stuck, "crashed-1", LongAgo);
        await StuckReplayingAsync(stuck2, "crashed-2", LongAgo);
        await StuckReplayingAsync(live, "live-replayer", FarAhead);

        var one = await Store.ReleaseExpiredReplaysAsync(stuck2, CancellationToken.None);
        var all = await Store.ReleaseExpiredReplaysAsync(null, CancellationToken.None);
        var again = await Store.ReleaseExpiredReplaysAsync(null, CancellationToken.None);

        Assert.Equal([stuck2], one);
        Assert.Equal([stuck], all);
        Assert.Empty(again);
        foreach (var (id, owner) in new[] { (stuck, "crashed-1"), (stuck2, "crashed-2") })
        {
            var details = (await Store.GetAsync(id, CancellationToken.None))!;
            Assert.Equal((DeadLetterStatus.Pending, null, null), (details.Letter.Status, details.Letter.ReplayClaimedBy, details.Letter.ReplayClaimExpiresAt));
            var audit = Assert.Single(details.Audit, entry => entry.Action == "ReplayLeaseExpired");
            Assert.Contains(owner, audit.Detail, StringComparison.Ordinal);
            Assert.Contains("2000-01-01T00:00:00", audit.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(DeadLetterStatus.Replaying, (await Store.GetAsync(live, CancellationToken.None))!.Letter.Status);
        Assert.Single((await Store.GetAsync(pending, CancellationToken.None))!.Audit);
    }

    [StoreFact]
    public async Task An_edit_stuck_past_its_lease_is_released_for_that_edit_only_and_its_audit_says_so()
    {
        const string Edit = "66666666-6666-8666-8666-666666666666";
        var edited = (await CaptureAsync(NewLetter("m-edit-stuck"))).Id;
        var replayed = (await CaptureAsync(NewLetter("m-replay-stuck"))).Id;
        Assert.True(await ClaimEditAsync(edited, "crashed-editor", Edit));
        Assert.True(await Store.TryClaimReplayAsync(replayed, "crashed-replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        await StuckReplayingAsync(edited, "crashed-editor", LongAgo);
        await StuckReplayingAsync(replayed, "crashed-replayer", LongAgo);

        Assert.Equal(2, (await Store.ReleaseExpiredReplaysAsync(null, CancellationToken.None)).Count);

        var editAudit = Assert.Single((await Store.GetAsync(edited, CancellationToken.None))!.Audit, entry => entry.Action == "ReplayLeaseExpired");
        Assert.Contains($"The edit (message {Edit}) claimed by crashed-editor", editAudit.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Replaying it again is safe", editAudit.Detail, StringComparison.Ordinal);
        var replayAudit = Assert.Single((await Store.GetAsync(replayed, CancellationToken.None))!.Audit, entry => entry.Action == "ReplayLeaseExpired");
        Assert.Contains("Replaying it again is safe", replayAudit.Detail, StringComparison.Ordinal);
        // Either may have reached the queue: only the same message goes next.
        Assert.False(await Store.TryClaimReplayAsync(edited, "bulk", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        Assert.False(await ClaimEditAsync(edited, "editor", "77777777-7777-8777-8777-777777777777"));
        Assert.True(await ClaimEditAsync(edited, "editor", Edit));
        Assert.False(await ClaimEditAsync(replayed, "editor", Edit));
        Assert.True(await Store.TryClaimReplayAsync(replayed, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
    }

    [StoreFact]
    public async Task A_replay_stuck_past_its_lease_is_discarded_and_purged_like_a_Pending_one_while_a_live_one_is_not()
    {
        var stuck = (await CaptureAsync(NewLetter("m-stuck"))).Id;
        var stuckOld = (await CaptureAsync(NewLetter("m-stuck-old"))).Id;
        var live = (await CaptureAsync(NewLetter("m-live"))).Id;
        foreach (var id in new[] { stuck, stuckOld })
        {
            await StuckReplayingAsync(id, "crashed-replayer", LongAgo);
        }

        await StuckReplayingAsync(live, "live-replayer", FarAhead);

        Assert.True(await Store.DiscardAsync(stuck, "sent by hand", new("alice", "Discard", "Discarded", "sent by hand"), CancellationToken.None));
        Assert.False(await Store.DiscardAsync(live, "sent by hand", new("alice", "Discard", "Discarded", "sent by hand"), CancellationToken.None));
        Assert.Equal(
            [("bridge", "Captured", "Pending"), ("bridge", "ReplayLeaseExpired", "Pending"), ("alice", "Discard", "Discarded")],
            (await Store.GetAsync(stuck, CancellationToken.None))!.Audit.Select(entry => (entry.Actor, entry.Action, entry.Outcome)));

        var purged = await Store.PurgeAsync(Start.AddDays(1), CancellationToken.None);

        Assert.Equal(2, purged);
        Assert.Null(await Store.GetAsync(stuckOld, CancellationToken.None));
        Assert.Equal(DeadLetterStatus.Replaying, (await Store.GetAsync(live, CancellationToken.None))!.Letter.Status);
    }

    [StoreFact]
    public async Task Concurrent_captures_of_one_message_make_one_dead_letter_counting_every_failure()
    {
        using var start = new ManualResetEventSlim();
        var captures = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await CaptureAsync(NewLetter(messageId: "m-race"));
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(captures);

        var id = Assert.Single(results.Select(result => result.Id).Distinct());
        Assert.Equal([1, 2, 3, 4, 5, 6], results.Select(result => result.FailureCount).Order());
        Assert.Equal(6, (await Store.GetAsync(id, CancellationToken.None))!.Letter.Summary.FailureCount);
    }

    [StoreFact]
    public async Task A_capture_rolled_back_with_its_transaction_leaves_nothing()
    {
        var letter = NewLetter(messageId: "m-rollback");
        await using (var connection = await fixture.Database.OpenAsync(CancellationToken.None))
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Store.CaptureAsync(transaction, letter, CancellationToken.None);
            await transaction.RollbackAsync();
        }

        Assert.Null(await Store.GetAsync(letter.Id, CancellationToken.None));
    }

    [StoreFact]
    public async Task Query_filters_by_every_criterion_and_pages_newest_first()
    {
        var a = await CaptureAsync(NewLetter("m-a", erpKey: "doc-a") with { MessageType = "DeleteClosingDocument" });
        clock.Advance(TimeSpan.FromHours(1));
        var b = await CaptureAsync(NewLetter("m-b", erpKey: "doc-b") with { ExceptionType = "System.Text.Json.JsonException", ExceptionMessage = "100% _wrong_ JSON" });
        clock.Advance(TimeSpan.FromHours(1));
        var c = await CaptureAsync(NewLetter("m-c", erpKey: "doc-c") with { Body = DeadLetterBody.FromBytes("{\"note\":\"Needle in the BODY\"}"u8) });
        await Store.DiscardAsync(c.Id, "not needed", new("ops", "Discard", "Discarded"), CancellationToken.None);

        async Task<List<Guid>> Ids(DeadLetterFilter filter) =>
            (await Store.QueryAsync(filter with { Queue = queue }, 1, 50, CancellationToken.None)).Items.Select(item => item.Id).ToList();

        Assert.Equal([c.Id, b.Id, a.Id], await Ids(new()));
        Assert.Equal([a.Id], await Ids(new(MessageType: "DeleteClosingDocument")));
        Assert.Equal([b.Id], await Ids(new(ErpKey: "doc-b")));
        Assert.Equal([b.Id], await Ids(new(ExceptionType: "System.Text.Json.JsonException")));
        Assert.Equal([c.Id], await Ids(new(Status: DeadLetterStatus.Discarded)));
        Assert.Equal([b.Id, a.Id], await Ids(new(Status: DeadLetterStatus.Pending)));
        Assert.Equal([c.Id], await Ids(new(Text: "needle in the body")));
        Assert.Equal([b.Id], await Ids(new(Text: "100% _wrong_")));
        Assert.Empty(await Ids(new(Text: "100%x")));
        Assert.Equal([b.Id], await Ids(new(Text: "m-b")));
        Assert.Equal([b.Id], await Ids(new(From: Start.AddMinutes(30), To: Start.AddMinutes(90))));
        Assert.Equal([b.Id], await Ids(new(FailureGroup: (await Store.GetAsync(b.Id, CancellationToken.None))!.Letter.Summary.FailureGroup)));
        Assert.Empty((await Store.QueryAsync(new DeadLetterFilter(Queue: queue + "-nowhere"), 1, 50, CancellationToken.None)).Items);

        var page2 = await Store.QueryAsync(new DeadLetterFilter(Queue: queue), 2, 2, CancellationToken.None);
        Assert.Equal((3L, 2, 2), (page2.Total, page2.Page, page2.PageSize));
        Assert.Equal([a.Id], page2.Items.Select(item => item.Id));
    }

    [StoreFact]
    public async Task Groups_count_failures_by_type_and_normalised_message()
    {
        await CaptureAsync(NewLetter("m-1") with { ExceptionMessage = "Document 'a' busy after 3 tries" });
        clock.Advance(TimeSpan.FromMinutes(1));
        await CaptureAsync(NewLetter("m-2") with { ExceptionMessage = "Document 'b' busy after 4 tries" });
        clock.Advance(TimeSpan.FromMinutes(1));
        await CaptureAsync(NewLetter("m-3") with { ExceptionType = "System.Text.Json.JsonException", ExceptionMessage = "bad" });

        var groups = await Store.GroupsAsync(new DeadLetterFilter(Queue: queue), CancellationToken.None);

        Assert.Equal(2, groups.Count);
        Assert.Equal(
            new DeadLetterGroup(
                FailureCause.Group("Bridge.ActivePlatform.ActivePlatformServerException", "Document '…' busy after {n} tries"),
                "Bridge.ActivePlatform.ActivePlatformServerException", "Document '…' busy after {n} tries", 2, Start, Start.AddMinutes(1)),
            groups[0]);
        Assert.Equal(("System.Text.Json.JsonException", 1L), (groups[1].ExceptionType, groups[1].Count));
    }

    [StoreFact]
    public async Task Of_concurrent_replay_claims_exactly_one_wins_and_an_expired_claim_can_be_taken_over()
    {
        var id = (await CaptureAsync(NewLetter("m-claim"))).Id;
        using var start = new ManualResetEventSlim();
        var claims = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await Store.TryClaimReplayAsync(id, $"replayer-{i}", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None);
        })).ToList();
        start.Set();

        Assert.Single(await Task.WhenAll(claims), won => won);
        Assert.False(await Store.TryClaimReplayAsync(id, "late", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        // The winner died without recording: its claim, as the database's clock sees it, has run out.
        var winner = (await Store.GetAsync(id, CancellationToken.None))!.Letter.ReplayClaimedBy!;
        await StuckReplayingAsync(id, winner, LongAgo);
        Assert.True(await Store.TryClaimReplayAsync(id, "after-crash", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        Assert.False(await Store.CompleteReplayAsync(id, winner, new("ops", "Replay", "Replayed"), CancellationToken.None));
        Assert.True(await Store.CompleteReplayAsync(id, "after-crash", new("ops", "Replay", "Replayed"), CancellationToken.None));
        Assert.False(await Store.TryClaimReplayAsync(id, "again", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));

        var details = (await Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal((DeadLetterStatus.Replayed, 1), (details.Letter.Status, details.Letter.Summary.ReplayCount));
        Assert.Equal(["Captured", "ReplayLeaseExpired", "Replay"], details.Audit.Select(entry => entry.Action));
    }

    [StoreFact]
    public async Task A_released_claim_makes_the_dead_letter_Pending_again()
    {
        var id = (await CaptureAsync(NewLetter("m-release"))).Id;
        Assert.True(await Store.TryClaimReplayAsync(id, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));

        Assert.True(await Store.ReleaseReplayAsync(id, "replayer", new("ops", "Replay", "Failed: broker unreachable"), CancellationToken.None));

        Assert.Equal(DeadLetterStatus.Pending, (await Store.GetAsync(id, CancellationToken.None))!.Letter.Status);
        Assert.True(await Store.TryClaimReplayAsync(id, "other", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
    }

    [StoreFact]
    public async Task Discard_and_restore_follow_the_status_rules_and_are_audited_in_order()
    {
        var id = (await CaptureAsync(NewLetter("m-discard"))).Id;

        Assert.True(await Store.DiscardAsync(id, "duplicate of INV-7", new("alice", "Discard", "Discarded", "duplicate of INV-7"), CancellationToken.None));
        Assert.False(await Store.DiscardAsync(id, "again", new("alice", "Discard", "Discarded"), CancellationToken.None));
        Assert.False(await Store.TryClaimReplayAsync(id, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        var discarded = (await Store.GetAsync(id, CancellationToken.None))!.Letter;
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Store.RestoreAsync(id, new("bob", "Restore", "Pending"), CancellationToken.None));
        Assert.False(await Store.RestoreAsync(id, new("bob", "Restore", "Pending"), CancellationToken.None));
        Assert.True(await Store.TryClaimReplayAsync(id, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        Assert.False(await Store.DiscardAsync(id, "while replaying", new("alice", "Discard", "Discarded"), CancellationToken.None));
        await Store.AuditAsync(id, new("alice", "Discard", "Refused: Replaying"), CancellationToken.None);

        var details = (await Store.GetAsync(id, CancellationToken.None))!;
        Assert.Equal((DeadLetterStatus.Discarded, "duplicate of INV-7"), (discarded.Status, discarded.Summary.StatusReason));
        Assert.Equal(
            [("bridge", "Captured", "Pending"), ("alice", "Discard", "Discarded"), ("bob", "Restore", "Pending"), ("alice", "Discard", "Refused: Replaying")],
            details.Audit.Select(entry => (entry.Actor, entry.Action, entry.Outcome)));
        Assert.Equal(Start.AddSeconds(1), details.Audit[2].At);
        Assert.Null(details.Letter.Summary.StatusReason);
    }

    [StoreFact]
    public async Task The_original_of_an_edited_message_is_archived_only_by_its_claimer()
    {
        var id = (await CaptureAsync(NewLetter("m-edit"))).Id;
        Assert.True(await ClaimEditAsync(id, "editor", "44444444-4444-8444-8444-444444444444"));

        Assert.False(await Store.CompleteEditAsync(id, "someone-else", "edited", new("ops", "EditAndReplay", "Discarded"), CancellationToken.None));
        Assert.True(await Store.CompleteEditAsync(id, "editor", "replaced by message m-new", new("ops", "EditAndReplay", "Discarded"), CancellationToken.None));

        var letter = (await Store.GetAsync(id, CancellationToken.None))!.Letter;
        Assert.Equal((DeadLetterStatus.Discarded, "replaced by message m-new", 1), (letter.Status, letter.Summary.StatusReason, letter.Summary.ReplayCount));
    }

    [StoreFact]
    public async Task A_discarded_message_failing_again_counts_on_its_dead_letter_and_stays_Discarded()
    {
        // The operator discarded it ("sent by hand"): another copy failing must not make it Pending again, where a bulk
        // replay would send it — a second top-up.
        var first = await CaptureAsync(NewLetter(messageId: "m-discarded"));
        Assert.True(await Store.DiscardAsync(first.Id, "sent by hand", new("alice", "Discard", "Discarded", "sent by hand"), CancellationToken.None));
        clock.Advance(TimeSpan.FromMinutes(5));

        var again = await CaptureAsync(NewLetter(messageId: "m-discarded") with { ExceptionMessage = "failed once more" });

        Assert.Equal((first.Id, 2), (again.Id, again.FailureCount));
        var details = (await Store.GetAsync(first.Id, CancellationToken.None))!;
        Assert.Equal((DeadLetterStatus.Discarded, "sent by hand", 2), (details.Letter.Status, details.Letter.Summary.StatusReason, details.Letter.Summary.FailureCount));
        Assert.Equal(("FailedAgain", "Discarded"), (details.Audit[^1].Action, details.Audit[^1].Outcome));
        Assert.Contains("stays Discarded", details.Audit[^1].Detail, StringComparison.Ordinal);
    }

    [StoreFact]
    public async Task The_original_of_an_edited_message_cannot_be_restored_and_stays_archived_when_it_fails_again()
    {
        // Restored and replayed, the original would be applied next to its edited copy.
        var id = (await CaptureAsync(NewLetter("m-edited"))).Id;
        Assert.True(await ClaimEditAsync(id, "editor", "55555555-5555-8555-8555-555555555555"));
        Assert.True(await Store.CompleteEditAsync(id, "editor", "Edited and replayed as message 55555555-5555-8555-8555-555555555555.", new("ops", "EditAndReplay", "Discarded", "new message 55555555-5555-8555-8555-555555555555"), CancellationToken.None));

        await CaptureAsync(NewLetter("m-edited"));

        Assert.Equal(DeadLetterStatus.Discarded, (await Store.GetAsync(id, CancellationToken.None))!.Letter.Status);
        Assert.False(await Store.RestoreAsync(id, new("bob", "Restore", "Pending"), CancellationToken.None));
        Assert.Equal(DeadLetterStatus.Discarded, (await Store.GetAsync(id, CancellationToken.None))!.Letter.Status);
    }

    [StoreFact]
    public async Task Purge_deletes_only_dead_letters_old_enough_and_not_being_replayed_with_their_audit()
    {
        var old = (await CaptureAsync(NewLetter("m-old"))).Id;
        var oldReplaying = (await CaptureAsync(NewLetter("m-old-replaying"))).Id;
        Assert.True(await Store.TryClaimReplayAsync(oldReplaying, "replayer", TimeSpan.FromDays(30), Guid.NewGuid().ToString("D"), CancellationToken.None));
        clock.Advance(TimeSpan.FromDays(10));
        var recent = (await CaptureAsync(NewLetter("m-recent"))).Id;

        var purged = await Store.PurgeAsync(Start.AddDays(1), CancellationToken.None);

        Assert.Equal(1, purged);
        Assert.Null(await Store.GetAsync(old, CancellationToken.None));
        Assert.NotNull(await Store.GetAsync(oldReplaying, CancellationToken.None));
        Assert.NotNull(await Store.GetAsync(recent, CancellationToken.None));
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            $"SELECT COUNT(*) FROM {fixture.Table("dead_letter_audit")} WHERE dead_letter_id = @Id;", new { Id = fixture.IdParameter(old) }));
    }

    [StoreFact]
    public async Task Purge_keeps_a_letter_whose_edit_may_be_in_the_queue_or_whose_original_a_replay_sent_within_retention()
    {
        // Deleted, such a letter would come back as a fresh Pending one when the original fails again: a bulk replay would
        // send it beside the edit, or an edit be sent beside a replayed copy still in the queue.
        var unsettled = (await CaptureAsync(NewLetter("m-unsettled-edit"))).Id;
        Assert.True(await ClaimEditAsync(unsettled, "editor", "11111111-1111-8111-8111-111111111111"));
        Assert.True(await Store.ReleaseReplayAsync(unsettled, "editor", new("ops", "EditAndReplay", "Failed: TimeoutException"), CancellationToken.None));
        var settled = (await CaptureAsync(NewLetter("m-settled-edit"))).Id;
        Assert.True(await ClaimEditAsync(settled, "editor", "22222222-2222-8222-8222-222222222222"));
        Assert.True(await Store.CompleteEditAsync(settled, "editor", "Edited and replayed as message 22222222-2222-8222-8222-222222222222.", new("ops", "EditAndReplay", "Discarded"), CancellationToken.None));
        var replayedLately = (await CaptureAsync(NewLetter("m-replayed-lately"))).Id;
        Assert.True(await Store.TryClaimReplayAsync(replayedLately, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        Assert.True(await Store.CompleteReplayAsync(replayedLately, "replayer", new("ops", "Replay", "Replayed"), CancellationToken.None));
        var replayedLongAgo = (await CaptureAsync(NewLetter("m-replayed-long-ago"))).Id;
        Assert.True(await Store.TryClaimReplayAsync(replayedLongAgo, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        Assert.True(await Store.ReleaseReplayAsync(replayedLongAgo, "replayer", new("ops", "Replay", "Failed: TimeoutException"), CancellationToken.None));
        await SetOriginalSentAtAsync(replayedLongAgo, LongAgo);
        clock.Advance(TimeSpan.FromDays(10));

        var purged = await Store.PurgeAsync(Start.AddDays(1), CancellationToken.None);

        Assert.Equal(2, purged);
        Assert.Null(await Store.GetAsync(settled, CancellationToken.None));
        Assert.Null(await Store.GetAsync(replayedLongAgo, CancellationToken.None));
        Assert.Equal(DeadLetterStatus.Pending, (await Store.GetAsync(unsettled, CancellationToken.None))!.Letter.Status);
        Assert.Equal(DeadLetterStatus.Replayed, (await Store.GetAsync(replayedLately, CancellationToken.None))!.Letter.Status);
        // The original failing again still lands on its letter, which a replay does not take.
        Assert.Equal(unsettled, (await CaptureAsync(NewLetter("m-unsettled-edit"))).Id);
        Assert.False(await Store.TryClaimReplayAsync(unsettled, "bulk", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
    }

    [StoreFact]
    public async Task A_letter_holds_its_key_and_begin_and_claim_reads_it_with_the_copy_it_counts_and_whether_it_was_edited()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        var records = new SqlIdempotencyStore(fixture.Database, clock);
        Task<BeginAndClaim> BeginAsync(string? copy, string messageType = "SendClosingDocument") =>
            records.BeginAndClaimAsync(key, messageType, "fp", "scope", "doc-" + Guid.NewGuid().ToString("N"), "owner-" + Guid.NewGuid().ToString("N"), Lease, copy, CancellationToken.None);

        Assert.Empty((await BeginAsync(null)).HoldingLetters);

        // Captured without a key (a Bridge older than version 16), the letter holds nothing; failing again, it takes its key.
        var letter = NewLetter("m-held");
        var id = (await CaptureAsync(letter)).Id;
        Assert.Empty((await BeginAsync(null)).HoldingLetters);
        Assert.Equal(id, (await CaptureAsync(letter with { Id = Guid.NewGuid(), IdempotencyKey = key })).Id);
        Assert.Equal([new HoldingLetter(id, CountsCopy: false, Edited: false)], (await BeginAsync(null)).HoldingLetters);
        Assert.Empty((await BeginAsync(null, messageType: "DeleteClosingDocument")).HoldingLetters);

        // A replay's claim counts its copy until a capture of that copy takes it back.
        var copy = Guid.NewGuid().ToString("D");
        Assert.True(await Store.TryClaimReplayAsync(id, "replayer", Lease, copy, CancellationToken.None));
        Assert.Equal([new HoldingLetter(id, CountsCopy: true, Edited: false)], (await BeginAsync(copy)).HoldingLetters);
        Assert.Equal([new HoldingLetter(id, CountsCopy: false, Edited: false)], (await BeginAsync(Guid.NewGuid().ToString("D"))).HoldingLetters);
        await Store.CompleteReplayAsync(id, "replayer", new("ops", "Replay", "Replayed"), CancellationToken.None);
        await CaptureAsync(letter with
        {
            Id = Guid.NewGuid(),
            IdempotencyKey = key,
            Headers = new Dictionary<string, string?>(letter.Headers) { [NewDeadLetter.ReplayOfHeader] = id.ToString("D"), [NewDeadLetter.ReplayCopyHeader] = copy },
        });
        Assert.Equal([new HoldingLetter(id, CountsCopy: false, Edited: false)], (await BeginAsync(copy)).HoldingLetters);

        // Another message under the key is a letter of its own (listed after: it failed later); an edit of one is seen.
        clock.Advance(TimeSpan.FromSeconds(1));
        var other = (await CaptureAsync(NewLetter("m-held-2") with { IdempotencyKey = key })).Id;
        Assert.True(await ClaimEditAsync(id, "editor", Guid.NewGuid().ToString("D")));
        Assert.Equal(
            [new HoldingLetter(id, CountsCopy: false, Edited: true), new HoldingLetter(other, CountsCopy: false, Edited: false)],
            (await BeginAsync(null)).HoldingLetters);
    }

    [StoreFact]
    public async Task Past_twenty_letters_of_one_key_the_edited_one_and_the_one_counting_the_copy_are_read_first()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        var letters = new List<Guid>();
        for (var i = 0; i < 22; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            letters.Add((await CaptureAsync(NewLetter($"m-many-{i}") with { IdempotencyKey = key })).Id);
        }

        var copy = Guid.NewGuid().ToString("D");
        Assert.True(await Store.TryClaimReplayAsync(letters[20], "replayer", Lease, copy, CancellationToken.None));
        var records = new SqlIdempotencyStore(fixture.Database, clock);
        Task<BeginAndClaim> BeginAsync() =>
            records.BeginAndClaimAsync(key, "SendClosingDocument", "fp", "scope", "doc-" + Guid.NewGuid().ToString("N"), "owner-" + Guid.NewGuid().ToString("N"), Lease, copy, CancellationToken.None);

        var counted = (await BeginAsync()).HoldingLetters;
        Assert.Equal(20, counted.Count);
        Assert.Equal(new HoldingLetter(letters[20], CountsCopy: true, Edited: false), counted[0]);

        // An edit beside a counted copy: its claim refuses it now, but two claims racing on two letters may still leave it.
        await using (var connection = await fixture.Database.OpenAsync(CancellationToken.None))
        {
            Assert.Equal(1, await connection.ExecuteAsync(
                $"UPDATE {fixture.Table("dead_letters")} SET edit_message_id = @Edit WHERE id = @Id;",
                new { Edit = Guid.NewGuid().ToString("D"), Id = fixture.IdParameter(letters[21]) }));
        }

        var edited = (await BeginAsync()).HoldingLetters;
        Assert.Equal(
            [new HoldingLetter(letters[21], CountsCopy: false, Edited: true), new HoldingLetter(letters[20], CountsCopy: true, Edited: false), new HoldingLetter(letters[0], CountsCopy: false, Edited: false)],
            edited.Take(3));
    }

    [StoreFact]
    public async Task Two_letters_of_one_key_are_one_message_a_replay_of_one_keeps_the_other_from_an_edit_and_an_edit_of_one_keeps_the_other_from_a_replay()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        var first = (await CaptureAsync(NewLetter("m-key-1") with { IdempotencyKey = key })).Id;
        var second = (await CaptureAsync(NewLetter("m-key-2") with { IdempotencyKey = key })).Id;
        var elsewhere = (await CaptureAsync(NewLetter("m-key-3") with { IdempotencyKey = key, MessageType = "DeleteClosingDocument" })).Id;

        var copy = Guid.NewGuid().ToString("D");
        Assert.True(await Store.TryClaimReplayAsync(first, "replayer", Lease, copy, CancellationToken.None));
        await Store.CompleteReplayAsync(first, "replayer", new("ops", "Replay", "Replayed"), CancellationToken.None);
        Assert.False(await ClaimEditAsync(second, "editor", Guid.NewGuid().ToString("D")));

        // Its copy captured failing again, the first counts nothing: the second may be edited, and then neither is replayed.
        var firstLetter = NewLetter("m-key-1") with { IdempotencyKey = key };
        Assert.Equal(first, (await CaptureAsync(firstLetter with
        {
            Id = Guid.NewGuid(),
            Headers = new Dictionary<string, string?>(firstLetter.Headers) { [NewDeadLetter.ReplayOfHeader] = first.ToString("D"), [NewDeadLetter.ReplayCopyHeader] = copy },
        })).Id);
        Assert.True(await ClaimEditAsync(second, "editor", Guid.NewGuid().ToString("D")));
        Assert.False(await Store.TryClaimReplayAsync(first, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
        Assert.False(await ClaimEditAsync(first, "editor", Guid.NewGuid().ToString("D")));

        // Another message type under the key is another message.
        Assert.True(await Store.TryClaimReplayAsync(elsewhere, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));
    }

    [StoreFact]
    public async Task A_letter_whose_key_another_delivery_completed_is_not_edited()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        var id = (await CaptureAsync(NewLetter("m-completed") with { IdempotencyKey = key })).Id;
        await CompletedRecordAsync(key, "SendClosingDocument");

        Assert.False(await ClaimEditAsync(id, "editor", Guid.NewGuid().ToString("D")));
        Assert.True(await Store.TryClaimReplayAsync(id, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));

        // The key completed by a message of another type answers nothing of this one (it would be a conflict).
        var otherKey = "k-" + Guid.NewGuid().ToString("N");
        var other = (await CaptureAsync(NewLetter("m-completed-other") with { IdempotencyKey = otherKey })).Id;
        await CompletedRecordAsync(otherKey, "DeleteClosingDocument");

        Assert.True(await ClaimEditAsync(other, "editor", Guid.NewGuid().ToString("D")));
    }

    [StoreFact]
    public async Task Purge_keeps_a_letter_holding_a_key_that_an_edit_replaced_or_an_operator_discarded_until_a_delivery_of_the_key_is_answered()
    {
        var (editedKey, discardedKey, pendingKey) = ("k-e-" + Guid.NewGuid().ToString("N"), "k-d-" + Guid.NewGuid().ToString("N"), "k-p-" + Guid.NewGuid().ToString("N"));
        var edited = (await CaptureAsync(NewLetter("m-purge-edited") with { IdempotencyKey = editedKey })).Id;
        var discarded = (await CaptureAsync(NewLetter("m-purge-discarded") with { IdempotencyKey = discardedKey })).Id;
        var pending = (await CaptureAsync(NewLetter("m-purge-pending") with { IdempotencyKey = pendingKey })).Id;
        var keyless = (await CaptureAsync(NewLetter("m-purge-keyless"))).Id;
        var edit = Guid.NewGuid().ToString("D");
        Assert.True(await ClaimEditAsync(edited, "editor", edit));
        Assert.True(await Store.CompleteEditAsync(edited, "editor", $"Edited and replayed as message {edit}.", new("ops", "EditAndReplay", "Discarded", $"new message {edit}"), CancellationToken.None));
        Assert.True(await Store.DiscardAsync(discarded, "entered by hand", new("ops", "Discard", "Discarded"), CancellationToken.None));
        clock.Advance(TimeSpan.FromDays(30));

        Assert.Equal(2, await Store.PurgeAsync(Start.AddDays(1), CancellationToken.None));
        Assert.NotNull(await Store.GetAsync(edited, CancellationToken.None));
        Assert.NotNull(await Store.GetAsync(discarded, CancellationToken.None));
        Assert.Null(await Store.GetAsync(pending, CancellationToken.None));
        Assert.Null(await Store.GetAsync(keyless, CancellationToken.None));

        // Once a delivery of its key was answered, the letter holds nothing more and goes.
        await CompletedRecordAsync(discardedKey, "SendClosingDocument");

        Assert.Equal(1, await Store.PurgeAsync(Start.AddDays(1), CancellationToken.None));
        Assert.Null(await Store.GetAsync(discarded, CancellationToken.None));
        Assert.NotNull(await Store.GetAsync(edited, CancellationToken.None));
    }

    [StoreFact]
    public async Task Letters_from_before_version_16_are_given_their_key_from_the_body_or_the_message_id_past_a_page_of_a_hundred()
    {
        var explicitKey = "k-" + Guid.NewGuid().ToString("N");
        var messageId = "m-" + Guid.NewGuid().ToString("N");
        var fromBody = (await CaptureAsync(NewLetter("m-body") with { Body = Utf8Body($$"""{"idempotencyKey":" {{explicitKey}} ","key":"doc-1"}""") })).Id;
        var fromMessageId = (await CaptureAsync(NewLetter(messageId) with
        {
            Headers = new Dictionary<string, string?> { ["amqp:message_id"] = messageId },
        })).Id;
        for (var i = 0; i < 100; i++)
        {
            await CaptureAsync(NewLetter(null));
        }

        var backfill = new Bridge.Host.DeadLetters.Retention.DeadLetterKeyBackfill(Store, Microsoft.Extensions.Logging.Abstractions.NullLogger<Bridge.Host.DeadLetters.Retention.DeadLetterKeyBackfill>.Instance);
        var records = new SqlIdempotencyStore(fixture.Database, clock);
        async Task<IReadOnlyList<HoldingLetter>> HoldingAsync(string key) =>
            (await records.BeginAndClaimAsync(key, "SendClosingDocument", "fp", "scope", "doc-" + Guid.NewGuid().ToString("N"), "owner", Lease, null, CancellationToken.None)).HoldingLetters;
        Assert.Empty(await HoldingAsync(explicitKey));

        Assert.True(await backfill.RunAsync(CancellationToken.None) >= 2);

        Assert.Equal([fromBody], (await HoldingAsync(explicitKey)).Select(letter => letter.Id));
        Assert.Equal([fromMessageId], (await HoldingAsync(messageId)).Select(letter => letter.Id));
        Assert.Equal(0, await backfill.RunAsync(CancellationToken.None));
    }

    [StoreFact]
    public async Task A_copy_without_a_message_id_captured_as_a_letter_of_its_own_is_taken_off_its_letters_count()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        var original = NewLetter(null) with { IdempotencyKey = key, Headers = new Dictionary<string, string?>() };
        var first = (await CaptureAsync(original)).Id;
        var copy = Guid.NewGuid().ToString("D");
        Assert.True(await Store.TryClaimReplayAsync(first, "replayer", Lease, copy, CancellationToken.None));
        await Store.CompleteReplayAsync(first, "replayer", new("ops", "Replay", "Replayed"), CancellationToken.None);

        var second = (await CaptureAsync(original with
        {
            Id = Guid.NewGuid(),
            Headers = new Dictionary<string, string?> { [NewDeadLetter.ReplayOfHeader] = first.ToString("D"), [NewDeadLetter.ReplayCopyHeader] = copy },
        })).Id;

        Assert.NotEqual(first, second);
        Assert.Null((await Store.GetAsync(first, CancellationToken.None))!.Letter.OriginalSentAt);
        // Nothing of the key may be in the queue: the new letter can be edited.
        Assert.True(await ClaimEditAsync(second, "editor", Guid.NewGuid().ToString("D")));
    }

    [StoreFact]
    public async Task Counts_by_status_cover_every_status()
    {
        var a = (await CaptureAsync(NewLetter("m-1"))).Id;
        await CaptureAsync(NewLetter("m-2"));
        await Store.DiscardAsync(a, "no", new("ops", "Discard", "Discarded"), CancellationToken.None);

        var counts = await Store.CountByStatusAsync(CancellationToken.None);

        Assert.Equal(1, counts[DeadLetterStatus.Pending]);
        Assert.Equal(1, counts[DeadLetterStatus.Discarded]);
        Assert.Equal(0, counts[DeadLetterStatus.Replaying]);
        Assert.Equal(0, counts[DeadLetterStatus.Replayed]);
    }

    /// <summary>
    /// A delivery that began before its message's letter was captured (the ERP's own duplicate, waiting for the document while
    /// the failing delivery's retries ran) read no letter when it began; the operator's edit is claimed while it works. Its
    /// effect's begin — fenced by a document claim or not — is refused and records nothing, so nothing is sent beside the edit
    /// (helper-75 #2; before storage version 17 both the edit and the begin went through).
    /// </summary>
    [StoreFact]
    public async Task An_edit_holds_its_key_against_a_delivery_begun_before_the_capture_whose_effect_is_then_never_begun()
    {
        foreach (var fenced in new[] { false, true })
        {
            var key = "k-" + Guid.NewGuid().ToString("N");
            await BegunRecordAsync(key);
            var id = (await CaptureAsync(NewLetter("m-" + key) with { IdempotencyKey = key })).Id;
            Assert.True(await ClaimEditAsync(id, "bob", Guid.NewGuid().ToString("D")));

            var (effect, document) = KeyEffect(key);
            ClaimFence? fence = null;
            if (fenced)
            {
                Assert.True(await Documents.TryClaimAsync("scope", document, "owner-1", Lease, CancellationToken.None));
                fence = new ClaimFence("scope", document, "owner-1", Lease);
            }

            var held = await Assert.ThrowsAsync<HeldByDeadLetterException>(() => Journal.TryBeginAsync(effect, key, "fp", null, fence, CancellationToken.None));

            Assert.Equal((id, key), (held.DeadLetterId, held.IdempotencyKey));
            Assert.Contains("edited and replayed", held.Message, StringComparison.Ordinal);
            Assert.Null(await Journal.FindAsync(effect, CancellationToken.None));
        }
    }

    /// <summary>
    /// Once an effect of a letter's key was begun — its delivery may be sending it right now, or it was applied, or nobody can
    /// tell — an edit could be a second effect: refused, and the key's holders name the effect. Settled as not applied, the
    /// edit is claimed (and then holds the key against the effect being sent again).
    /// </summary>
    [StoreFact]
    public async Task An_edit_is_refused_while_an_effect_of_its_key_was_sent_applied_or_unknown_and_claimed_once_it_did_not_happen()
    {
        foreach (var state in new EffectState?[] { null, EffectState.Applied, EffectState.Unknown, EffectState.NotApplied })
        {
            var key = "k-" + Guid.NewGuid().ToString("N");
            await BegunRecordAsync(key);
            var (effect, _) = KeyEffect(key);
            var attempt = Assert.IsType<string>(await Journal.TryBeginAsync(effect, key, "fp", null, CancellationToken.None));
            if (state is { } settled)
            {
                await Journal.ResolveAsync(effect, attempt, settled, null, null, CancellationToken.None);
            }

            var id = (await CaptureAsync(NewLetter("m-" + key) with { IdempotencyKey = key })).Id;

            var claimed = await ClaimEditAsync(id, "bob", Guid.NewGuid().ToString("D"));

            var holders = await Store.KeyHoldersAsync(id, CancellationToken.None);
            if (state == EffectState.NotApplied)
            {
                Assert.True(claimed, "an edit refused although its key's only effect did not happen");
                Assert.Null(holders.Effect);
                await Assert.ThrowsAsync<HeldByDeadLetterException>(() => Journal.TryBeginAsync(effect, key, "fp", null, CancellationToken.None));
                Assert.Equal(EffectState.NotApplied, (await Journal.FindAsync(effect, CancellationToken.None))!.State);
            }
            else
            {
                Assert.False(claimed, $"an edit claimed beside an effect {state?.ToString() ?? "Sending"}");
                Assert.Null(await new SqlIdempotencyStore(fixture.Database, clock).FindEditHoldAsync(key, CancellationToken.None));
                Assert.Equal(new KeyEffect(effect.Hash, (state ?? EffectState.Sending).ToString()), holders.Effect);
                Assert.Equal(DeadLetterStatus.Pending, (await Store.GetAsync(id, CancellationToken.None))!.Letter.Status);
            }
        }
    }

    /// <summary>
    /// A call that journals nothing (an invoice's or a correction's status change, a notification run) stamps its record right
    /// before it is sent: once an edit holds the key the stamp is refused, and nothing is sent; once stamped, the edit is
    /// refused — the call's outcome cannot be told. A refused claim leaves no hold behind.
    /// </summary>
    [StoreFact]
    public async Task A_call_that_journals_nothing_and_an_edit_of_its_key_exclude_each_other_and_a_refused_claim_leaves_no_hold()
    {
        var records = new SqlIdempotencyStore(fixture.Database, clock);

        var edited = "k-" + Guid.NewGuid().ToString("N");
        await BegunRecordAsync(edited);
        var first = (await CaptureAsync(NewLetter("m-" + edited) with { IdempotencyKey = edited })).Id;
        Assert.True(await ClaimEditAsync(first, "bob", Guid.NewGuid().ToString("D")));
        Assert.False(await records.TryMarkUnjournaledSendAsync(edited, CancellationToken.None));
        Assert.Equal(first, (await records.FindEditHoldAsync(edited, CancellationToken.None))!.LetterId);

        var sent = "k-" + Guid.NewGuid().ToString("N");
        await BegunRecordAsync(sent);
        Assert.True(await records.TryMarkUnjournaledSendAsync(sent, CancellationToken.None));
        var second = (await CaptureAsync(NewLetter("m-" + sent) with { IdempotencyKey = sent })).Id;
        Assert.False(await ClaimEditAsync(second, "bob", Guid.NewGuid().ToString("D")));
        Assert.True((await Store.KeyHoldersAsync(second, CancellationToken.None)).SentUnjournaled);

        // The refused claim's hold went with it: the key's deliveries go on as before.
        Assert.Null(await records.FindEditHoldAsync(sent, CancellationToken.None));
        Assert.True(await records.TryMarkUnjournaledSendAsync(sent, CancellationToken.None));
        Assert.NotNull(await Journal.TryBeginAsync(KeyEffect(sent).Id, sent, "fp", null, CancellationToken.None));
    }

    /// <summary>
    /// An applied effect is what refuses an edit of a letter of its key: retention keeps it while a letter holds the key,
    /// however long the letter waits (helper-77 #4: purged after 90 days, the edit was claimed and applied a second effect).
    /// One that did not happen, or whose key no letter holds, goes as before.
    /// </summary>
    [StoreFact]
    public async Task Retention_keeps_an_applied_effect_while_a_letter_holds_its_key()
    {
        var (held, free, notApplied) = ("k-" + Guid.NewGuid().ToString("N"), "k-" + Guid.NewGuid().ToString("N"), "k-" + Guid.NewGuid().ToString("N"));
        var effects = new Dictionary<string, EffectId>();
        foreach (var (key, state) in new[] { (held, EffectState.Applied), (free, EffectState.Applied), (notApplied, EffectState.NotApplied) })
        {
            await BegunRecordAsync(key);
            var effect = KeyEffect(key).Id;
            await Journal.ResolveAsync(effect, (await Journal.TryBeginAsync(effect, key, "fp", null, CancellationToken.None))!, state, state == EffectState.Applied ? "r-" + key : null, null, CancellationToken.None);
            effects[key] = effect;
            await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
            Assert.Equal(1, await connection.ExecuteAsync(
                $"UPDATE {fixture.Table("effect_journal")} SET updated_at = @At WHERE effect_id = @Id;", new { At = Timestamp(DateTimeOffset.UtcNow - TimeSpan.FromDays(100)), Id = effect.Hash }));
        }

        var letter = (await CaptureAsync(NewLetter("m-" + held) with { IdempotencyKey = held })).Id;
        await CaptureAsync(NewLetter("m-" + notApplied) with { IdempotencyKey = notApplied });

        await new SqlEffectAdminStore(fixture.Database).PurgeAsync(DateTimeOffset.UtcNow - TimeSpan.FromDays(90), CancellationToken.None);

        Assert.Equal(EffectState.Applied, (await Journal.FindAsync(effects[held], CancellationToken.None))?.State);
        Assert.Null(await Journal.FindAsync(effects[free], CancellationToken.None));
        Assert.Null(await Journal.FindAsync(effects[notApplied], CancellationToken.None));
        Assert.False(await ClaimEditAsync(letter, "bob", Guid.NewGuid().ToString("D")));
    }

    protected SqlEffectJournal Journal => new(fixture.Database);

    protected SqlDocumentStateStore Documents => new(fixture.Database, TimeProvider.System);

    /// <summary>A closing document's create, as the message of <paramref name="key"/> journals it, on a document of its own.</summary>
    protected static (EffectId Id, string Document) KeyEffect(string key)
    {
        var document = "doc-" + Guid.NewGuid().ToString("N");
        return (new EffectId("closing-document-create:1:1", document + "\n" + key, document), document);
    }

    /// <summary>The record a delivery of <paramref name="key"/> begins before it works (InProgress).</summary>
    protected async Task BegunRecordAsync(string key) =>
        Assert.True((await new SqlIdempotencyStore(fixture.Database, clock).BeginAsync(key, "SendClosingDocument", "fp", "doc-" + key, CancellationToken.None)).IsNew);

    /// <summary>An edit's claim, as <c>DeadLetterOperations</c> makes it, for the edit whose message id is <paramref name="editMessageId"/>.</summary>
    protected Task<bool> ClaimEditAsync(Guid id, string owner, string editMessageId) =>
        Store.TryClaimEditAsync(id, owner, Lease, editMessageId, new("ops", "EditAndReplay", "Sending", $"new message {editMessageId}"), CancellationToken.None);

    /// <summary>Claim expiries far enough from any clock that which side of "now" they are on is certain.</summary>
    private static readonly DateTimeOffset LongAgo = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset FarAhead = new(2999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DeadLetterBody Utf8Body(string text) => DeadLetterBody.FromBytes(Encoding.UTF8.GetBytes(text));

    /// <summary>Writes the state a replay leaves when its instance dies between claiming and recording: Replaying, claimed until <paramref name="expiresAt"/>.</summary>
    private async Task StuckReplayingAsync(Guid id, string owner, DateTimeOffset expiresAt)
    {
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        var changed = await connection.ExecuteAsync(
            $"UPDATE {fixture.Table("dead_letters")} SET status = 'Replaying', replay_claimed_by = @Owner, replay_claim_expires_at = @ExpiresAt WHERE id = @Id;",
            new
            {
                Id = fixture.IdParameter(id),
                Owner = owner,
                ExpiresAt = Timestamp(expiresAt),
            });
        Assert.Equal(1, changed);
    }

    private async Task SetOriginalSentAtAsync(Guid id, DateTimeOffset sentAt)
    {
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        Assert.Equal(1, await connection.ExecuteAsync(
            $"UPDATE {fixture.Table("dead_letters")} SET original_sent_at = @SentAt WHERE id = @Id;",
            new { Id = fixture.IdParameter(id), SentAt = Timestamp(sentAt) }));
    }

    /// <summary>A timestamp as the dialect stores it, for tests that write rows directly.</summary>
    private object Timestamp(DateTimeOffset value) => fixture.Dialect == SqlDialect.Sqlite
        ? value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture)
        : value;

    protected NewDeadLetter NewLetter(string? messageId, string? erpKey = null) => new(
        Guid.NewGuid(),
        queue,
        "SendClosingDocument",
        messageId,
        erpKey,
        "corr-1",
        "application/json",
        DeadLetterBody.FromBytes(Encoding.UTF8.GetBytes($$"""{"key":"{{erpKey}}","accountId":505}""")),
        new Dictionary<string, string?> { ["message_id"] = messageId },
        "Bridge.ActivePlatform.ActivePlatformServerException",
        $"ActivePlatform answered 503 for document '{erpKey}'.",
        null,
        1,
        clock.GetUtcNow());

    /// <summary>A record of <paramref name="key"/> for <paramref name="messageType"/>, begun and completed as a delivery that applied it leaves it.</summary>
    private async Task CompletedRecordAsync(string key, string messageType)
    {
        var records = new SqlIdempotencyStore(fixture.Database, clock);
        await records.BeginAsync(key, messageType, "fp", "doc-" + key, CancellationToken.None);
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        Assert.True(await records.CompleteAsync(transaction, key, "Applied", "3006", CancellationToken.None));
        await transaction.CommitAsync();
    }

    protected async Task<DeadLetterCaptured> CaptureAsync(NewDeadLetter letter)
    {
        await using var connection = await fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        var captured = await Store.CaptureAsync(transaction, letter, CancellationToken.None);
        await transaction.CommitAsync();
        return captured;
    }
}

public sealed class PostgreSqlDeadLetterStoreTests(PostgreSqlStorageFixture fixture) : DeadLetterStoreTests<PostgreSqlStorageFixture>(fixture)
{
    /// <summary>
    /// A replay's claim that waits on the row lock of a transaction marking the letter with an edit must see that marker once
    /// the transaction commits. PostgreSQL re-checks only the locked row's own columns after the wait; anything else the
    /// statement reads (another table) is as of the statement's start, before the marker.
    /// </summary>
    /// <summary>
    /// Two letters of one key: a replay's claim on one while a transaction marks the other with an edit. Without the key's
    /// letters locked first, the claim read the other row as of before the marker and claimed (helper-76 #2).
    /// </summary>
    [StoreFact]
    public async Task A_replay_claim_on_one_letter_of_a_key_waits_for_an_edit_marked_on_another_and_claims_nothing()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        var edited = (await CaptureAsync(NewLetter("m-key-race-1") with { IdempotencyKey = key })).Id;
        var other = (await CaptureAsync(NewLetter("m-key-race-2") with { IdempotencyKey = key })).Id;

        var claimed = await BlockedWhileAnEditIsMarkedAsync(edited, () => Store.TryClaimReplayAsync(other, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));

        Assert.False(claimed);
    }

    [StoreFact]
    public async Task A_replay_claim_blocked_on_a_transaction_that_marks_an_edit_claims_nothing_once_it_commits()
    {
        var id = (await CaptureAsync(NewLetter("m-lock-race"))).Id;

        var claimed = await BlockedWhileAnEditIsMarkedAsync(id, () => Store.TryClaimReplayAsync(id, "replayer", Lease, Guid.NewGuid().ToString("D"), CancellationToken.None));

        Assert.False(claimed);
        Assert.Equal(DeadLetterStatus.Pending, (await Store.GetAsync(id, CancellationToken.None))!.Letter.Status);
    }

    /// <summary>The same for retention: a purge that waited for the row does not delete a letter its edit marked meanwhile.</summary>
    [StoreFact]
    public async Task A_purge_blocked_on_a_transaction_that_marks_an_edit_keeps_the_letter()
    {
        var id = (await CaptureAsync(NewLetter("m-purge-race"))).Id;

        var purged = await BlockedWhileAnEditIsMarkedAsync(id, () => Store.PurgeAsync(DateTimeOffset.UtcNow, CancellationToken.None));

        Assert.Equal(0, purged);
        Assert.NotNull(await Store.GetAsync(id, CancellationToken.None));
    }

    /// <summary>
    /// Runs <paramref name="blocked"/> while another transaction holds dead letter <paramref name="id"/>'s row, having marked
    /// it with an edit as an edit's claim does (the row stays Pending, as after a failed send); commits that transaction once
    /// PostgreSQL shows <paramref name="blocked"/> waiting for the row, so its statement started before the marker.
    /// </summary>
    private Task<T> BlockedWhileAnEditIsMarkedAsync<T>(Guid id, Func<Task<T>> blocked) => BlockedWhileAsync(
        (editor, marking) => editor.ExecuteAsync(
            """
            UPDATE bridge.dead_letters SET edit_message_id = '33333333-3333-8333-8333-333333333333' WHERE id = @Id;
            INSERT INTO bridge.dead_letter_audit (dead_letter_id, at, actor, action, outcome, detail)
            VALUES (@Id, now(), 'alice', 'EditAndReplay', 'Sending', 'new message 33333333-3333-8333-8333-333333333333');
            """,
            new { Id = id },
            marking),
        blocked);

    /// <summary>
    /// An effect's begin while an edit's claim, not yet committed, holds the key (its first statements ran): the begin waits
    /// for the claim and then reads the hold — it read the record as of before the claim, and without the record's lock it
    /// recorded the effect beside the edit.
    /// </summary>
    [StoreFact]
    public async Task An_effects_begin_waits_for_an_edit_claim_holding_its_key_and_records_nothing()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        await BegunRecordAsync(key);
        var id = (await CaptureAsync(NewLetter("m-" + key) with { IdempotencyKey = key })).Id;
        var (effect, _) = KeyEffect(key);
        var sql = DeadLetterSql.For(SqlDialect.PostgreSql);

        var begin = BlockedWhileAsync(
            (editor, claiming) => editor.ExecuteAsync(sql.LockKeyLetters + sql.HoldKeyForEdit, new { Id = id }, claiming),
            () => Journal.TryBeginAsync(effect, key, "fp", null, CancellationToken.None));

        var held = await Assert.ThrowsAsync<HeldByDeadLetterException>(() => begin);
        Assert.Equal(id, held.DeadLetterId);
        Assert.Null(await Journal.FindAsync(effect, CancellationToken.None));
    }

    /// <summary>The same for a begin fenced by a document claim (one statement with the claim's renewal) and for a restart.</summary>
    [StoreFact]
    public async Task A_fenced_begin_and_a_restart_wait_for_an_edit_claim_holding_their_key_and_record_nothing()
    {
        var sql = DeadLetterSql.For(SqlDialect.PostgreSql);
        foreach (var restart in new[] { false, true })
        {
            var key = "k-" + Guid.NewGuid().ToString("N");
            await BegunRecordAsync(key);
            var (effect, document) = KeyEffect(key);
            if (restart)
            {
                var earlier = (await Journal.TryBeginAsync(effect, key, "fp", null, CancellationToken.None))!;
                await Journal.ResolveAsync(effect, earlier, EffectState.NotApplied, null, null, CancellationToken.None);
            }

            var id = (await CaptureAsync(NewLetter("m-" + key) with { IdempotencyKey = key })).Id;
            Assert.True(await Documents.TryClaimAsync("scope", document, "owner-1", Lease, CancellationToken.None));

            var begin = BlockedWhileAsync(
                (editor, claiming) => editor.ExecuteAsync(sql.LockKeyLetters + sql.HoldKeyForEdit, new { Id = id }, claiming),
                () => Journal.TryBeginAsync(effect, key, "fp", null, new ClaimFence("scope", document, "owner-1", Lease), CancellationToken.None));

            Assert.Equal(id, (await Assert.ThrowsAsync<HeldByDeadLetterException>(() => begin)).DeadLetterId);
            Assert.Equal(restart ? EffectState.NotApplied : null, (await Journal.FindAsync(effect, CancellationToken.None))?.State);
        }
    }

    /// <summary>A call that journals nothing: its stamp waits for the edit claim holding the key, and is refused.</summary>
    [StoreFact]
    public async Task The_stamp_before_a_call_that_journals_nothing_waits_for_an_edit_claim_holding_its_key_and_is_refused()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        await BegunRecordAsync(key);
        var id = (await CaptureAsync(NewLetter("m-" + key) with { IdempotencyKey = key })).Id;
        var sql = DeadLetterSql.For(SqlDialect.PostgreSql);

        var stamped = await BlockedWhileAsync(
            (editor, claiming) => editor.ExecuteAsync(sql.LockKeyLetters + sql.HoldKeyForEdit, new { Id = id }, claiming),
            () => new SqlIdempotencyStore(Fixture.Database, TimeProvider.System).TryMarkUnjournaledSendAsync(key, CancellationToken.None));

        Assert.False(stamped);
    }

    /// <summary>
    /// An edit's claim while an effect of its key is being begun (its statement holds the record, not yet committed): the claim
    /// waits for it and is refused — without the hold written first it judged the journal before the entry was committed.
    /// </summary>
    [StoreFact]
    public async Task An_edit_claim_waits_for_an_effects_begin_in_flight_on_its_key_and_is_refused()
    {
        var key = "k-" + Guid.NewGuid().ToString("N");
        await BegunRecordAsync(key);
        var id = (await CaptureAsync(NewLetter("m-" + key) with { IdempotencyKey = key })).Id;
        var (effect, _) = KeyEffect(key);

        var claimed = await BlockedWhileAsync(
            (sender, sending) => sender.ExecuteAsync(
                EffectJournalSql.For(SqlDialect.PostgreSql).Insert,
                new
                {
                    AttemptId = "a1",
                    EffectId = effect.Hash,
                    effect.Scope,
                    EffectKey = effect.Key,
                    GroupKey = effect.Group,
                    OwnerKey = key,
                    Fingerprint = "fp",
                    Evidence = (string?)null,
                    SendWindowMs = (long?)null,
                    TaskDeadlineMs = (long?)null,
                },
                sending),
            () => ClaimEditAsync(id, "bob", Guid.NewGuid().ToString("D")));

        Assert.False(claimed);
        Assert.Equal(new KeyEffect(effect.Hash, "Sending"), (await Store.KeyHoldersAsync(id, CancellationToken.None)).Effect);
    }

    /// <summary>
    /// Runs <paramref name="blocked"/> while another transaction has run <paramref name="hold"/>; commits that transaction once
    /// PostgreSQL shows <paramref name="blocked"/> waiting for one of its locks, so its statement started before the commit.
    /// </summary>
    private async Task<T> BlockedWhileAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task> hold, Func<Task<T>> blocked)
    {
        await using var editor = (NpgsqlConnection)await Fixture.Database.OpenAsync(CancellationToken.None);
        await using var marking = await editor.BeginTransactionAsync();
        await hold(editor, marking);

        var running = Task.Run(blocked);
        // Inside a transaction pg_stat_activity is read once and kept unless its snapshot is cleared.
        var waiting = await EventuallyAsync(
            async () =>
            {
                await editor.ExecuteAsync("SELECT pg_stat_clear_snapshot();", transaction: marking);
                return await editor.ExecuteScalarAsync<bool>(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND @Pid = ANY(pg_blocking_pids(pid)));",
                    new { Pid = editor.ProcessID },
                    marking);
            },
            blockedNow => blockedNow || running.IsCompleted);
        Assert.True(waiting, "the statement did not wait for the row");
        await marking.CommitAsync();
        return await running;
    }
}

public sealed class SqliteDeadLetterStoreTests(SqliteStorageFixture fixture) : DeadLetterStoreTests<SqliteStorageFixture>(fixture);

[RequiresEnvironmentVariable(SqlServerStorageFixture.Variable)]
public sealed class SqlServerDeadLetterStoreTests(SqlServerStorageFixture fixture) : DeadLetterStoreTests<SqlServerStorageFixture>(fixture);
