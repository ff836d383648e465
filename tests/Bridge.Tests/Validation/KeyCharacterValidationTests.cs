using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Features.Corrections;
using Bridge.Host.Features.CurrencyRates;
using Bridge.Host.Features.Payments;
using Bridge.Host.Idempotency;

namespace Bridge.Tests.Validation;

/// <summary>
/// A key is stored, compared and logged as text: a control character (C0, DEL or C1) or an unpaired surrogate in the
/// idempotency key or in any ERP key a flow keys its effect by is a validation error naming the field and the character.
/// </summary>
public sealed class KeyCharacterValidationTests
{
    /// <summary>UTF-16 code units (as numbers: xUnit would turn an unpaired surrogate passed as text into U+FFFD).</summary>
    public static TheoryData<int, string> Forbidden() => new()
    {
        { 0x0000, "U+0000" },
        { 0x0007, "U+0007" },
        { 0x001f, "U+001F" },
        { 0x007f, "U+007F" },
        { 0x0085, "U+0085" },
        { 0x009f, "U+009F" },
        { 0xd800, "U+D800" },
        { 0xdc00, "U+DC00" },
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void The_idempotency_key_is_refused_with_the_character_named(int unit, string code)
    {
        var character = ((char)unit).ToString();
        var error = Assert.Single(IdempotencyKeys.Validate("erp" + character + "1"));

        Assert.StartsWith("idempotencyKey:", error, StringComparison.Ordinal);
        Assert.Contains(code + " at character 4", error, StringComparison.Ordinal);
        Assert.False(IdempotencyKeys.IsStorable("erp" + character + "1"));
    }

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void Every_flows_ERP_key_is_refused_with_the_field_named(int unit, string code)
    {
        var character = ((char)unit).ToString();
        var key = "K-1" + character;
        var errors = new List<(string Field, List<string> Errors)>
        {
            ("key", ClosingDocumentValidation.Validate(new DeleteClosingDocument { AccountId = 7, Key = key })),
            ("key", ClosingDocumentValidation.Validate(new NotifyClosingDocuments { Key = key, AccountIds = [7], StartDate = new(2026, 1, 1), EndDate = new(2026, 1, 31) })),
            ("key", PaymentValidation.Validate(new RegisterPayment { Key = key, AccountId = 7, Total = 10m, Comment = "top-up" })),
            ("paymentNumber", PaymentValidation.Validate(new CompletePayment { Mode = PaymentCompletionMode.ByPaymentNumber, PaymentNumber = key, PaymentMethodId = 1, ExternalTransactionId = "TX-1" })),
            ("key", CorrectionValidation.Validate(new CreateCorrection { Key = key, AccountId = 7, IncludedInvoice = false, Total = 5m })),
            ("key", CorrectionValidation.ValidateStatusChange(null, key, null)),
            ("correctionId", CorrectionValidation.ValidateStatusChange(null, "K-1", "C-9" + character)),
            ("key", CurrencyRateValidation.Validate(new UpdateCurrencyRates { Key = key, EffectiveAt = DateTimeOffset.UnixEpoch, Rates = [new CurrencyRate { BaseCurrency = "EUR", ForeignCurrency = "USD", Quantity = 1, Rate = 1.1m }] })),
        };

        Assert.All(errors, entry =>
        {
            var error = Assert.Single(entry.Errors);
            Assert.StartsWith(entry.Field + ":", error, StringComparison.Ordinal);
            Assert.Contains(code, error, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Letters_of_any_script_and_paired_surrogates_are_not_control_characters()
    {
        Assert.Null(IdempotencyKeys.ForbiddenCharacter("Акт-2026/12 😀 key"));
        Assert.Empty(IdempotencyKeys.Validate("erp-1c:Акт-😀"));
    }
}
