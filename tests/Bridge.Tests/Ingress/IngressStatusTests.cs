using Bridge.Host.Ingress;
using Bridge.Host.Storage;

namespace Bridge.Tests.Ingress;

/// <summary>
/// What a status lookup says, from the three things it reads: the message's idempotency record, its latest dead letter and
/// whether the broker confirmed it. A completed record is final; a dead letter speaks only while no outcome is decided.
/// </summary>
public sealed class IngressStatusTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("Completed", "Applied", "Pending", IngressStatus.Applied)]
    [InlineData("Completed", "Skipped", null, IngressStatus.Skipped)]
    [InlineData("Completed", "Rejected", "Replayed", IngressStatus.Rejected)]
    [InlineData("Completed", "SomethingNew", null, IngressStatus.Completed)]
    [InlineData("InProgress", null, "Pending", IngressStatus.DeadLettered)]
    [InlineData("InProgress", null, "Replaying", IngressStatus.InProgress)]
    [InlineData("InProgress", null, "Replayed", IngressStatus.InProgress)]
    [InlineData("InProgress", null, "Discarded", IngressStatus.Discarded)]
    [InlineData("InProgress", null, null, IngressStatus.InProgress)]
    [InlineData(null, null, "Pending", IngressStatus.DeadLettered)]
    [InlineData(null, null, null, IngressStatus.Accepted)]
    public void A_status_follows_the_record_then_the_dead_letter_then_the_confirmation(string? state, string? outcome, string? deadLetterStatus, string expected)
    {
        var record = state is null
            ? null
            : new IdempotencyRecord("k", "RegisterPayment", "v2:x", null, Enum.Parse<IdempotencyState>(state), outcome, null, null, At, At);
        var deadLetter = deadLetterStatus is null ? null : new IngressDeadLetter(Guid.NewGuid(), deadLetterStatus, "E", "reason", At, At);

        var (status, description) = IngressApi.Decide(Submission(confirmed: true), record, deadLetter);

        Assert.Equal(expected, status);
        Assert.False(string.IsNullOrWhiteSpace(description));
    }

    [Fact]
    public void A_submission_the_broker_never_confirmed_and_nobody_handled_asks_to_be_sent_again()
    {
        Assert.Equal(IngressStatus.Unconfirmed, IngressApi.Decide(Submission(confirmed: false), null, null).Status);
    }

    [Theory]
    [InlineData(true, null, null, true)]
    [InlineData(true, "InProgress", null, true)]
    [InlineData(false, null, null, true)]
    [InlineData(true, "Completed", null, false)]
    [InlineData(true, "InProgress", "Replayed", false)]
    [InlineData(true, null, "Replayed", false)]
    [InlineData(false, "InProgress", "Replaying", false)]
    [InlineData(true, "InProgress", "Pending", false)]
    public void The_door_publishes_a_submission_again_only_while_nothing_decided_it_and_it_has_no_dead_letter(bool confirmed, string? state, string? deadLetterStatus, bool expected)
    {
        // A Replayed letter's submission published again was a copy of the original no letter counted: an edit of the letter
        // could then be applied beside it (review, helper-74 #2).
        var record = state is null
            ? null
            : new IdempotencyRecord("k", "RegisterPayment", "v2:x", null, Enum.Parse<IdempotencyState>(state), state == "Completed" ? "Applied" : null, null, null, At, At);
        var deadLetter = deadLetterStatus is null ? null : new IngressDeadLetter(Guid.NewGuid(), deadLetterStatus, "E", "reason", At, At);
        var submission = Submission(confirmed);
        var (status, _) = IngressApi.Decide(submission, record, deadLetter);

        Assert.Equal(expected, IngressStatusReader.MayPublishAgain(submission, status, deadLetter));
    }

    private static IngressSubmission Submission(bool confirmed) =>
        new("k", "RegisterPayment", "v2:x", "1c", At, confirmed ? At : null);
}
