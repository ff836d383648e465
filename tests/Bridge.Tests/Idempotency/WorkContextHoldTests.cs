using Bridge.Host.Idempotency;
using Bridge.Host.Storage;

namespace Bridge.Tests.Idempotency;

/// <summary>
/// A call that journals nothing holds its document's claim through its send and writes the document's state in doubt, then
/// its mark on the message's record (<see cref="WorkContext.HoldClaimThroughSendAsync"/>). Until the mark is written nothing
/// has been sent: a failure there must not keep the claim and the state in doubt as though a call might still land.
/// </summary>
public sealed class WorkContextHoldTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 5, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_mark_that_cannot_be_written_gives_the_state_and_the_claim_back()
    {
        // The mark's write fails once (the restore of the record's mark, null, goes through).
        var states = new List<(TimeSpan Hold, string? State)>();
        var record = new IdempotencyRecord("m-1", "RevokeInvoiceApproval", "f", "NS-1", IdempotencyState.InProgress, null, null, null, At, At);
        var document = new DocumentState("invoice:1", "NS-1", "approved", "77", false, At);
        var context = new WorkContext(
            record,
            document,
            (mark, _) => mark is not null ? throw new InvalidOperationException("the database went away") : Task.CompletedTask,
            holdThroughSend: (hold, state, _) =>
            {
                states.Add((hold, state));
                return Task.CompletedTask;
            });

        await Assert.ThrowsAsync<InvalidOperationException>(() => context.HoldClaimThroughSendAsync(TimeSpan.FromMinutes(1), CancellationToken.None));

        Assert.False(context.KeepClaimIfFailed, "the claim is kept though nothing was sent");
        Assert.Equal([(TimeSpan.FromMinutes(1), WorkContext.InDoubtFor("m-1")), (TimeSpan.Zero, "approved")], states);
    }

    [Fact]
    public async Task A_written_mark_keeps_the_claim_for_the_send()
    {
        var marks = new List<string?>();
        var record = new IdempotencyRecord("m-1", "RevokeInvoiceApproval", "f", "NS-1", IdempotencyState.InProgress, null, null, null, At, At);
        var context = new WorkContext(
            record,
            new DocumentState("invoice:1", "NS-1", "approved", "77", false, At),
            (mark, _) =>
            {
                marks.Add(mark);
                return Task.CompletedTask;
            },
            holdThroughSend: (_, _, _) => Task.CompletedTask);

        await context.HoldClaimThroughSendAsync(TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.True(context.KeepClaimIfFailed);
        Assert.Equal([WorkContext.InDoubtFor("m-1")], marks);
    }
}
