using Bridge.Host.DeadLetters.Replay;

namespace Bridge.Tests.DeadLetters;

/// <summary>
/// An edit tried again after its send failed (perhaps after the frame reached the broker) must be the same message: its id,
/// and so its idempotency key, comes from the dead letter and the edited body, never drawn anew.
/// </summary>
public sealed class EditMessageIdTests
{
    [Fact]
    public void The_same_edit_of_the_same_dead_letter_is_the_same_message_and_any_other_is_not()
    {
        var letter = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var body = """{"paymentNumber":"002016","amount":40}""";

        var first = DeadLetterOperations.EditMessageId(letter, body);

        Assert.Equal(first, DeadLetterOperations.EditMessageId(letter, body));
        Assert.NotEqual(first, DeadLetterOperations.EditMessageId(letter, """{"paymentNumber":"002016","amount":41}"""));
        Assert.NotEqual(first, DeadLetterOperations.EditMessageId(Guid.NewGuid(), body));
        Assert.Equal(8, first.Version);
        Assert.Equal(0x80, first.ToByteArray(bigEndian: true)[8] & 0xC0);
    }
}
