using Bridge.Host.Storage;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Bridge.Tests.Storage;

/// <summary>
/// The one storage suite. Each concrete class runs it against one real database; time is a <see cref="TestClock"/>
/// shared by every store the test creates, so "another instance" is another owner name on the same clock. Leases and
/// retry times follow the database's clock instead: a test moves that clock forward with
/// <see cref="StorageFixture.AgeLeasesAsync"/>, which moves the stored times back.
/// </summary>
public abstract class StoreTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : StorageFixture
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    protected TFixture Fixture { get; } = fixture;

    protected TestClock Clock { get; } = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    protected SqlIdempotencyStore Idempotency => new(Fixture.Database, Clock);

    protected SqlDocumentStateStore Documents => new(Fixture.Database, Clock);

    protected SqlOutboxStore Outbox => new(Fixture.Database, Clock);

    public Task InitializeAsync() => Fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    // ---- migrations

    [StoreFact]
    public async Task Migrations_apply_to_an_empty_database_and_a_second_run_applies_nothing()
    {
        var database = await Fixture.CreateEmptyDatabaseAsync();
        var runner = new MigrationRunner(database, Clock, NullLogger.Instance);
        var scripts = MigrationRunner.LoadScripts(Fixture.Dialect).Select(script => script.Name).ToList();

        Assert.Equal(scripts, await runner.RunAsync(CancellationToken.None));
        Assert.Empty(await runner.RunAsync(CancellationToken.None));
        Assert.Equal(scripts, await AppliedScriptsAsync(database));
        Assert.Equal(0, await new SqlOutboxStore(database, Clock).CountPendingAsync(CancellationToken.None));
    }

    [StoreFact]
    public async Task Concurrent_migration_runners_apply_each_script_exactly_once()
    {
        var database = await Fixture.CreateEmptyDatabaseAsync();
        var scripts = MigrationRunner.LoadScripts(Fixture.Dialect).Select(script => script.Name).ToList();

        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            Task.Run(() => new MigrationRunner(database, Clock, NullLogger.Instance).RunAsync(CancellationToken.None))));

        Assert.Equal(scripts, runs.SelectMany(applied => applied).Order(StringComparer.Ordinal));
        Assert.Equal(scripts, await AppliedScriptsAsync(database));
    }

    // ---- idempotency records

    [StoreFact]
    public async Task Begin_inserts_an_in_progress_record_then_returns_the_existing_one()
    {
        var key = NewKey();

        var first = await Idempotency.BeginAsync(key, "CreateClosingDocument", "fp-1", "doc-1", CancellationToken.None);
        Clock.Advance(TimeSpan.FromSeconds(5));
        var second = await Idempotency.BeginAsync(key, "CreateClosingDocument", "fp-2", "doc-2", CancellationToken.None);

        Assert.True(first.IsNew);
        Assert.Equal(
            new IdempotencyRecord(key, "CreateClosingDocument", "fp-1", "doc-1", IdempotencyState.InProgress, null, null, null, Start, Start),
            first.Record);
        Assert.False(second.IsNew);
        Assert.Equal(first.Record, second.Record);
        Assert.Equal(first.Record, await Idempotency.FindAsync(key, CancellationToken.None));
        Assert.Null(await Idempotency.FindAsync(NewKey(), CancellationToken.None));
    }

    [StoreFact]
    public async Task Concurrent_begins_with_one_key_make_exactly_one_new_record()
    {
        var key = NewKey();
        using var start = new ManualResetEventSlim();

        var begins = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await Idempotency.BeginAsync(key, "CreateClosingDocument", $"fp-{i}", null, CancellationToken.None);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(begins);

        var winner = Assert.Single(results, result => result.IsNew);
        Assert.All(results, result => Assert.Equal(winner.Record, result.Record));
    }

    [StoreFact]
    public async Task Begin_and_claim_in_one_round_trip_begins_once_claims_for_one_owner_and_reads_the_record_after_the_claim()
    {
        var key = NewKey();
        var document = "doc-" + key;

        var first = await Idempotency.BeginAndClaimAsync(key, "SendClosingDocument", "fp-1", "scope", document, "owner-1", Lease, null, CancellationToken.None);
        Assert.True(first.IsNew);
        Assert.Equal(
            new IdempotencyRecord(key, "SendClosingDocument", "fp-1", document, IdempotencyState.InProgress, null, null, null, Start, Start),
            first.Record);
        Assert.Equal(("scope", document, null), (first.Document?.Scope, first.Document?.DocumentKey, first.Document?.AppliedVersion));

        // A second delivery: the record is there (not new), the document is held by the first owner.
        var second = await Idempotency.BeginAndClaimAsync(key, "SendClosingDocument", "fp-1", "scope", document, "owner-2", Lease, null, CancellationToken.None);
        Assert.False(second.IsNew);
        Assert.Equal(first.Record, second.Record);
        Assert.Null(second.Document);

        // The first completes and releases in one transaction; the next delivery's claim succeeds and reads the completion.
        await using (var connection = await Fixture.Database.OpenAsync(CancellationToken.None))
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            Assert.True(await Idempotency.CompleteAsync(transaction, key, "Applied", "3006", CancellationToken.None));
            await Documents.ReleaseAsync(transaction, "scope", document, "owner-1", CancellationToken.None);
            await transaction.CommitAsync();
        }

        var third = await Idempotency.BeginAndClaimAsync(key, "SendClosingDocument", "fp-1", "scope", document, "owner-3", Lease, null, CancellationToken.None);
        Assert.False(third.IsNew);
        Assert.Equal((IdempotencyState.Completed, "3006"), (third.Record.State, third.Record.ResourceId));
        Assert.NotNull(third.Document);
    }

    [StoreFact]
    public async Task Concurrent_begin_and_claims_with_one_key_make_one_new_record_and_one_owner()
    {
        var key = NewKey();
        using var start = new ManualResetEventSlim();

        var begins = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await Idempotency.BeginAndClaimAsync(key, "SendClosingDocument", "fp", "scope", "doc-" + key, $"owner-{i}", Lease, null, CancellationToken.None);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(begins);

        var winner = Assert.Single(results, result => result.IsNew);
        Assert.All(results, result => Assert.Equal(winner.Record, result.Record));
        Assert.Single(results, result => result.Document is not null);
    }

    [StoreFact]
    public async Task A_begin_and_claim_that_waits_behind_the_completing_transaction_reads_the_completion_it_waited_for()
    {
        // Review s12: the second delivery's batch runs while the first delivery's completing transaction holds the document
        // (its fencing renewal) but has not completed the record yet. The batch must not report the record in progress
        // with the claim granted: it waits, and reads the completion committed before its claim was granted.
        var key = NewKey();
        var document = "doc-" + key;
        var first = await Idempotency.BeginAndClaimAsync(key, "SendClosingDocument", "fp-1", "scope", document, "owner-1", Lease, null, CancellationToken.None);
        Assert.NotNull(first.Document);

        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        Assert.True(await Documents.TryRenewAsync(transaction, "scope", document, "owner-1", Lease, CancellationToken.None));

        var second = Task.Run(() => Idempotency.BeginAndClaimAsync(key, "SendClosingDocument", "fp-1", "scope", document, "owner-2", Lease, null, CancellationToken.None));
        await Task.Delay(TimeSpan.FromMilliseconds(700));
        Assert.False(second.IsCompleted, "the batch did not wait for the transaction holding the document");

        Assert.True(await Idempotency.CompleteAsync(transaction, key, "Applied", "3006", CancellationToken.None));
        await Documents.ReleaseAsync(transaction, "scope", document, "owner-1", CancellationToken.None);
        await transaction.CommitAsync();

        var begun = await second.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(begun.IsNew);
        Assert.Equal((IdempotencyState.Completed, "3006"), (begun.Record.State, begun.Record.ResourceId));
        Assert.NotNull(begun.Document);
    }

    [StoreFact]
    public async Task Pending_async_task_is_recorded_and_cleared()
    {
        var key = NewKey();
        await Idempotency.BeginAsync(key, "CreateClosingDocument", "fp", null, CancellationToken.None);

        Clock.Advance(TimeSpan.FromSeconds(1));
        await Idempotency.SetPendingAsyncTaskAsync(key, "task-42", CancellationToken.None);
        var pending = await Idempotency.FindAsync(key, CancellationToken.None);
        await Idempotency.SetPendingAsyncTaskAsync(key, null, CancellationToken.None);
        var cleared = await Idempotency.FindAsync(key, CancellationToken.None);

        Assert.Equal("task-42", pending!.PendingAsyncTaskId);
        Assert.Equal(Start + TimeSpan.FromSeconds(1), pending.UpdatedAt);
        Assert.Equal(Start, pending.CreatedAt);
        Assert.Null(cleared!.PendingAsyncTaskId);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Idempotency.SetPendingAsyncTaskAsync(NewKey(), "task-1", CancellationToken.None));
    }

    [StoreFact]
    public async Task Complete_and_enqueue_in_one_transaction_commit_together()
    {
        var key = NewKey();
        await Idempotency.BeginAsync(key, "CreateClosingDocument", "fp", "doc-1", CancellationToken.None);
        await Idempotency.SetPendingAsyncTaskAsync(key, "task-1", CancellationToken.None);
        var message = NewMessage(Start);

        await using (var connection = await Fixture.Database.OpenAsync(CancellationToken.None))
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Idempotency.CompleteAsync(transaction, key, "Sent", "ap-123", CancellationToken.None);
            await Documents.SetAppliedAsync(transaction, "closing-document:r:a", "doc-1", "7", "ap-123", false, CancellationToken.None);
            await Outbox.EnqueueAsync(transaction, message, CancellationToken.None);
            await transaction.CommitAsync();
        }

        var record = await Idempotency.FindAsync(key, CancellationToken.None);
        Assert.Equal(IdempotencyState.Completed, record!.State);
        Assert.Equal("Sent", record.Outcome);
        Assert.Equal("ap-123", record.ResourceId);
        Assert.Null(record.PendingAsyncTaskId);
        Assert.Equal("7", (await Documents.GetAsync("closing-document:r:a", "doc-1", CancellationToken.None))!.AppliedVersion);
        Assert.Equal([message], await Outbox.ClaimAsync("dispatcher", 10, Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task Complete_and_enqueue_in_one_transaction_roll_back_together()
    {
        var key = NewKey();
        await Idempotency.BeginAsync(key, "CreateClosingDocument", "fp", "doc-1", CancellationToken.None);

        await using (var connection = await Fixture.Database.OpenAsync(CancellationToken.None))
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Idempotency.CompleteAsync(transaction, key, "Sent", "ap-123", CancellationToken.None);
            await Documents.SetAppliedAsync(transaction, "closing-document:r:a", "doc-1", "7", "ap-123", false, CancellationToken.None);
            await Outbox.EnqueueAsync(transaction, NewMessage(Start), CancellationToken.None);
            await transaction.RollbackAsync();
        }

        var record = await Idempotency.FindAsync(key, CancellationToken.None);
        Assert.Equal(IdempotencyState.InProgress, record!.State);
        Assert.Null(record.Outcome);
        Assert.Null(await Documents.GetAsync("closing-document:r:a", "doc-1", CancellationToken.None));
        Assert.Equal(0, await Outbox.CountPendingAsync(CancellationToken.None));
    }

    [StoreFact]
    public async Task Only_the_first_of_two_completions_completes_the_record()
    {
        var key = NewKey();
        await Idempotency.BeginAsync(key, "SendClosingDocument", "fp", "doc-1", CancellationToken.None);

        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await using (var first = await connection.BeginTransactionAsync())
        {
            Assert.True(await Idempotency.CompleteAsync(first, key, "Applied", "ap-1", CancellationToken.None));
            await first.CommitAsync();
        }

        await using var second = await connection.BeginTransactionAsync();
        Assert.False(await Idempotency.CompleteAsync(second, key, "Applied", "ap-2", CancellationToken.None));
        await second.RollbackAsync();
        Assert.Equal("ap-1", (await Idempotency.FindAsync(key, CancellationToken.None))!.ResourceId);
    }

    [StoreFact]
    public async Task Complete_of_an_unknown_key_throws()
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => Idempotency.CompleteAsync(transaction, NewKey(), "Sent", null, CancellationToken.None));
    }

    [StoreFact]
    public async Task Purge_deletes_only_completed_records_last_updated_before_the_cutoff()
    {
        var oldCompleted = NewKey();
        var oldInProgress = NewKey();
        var newCompleted = NewKey();
        await Idempotency.BeginAsync(oldCompleted, "T", "fp", null, CancellationToken.None);
        await Idempotency.BeginAsync(oldInProgress, "T", "fp", null, CancellationToken.None);
        await CompleteAsync(oldCompleted);
        Clock.Advance(TimeSpan.FromDays(10));
        await Idempotency.BeginAsync(newCompleted, "T", "fp", null, CancellationToken.None);
        await CompleteAsync(newCompleted);

        var purged = await Idempotency.PurgeAsync(Start + TimeSpan.FromDays(1), CancellationToken.None);

        Assert.Equal(1, purged);
        Assert.Null(await Idempotency.FindAsync(oldCompleted, CancellationToken.None));
        Assert.NotNull(await Idempotency.FindAsync(oldInProgress, CancellationToken.None));
        Assert.NotNull(await Idempotency.FindAsync(newCompleted, CancellationToken.None));
    }

    // ---- document claims and applied versions

    [StoreFact]
    public async Task Claim_is_refused_to_a_second_owner_until_the_first_releases_it()
    {
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "instance-a", Lease, CancellationToken.None));
        Assert.False(await Documents.TryClaimAsync("scope", "doc-1", "instance-b", Lease, CancellationToken.None));
        Assert.True(await Documents.TryClaimAsync("scope", "doc-2", "instance-b", Lease, CancellationToken.None));
        Assert.True(await Documents.TryClaimAsync("other-scope", "doc-1", "instance-b", Lease, CancellationToken.None));

        await Documents.ReleaseAsync(null, "scope", "doc-1", "instance-b", CancellationToken.None);
        Assert.False(await Documents.TryClaimAsync("scope", "doc-1", "instance-b", Lease, CancellationToken.None));

        await Documents.ReleaseAsync(null, "scope", "doc-1", "instance-a", CancellationToken.None);
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "instance-b", Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task A_claim_reads_the_document_it_took_in_the_same_statement_and_nothing_when_refused()
    {
        // Never seen: the claim makes the row, with nothing applied.
        var fresh = await Documents.ClaimAsync("scope", "doc-1", "instance-a", Lease, CancellationToken.None);
        Assert.NotNull(fresh);
        Assert.Equal(("scope", "doc-1", null, null, false), (fresh.Scope, fresh.DocumentKey, fresh.AppliedVersion, fresh.ResourceId, fresh.Deleted));
        Assert.Null(await Documents.ClaimAsync("scope", "doc-1", "instance-b", Lease, CancellationToken.None));

        await SetAppliedAsync("scope", "doc-1", "2025-03-01T10:00:00Z", "ap-1", deleted: true);
        await Documents.ReleaseAsync(null, "scope", "doc-1", "instance-a", CancellationToken.None);
        var claimed = await Documents.ClaimAsync("scope", "doc-1", "instance-b", Lease, CancellationToken.None);

        Assert.Equal(await Documents.GetAsync("scope", "doc-1", CancellationToken.None), claimed);
        Assert.Equal(("2025-03-01T10:00:00Z", "ap-1", true), (claimed!.AppliedVersion, claimed.ResourceId, claimed.Deleted));
    }

    [StoreFact]
    public async Task Expired_claim_can_be_taken_by_another_owner()
    {
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "instance-a", Lease, CancellationToken.None));

        await Fixture.AgeLeasesAsync(Lease - TimeSpan.FromSeconds(30));
        Assert.False(await Documents.TryClaimAsync("scope", "doc-1", "instance-b", Lease, CancellationToken.None));

        await Fixture.AgeLeasesAsync(TimeSpan.FromMinutes(1));
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "instance-b", Lease, CancellationToken.None));
        Assert.False(await Documents.TryClaimAsync("scope", "doc-1", "instance-a", Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task A_claim_is_renewed_only_while_its_owner_has_held_it_all_along()
    {
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "instance-a", Lease, CancellationToken.None));
        Assert.True(await Documents.TryRenewAsync(null, "scope", "doc-1", "instance-a", Lease, CancellationToken.None));

        // Its lease ran out and nobody took it: still its own.
        await Fixture.AgeLeasesAsync(Lease + TimeSpan.FromSeconds(30));
        Assert.True(await Documents.TryRenewAsync(null, "scope", "doc-1", "instance-a", Lease, CancellationToken.None));

        // Another owner took it after it ran out, and released it: a renewal is refused, where a claim would succeed.
        await Fixture.AgeLeasesAsync(Lease + TimeSpan.FromSeconds(30));
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "instance-b", Lease, CancellationToken.None));
        Assert.False(await Documents.TryRenewAsync(null, "scope", "doc-1", "instance-a", Lease, CancellationToken.None));
        await Documents.ReleaseAsync(null, "scope", "doc-1", "instance-b", CancellationToken.None);
        Assert.False(await Documents.TryRenewAsync(null, "scope", "doc-1", "instance-a", Lease, CancellationToken.None));
        Assert.False(await Documents.TryRenewAsync(null, "scope", "doc-2", "instance-a", Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task An_instance_whose_clock_runs_ahead_cannot_take_a_live_document_claim_but_can_take_an_expired_one()
    {
        var ahead = new SqlDocumentStateStore(Fixture.Database, new TestClock(Clock.GetUtcNow() + TimeSpan.FromMinutes(10)));
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "instance-a", Lease, CancellationToken.None));

        Assert.False(await ahead.TryClaimAsync("scope", "doc-1", "instance-ahead", Lease, CancellationToken.None));

        await Fixture.AgeLeasesAsync(Lease + TimeSpan.FromSeconds(30));
        Assert.True(await ahead.TryClaimAsync("scope", "doc-1", "instance-ahead", Lease, CancellationToken.None));
        Assert.False(await Documents.TryClaimAsync("scope", "doc-1", "instance-a", Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task Owner_claiming_again_extends_its_lease()
    {
        var lease = TimeSpan.FromMinutes(10);
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "instance-a", lease, CancellationToken.None));
        await Fixture.AgeLeasesAsync(TimeSpan.FromMinutes(9));
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "instance-a", lease, CancellationToken.None));

        await Fixture.AgeLeasesAsync(TimeSpan.FromMinutes(5));
        Assert.False(await Documents.TryClaimAsync("scope", "doc-1", "instance-b", lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task A_claim_or_renewal_by_its_owner_with_a_shorter_lease_never_moves_its_expiry_earlier()
    {
        // A currency-rate intent's hold lasts the sending instance's in-flight window; the batch's redelivery on an instance
        // with a shorter window re-claims and renews it under the same owner, and must not cut it short.
        var window = TimeSpan.FromMinutes(10);
        var shorter = TimeSpan.FromSeconds(3);
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "batch-m", window, CancellationToken.None));
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "batch-m", shorter, CancellationToken.None));
        Assert.True(await Documents.TryRenewAsync(null, "scope", "doc-1", "batch-m", shorter, CancellationToken.None));

        // Long past the shorter lease, well within the window: still held.
        await Fixture.AgeLeasesAsync(TimeSpan.FromMinutes(1));
        Assert.False(await Documents.TryClaimAsync("scope", "doc-1", "batch-n", shorter, CancellationToken.None));

        // Once the window has passed it is free.
        await Fixture.AgeLeasesAsync(window);
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "batch-n", shorter, CancellationToken.None));
    }

    [StoreFact]
    public async Task A_claim_handed_over_keeps_its_expiry_and_only_its_holder_can_hand_it_over()
    {
        // An invoice call that may still land keeps its claim for the call's message (a hold owner of its own), whose next
        // delivery takes it back; nobody else can, and the hand-over does not move the expiry.
        var window = TimeSpan.FromMinutes(10);
        Assert.True(await Documents.TryClaimAsync("scope", "doc-h", "delivery-1", window, CancellationToken.None));
        Assert.False(await Documents.TryHandOverAsync("scope", "doc-h", "delivery-x", "thief", CancellationToken.None));
        Assert.True(await Documents.TryHandOverAsync("scope", "doc-h", "delivery-1", "hold-msg:m", CancellationToken.None));
        Assert.False(await Documents.TryRenewAsync(null, "scope", "doc-h", "delivery-1", Lease, CancellationToken.None));
        Assert.False(await Documents.TryClaimAsync("scope", "doc-h", "delivery-2", Lease, CancellationToken.None));

        // Taken back by the message's next delivery, long past a lease: still the window's expiry.
        await Fixture.AgeLeasesAsync(TimeSpan.FromMinutes(1));
        Assert.True(await Documents.TryHandOverAsync("scope", "doc-h", "hold-msg:m", "delivery-3", CancellationToken.None));
        Assert.False(await Documents.TryClaimAsync("scope", "doc-h", "delivery-2", Lease, CancellationToken.None));
        Assert.True(await Documents.TryRenewAsync(null, "scope", "doc-h", "delivery-3", Lease, CancellationToken.None));

        // Once the window has passed it is free.
        await Fixture.AgeLeasesAsync(window);
        Assert.True(await Documents.TryClaimAsync("scope", "doc-h", "delivery-2", Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task Concurrent_claims_of_a_new_document_grant_exactly_one()
    {
        using var start = new ManualResetEventSlim();
        var claims = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await Documents.TryClaimAsync("scope", "doc-race", $"instance-{i}", Lease, CancellationToken.None);
        })).ToList();
        start.Set();

        Assert.Single(await Task.WhenAll(claims), claimed => claimed);
    }

    [StoreFact]
    public async Task Applied_version_round_trips_and_leaves_the_claim_alone()
    {
        Assert.Null(await Documents.GetAsync("scope", "doc-1", CancellationToken.None));
        Assert.True(await Documents.TryClaimAsync("scope", "doc-1", "instance-a", Lease, CancellationToken.None));
        var claimed = await Documents.GetAsync("scope", "doc-1", CancellationToken.None);

        Clock.Advance(TimeSpan.FromSeconds(3));
        await SetAppliedAsync("scope", "doc-1", "2025-03-01T10:00:00Z", "ap-1", deleted: false);
        var applied = await Documents.GetAsync("scope", "doc-1", CancellationToken.None);
        Clock.Advance(TimeSpan.FromSeconds(3));
        await SetAppliedAsync("scope", "doc-1", "2025-03-02T10:00:00Z", "ap-1", deleted: true);
        var deleted = await Documents.GetAsync("scope", "doc-1", CancellationToken.None);

        Assert.Equal(new DocumentState("scope", "doc-1", null, null, false, Start), claimed);
        Assert.Equal(new DocumentState("scope", "doc-1", "2025-03-01T10:00:00Z", "ap-1", false, Start + TimeSpan.FromSeconds(3)), applied);
        Assert.Equal(new DocumentState("scope", "doc-1", "2025-03-02T10:00:00Z", "ap-1", true, Start + TimeSpan.FromSeconds(6)), deleted);
        Assert.False(await Documents.TryClaimAsync("scope", "doc-1", "instance-b", Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task Applied_version_can_be_recorded_for_a_document_never_claimed()
    {
        await SetAppliedAsync("scope", "doc-unclaimed", "3", null, deleted: false);

        Assert.Equal(
            new DocumentState("scope", "doc-unclaimed", "3", null, false, Start),
            await Documents.GetAsync("scope", "doc-unclaimed", CancellationToken.None));
        Assert.True(await Documents.TryClaimAsync("scope", "doc-unclaimed", "instance-a", Lease, CancellationToken.None));
    }

    // ---- outbox

    [StoreFact]
    public async Task Claim_returns_the_oldest_messages_first_up_to_the_batch_size()
    {
        var messages = Enumerable.Range(0, 5).Select(i => NewMessage(Start.AddSeconds(-i))).ToList();
        await EnqueueAsync([.. messages]);

        var first = await Outbox.ClaimAsync("instance-a", 3, Lease, CancellationToken.None);
        var second = await Outbox.ClaimAsync("instance-a", 3, Lease, CancellationToken.None);
        var third = await Outbox.ClaimAsync("instance-a", 3, Lease, CancellationToken.None);

        Assert.Equal(messages.OrderBy(message => message.CreatedAt).Take(3), first);
        Assert.Equal(messages.OrderBy(message => message.CreatedAt).Skip(3), second);
        Assert.Empty(third);
    }

    [StoreFact]
    public async Task Concurrent_claimers_never_get_the_same_message()
    {
        var messages = Enumerable.Range(0, 60).Select(i => NewMessage(Start.AddMilliseconds(i))).ToList();
        await EnqueueAsync([.. messages]);
        using var start = new ManualResetEventSlim();

        var claimers = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            start.Wait();
            var mine = new List<OutboxMessage>();
            while (await Outbox.ClaimAsync($"instance-{i}", 4, Lease, CancellationToken.None) is { Count: > 0 } batch)
            {
                mine.AddRange(batch);
            }

            return mine;
        })).ToList();
        start.Set();
        var claimed = (await Task.WhenAll(claimers)).SelectMany(mine => mine).ToList();

        Assert.Equal(messages.Count, claimed.Count);
        Assert.Equal(messages.Select(message => message.Id).Order(), claimed.Select(message => message.Id).Order());
    }

    [StoreFact]
    public async Task Claimed_message_is_claimable_again_once_its_lease_expires()
    {
        var message = NewMessage(Start);
        await EnqueueAsync(message);
        Assert.Equal([message], await Outbox.ClaimAsync("crashed-instance", 10, Lease, CancellationToken.None));

        await Fixture.AgeLeasesAsync(Lease - TimeSpan.FromSeconds(30));
        Assert.Empty(await Outbox.ClaimAsync("instance-b", 10, Lease, CancellationToken.None));

        await Fixture.AgeLeasesAsync(TimeSpan.FromMinutes(1));
        Assert.Equal([message], await Outbox.ClaimAsync("instance-b", 10, Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task An_instance_whose_clock_runs_ahead_cannot_take_a_live_outbox_claim_but_can_take_an_expired_one()
    {
        var message = NewMessage(Start);
        await EnqueueAsync(message);
        var ahead = new SqlOutboxStore(Fixture.Database, new TestClock(Clock.GetUtcNow() + TimeSpan.FromMinutes(10)));
        Assert.Equal([message], await Outbox.ClaimAsync("instance-a", 10, Lease, CancellationToken.None));

        Assert.Empty(await ahead.ClaimAsync("instance-ahead", 10, Lease, CancellationToken.None));

        await Fixture.AgeLeasesAsync(Lease + TimeSpan.FromSeconds(30));
        Assert.Equal([message], await ahead.ClaimAsync("instance-ahead", 10, Lease, CancellationToken.None));
        Assert.Empty(await Outbox.ClaimAsync("instance-a", 10, Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task Dispatched_message_is_neither_pending_nor_claimable()
    {
        var sent = NewMessage(Start);
        var waiting = NewMessage(Start.AddSeconds(1));
        await EnqueueAsync(sent, waiting);
        await Outbox.ClaimAsync("instance-a", 1, Lease, CancellationToken.None);

        await Outbox.MarkDispatchedAsync([sent.Id], "instance-a", CancellationToken.None);
        await Fixture.AgeLeasesAsync(Lease * 2);

        Assert.Equal(1, await Outbox.CountPendingAsync(CancellationToken.None));
        Assert.Equal([waiting], await Outbox.ClaimAsync("instance-b", 10, Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task Failed_message_counts_the_attempt_keeps_the_error_and_is_claimable_again_once_its_retry_delay_passes()
    {
        var message = NewMessage(Start);
        await EnqueueAsync(message);
        await Outbox.ClaimAsync("instance-a", 10, Lease, CancellationToken.None);

        Assert.True(await Outbox.MarkFailedAsync(message.Id, "instance-a", "broker unreachable", RetryAfter, CancellationToken.None));
        Assert.Empty(await Outbox.ClaimAsync("instance-b", 10, Lease, CancellationToken.None));
        await Fixture.AgeLeasesAsync(RetryAfter - TimeSpan.FromSeconds(30));
        Assert.Empty(await Outbox.ClaimAsync("instance-b", 10, Lease, CancellationToken.None));
        await Fixture.AgeLeasesAsync(TimeSpan.FromMinutes(1));
        var retried = Assert.Single(await Outbox.ClaimAsync("instance-b", 10, Lease, CancellationToken.None));
        Assert.True(await Outbox.MarkFailedAsync(message.Id, "instance-b", new string('x', 10_000), RetryAfter, CancellationToken.None));
        await Fixture.AgeLeasesAsync(RetryAfter * 2);
        var retriedAgain = Assert.Single(await Outbox.ClaimAsync("instance-c", 10, Lease, CancellationToken.None));

        Assert.Equal(message with { Attempts = 1 }, retried);
        Assert.Equal(2, retriedAgain.Attempts);
        Assert.Equal(SqlOutboxStore.MaxErrorLength, (await LastErrorAsync(message.Id))!.Length);
        Assert.Equal(1, await Outbox.CountPendingAsync(CancellationToken.None));
    }

    [StoreFact]
    public async Task An_instance_whose_clock_runs_ahead_does_not_cut_a_retry_delay_short()
    {
        var message = NewMessage(Start);
        await EnqueueAsync(message);
        await Outbox.ClaimAsync("instance-a", 10, Lease, CancellationToken.None);
        await Outbox.MarkFailedAsync(message.Id, "instance-a", "broker unreachable", RetryAfter, CancellationToken.None);

        var ahead = new SqlOutboxStore(Fixture.Database, new TestClock(Clock.GetUtcNow() + TimeSpan.FromHours(1)));

        Assert.Empty(await ahead.ClaimAsync("instance-ahead", 10, Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task Claim_takes_messages_never_tried_before_messages_that_failed_however_old()
    {
        var failing = Enumerable.Range(0, 3).Select(i => NewMessage(Start.AddMinutes(-10).AddSeconds(i))).ToArray();
        var fresh = Enumerable.Range(0, 3).Select(i => NewMessage(Start.AddSeconds(i))).ToArray();
        await EnqueueAsync([.. failing, .. fresh]);
        Assert.Equal(failing, await Outbox.ClaimAsync("instance-a", 3, Lease, CancellationToken.None));
        foreach (var message in failing)
        {
            await Outbox.MarkFailedAsync(message.Id, "instance-a", "refused", RetryAfter, CancellationToken.None);
        }

        await Fixture.AgeLeasesAsync(RetryAfter * 2);

        Assert.Equal(fresh, await Outbox.ClaimAsync("instance-a", 3, Lease, CancellationToken.None));
        Assert.Equal(failing.Select(message => message with { Attempts = 1 }), await Outbox.ClaimAsync("instance-a", 3, Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task Parked_message_stays_in_the_outbox_is_counted_and_is_never_claimed_again()
    {
        var parked = NewMessage(Start);
        var waiting = NewMessage(Start.AddSeconds(1));
        await EnqueueAsync(parked, waiting);
        await Outbox.ClaimAsync("instance-a", 1, Lease, CancellationToken.None);

        Assert.True(await Outbox.ParkAsync(parked.Id, "instance-a", "refused for good", CancellationToken.None));
        await Fixture.AgeLeasesAsync(TimeSpan.FromDays(30));

        Assert.Equal([waiting], await Outbox.ClaimAsync("instance-b", 10, Lease, CancellationToken.None));
        Assert.Equal(1, await Outbox.CountParkedAsync(CancellationToken.None));
        Assert.Equal(1, await Outbox.CountPendingAsync(CancellationToken.None));
        Assert.Equal(2, await RowCountAsync("outbox_messages"));
        Assert.Equal("refused for good", await LastErrorAsync(parked.Id));
        Assert.Equal(0, await Outbox.PurgeDispatchedAsync(Start.AddYears(1), CancellationToken.None));
    }

    [StoreFact]
    public async Task Failure_reported_by_an_owner_whose_lease_was_taken_over_is_ignored()
    {
        var message = NewMessage(Start);
        await EnqueueAsync(message);
        await Outbox.ClaimAsync("instance-a", 10, Lease, CancellationToken.None);
        await Fixture.AgeLeasesAsync(Lease * 2);
        await Outbox.ClaimAsync("instance-b", 10, Lease, CancellationToken.None);

        Assert.False(await Outbox.MarkFailedAsync(message.Id, "instance-a", "late failure", RetryAfter, CancellationToken.None));
        Assert.False(await Outbox.ParkAsync(message.Id, "instance-a", "late failure", CancellationToken.None));

        Assert.Null(await LastErrorAsync(message.Id));
        Assert.Equal(0, await Outbox.CountParkedAsync(CancellationToken.None));
        Assert.Empty(await Outbox.ClaimAsync("instance-c", 10, Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task Count_pending_counts_undispatched_messages_whether_claimed_or_not()
    {
        var messages = Enumerable.Range(0, 4).Select(i => NewMessage(Start.AddSeconds(i))).ToArray();
        await EnqueueAsync(messages);
        await Outbox.ClaimAsync("instance-a", 2, Lease, CancellationToken.None);
        await Outbox.MarkDispatchedAsync([messages[0].Id], "instance-a", CancellationToken.None);

        Assert.Equal(3, await Outbox.CountPendingAsync(CancellationToken.None));
    }

    [StoreFact]
    public async Task Purge_deletes_only_messages_dispatched_before_the_cutoff()
    {
        var old = NewMessage(Start);
        var recent = NewMessage(Start.AddSeconds(1));
        var pending = NewMessage(Start.AddSeconds(2));
        await EnqueueAsync(old, recent, pending);
        await Outbox.MarkDispatchedAsync([old.Id], "instance-a", CancellationToken.None);
        Clock.Advance(TimeSpan.FromDays(10));
        await Outbox.MarkDispatchedAsync([recent.Id], "instance-a", CancellationToken.None);

        var purged = await Outbox.PurgeDispatchedAsync(Start + TimeSpan.FromDays(1), CancellationToken.None);

        Assert.Equal(1, purged);
        Assert.Equal(2, await RowCountAsync("outbox_messages"));
        Assert.Equal([pending], await Outbox.ClaimAsync("instance-a", 10, Lease, CancellationToken.None));
    }

    protected static DateTimeOffset Start { get; } = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly TimeSpan RetryAfter = TimeSpan.FromMinutes(2);

    protected static OutboxMessage NewMessage(DateTimeOffset createdAt) => new(
        Guid.NewGuid(),
        "ClosingDocumentSent",
        """{"documentKey":"doc-1","resourceId":"ap-1"}""",
        """{"message-id":"m-1","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}""",
        createdAt,
        0);

    protected async Task EnqueueAsync(params OutboxMessage[] messages)
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var message in messages)
        {
            await Outbox.EnqueueAsync(transaction, message, CancellationToken.None);
        }

        await transaction.CommitAsync();
    }

    private static string NewKey() => "msg-" + Guid.NewGuid().ToString("N");

    private async Task CompleteAsync(string key)
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        await Idempotency.CompleteAsync(transaction, key, "Sent", null, CancellationToken.None);
        await transaction.CommitAsync();
    }

    private async Task SetAppliedAsync(string scope, string documentKey, string? version, string? resourceId, bool deleted)
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        await Documents.SetAppliedAsync(transaction, scope, documentKey, version, resourceId, deleted, CancellationToken.None);
        await transaction.CommitAsync();
    }

    private async Task<string?> LastErrorAsync(Guid id)
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        return await connection.QuerySingleAsync<string?>(
            $"SELECT last_error FROM {Fixture.Table("outbox_messages")} WHERE id = @Id;", new { Id = Fixture.IdParameter(id) });
    }

    private async Task<long> RowCountAsync(string table)
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {Fixture.Table(table)};");
    }

    private async Task<List<string>> AppliedScriptsAsync(BridgeDatabase database)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var names = await connection.QueryAsync<string>($"SELECT script_name FROM {Fixture.Table("schema_versions")};");
        return names.Order(StringComparer.Ordinal).ToList();
    }

    [StoreFact]
    public async Task Records_still_carrying_an_older_bridges_pending_write_marker_are_found_by_document_key()
    {
        var key = "DOC-" + Guid.NewGuid().ToString("N");
        await Idempotency.BeginAsync("old-create", "SendClosingDocument", "fp", key, CancellationToken.None);
        await Idempotency.SetPendingAsyncTaskAsync("old-create", "CreateSent|638000000000000000", CancellationToken.None);
        Clock.Advance(TimeSpan.FromSeconds(1));
        await Idempotency.BeginAsync("old-update", "SendClosingDocument", "fp", key, CancellationToken.None);
        await Idempotency.SetPendingAsyncTaskAsync("old-update", "Updated|task-1", CancellationToken.None);

        // Not found: no marker, another message type, another key, a completed record.
        await Idempotency.BeginAsync("new", "SendClosingDocument", "fp", key, CancellationToken.None);
        await Idempotency.BeginAsync("delete", "DeleteClosingDocument", "fp", key, CancellationToken.None);
        await Idempotency.SetPendingAsyncTaskAsync("delete", "x|y", CancellationToken.None);
        await Idempotency.BeginAsync("other", "SendClosingDocument", "fp", key + "-2", CancellationToken.None);
        await Idempotency.SetPendingAsyncTaskAsync("other", "Created|task-2", CancellationToken.None);
        await Idempotency.BeginAsync("done", "SendClosingDocument", "fp", key, CancellationToken.None);
        await Idempotency.SetPendingAsyncTaskAsync("done", "Created|task-3", CancellationToken.None);
        await using (var connection = await Fixture.Database.OpenAsync(CancellationToken.None))
        await using (var transaction = await connection.BeginTransactionAsync(CancellationToken.None))
        {
            Assert.True(await Idempotency.CompleteAsync(transaction, "done", "Applied", null, CancellationToken.None));
            await transaction.CommitAsync(CancellationToken.None);
        }

        var marked = await Idempotency.FindMarkedForDocumentAsync("SendClosingDocument", key, CancellationToken.None);
        Assert.Equal(
            [("old-create", "CreateSent|638000000000000000"), ("old-update", "Updated|task-1")],
            marked.Select(r => (r.IdempotencyKey, r.PendingAsyncTaskId)));
    }
}

/// <summary>Tests only a server engine can pass: SQLite has one writer, so there a held lock blocks instead of being skipped.</summary>
public abstract class ServerStoreTests<TFixture>(TFixture fixture) : StoreTests<TFixture>(fixture)
    where TFixture : StorageFixture
{
    [StoreFact]
    public async Task Claim_skips_a_message_another_transaction_has_locked_instead_of_waiting()
    {
        var locked = NewMessage(Start);
        var free = NewMessage(Start.AddSeconds(1));
        await EnqueueAsync(locked, free);
        var lockRow = Fixture.Dialect == SqlDialect.PostgreSql
            ? $"SELECT id FROM {Fixture.Table("outbox_messages")} WHERE id = @Id FOR UPDATE;"
            : $"SELECT id FROM {Fixture.Table("outbox_messages")} WITH (UPDLOCK, ROWLOCK) WHERE id = @Id;";

        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(new CommandDefinition(lockRow, new { locked.Id }, transaction));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var claimed = await Outbox.ClaimAsync("instance-b", 10, TimeSpan.FromMinutes(1), timeout.Token);

        Assert.Equal([free], claimed);
    }
}

public sealed class PostgreSqlStoreTests(PostgreSqlStorageFixture fixture) : ServerStoreTests<PostgreSqlStorageFixture>(fixture);

public sealed class SqliteStoreTests(SqliteStorageFixture fixture) : StoreTests<SqliteStorageFixture>(fixture);

[RequiresEnvironmentVariable(SqlServerStorageFixture.Variable)]
public sealed class SqlServerStoreTests(SqlServerStorageFixture fixture) : ServerStoreTests<SqlServerStorageFixture>(fixture);
