using Bridge.Host.Effects;
using Bridge.Host.Idempotency;
using Bridge.Host.Storage;
using Dapper;
using Xunit;

namespace Bridge.Tests.Storage;

/// <summary>
/// The transaction that completes a handled message, against each real database: all of it or nothing. On PostgreSQL its
/// statements travel in two batches whose fences are judged after each ran, so each failed fence must still leave nothing
/// written — not the record, not the document, not the journal, not the event, not the release — and be the answer, not
/// what a statement after it would have done.
/// </summary>
public abstract class CompletionStoreTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : StorageFixture
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private readonly TestClock clock = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    protected TFixture Fixture { get; } = fixture;

    protected SqlCompletionStore Completions => new(Fixture.Database, clock);

    private SqlIdempotencyStore Records => new(Fixture.Database, clock);

    protected SqlDocumentStateStore Documents => new(Fixture.Database, clock);

    private SqlEffectJournal Journal => new(Fixture.Database);

    public Task InitializeAsync() => Fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [StoreFact]
    public async Task A_completion_writes_the_record_the_documents_the_journal_and_the_event_and_gives_the_claim_back()
    {
        var (key, document) = await BeginAsync("owner-1");
        var effect = Effect(key);
        var attempt = await Journal.TryBeginAsync(effect, key, "fp", null, CancellationToken.None);
        Assert.NotNull(attempt);
        var completion = Completion(key, document, "owner-1", [new EffectResolution(effect, attempt, EffectState.Applied, "ap-7", """{"seen":true}""")]);

        Assert.Equal(CompletionResult.Committed, await Completions.CommitAsync(completion, CancellationToken.None));

        var record = await Records.FindAsync(key, CancellationToken.None);
        Assert.Equal((IdempotencyState.Completed, "Applied", "ap-7"), (record!.State, record.Outcome, record.ResourceId));
        Assert.Equal(("v2", "ap-7", false), await AppliedAsync("scope", document));
        Assert.Equal(("v9", null, true), await AppliedAsync("other-scope", document));
        var resolved = await Journal.FindAsync(effect, CancellationToken.None);
        Assert.Equal((EffectState.Applied, "ap-7"), (resolved!.State, resolved.ResourceId));
        Assert.Equal(1, await EventsAsync(completion.Event.Id));
        Assert.Null(await ClaimedByAsync(document));
    }

    [StoreFact]
    public async Task A_completion_that_holds_its_document_keeps_the_claim_and_gives_back_the_other_claims_it_names()
    {
        var (key, document) = await BeginAsync("owner-1");
        Assert.NotNull(await Documents.ClaimAsync("pair-scope", "RUB/USD", "owner-1-intent", Lease, CancellationToken.None));
        var completion = Completion(key, document, "owner-1", []) with
        {
            HoldFor = TimeSpan.FromMinutes(5),
            Releases = [new ScopedClaim("pair-scope", "RUB/USD", "owner-1-intent")],
        };

        Assert.Equal(CompletionResult.Committed, await Completions.CommitAsync(completion, CancellationToken.None));

        // The document stays claimed (another delivery cannot take it, even once the work's own lease would have run out);
        // the named claim is given back.
        Assert.Equal(Bridge.Host.Storage.Completion.HoldOwner("owner-1"), await ClaimedByAsync(document));
        await Fixture.AgeLeasesAsync(Lease + TimeSpan.FromMinutes(1));
        Assert.Null(await Documents.ClaimAsync("scope", document, "owner-2", Lease, CancellationToken.None));

        // The delivery's own late heartbeat, or its clean-up, neither shortens nor gives back the hold.
        Assert.False(await Documents.TryRenewAsync(null, "scope", document, "owner-1", TimeSpan.FromSeconds(1), CancellationToken.None));
        await Documents.ReleaseAsync(null, "scope", document, "owner-1", CancellationToken.None);
        Assert.Equal(Bridge.Host.Storage.Completion.HoldOwner("owner-1"), await ClaimedByAsync(document));
        Assert.NotNull(await Documents.ClaimAsync("pair-scope", "RUB/USD", "owner-2", Lease, CancellationToken.None));
    }

    [StoreFact]
    public async Task A_completion_whose_claim_another_delivery_took_writes_nothing()
    {
        var (key, document) = await BeginAsync("owner-1");
        await Fixture.AgeLeasesAsync(Lease + TimeSpan.FromMinutes(1));
        Assert.NotNull(await Documents.ClaimAsync("scope", document, "owner-2", Lease, CancellationToken.None));
        var completion = Completion(key, document, "owner-1", []);

        Assert.Equal(CompletionResult.ClaimLost, await Completions.CommitAsync(completion, CancellationToken.None));

        await AssertNothingWrittenAsync(key, document, completion, claimedBy: "owner-2");
    }

    [StoreFact]
    public async Task A_completion_of_a_record_another_delivery_completed_writes_nothing_and_says_so()
    {
        var (key, document) = await BeginAsync("owner-1");
        var first = Completion(key, document, "owner-1", []);
        Assert.Equal(CompletionResult.Committed, await Completions.CommitAsync(first, CancellationToken.None));
        Assert.NotNull(await Documents.ClaimAsync("scope", document, "owner-2", Lease, CancellationToken.None));
        var second = Completion(key, document, "owner-2", [], appliedVersion: "v3");

        Assert.Equal(CompletionResult.AlreadyCompleted, await Completions.CommitAsync(second, CancellationToken.None));

        Assert.Equal(("v2", "ap-7", false), await AppliedAsync("scope", document));
        Assert.Equal(0, await EventsAsync(second.Event.Id));
        Assert.Equal("owner-2", await ClaimedByAsync(document));
    }

    /// <summary>
    /// The record was completed by another transaction that never took the claim (an invalid redelivery's rejection does
    /// that) while this delivery held it. The answer is the record's: nothing after its fence may run and answer in its
    /// place — here a document write that the database would refuse (a resource id longer than its column).
    /// </summary>
    [StoreFact]
    public async Task A_record_completed_meanwhile_is_the_answer_even_when_a_later_statement_would_fail()
    {
        var (key, document) = await BeginAsync("owner-1");
        await CompleteElsewhereAsync(key);
        var completion = Completion(key, document, "owner-1", [], otherResourceId: new string('r', 101));

        Assert.Equal(CompletionResult.AlreadyCompleted, await Completions.CommitAsync(completion, CancellationToken.None));

        Assert.Equal((null, null, false), await AppliedAsync("other-scope", document));
        Assert.Equal(0, await EventsAsync(completion.Event.Id));
        Assert.Equal("owner-1", await ClaimedByAsync(document));
    }

    /// <summary>Completes the record as a rejection does: its own transaction, no claim.</summary>
    protected async Task CompleteElsewhereAsync(string key)
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        Assert.True(await Records.CompleteAsync(transaction, key, "Rejected", null, CancellationToken.None));
        await transaction.CommitAsync();
    }

    [StoreFact]
    public async Task A_completion_whose_effect_attempt_was_superseded_throws_and_writes_nothing_before_or_after_it()
    {
        var (key, document) = await BeginAsync("owner-1");
        var effect = Effect(key);
        var attempt = await Journal.TryBeginAsync(effect, key, "fp", null, CancellationToken.None);
        Assert.NotNull(attempt);
        await Journal.ResolveAsync(effect, attempt, EffectState.NotApplied, null, null, CancellationToken.None);
        var restarted = await Journal.TryBeginAsync(effect, key, "fp", null, CancellationToken.None);
        Assert.NotNull(restarted);
        Assert.NotEqual(attempt, restarted);
        var completion = Completion(key, document, "owner-1", [new EffectResolution(effect, attempt, EffectState.Applied, "ap-7", null)]);

        await Assert.ThrowsAsync<EffectAttemptSupersededException>(() => Completions.CommitAsync(completion, CancellationToken.None));

        await AssertNothingWrittenAsync(key, document, completion, claimedBy: "owner-1");
        var entry = await Journal.FindAsync(effect, CancellationToken.None);
        Assert.Equal((EffectState.Sending, restarted), (entry!.State, entry.Attempt));
    }

    [StoreFact]
    public async Task A_completion_of_a_record_never_begun_is_refused_and_writes_nothing()
    {
        var document = "doc-" + Guid.NewGuid().ToString("N");
        Assert.NotNull(await Documents.ClaimAsync("scope", document, "owner-1", Lease, CancellationToken.None));
        var completion = Completion("never-begun-" + Guid.NewGuid().ToString("N"), document, "owner-1", []);

        await Assert.ThrowsAsync<InvalidOperationException>(() => Completions.CommitAsync(completion, CancellationToken.None));

        Assert.Equal(0, await EventsAsync(completion.Event.Id));
        Assert.Equal("owner-1", await ClaimedByAsync(document));
        Assert.Equal((null, null, false), await AppliedAsync("scope", document));
    }

    private async Task AssertNothingWrittenAsync(string key, string document, Completion completion, string claimedBy)
    {
        var record = await Records.FindAsync(key, CancellationToken.None);
        Assert.Equal((IdempotencyState.InProgress, null), (record!.State, record.Outcome));
        Assert.Equal((null, null, false), await AppliedAsync("scope", document));
        Assert.Equal((null, null, false), await AppliedAsync("other-scope", document));
        Assert.Equal(0, await EventsAsync(completion.Event.Id));
        Assert.Equal(claimedBy, await ClaimedByAsync(document));
    }

    protected async Task<(string Key, string Document)> BeginAsync(string owner)
    {
        var key = "msg-" + Guid.NewGuid().ToString("N");
        var document = "doc-" + key;
        var begun = await Records.BeginAndClaimAsync(key, "SendClosingDocument", "fp", "scope", document, owner, Lease, null, CancellationToken.None);
        Assert.NotNull(begun.Document);
        return (key, document);
    }

    private static EffectId Effect(string key) => new("closing-document:1:5", "write|" + key, "doc|" + key);

    protected Completion Completion(string key, string document, string owner, IReadOnlyList<EffectResolution> effects, string appliedVersion = "v2", string? otherResourceId = null) => new(
        "scope",
        document,
        owner,
        Lease,
        key,
        "Applied",
        "ap-7",
        [
            new ScopedDocumentChange("scope", document, new DocumentChange(appliedVersion, "ap-7", Deleted: false)),
            new ScopedDocumentChange("other-scope", document, new DocumentChange("v9", otherResourceId, Deleted: true)),
        ],
        effects,
        new OutboxMessage(Guid.NewGuid(), "ClosingDocumentSent", """{"messageId":"x"}""", "{}", clock.GetUtcNow(), 0)
        {
            TraceParent = null,
            SourceMessageId = key,
        });

    private async Task<(string? Version, string? ResourceId, bool Deleted)> AppliedAsync(string scope, string document)
    {
        var state = await Documents.GetAsync(scope, document, CancellationToken.None);
        return state is null ? (null, null, false) : (state.AppliedVersion, state.ResourceId, state.Deleted);
    }

    protected async Task<long> EventsAsync(Guid id)
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>(
            $"SELECT COUNT(*) FROM {Fixture.Table("outbox_messages")} WHERE id = @Id", new { Id = Fixture.IdParameter(id) });
    }

    protected async Task<string?> ClaimedByAsync(string document)
    {
        await using var connection = await Fixture.Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<string?>(
            $"SELECT claimed_by FROM {Fixture.Table("document_states")} WHERE scope = 'scope' AND document_key = @Document", new { Document = document });
    }
}

