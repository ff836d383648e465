using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Bridge.Host.Storage;
using Dapper;

namespace Bridge.Host.Effects;

/// <summary>
/// What an operator decided about an effect, stored as its evidence when they resolve it (the evidence it had before is
/// kept inside, as <see cref="Previous"/>). A flow that finds its effect resolved this way answers from it: applied
/// without sending, or sent again.
/// </summary>
/// <param name="ResolvedBy">The operator token's name.</param>
/// <param name="Note">Who checked what in ActivePlatform, and why this resolution.</param>
/// <param name="From">The state the operator resolved it from (<see cref="EffectState.Unknown"/>, or an open state past its wait).</param>
/// <param name="ResourceId">The ActivePlatform resource the operator found (payment, correction, document), when applied.</param>
public sealed record OperatorResolution(
    string ResolvedBy,
    string Note,
    EffectState Resolution,
    EffectState From,
    string? ResourceId,
    DateTimeOffset At,
    JsonElement? Previous)
{
    /// <summary>The operator's resolution recorded as the entry's evidence, or null when a flow (not an operator) resolved it.</summary>
    public static OperatorResolution? Of(EffectEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Evidence is not { } evidence)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(evidence);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("resolvedBy", out _)
                ? document.RootElement.Deserialize<OperatorResolution>(EffectEvidence.JsonOptions)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The evidence the effect had before the operator resolved it, read as <typeparamref name="T"/>.</summary>
    public T? PreviousAs<T>() =>
        Previous is { ValueKind: JsonValueKind.Object } previous ? previous.Deserialize<T>(EffectEvidence.JsonOptions) : default;

    /// <summary>Evidence text kept as JSON inside the resolution (text that is not JSON is kept as a JSON string).</summary>
    public static JsonElement? Keep(string? evidence)
    {
        if (evidence is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(evidence);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(evidence);
        }
    }
}

/// <summary>What an Unknown effect's dead letter tells the operator: which effect it is, and the commands that resolve it.</summary>
public static class EffectInstructions
{
    /// <param name="ifApplied">What resolving it as applied needs, e.g. "with --resource-id &lt;payment id&gt;".</param>
    public static string Resolve(EffectId id, string ifApplied)
    {
        ArgumentNullException.ThrowIfNull(id);
        return $"If it was applied, run 'bridge effects resolve {id.Hash} --as applied {ifApplied} --note \"<who checked what>\"' and replay this message: "
            + $"it is answered as applied without sending anything. If it was not, run 'bridge effects resolve {id.Hash} --as not-applied --note \"<who checked what>\"' "
            + $"and replay it: it is sent again (README: Resolving an Unknown effect). [effect {id.Hash}: scope '{id.Scope}', key '{id.Key}']";
    }
}

/// <summary>
/// A flow's check, before an operator's "applied, resource X" is recorded, that X is there in ActivePlatform and can be this
/// effect's. Refusing is cheap (the operator looks again); accepting a wrong id answers the ERP with another resource.
/// </summary>
public interface IEffectResourceCheck
{
    /// <summary>The effect kind checked (<see cref="EffectKinds.Kind.Prefix"/>).</summary>
    string Prefix { get; }

    /// <summary>Why <paramref name="resourceId"/> cannot be recorded as <paramref name="entry"/>'s resource, or null when it can.</summary>
    Task<string?> RefusalAsync(EffectEntry entry, string resourceId, CancellationToken cancellationToken);

    /// <summary>Why <paramref name="entry"/> cannot be resolved as applied without a resource (this effect always makes one), or null.</summary>
    Task<string?> RefusalWithoutResourceAsync(EffectEntry entry, CancellationToken cancellationToken) => Task.FromResult<string?>(null);
}

/// <summary>
/// The kinds of effect the journal holds, told by the scope's prefix, with what an operator must name to resolve one as
/// applied: the ActivePlatform resource the effect made, where later messages for its key answer with it.
/// </summary>
public static class EffectKinds
{
    public sealed record Kind(string Prefix, string Name, string ResourceName, bool ResourceRequired);

