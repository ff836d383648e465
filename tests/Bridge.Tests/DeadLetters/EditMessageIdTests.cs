using System.Text.Json;
using Bridge.Host.DeadLetters.Replay;

namespace Bridge.Tests.DeadLetters;

/// <summary>
/// An edit tried again after its send failed (perhaps after the frame reached the broker) must be the same message: its id,
/// and so its idempotency key, comes from the dead letter and the edited content, never drawn anew — and not from how a
/// client laid the JSON out (the CLI re-serialises it, curl sends it as typed).
/// </summary>
public sealed class EditMessageIdTests
{
    private static readonly Guid Letter = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

    [Fact]
    public void The_same_edit_of_the_same_dead_letter_is_the_same_message_and_any_other_is_not()
    {
        var body = """{"paymentNumber":"002016","amount":40}""";

        var first = Id(Letter, body);

        Assert.Equal(first, Id(Letter, body));
        Assert.NotEqual(first, Id(Letter, """{"paymentNumber":"002016","amount":41}"""));
        Assert.NotEqual(first, Id(Guid.NewGuid(), body));
        Assert.Equal(8, first.Version);
        Assert.Equal(0x80, first.ToByteArray(bigEndian: true)[8] & 0xC0);
    }

    [Fact]
    public void Layout_property_order_and_string_escapes_do_not_change_the_id_but_every_value_does()
    {
        var compact = """{"paymentNumber":"002016","payer":{"name":"ООО Ромашка","inn":"7701"},"lines":[{"amount":100.50,"vat":20}]}""";
        string[] same =
        [
            """
            {
              "lines": [ { "vat": 20, "amount": 100.50 } ],
              "payer": { "inn": "7701", "name": "ООО Ромашка" },
              "paymentNumber": "002016"
            }
            """,
            // As System.Text.Json writes it by default (the CLI): non-ASCII escaped.
            """{"paymentNumber":"002016","payer":{"name":"\u041E\u041E\u041E \u0420\u043E\u043C\u0430\u0448\u043A\u0430","inn":"7701"},"lines":[{"amount":100.50,"vat":20}]}""",
        ];
        string[] other =
        [
            // Numbers are taken as written: 100.5 is not silently 100.50.
            """{"paymentNumber":"002016","payer":{"name":"ООО Ромашка","inn":"7701"},"lines":[{"amount":100.5,"vat":20}]}""",
            """{"paymentNumber":"002016","payer":{"name":"ООО Ромашка","inn":"7701"},"lines":[{"vat":20},{"amount":100.50}]}""",
            """{"paymentNumber":"002016","payer":{"name":"ООО Ромашка","inn":"7701"},"lines":[{"amount":"100.50","vat":20}]}""",
            """{"paymentNumber":"002016","payer":{"name":"ООО Ромашка","inn":"7701"},"lines":[{"amount":100.50,"vat":20}],"note":null}""",
        ];

        var id = Id(Letter, compact);

        Assert.All(same, body => Assert.Equal(id, Id(Letter, body)));
        Assert.All(other, body => Assert.NotEqual(id, Id(Letter, body)));
        Assert.Equal(other.Length, other.Select(body => Id(Letter, body)).Distinct().Count());
    }

    [Fact]
    public void A_body_holding_an_escaped_lone_surrogate_still_has_an_id_of_its_own()
    {
        // No string holds it, so there is no canonical form: the body is taken as written.
        var lone = Id(Letter, """{"note":"\ud800"}""");

        Assert.Equal(lone, Id(Letter, """{"note":"\ud800"}"""));
        Assert.NotEqual(lone, Id(Letter, """{"note":"\\ud800"}"""));
        Assert.NotEqual(lone, Id(Letter, """{"note":"\udfff"}"""));
        Assert.NotEqual(lone, Id(Letter, """{"\ud800":"note"}"""));
    }

    private static Guid Id(Guid letter, string body)
    {
        using var document = JsonDocument.Parse(body);
        return DeadLetterOperations.EditMessageId(letter, document.RootElement);
    }
}
