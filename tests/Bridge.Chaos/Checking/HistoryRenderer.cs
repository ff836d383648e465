using System.Text;
using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;

namespace Bridge.Chaos.Checking;

/// <summary>Writes a violation with the history that broke it: each message's publications, events and dead letters, and
/// what ActivePlatform saw for the subject (its ledger of effects and the calls made).</summary>
public sealed class HistoryRenderer(MessageIndex index)
{
    public string Render(Violation violation)
    {
        var text = new StringBuilder();
        text.AppendLine($"VIOLATION [{violation.Invariant}] {EventText.Visible(violation.Subject)}: {violation.Detail}");
        var subjects = new HashSet<string>(StringComparer.Ordinal);
        foreach (var message in violation.Messages.Distinct())
        {
            text.AppendLine($"  message {EventText.Visible(message.ToString())} ({message.Expectation})");
            foreach (var publication in index.Publications(message))
            {
                text.AppendLine($"    {EventText.Visible(publication.ToString())}");
            }

            foreach (var observed in index.AllEvents(message.IdempotencyKey))
            {
                text.AppendLine($"    event {EventText.Visible(observed.ToString())}");
            }

            foreach (var letter in index.DeadLetters(message.IdempotencyKey))
            {
                text.AppendLine($"    {EventText.Visible(letter.ToString())}");
            }

            subjects.Add(message.Subject);
        }

        foreach (var key in violation.Messages.Select(m => m.IdempotencyKey).Distinct(StringComparer.Ordinal))
        {
            if (index.Run.DoorStatuses.TryGetValue(key, out var reading))
            {
                text.AppendLine($"  [{EventText.Visible(key)}] after quiescence: {EventText.Visible(reading.ToString())}");
            }
        }

        // What ActivePlatform saw: effects and calls naming the subjects or any id the messages' events or payloads carry.
        var ids = new HashSet<string>(subjects.Select(SubjectKey), StringComparer.Ordinal);
        foreach (var message in violation.Messages)
        {
            ids.UnionWith(Identifiers(message.Payload));
            foreach (var observed in index.AllEvents(message.IdempotencyKey))
            {
                ids.UnionWith(Identifiers(observed.Event));
            }
        }

        ids.Remove("");
        var kinds = violation.Messages.Select(m => EffectKindsOf(m.Flow)).Distinct().ToList();
        foreach (var effect in index.Run.Effects.Where(e => kinds.Any(k => e.Kind.StartsWith(k, StringComparison.Ordinal))
            && (ids.Contains(e.Subject) || e.Details.Values.Any(v => v is not null && ids.Contains(v)))))
        {
            text.AppendLine($"  ActivePlatform effect #{effect.Sequence} {effect.At.ToUniversalTime():HH:mm:ss.fff} {effect.Kind} {EventText.Visible(effect.Subject)} {string.Join(' ', effect.Details.Select(d => $"{d.Key}={EventText.Visible(d.Value)}"))}");
        }

        foreach (var call in index.Run.Calls.Where(c => (c.ExternalInvoiceKey is { } k && ids.Contains(k)) || ids.Any(id => id.All(char.IsAsciiDigit) && c.Path.EndsWith("/" + id, StringComparison.Ordinal))))
        {
            text.AppendLine($"  ActivePlatform call #{call.Sequence} {call.Timestamp.ToUniversalTime():HH:mm:ss.fff} {call.Method} {call.Path}{EventText.Visible(call.Query)} → {call.Status}{(call.Fault is null ? "" : " " + call.Fault)} ({call.DurationMs:0}ms)");
        }

        // What was done to the system meanwhile: kills, restarts, fault phases, replays.
        var times = violation.Messages.SelectMany(m => index.Publications(m).Select(p => p.StartedAt).Concat(index.AllEvents(m.IdempotencyKey).Select(e => e.ReceivedAt))).ToList();
        if (times.Count > 0)
        {
            var (from, to) = (times.Min(), times.Max());
            foreach (var disturbance in index.Run.History.Disturbances.Where(d => d.At >= from && d.At <= to).OrderBy(d => d.At).Take(20))
            {
                text.AppendLine($"  meanwhile {EventText.Visible(disturbance.ToString().Split(Environment.NewLine)[0])}");
            }
        }

        return text.ToString();
    }

    /// <summary>The ledger entries a flow's messages can cause (ids of different kinds of things may coincide).</summary>
    private static string EffectKindsOf(Flow flow) => flow switch
    {
        Flow.ClosingDocuments => "external_invoice.",
        Flow.Notifications => "notification.",
        Flow.StatementLines or Flow.PaymentStatus or Flow.TopUps => "payment.",
        Flow.Corrections => "correction.",
        Flow.CurrencyRates => "currency_rate.",
        Flow.Invoices => "invoice.",
        _ => "",
    };

    /// <summary>Ids and keys a payload or an event names, by which ActivePlatform's ledger and call log know the same thing.</summary>
    private static IEnumerable<string> Identifiers(object? item) => item switch
    {
        ClosingDocumentSent e => [e.ExternalInvoiceId],
        ClosingDocumentDeleted e => [e.ExternalInvoiceId ?? ""],
        PaymentCompleted e => [e.PaymentId ?? "", e.PaymentNumber ?? "", e.CorrectionId ?? ""],
        PaymentRegistered e => [e.PaymentId, e.PaymentNumber ?? ""],
        PaymentCancelled e => [e.PaymentId],
        CorrectionCreated e => [e.CorrectionId],
        CorrectionApproved e => [e.CorrectionId],
        CorrectionDeclined e => [e.CorrectionId],
        InvoiceApproved e => [e.InvoiceId],
        InvoiceCompleted e => [e.InvoiceId],
        InvoiceApprovalRevoked e => [e.InvoiceId],
        CreateCorrection c => [c.Comment ?? ""],
        CompletePayment c => [c.PaymentNumber ?? "", c.PaymentId ?? ""],
        CancelPayment c => [c.PaymentId],
        RegisterPayment r => [r.Comment],
        ApproveInvoice a => [a.InvoiceId ?? ""],
        CompleteInvoice c => [c.InvoiceId ?? ""],
        RevokeInvoiceApproval r => [r.InvoiceId ?? ""],
        _ => [],
    };

    /// <summary>Subjects are <c>account/key</c> for closing documents; the ledger and the call log know the key.</summary>
    private static string SubjectKey(string subject)
    {
        var slash = subject.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && subject[..slash].All(char.IsAsciiDigit) ? subject[(slash + 1)..] : subject;
    }
}
