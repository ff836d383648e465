namespace Bridge.Host.Idempotency;

public static class IdempotencyKeys
{
    /// <summary>The longest key every dialect's <c>idempotency_key</c> column holds.</summary>
    public const int MaxLength = 200;

    public static IEnumerable<string> Validate(string? key)
    {
        if (key is null)
        {
            yield return "idempotencyKey: the message has no idempotency key; set the AMQP message_id or the idempotencyKey field";
        }
        else if (key.Length > MaxLength)
        {
            yield return $"idempotencyKey: must be at most {MaxLength} characters";
        }
    }
}
