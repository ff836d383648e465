using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Bridge.ActivePlatform.Payments;
using Bridge.Contracts;
using Bridge.Host.DeadLetters.Capture;
using Bridge.Host.DeadLetters.Store;
using Bridge.Host.Effects;
using Bridge.Host.Features.Payments;
using Bridge.Host.Ingress;
using MassTransit.Serialization;

namespace Bridge.Tests.Review1;

/// <summary>REVIEW1: adversarial review of 6e2ce3f and 48ecf9c, without a broker or a database. Each test fails today.</summary>
public sealed class Review1UnitTests
{
    /// <summary>
    /// REVIEW1 (6e2ce3f, availability): AmbiguousMember builds the path string of every member it visits, "{path}/{name}",
    /// although the path is only needed for the one member it reports. Each member of an object under a long-named parent
    /// copies the parent's whole name, so the work is (members x ancestor-name length): a body of 1 MB (a 500 000-character
    /// name holding an object of ~50 000 members) is ~50 GB of string copies, on a large-object heap; at the door's default
    /// 8 MiB it runs for hours on one core, per request, before the schema or anything else is reached. Here a ~0.3 MB body
    /// must be checked in well under two seconds (it is milliseconds once the path is built only for the member reported).
    /// </summary>
    [Fact]
    public void the_doors_duplicate_member_check_is_linear_in_the_body_not_quadratic()
    {
        var json = new StringBuilder("{\"key\":\"k\",\"").Append('x', 150_000).Append("\":{");
        for (var i = 0; i < 15_000; i++)
        {
            json.Append(i == 0 ? "" : ",").Append("\"m").Append(i).Append("\":0");
        }

        json.Append("}}");
        using var document = JsonDocument.Parse(json.ToString());
        // Whichever shape the private check has: (root, "") before the fix, (root) after.
        var check = typeof(IngressApi).GetMethods(BindingFlags.NonPublic | BindingFlags.Static)
            .Where(method => method.Name == "AmbiguousMember" && method.ReturnType == typeof(string))
            .OrderBy(method => method.GetParameters().Length)
            .First();
        object?[] args = check.GetParameters().Length == 1 ? [document.RootElement] : [document.RootElement, ""];

        // Work, not time (a busy machine must not fail it): the quadratic check allocated gigabytes of path strings here.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var found = check.Invoke(null, args);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Null(found);
        Assert.True(allocated < 16 * 1024 * 1024, $"{json.Length} bytes of JSON allocated {allocated / (1024 * 1024)} MB to check");
    }

    /// <summary>
    /// REVIEW1 (6e2ce3f): the capture now trims the body's idempotencyKey "as the consumer does", but it still reads the
    /// FIRST member named idempotencyKey in any case while the consumer (System.Text.Json, case-insensitive) keeps the LAST.
    /// The door refuses such a body; an AMQP publisher's is not refused: handled under key B, its dead letter's
    /// ErpMessageDeadLettered is filed under key A (and its ERP key likewise), so the ERP correlating by message id never
    /// sees it.
    /// </summary>
    [Fact]
    public void a_dead_letter_is_filed_under_the_key_the_consumer_used_when_the_body_names_it_twice()
    {
        const string Body = """{"idempotencyKey":" A ","key":"topup-1","accountId":523,"total":55,"comment":"c","IdempotencyKey":"B","KEY":"topup-2"}""";
        var consumer = JsonSerializer.Deserialize<RegisterPayment>(Body, SystemTextJsonMessageSerializer.Options)!;
        var readBody = typeof(DeadLetterCapture).GetMethod("ReadBody", BindingFlags.NonPublic | BindingFlags.Static)!;
        var identity = readBody.Invoke(null, [DeadLetterBody.FromBytes(Encoding.UTF8.GetBytes(Body))])!;
        var captured = (string?)identity.GetType().GetProperty("IdempotencyKey")!.GetValue(identity);
        var capturedKey = (string?)identity.GetType().GetProperty("Key")!.GetValue(identity);

        Assert.Equal(("B", "topup-2"), (consumer.IdempotencyKey, consumer.Key));
        Assert.Equal((consumer.IdempotencyKey, consumer.Key), (captured, capturedKey));
    }

    /// <summary>
    /// REVIEW1 (48ecf9c, conditional on ActivePlatform): the check compares the send's total with the payment's current
    /// <c>total</c>. ActivePlatform keeps <c>initial_total</c> beside it ("initial_total = total" at creation, REFERENCE.md
    /// 2.1; amount_paid_from_balance / discount_amount are what make them differ): once the top-up's payment was partly paid
    /// from balance or discounted, the right payment is refused with "it cannot be this top-up's payment" — the message that
    /// steers an operator to NotApplied, whose replay creates a second top-up. The comparison should be on initial_total
    /// (falling back to total).
    /// </summary>
    [Fact]
    public async Task the_right_payment_is_not_refused_because_its_total_moved_since_it_was_created()
    {
        var figures = new TopUpFigures(523, 55m, "top-up payment", null);
        var entry = new EffectEntry(
            new EffectId("payment-top-up:1", "topup-1", "topup-1"), "m-1", "a-1", "f", EffectState.Unknown, null,
            EffectEvidence.Of(new TopUpUnresolved("answer lost; 2 payments match", figures)), null, DateTimeOffset.UtcNow.AddMinutes(-30), TimeSpan.FromMinutes(30));
        var payment = new Payment
        {
            Id = "4242",
            Type = "payments",
            Attributes = new PaymentAttributes { AccountId = 523, InitialTotal = 55.00m, Total = 30.00m, AmountPaidFromBalance = 25.00m, Comment = "top-up payment" },
        };
        var check = new TopUpResourceCheck(OnePayment.Of(payment));

        Assert.Null(await check.RefusalAsync(entry, "4242", CancellationToken.None));
    }

    /// <summary>An <see cref="IPaymentsClient"/> that knows one payment; anything else is not called by the check.</summary>
    public class OnePayment : DispatchProxy
    {
        private Payment _payment = null!;

        public static IPaymentsClient Of(Payment payment)
        {
            var proxy = Create<IPaymentsClient, OnePayment>();
            ((OnePayment)(object)proxy)._payment = payment;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IPaymentsClient.GetAsync)
                ? Task.FromResult<Payment?>(string.Equals((string?)args![1], _payment.Id, StringComparison.Ordinal) ? _payment : null)
                : throw new NotSupportedException(targetMethod?.Name);
    }
}
