using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Xunit;

namespace Bridge.Tests.Validation;

/// <summary>
/// The order of a closing document's versions (contracts: <c>revision</c> orders them when present, else <c>modifiedAt</c>).
/// Two messages of the same revision that both say when they were modified are ordered by that time: an earlier one is
/// older and never written over the later one (issue 7, leftovers).
/// </summary>
public sealed class DocumentVersionTests
{
    private static readonly DateTimeOffset Nine = new(2026, 11, 30, 9, 0, 0, TimeSpan.FromHours(3));

    private static string Of(long? revision, DateTimeOffset? modifiedAt) => DocumentVersion.Of(new SendClosingDocument
    {
        AccountId = 1,
        Key = "k",
        Type = ClosingDocumentType.Act,
        Name = "n",
        Amount = new Money(1m, "EUR"),
        StartDate = new DateOnly(2026, 10, 1),
        EndDate = new DateOnly(2026, 10, 31),
        File = new DocumentFile { ContentType = "application/pdf", ContentBase64 = "JVBERi0=" },
        Revision = revision,
        ModifiedAt = modifiedAt,
    });

    [Fact]
    public void The_same_revision_modified_earlier_is_older_than_the_one_modified_later()
    {
        Assert.True(DocumentVersion.IsOlder(Of(3, Nine), Of(3, Nine.AddHours(1))));
        Assert.False(DocumentVersion.IsOlder(Of(3, Nine.AddHours(1)), Of(3, Nine)));
        Assert.False(DocumentVersion.IsSame(Of(3, Nine), Of(3, Nine.AddHours(1))));
    }

    [Fact]
    public void The_revision_orders_before_the_modification_time()
    {
        Assert.True(DocumentVersion.IsOlder(Of(2, Nine.AddDays(1)), Of(3, Nine)));
        Assert.False(DocumentVersion.IsOlder(Of(4, Nine), Of(3, Nine.AddDays(1))));
        Assert.True(DocumentVersion.IsOlder(Of(2, null), Of(3, Nine)));
        Assert.True(DocumentVersion.IsOlder(Of(2, Nine), Of(3, null)));
    }

    [Fact]
    public void The_same_revision_without_a_time_on_either_side_is_the_same_version_neither_older_nor_newer()
    {
        Assert.False(DocumentVersion.IsOlder(Of(3, null), Of(3, Nine)));
        Assert.False(DocumentVersion.IsOlder(Of(3, Nine), Of(3, null)));
        Assert.True(DocumentVersion.IsSame(Of(3, null), Of(3, Nine)));
        Assert.True(DocumentVersion.IsSame(Of(3, Nine), Of(3, Nine)));
        Assert.True(DocumentVersion.IsSame(Of(3, null), Of(3, null)));
    }

    [Fact]
    public void Versions_recorded_before_times_broke_ties_still_compare()
    {
        // Tokens already stored: r:{revision} and t:{ticks}.
        Assert.True(DocumentVersion.IsOlder(Of(2, Nine), "r:00000000000000000003"));
        Assert.False(DocumentVersion.IsOlder(Of(3, Nine), "r:00000000000000000003"));
        Assert.True(DocumentVersion.IsOlder(Of(null, Nine), Of(null, Nine.AddMinutes(1))));
        Assert.Equal("revision 3", DocumentVersion.Describe("r:00000000000000000003"));
        Assert.StartsWith("revision 3, modified at 2026-11-30T06:00:00", DocumentVersion.Describe(Of(3, Nine)), StringComparison.Ordinal);
    }
}
