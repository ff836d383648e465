using System.Globalization;
using System.Text;
using Bridge.Chaos.Model;

namespace Bridge.Chaos.Generation;

/// <summary>
/// Bodies an ERP should never send but will: not JSON at all (dead-lettered, never answered as a success), JSON with
/// required fields missing (one <c>InvalidMessage</c> rejection) and JSON with values of the wrong type (either of the two).
/// None of them may reach ActivePlatform. Spread over every queue.
/// </summary>
public sealed class BadInputScenarios : ScenarioFamily
{
    private static readonly (string Body, string? ContentType)[] NotJson =
    [
        ("<erp><document/></erp>", "application/xml"),
        ("{\"key\": \"unterminated", "application/json"),
        ("Акт сверки", "text/plain"),
        ("\u00ff\u00fe garbage", null),
    ];

    private int _bodies;

    public override Flow Flow => Flow.BadInput;

    public override double Weight => 0.6;

    public override IScenario Plan(GenerationContext context)
    {
        var n = ++_bodies;
        if (context.Chance(0.15))
        {
            var queue = context.Pick(ErpQueues.ByMessageType.Keys.Order(StringComparer.Ordinal).ToList());
            return new Scenario(2, c => SharedMessageId(c, n, queue));
        }

        var messageType = context.Pick(ErpQueues.ByMessageType.Keys.Order(StringComparer.Ordinal).ToList());
        var kind = context.Random.Next(4);
        var notJson = context.Pick(NotJson);
        return new Scenario(1, c => [new Publication(Emit(c, n, messageType, kind, notJson), 0)]);
    }

    private PlannedMessage Emit(GenerationContext context, int n, string messageType, int kind, (string Body, string? ContentType) notJson)
    {
        var subject = string.Create(CultureInfo.InvariantCulture, $"bad-{n}");
        return kind switch
        {
            0 => context.Raw(Flow, messageType, Encoding.Latin1.GetBytes(notJson.Body), notJson.ContentType, subject,
                $"a body that is not JSON ({notJson.ContentType ?? "no content type"})", Expectation.Unreadable),
            1 => context.Raw(Flow, messageType, Encoding.UTF8.GetBytes(MissingFields(messageType, subject)), "application/json", subject,
                "JSON with required fields missing", Expectation.Invalid),
            2 => context.Raw(Flow, messageType, [], "application/json", subject, "an empty body", Expectation.InvalidOrUnreadable),
            _ => context.Raw(Flow, messageType, Encoding.UTF8.GetBytes($$$"""{"key":"{{{subject}}}","accountId":"not a number","total":[1],"documentId":{"x":1}}"""), "application/json", subject,
                "JSON with values of the wrong type", Expectation.InvalidOrUnreadable),
        };
    }

    /// <summary>
    /// Two different unreadable messages an ERP sent under one AMQP message id, each with its own body idempotency key: two
    /// messages, so two dead letters (one must not swallow the other's body).
    /// </summary>
    private IEnumerable<Publication> SharedMessageId(GenerationContext context, int n, string messageType)
    {
        var shared = context.NewMessageId();
        foreach (var part in new[] { "a", "b" })
        {
            var subject = string.Create(CultureInfo.InvariantCulture, $"bad-{n}{part}");
            var key = $"{subject}-body-key";
            var body = Encoding.UTF8.GetBytes($$$"""{"idempotencyKey":"{{{key}}}","key":"{{{subject}}}","accountId":"not a number","total":[1]}""");
            var message = context.Raw(Flow, messageType, body, "application/json", subject,
                $"JSON with values of the wrong type, body key {key}, sharing its AMQP message id with another message", Expectation.InvalidOrUnreadable);
            yield return new Publication(message.WithKeys(key, shared), 0);
        }
    }

    /// <summary>Parses as the contract but misses what validation requires.</summary>
    private static string MissingFields(string messageType, string key) => messageType switch
    {
        "SendClosingDocument" => $$"""{"accountId":7001,"key":"{{key}}","type":"act"}""",
        "DeleteClosingDocument" => $$"""{"key":"{{key}}"}""",
        "NotifyClosingDocuments" => $$"""{"key":"{{key}}","accountIds":[]}""",
        "CompletePayment" => """{"mode":"ById"}""",
        "RegisterPayment" => $$"""{"key":"{{key}}","accountId":523}""",
        "CancelPayment" => """{"paymentId":"not-a-number"}""",
        "UpdateCurrencyRates" => $$"""{"key":"{{key}}","rates":[]}""",
        "CreateCorrection" => $$"""{"key":"{{key}}","accountId":523,"includedInvoice":false}""",
        "ApproveCorrection" => $$"""{"key":"{{key}}","correctionId":"has space"}""",
        "DeclineCorrection" => $$"""{"key":"{{key}}","correctionId":""}""",
        "ApproveInvoice" => $$"""{"documentId":"{{key}}"}""",
        "CompleteInvoice" => """{"documentId":" padded ","billingDate":"2026-10-01","accountId":8001}""",
        "RevokeInvoiceApproval" => """{"billingDate":"2026-10-01"}""",
        _ => "{}",
    };
}