public sealed class PostgreSqlCompletionStoreTests(PostgreSqlStorageFixture fixture) : CompletionStoreTests<PostgreSqlStorageFixture>(fixture)
{
    /// <summary>
    /// A delivery whose claim was taken over completes while another transaction holds its record's row (a rejection of the
    /// same key, another delivery's completion). The lost claim is the answer at once: the record is not touched unless the
    /// renewal held, so the delivery neither waits on that row nor — had the row been free — locks it while the claim's new
    /// holder needs it.
    /// </summary>
    [StoreFact]
    public async Task A_lost_claim_is_the_answer_without_touching_the_record_another_transaction_holds()
    {
        var (key, document) = await BeginAsync("owner-1");
        await Fixture.AgeLeasesAsync(TimeSpan.FromMinutes(2));
        Assert.NotNull(await Documents.ClaimAsync("scope", document, "owner-2", TimeSpan.FromMinutes(1), CancellationToken.None));
        var completion = Completion(key, document, "owner-1", []);

        var answer = await CommitWhileHeldAsync(
            completion, "UPDATE bridge.idempotency_records SET updated_at = updated_at WHERE idempotency_key = @Key", new { Key = key });

        Assert.Equal(CompletionResult.ClaimLost, answer);
        Assert.Equal(0, await EventsAsync(completion.Event.Id));
        Assert.Equal("owner-2", await ClaimedByAsync(document));
    }

