using Bridge.Contracts;
using Bridge.Host.Idempotency;

namespace Bridge.Host.Features.Corrections;

/// <summary>Checks a correction message before anything reaches ActivePlatform; every problem is named by its JSON field.</summary>
public static class CorrectionValidation
{
    public const int MaxCommentLength = 1000;

    public static List<string> Validate(CreateCorrection? message)
    {
        var errors = new List<string>();
        if (message is null)
        {
            errors.Add("the message body is empty");
            return errors;
        }

        CheckReseller(errors, message.ResellerId);
        CheckKey(errors, message.Key);
        if (message.AccountId <= 0)
        {
            errors.Add("accountId: is required and must be positive");
        }

        if (message.IncludedInvoice)
        {
            if (message.SubscriptionId is not > 0)
            {
                errors.Add("subscriptionId: is required and must be positive when includedInvoice is true");
            }

            if (message.PeriodFrom is null)
            {
                errors.Add("periodFrom: is required when includedInvoice is true (YYYY-MM-DD)");
            }

            if (message.PeriodTo is null)
            {
                errors.Add("periodTo: is required when includedInvoice is true (YYYY-MM-DD)");
            }

            if (message.PeriodFrom is { } from && message.PeriodTo is { } to && to < from)
            {
                errors.Add("periodTo: must not be before periodFrom");
            }
        }
        else if (message.SubscriptionId is <= 0)
        {
            errors.Add("subscriptionId: must be positive");
        }

        if (message.Total == 0)
        {
            errors.Add("total: is required and must not be zero (positive credits, negative debits)");
        }
        else if (decimal.Round(message.Total, 2) != message.Total)
        {
            errors.Add("total: must have at most two decimals");
        }

        if (message.Comment is { Length: > MaxCommentLength })
        {
            errors.Add($"comment: must be at most {MaxCommentLength} characters");
        }

        return errors;
    }

    public static List<string> ValidateStatusChange(long? resellerId, string? key, string? correctionId)
    {
        var errors = new List<string>();
        CheckReseller(errors, resellerId);
        CheckKey(errors, key);
        if (IdempotencyKeys.CharacterProblem("correctionId", correctionId) is { } problem)
        {
            errors.Add(problem);
        }
        else if (correctionId is not null && (correctionId.Length is 0 or > 64 || correctionId.Any(char.IsWhiteSpace)))
        {
            errors.Add("correctionId: must be ActivePlatform's correction id (at most 64 characters, no spaces) or absent");
        }

        return errors;
    }

    private static void CheckReseller(List<string> errors, long? resellerId)
    {
        if (resellerId is <= 0)
        {
            errors.Add("resellerId: must be positive");
        }
    }

    private static void CheckKey(List<string> errors, string? key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            errors.Add("key: is required");
        }
        else if (IdempotencyKeys.CharacterProblem("key", key) is { } problem)
        {
            errors.Add(problem);
        }
        else if (key.Length > 128 || key.Any(char.IsWhiteSpace))
        {
            errors.Add("key: must be at most 128 characters with no spaces");
        }
    }
}
