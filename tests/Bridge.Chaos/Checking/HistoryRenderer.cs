using System.Text;
using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;

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
                text.AppendLine($"    published {publication.At:HH:mm:ss.fff} copy {publication.Copy}{(publication.Confirmed ? "" : " UNCONFIRMED " + publication.Error)}");
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

        foreach (var subject in subjects)
        {
            var key = SubjectKey(subject);
            foreach (var effect in index.Run.Effects.Where(e => e.Subject == key || e.Details.Values.Contains(key)))
            {
                text.AppendLine($"  ActivePlatform effect #{effect.Sequence} {effect.At:HH:mm:ss.fff} {effect.Kind} {EventText.Visible(effect.Subject)} {string.Join(' ', effect.Details.Select(d => $"{d.Key}={EventText.Visible(d.Value)}"))}");
            }

            foreach (var call in index.Run.Calls.Where(c => c.ExternalInvoiceKey == key || c.Path.EndsWith("/" + key, StringComparison.Ordinal)))
            {
                text.AppendLine($"  ActivePlatform call #{call.Sequence} {call.Timestamp:HH:mm:ss.fff} {call.Method} {call.Path}{EventText.Visible(call.Query)} → {call.Status}{(call.Fault is null ? "" : " " + call.Fault)} ({call.DurationMs:0}ms)");
            }
        }

        return text.ToString();
    }

    /// <summary>Subjects are <c>account/key</c> for closing documents; the ledger and the call log know the key.</summary>
    private static string SubjectKey(string subject)
    {
        var slash = subject.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && subject[..slash].All(char.IsAsciiDigit) ? subject[(slash + 1)..] : subject;
    }
}
