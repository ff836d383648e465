using System.Text.RegularExpressions;
using Bridge.Contracts;
using Bridge.Host.Idempotency;

namespace Bridge.Host.Features.Payments;

/// <summary>Checks a payment message before anything reaches ActivePlatform; every problem is named by its JSON field.</summary>
public static partial class PaymentValidation
{
    public const int MaxPaymentNumberLength = 40;

    public static List<string> Validate(CompletePayment? message)
    {
        var errors = new List<string>();
        if (message is null)
        {
            errors.Add("the message body is empty");
            return errors;
        }

        CheckReseller(errors, message.ResellerId);
        switch (message.Mode)
        {
            case PaymentCompletionMode.ByPaymentNumber:
                if (string.IsNullOrWhiteSpace(message.PaymentNumber))
                {
                    errors.Add("paymentNumber: is required for ByPaymentNumber");
                }
                else if (IdempotencyKeys.CharacterProblem("paymentNumber", message.PaymentNumber) is { } problem)
                {
                    errors.Add(problem);
                }
                else if (message.PaymentNumber.Length > MaxPaymentNumberLength || message.PaymentNumber.Any(c => char.IsWhiteSpace(c) || c is '/' or '|'))
                {
                    errors.Add($"paymentNumber: must be at most {MaxPaymentNumberLength} characters with no spaces, slashes or '|'");
                }

                CheckMethod(errors, message.PaymentMethodId, "ByPaymentNumber");
                if (string.IsNullOrEmpty(message.ExternalTransactionId))
                {
                    // Without the statement line's id a republished line could not be told from a second payment.
                    errors.Add("externalTransactionId: is required for ByPaymentNumber (the bank statement line's id makes the completion idempotent)");
                }
                else if (!ExternalTransactionId().IsMatch(message.ExternalTransactionId))
                {
                    errors.Add("externalTransactionId: must be 2-255 Latin or Cyrillic letters, digits or ASCII punctuation");
                }

                if (message.Amount is <= 0)
                {
                    errors.Add("amount: must be positive");
                }

                if (message.CurrencyCode is not null && !CurrencyCode().IsMatch(message.CurrencyCode))
                {
                    errors.Add("currencyCode: must be a three-letter ISO 4217 code such as USD");
                }

                break;
            case PaymentCompletionMode.ById:
                CheckPaymentId(errors, message.PaymentId, "ById");
                CheckMethod(errors, message.PaymentMethodId, "ById");
                break;
            case PaymentCompletionMode.FromBalance:
                CheckPaymentId(errors, message.PaymentId, "FromBalance");
                break;
            default:
                errors.Add("mode: must be ByPaymentNumber, ById or FromBalance");
                break;
        }

        return errors;
    }

    public static List<string> Validate(RegisterPayment? message)
    {
        var errors = new List<string>();
        if (message is null)
        {
            errors.Add("the message body is empty");
            return errors;
        }

        CheckReseller(errors, message.ResellerId);
        if (string.IsNullOrWhiteSpace(message.Key))
        {
            errors.Add("key: is required");
        }
        else if (IdempotencyKeys.CharacterProblem("key", message.Key) is { } problem)
        {
            errors.Add(problem);
        }
        else if (message.Key.Length > 128 || message.Key.Any(char.IsWhiteSpace))
        {
            errors.Add("key: must be at most 128 characters with no spaces");
        }

        if (message.AccountId <= 0)
        {
            errors.Add("accountId: is required and must be positive");
        }

        if (message.Total <= 0)
        {
            errors.Add("total: is required and must be positive");
        }
        else if (decimal.Round(message.Total, 2) != message.Total)
        {
            errors.Add("total: must have at most two decimals");
        }

        if (string.IsNullOrWhiteSpace(message.Comment))
        {
            errors.Add("comment: is required");
        }

        return errors;
    }

    public static List<string> Validate(CancelPayment? message)
    {
        var errors = new List<string>();
        if (message is null)
        {
            errors.Add("the message body is empty");
            return errors;
        }

        CheckReseller(errors, message.ResellerId);
        CheckPaymentId(errors, message.PaymentId, null);
        return errors;
    }

    private static void CheckReseller(List<string> errors, long? resellerId)
    {
        if (resellerId is <= 0)
        {
            errors.Add("resellerId: must be positive");
        }
    }

    private static void CheckMethod(List<string> errors, long? paymentMethodId, string mode)
    {
        if (paymentMethodId is null or <= 0)
        {
            errors.Add($"paymentMethodId: is required for {mode} and must be positive");
        }
    }

    private static void CheckPaymentId(List<string> errors, string? paymentId, string? mode)
    {
        if (string.IsNullOrWhiteSpace(paymentId))
        {
            errors.Add(mode is null ? "paymentId: is required" : $"paymentId: is required for {mode}");
        }
        else if (paymentId.Length > 40 || !paymentId.All(char.IsAsciiDigit))
        {
            errors.Add("paymentId: must be ActivePlatform's numeric payment id");
        }
    }

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();

    [GeneratedRegex(@"^[A-Za-z\u0400-\u04FF0-9 !-/:-@\[-`{-~]{2,255}$")]
    private static partial Regex ExternalTransactionId();
}