    /// <summary>Every kind: statement lines name a correction only when the line made one (a line that pays in full makes none).</summary>
    public static IReadOnlyList<Kind> All { get; } =
    [
        new("payment-statement-line", "statement line (CompletePayment by number)", "correction id (only when the line made a correction)", ResourceRequired: false),
        new("payment-top-up", "top-up (RegisterPayment)", "payment id", ResourceRequired: true),
        new("correction", "correction (CreateCorrection)", "correction id", ResourceRequired: true),
        new("closing-document-create", "closing-document create (SendClosingDocument)", "external invoice id", ResourceRequired: true),
    ];

    public static Kind Of(string scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var prefix = scope.Split(':', 2)[0];
        return All.FirstOrDefault(kind => string.Equals(kind.Prefix, prefix, StringComparison.Ordinal))
            ?? new Kind(prefix, prefix, "resource id", ResourceRequired: false);
    }
}

/// <summary>Which effects to list: those in <see cref="State"/>, or with none, every Unknown one and every open one sent at least <see cref="OpenOlderThan"/> ago.</summary>
public sealed record EffectFilter(
    EffectState? State = null,
    TimeSpan OpenOlderThan = default,
    string? Scope = null,
    string? Key = null,
    string? Group = null,
    string? Owner = null);

/// <summary>A journal row as operators see it: the entry and when it last changed.</summary>
public sealed record EffectRecord(EffectEntry Entry, DateTimeOffset UpdatedAt)
{
    /// <summary>The effect's id: the primary key, a SHA-256 of its scope and key.</summary>
    public string Id => Entry.Id.Hash;
}

public sealed record EffectPage(IReadOnlyList<EffectRecord> Items, long Total, int Page, int PageSize);

public sealed record EffectAuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string Outcome, string? Detail);

/// <summary>One operator action on an effect, as recorded.</summary>
public sealed record EffectAction(string Actor, string Action, string Outcome, string? Detail = null);

public sealed record EffectDetails(EffectRecord Effect, IReadOnlyList<EffectAuditEntry> Audit);

/// <summary>How many effects wait for an operator, how many are open, and how long the oldest open one has been.</summary>
public sealed record EffectHealth(long Unknown, long Open, TimeSpan? OldestOpenAge);

/// <summary>
/// The effect journal for operators: list, show, resolve (conditionally, with its audit entry in the same transaction),
/// audit, purge and the figures behind the metrics. Every time is the database's.
/// </summary>
public sealed class SqlEffectAdminStore(IBridgeDatabase database)
{
    public const int MaxPageSize = 500;

    private readonly EffectJournalSql sql = EffectJournalSql.For(database.Dialect);

