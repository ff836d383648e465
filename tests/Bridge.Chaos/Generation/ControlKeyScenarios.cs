using System.Globalization;
using Bridge.Chaos.Model;
using Bridge.Contracts;

namespace Bridge.Chaos.Generation;

/// <summary>
/// Keys and message ids with a control character (U+0000 among them) on closing documents, top-ups, corrections and rate
/// batches. Bridge may refuse them as invalid or carry them through, but each must get exactly one answer, and a refused
/// one must not block anything behind it.
/// </summary>
public sealed class ControlKeyScenarios : ScenarioFamily
{
    private int _messages;

    public override Flow Flow => Flow.ControlCharacterKeys;

    public override double Weight => 0.25;

    public override IScenario Plan(GenerationContext context)
    {
        var n = ++_messages;
        var kind = context.Random.Next(4);
        var key = context.Keys.WithControlCharacter("ctl-", n);
        var inMessageId = context.Chance(0.3);
        return new Scenario(1, c => [new Publication(Emit(c, n, kind, key, inMessageId), 0)]);
    }

    private PlannedMessage Emit(GenerationContext context, int n, int kind, string key, bool inMessageId)
    {
        object message = kind switch
        {
            0 => new SendClosingDocument
            {
                AccountId = 7100, Key = key, Type = ClosingDocumentType.Invoice, Name = string.Create(CultureInfo.InvariantCulture, $"Invoice {n} r1"),
                Amount = new Money(10m, "EUR"), StartDate = new DateOnly(2026, 10, 1), EndDate = new DateOnly(2026, 10, 31),
                File = new DocumentFile { ContentType = "application/pdf", ContentBase64 = Convert.ToBase64String("%PDF-1.4 ctl"u8.ToArray()) }, Revision = 1,
            },
            1 => new RegisterPayment { Key = key, AccountId = 523, Total = 11m + n, Comment = "control-key top-up " + n.ToString(CultureInfo.InvariantCulture) },
            2 => new CreateCorrection { Key = key, AccountId = 523, IncludedInvoice = false, Total = 3m + n, Comment = "control-key correction " + n.ToString(CultureInfo.InvariantCulture) },
            _ => new UpdateCurrencyRates
            {
                Key = key, EffectiveAt = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
                Rates = [new CurrencyRate { BaseCurrency = "RUB", ForeignCurrency = "AMD", Quantity = 1, Rate = 0.25m }],
            },
        };
        var messageId = inMessageId ? key + "-message" : null;
        return context.Message(Flow, message, key, $"{message.GetType().Name} with a control character in its key{(inMessageId ? " and message id" : "")}",
            Expectation.ValidOrInvalid, idempotencyKey: messageId);
    }
}
