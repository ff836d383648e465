using System.Globalization;
using Bridge.Chaos.Model;
using Bridge.Contracts;

namespace Bridge.Chaos.Generation;

/// <summary>
/// One closing document per scenario: up to four versions (ordered by revision, or by modifiedAt for some documents),
/// published in random order, some delivered twice, some republished under a new message id, now and then a different
/// payload under an id already used, and sometimes a delete racing them. A key starting with <c>async-</c> is answered by
/// the sandbox with an async task. The version a message carries is in its document's name (<c>r2</c>), so a write in the
/// sandbox's ledger tells which version it was.
/// </summary>
public sealed class ClosingDocumentScenarios : ScenarioFamily
{
    public const string AsyncKeyPattern = "^async-";

    private static readonly DateTimeOffset ModifiedBase = new(2026, 11, 1, 9, 0, 0, TimeSpan.FromHours(3));
    private static readonly string Pdf = Convert.ToBase64String("%PDF-1.4 chaos closing document"u8.ToArray());

    private int _documents;

    public override Flow Flow => Flow.ClosingDocuments;

    public override double Weight => 3;

    /// <summary>The version rank a document name carries (<c>… r3</c> → 3).</summary>
    public static int? RankOf(string? name)
    {
        var at = name?.LastIndexOf(" r", StringComparison.Ordinal) ?? -1;
        if (at < 0)
        {
            return null;
        }

        var digits = new string(name!.AsSpan(at + 2).ToString().TakeWhile(char.IsAsciiDigit).ToArray());
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var rank) ? rank : null;
    }

    /// <summary>The version rank of a message: its revision, or the minutes of its modifiedAt after the base time.</summary>
    public static int RankOf(SendClosingDocument message) =>
        message.Revision is { } revision ? (int)revision : RankOf(message.ModifiedAt!.Value);

    /// <summary>The version rank of a modification time: minutes after the base time.</summary>
    public static int RankOf(DateTimeOffset modifiedAt) => (int)Math.Round((modifiedAt - ModifiedBase).TotalMinutes);

    public static string Subject(long accountId, string key) => string.Create(CultureInfo.InvariantCulture, $"{accountId}/{key}");

    public override IScenario Plan(GenerationContext context)
    {
        var n = ++_documents;
        var isAsync = context.Chance(0.25);
        var key = context.Keys.Key(isAsync ? "async-doc-" : "doc-", n);
        var accountId = 7001 + context.Random.Next(4);
        var byModifiedAt = context.Chance(0.2);
        var versions = Enumerable.Range(1, 1 + context.Random.Next(4)).Select(rank => new VersionPlan(
            rank,
            KeyInBody: context.Chance(0.1),
            Duplicate: context.Chance(0.15),
            Republish: context.Chance(0.15),
            RepublishDuplicate: context.Chance(0.15),
            Conflict: context.Chance(0.08))).ToList();
        var delete = context.Chance(0.25);
        var deleteDuplicate = context.Chance(0.15);

        var size = versions.Sum(v => 1 + (v.Duplicate ? 1 : 0) + (v.Republish ? 1 + (v.RepublishDuplicate ? 1 : 0) : 0) + (v.Conflict ? 1 : 0))
            + (delete ? 1 + (deleteDuplicate ? 1 : 0) : 0);
        var order = context.Permutation(size);
        return new Scenario(size, c => GenerationContext.Arrange([.. Emit(c, n, key, accountId, byModifiedAt, versions, delete, deleteDuplicate)], order));
    }

    private sealed record VersionPlan(int Rank, bool KeyInBody, bool Duplicate, bool Republish, bool RepublishDuplicate, bool Conflict);

    private IEnumerable<Publication> Emit(
        GenerationContext context, int n, string key, long accountId, bool byModifiedAt, List<VersionPlan> versions, bool delete, bool deleteDuplicate)
    {
        var subject = Subject(accountId, key);
        foreach (var plan in versions)
        {
            var version = Version(n, key, accountId, plan.Rank, byModifiedAt);
            var original = context.Message(Flow, version, subject, $"version r{plan.Rank} of document {key}", keyInBody: plan.KeyInBody);
            foreach (var publication in GenerationContext.Publish(original, plan.Duplicate))
            {
                yield return publication;
            }

            if (plan.Republish)
            {
                var republished = context.Message(Flow, version, subject, $"version r{plan.Rank} of document {key}, republished under a new id");
                foreach (var publication in GenerationContext.Publish(republished, plan.RepublishDuplicate))
                {
                    yield return publication;
                }
            }

            if (plan.Conflict)
            {
                var conflicting = version with { Name = version.Name + " (conflicting)", Amount = version.Amount with { Total = version.Amount.Total + 1 } };
                yield return new Publication(
                    context.Message(Flow, conflicting, subject, $"another payload for version r{plan.Rank} of document {key} under the id of #{original.Ordinal}",
                        idempotencyKey: original.IdempotencyKey, keyInBody: plan.KeyInBody),
                    0);
            }
        }

        if (delete)
        {
            // Every other document's delete carries the version of the deletion, one above its last version: ordered with the
            // versions, it is the last word whatever order they arrive in. (Chosen by the document's number, not drawn, so
            // that the random stream — and what every seed plans — stays as it was.)
            var rank = versions.Count + 1;
            var versioned = n % 2 == 0;
            var payload = new DeleteClosingDocument
            {
                AccountId = accountId,
                Key = key,
                Revision = versioned && !byModifiedAt ? rank : null,
                ModifiedAt = versioned && byModifiedAt ? ModifiedBase.AddMinutes(rank) : null,
            };
            var message = context.Message(Flow, payload, subject, versioned ? $"delete document {key} at r{rank}" : $"delete document {key}");
            foreach (var publication in GenerationContext.Publish(message, deleteDuplicate))
            {
                yield return publication;
            }
        }
    }

    private static SendClosingDocument Version(int n, string key, long accountId, int rank, bool byModifiedAt) => new()
    {
        AccountId = accountId,
        Key = key,
        Type = ClosingDocumentType.Act,
        Name = string.Create(CultureInfo.InvariantCulture, $"Act {n} r{rank}"),
        Amount = new Money(100m + rank + (n % 100 / 100m), "EUR"),
        StartDate = new DateOnly(2026, 10, 1),
        EndDate = new DateOnly(2026, 10, 31),
        File = new DocumentFile { ContentType = "application/pdf", ContentBase64 = Pdf, FileName = "act.pdf" },
        Revision = byModifiedAt ? null : rank,
        ModifiedAt = byModifiedAt ? ModifiedBase.AddMinutes(rank) : null,
    };
}