    public async Task<EffectPage> QueryAsync(EffectFilter filter, int page, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(page, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(filter.OpenOlderThan, TimeSpan.Zero);

        var parameters = FilterParameters(filter);
        parameters.Add("Skip", (page - 1) * pageSize, DbType.Int32);
        parameters.Add("Take", pageSize, DbType.Int32);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<AdminRow>(new CommandDefinition(sql.Query, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(sql.QueryCount, FilterParameters(filter), cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new EffectPage(rows.Select(row => row.ToRecord()).ToList(), total, page, pageSize);
    }

    public async Task<EffectDetails?> GetAsync(string effectId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(effectId);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleOrDefaultAsync<AdminRow>(new CommandDefinition(
            sql.SelectDetails, Id(effectId), cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }

        var audit = await connection.QueryAsync<AuditRow>(new CommandDefinition(
            sql.AuditSelect, Id(effectId), cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new EffectDetails(row.ToRecord(), audit.Select(entry => entry.ToEntry()).ToList());
    }

    /// <summary>
    /// Resolves <paramref name="seen"/> as an operator decided, and records <paramref name="action"/> in its audit trail in
    /// the same transaction. False (nothing written) when the effect is no longer in the state and attempt seen, or is open
    /// and was sent less than <paramref name="openResolvableAfter"/> ago. A resource another effect of the scope owns is a
    /// unique violation (<see cref="DbException"/>).
    /// </summary>
    public async Task<bool> TryResolveAsync(
        EffectEntry seen, EffectState state, string? resourceId, string evidence, TimeSpan openResolvableAfter, EffectAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(seen);
        ArgumentNullException.ThrowIfNull(action);
        if (state is not (EffectState.Applied or EffectState.NotApplied))
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "An operator resolves an effect as Applied or NotApplied.");
        }

        var parameters = Id(seen.Id.Hash);
        parameters.Add("AttemptId", seen.Attempt, DbType.String);
        parameters.Add("FromState", seen.State.ToString(), DbType.String);
        parameters.Add("State", state.ToString(), DbType.String);
        parameters.Add("ResourceId", resourceId, DbType.String);
        parameters.Add("Evidence", evidence, DbType.String);
        parameters.Add("OpenResolvableAfterMs", (long)Math.Ceiling(openResolvableAfter.TotalMilliseconds), DbType.Int64);

        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var resolved = await connection.ExecuteAsync(new CommandDefinition(sql.OperatorResolve, parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (resolved == 0)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }

        await connection.ExecuteAsync(new CommandDefinition(sql.AuditInsert, AuditParameters(seen.Id.Hash, action), transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task AuditAsync(string effectId, EffectAction action, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(sql.AuditInsert, AuditParameters(effectId, action), cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Deletes resolved effects (Applied, NotApplied) last changed before <paramref name="olderThan"/>, one batch per statement; never an Unknown or open one.</summary>
    public Task<int> PurgeAsync(DateTimeOffset olderThan, CancellationToken cancellationToken) =>
        SqlPurge.InBatchesAsync(database, sql.Purge, olderThan, cancellationToken);

    public async Task<EffectHealth> ReadHealthAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleAsync<HealthRow>(new CommandDefinition(sql.Health, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new EffectHealth(
            Convert.ToInt64(row.UnknownCount, CultureInfo.InvariantCulture),
            Convert.ToInt64(row.OpenCount, CultureInfo.InvariantCulture),
            row.OldestOpenMs is null or DBNull ? null : TimeSpan.FromMilliseconds(Math.Max(0, Convert.ToInt64(row.OldestOpenMs, CultureInfo.InvariantCulture))));
    }

    private static DynamicParameters Id(string effectId)
    {
        var parameters = new DynamicParameters();
        // Fixed-width ASCII like the column, so SQL Server seeks its primary key rather than converting every row.
        parameters.Add("EffectId", effectId, DbType.AnsiStringFixedLength, size: 64);
        return parameters;
    }

    private static DynamicParameters FilterParameters(EffectFilter filter)
    {
        var parameters = new DynamicParameters();
        parameters.Add("State", filter.State?.ToString(), DbType.String);
        parameters.Add("OpenOlderThanMs", (long)Math.Ceiling(filter.OpenOlderThan.TotalMilliseconds), DbType.Int64);
        parameters.Add("Scope", NullIfBlank(filter.Scope), DbType.String);
        parameters.Add("EffectKey", NullIfBlank(filter.Key), DbType.String);
        parameters.Add("GroupKey", NullIfBlank(filter.Group), DbType.String);
        parameters.Add("OwnerKey", NullIfBlank(filter.Owner), DbType.String);
        return parameters;
    }

    private static DynamicParameters AuditParameters(string effectId, EffectAction action)
    {
        var parameters = Id(effectId);
        parameters.Add("Actor", Truncate(action.Actor, 200), DbType.String);
        parameters.Add("Action", Truncate(action.Action, 50), DbType.String);
        parameters.Add("Outcome", Truncate(action.Outcome, 200), DbType.String);
        parameters.Add("Detail", action.Detail, DbType.String);
        return parameters;
    }

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..(max - 1)] + "…";

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    internal static DateTimeOffset ReadTime(object value) => value is string text
        ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)
        : SqlValues.ReadTimestamp(value);

    private sealed class AdminRow : SqlEffectJournal.Row
    {
        public string EffectId { get; set; } = "";

        public object UpdatedAt { get; set; } = null!;

        public EffectRecord ToRecord() => new(ToEntry(), ReadTime(UpdatedAt));
    }

    private sealed class AuditRow
    {
        public long Id { get; set; }

        public object At { get; set; } = null!;

        public string Actor { get; set; } = "";

        public string Action { get; set; } = "";

        public string Outcome { get; set; } = "";

        public string? Detail { get; set; }

        public EffectAuditEntry ToEntry() => new(Id, ReadTime(At), Actor, Action, Outcome, Detail);
    }

    private sealed class HealthRow
    {
        public object UnknownCount { get; set; } = 0L;

        public object OpenCount { get; set; } = 0L;

        public object? OldestOpenMs { get; set; }
    }
}