    /// <summary>
    /// As above, with a later statement that would wait instead of fail: another transaction holds the row of a document the
    /// completion would also write. The record's answer comes while that lock is still held — nothing after the record's
    /// fence was sent to wait on it.
    /// </summary>
    [StoreFact]
    public async Task A_record_completed_meanwhile_is_the_answer_without_waiting_on_a_lock_a_later_statement_would_need()
    {
        var (key, document) = await BeginAsync("owner-1");
        await using (var connection = await Fixture.Database.OpenAsync(CancellationToken.None))
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Documents.SetAppliedAsync(transaction, "other-scope", document, "v1", null, false, CancellationToken.None);
            await transaction.CommitAsync();
        }

        await CompleteElsewhereAsync(key);
        var completion = Completion(key, document, "owner-1", []);

        var answer = await CommitWhileHeldAsync(
            completion,
            "UPDATE bridge.document_states SET updated_at = updated_at WHERE scope = 'other-scope' AND document_key = @Document",
            new { Document = document });

        Assert.Equal(CompletionResult.AlreadyCompleted, answer);
        Assert.Equal(0, await EventsAsync(completion.Event.Id));
        Assert.Equal("owner-1", await ClaimedByAsync(document));
    }

    /// <summary>
    /// Commits <paramref name="completion"/> while another transaction holds the one row <paramref name="lockRow"/> updates,
    /// and gives the row back after the answer came.
    /// </summary>
    private async Task<CompletionResult> CommitWhileHeldAsync(Completion completion, string lockRow, object arguments)
    {
        await using var holder = await Fixture.Database.OpenAsync(CancellationToken.None);
        await using var holding = await holder.BeginTransactionAsync();
        Assert.Equal(1, await holder.ExecuteAsync(lockRow, arguments, holding));

        // Bounded only so that a completion stuck on the lock fails the test instead of hanging it.
        var answer = await Completions.CommitAsync(completion, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        await holding.RollbackAsync();
        return answer;
    }
}

public sealed class SqliteCompletionStoreTests(SqliteStorageFixture fixture) : CompletionStoreTests<SqliteStorageFixture>(fixture);

[RequiresEnvironmentVariable(SqlServerStorageFixture.Variable)]
public sealed class SqlServerCompletionStoreTests(SqlServerStorageFixture fixture) : CompletionStoreTests<SqlServerStorageFixture>(fixture);
