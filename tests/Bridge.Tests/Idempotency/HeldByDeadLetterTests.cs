using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;

namespace Bridge.Tests.Idempotency;

/// <summary>Which delivery a dead letter holding its key lets through: only a copy its replay sent and still counts, and nothing once any letter of the key was edited.</summary>
public sealed class HeldByDeadLetterTests
{
    private static readonly Guid Letter = Guid.NewGuid();
    private static readonly Guid Other = Guid.NewGuid();
    private static readonly string Copy = Guid.NewGuid().ToString("D");

    private static IncomingMessage Delivery(Guid? replayOf = null, string? replayCopy = null) =>
        new("key-1", "corr-1", "SendClosingDocument", null) { ReplayOf = replayOf, ReplayCopy = replayCopy };

    [Fact]
    public void No_letter_holds_nothing() => Assert.Null(IdempotentExecutor.HeldBy([], Delivery()));

    [Fact]
    public void The_original_or_the_erp_sending_it_again_is_held_by_the_letter() =>
        Assert.Equal(Letter, IdempotentExecutor.HeldBy([new HoldingLetter(Letter, false, false)], Delivery())?.Id);

    [Fact]
    public void A_copy_the_letter_counts_goes_through() =>
        Assert.Null(IdempotentExecutor.HeldBy([new HoldingLetter(Other, false, false), new HoldingLetter(Letter, true, false)], Delivery(Letter, Copy)));

    [Fact]
    public void A_copy_the_letter_no_longer_counts_is_held_by_its_own_letter() =>
        Assert.Equal(Letter, IdempotentExecutor.HeldBy([new HoldingLetter(Other, false, false), new HoldingLetter(Letter, false, false)], Delivery(Letter, Copy))?.Id);

    [Fact]
    public void A_copy_without_a_copy_id_or_naming_another_letter_is_held()
    {
        Assert.Equal(Letter, IdempotentExecutor.HeldBy([new HoldingLetter(Letter, false, false)], Delivery(Letter))?.Id);
        Assert.Equal(Letter, IdempotentExecutor.HeldBy([new HoldingLetter(Letter, true, false)], Delivery(Other, Copy))?.Id);
    }

    [Fact]
    public void Once_any_letter_of_the_key_was_edited_even_a_counted_copy_is_held()
    {
        var held = IdempotentExecutor.HeldBy([new HoldingLetter(Letter, true, false), new HoldingLetter(Other, false, true)], Delivery(Letter, Copy));

        Assert.Equal((Other, true), (held?.Id, held?.Edited));
    }
}
