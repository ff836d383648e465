using System.Text.RegularExpressions;
using Bridge.Contracts;
using Bridge.Host.Idempotency;

namespace Bridge.Host.Features.ClosingDocuments;

/// <summary>Checks an ERP message before anything reaches ActivePlatform; every problem is named by its JSON field.</summary>
public static partial class ClosingDocumentValidation
{
    /// <summary>The file types ActivePlatform accepts for closing documents: .DOC, .PDF and .XLSX.</summary>
    public static readonly IReadOnlySet<string> FileContentTypes = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    };

    public static List<string> Validate(SendClosingDocument? message, long maxFileBytes)
    {
        var errors = new List<string>();
        if (message is null)
        {
            errors.Add("the message body is empty");
            return errors;
        }

        CheckTarget(errors, message.ResellerId, message.AccountId, message.Key);
        if (!Enum.IsDefined(message.Type))
        {
            errors.Add("type: must be act, invoice or invoice_vat");
        }

        if (string.IsNullOrWhiteSpace(message.Name))
        {
            errors.Add("name: is required");
        }
        else if (message.Name.Length > 255)
        {
            errors.Add("name: must be at most 255 characters");
        }

        if (message.Amount is null)
        {
            errors.Add("amount: is required");
        }
        else if (message.Amount.Currency is null || !CurrencyCode().IsMatch(message.Amount.Currency))
        {
            errors.Add("amount.currency: must be a three-letter ISO 4217 code such as EUR");
        }

        CheckPeriod(errors, message.StartDate, message.EndDate);
        CheckFile(errors, message.File, maxFileBytes);

        if (message.Revision is null && message.ModifiedAt is null)
        {
            errors.Add("revision: either revision or modifiedAt is required, so that an older version never overwrites a newer one");
        }
        else if (message.Revision < 0)
        {
            errors.Add("revision: must not be negative");
        }

        return errors;
    }

    public static List<string> Validate(DeleteClosingDocument? message)
    {
        var errors = new List<string>();
        if (message is null)
        {
            errors.Add("the message body is empty");
            return errors;
        }

        CheckTarget(errors, message.ResellerId, message.AccountId, message.Key);
        if (message.Revision < 0)
        {
            errors.Add("revision: must not be negative");
        }

        return errors;
    }

    public static List<string> Validate(NotifyClosingDocuments? message)
    {
        var errors = new List<string>();
        if (message is null)
        {
            errors.Add("the message body is empty");
            return errors;
        }

        if (message.ResellerId is <= 0)
        {
            errors.Add("resellerId: must be positive");
        }

        CheckKey(errors, message.Key);
        if (message.AccountIds is null || message.AccountIds.Count == 0)
        {
            errors.Add("accountIds: at least one account id is required");
        }
        else if (message.AccountIds.Any(id => id <= 0))
        {
            errors.Add("accountIds: every account id must be positive");
        }

        CheckPeriod(errors, message.StartDate, message.EndDate);
        return errors;
    }

    private static void CheckTarget(List<string> errors, long? resellerId, long accountId, string? key)
    {
        if (resellerId is <= 0)
        {
            errors.Add("resellerId: must be positive");
        }

        if (accountId <= 0)
        {
            errors.Add("accountId: is required and must be positive");
        }

        CheckKey(errors, key);
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

    private static void CheckPeriod(List<string> errors, DateOnly start, DateOnly end)
    {
        if (start == default)
        {
            errors.Add("startDate: is required (YYYY-MM-DD)");
        }

        if (end == default)
        {
            errors.Add("endDate: is required (YYYY-MM-DD)");
        }

        if (start != default && end != default && end < start)
        {
            errors.Add("endDate: must not be before startDate");
        }
    }

    private static void CheckFile(List<string> errors, DocumentFile? file, long maxFileBytes)
    {
        if (file is null)
        {
            errors.Add("file: is required");
            return;
        }

        if (string.IsNullOrWhiteSpace(file.ContentType) || !FileContentTypes.Contains(file.ContentType))
        {
            errors.Add("file.contentType: must be application/pdf, application/msword or the XLSX type");
        }

        if (string.IsNullOrEmpty(file.ContentBase64))
        {
            errors.Add("file.contentBase64: is required");
            return;
        }

        // Decoded size is about 3/4 of the base64 length; checked before decoding so a huge body is not decoded at all.
        if ((long)file.ContentBase64.Length * 3 / 4 > maxFileBytes)
        {
            errors.Add($"file.contentBase64: the file is larger than the {maxFileBytes} bytes allowed");
            return;
        }

        var buffer = new byte[(file.ContentBase64.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(file.ContentBase64, buffer, out var written) || written == 0)
        {
            errors.Add("file.contentBase64: is not valid base64");
        }
    }

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();
}
