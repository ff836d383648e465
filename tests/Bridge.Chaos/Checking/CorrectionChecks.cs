using Bridge.Chaos.Model;
using Bridge.Chaos.Recording;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>
/// Corrections, per ERP key (the comment names the key, so the sandbox's ledger tells whose correction it is):
/// <list type="bullet">
/// <item>at most one correction is created per key, and every success names it with the total ActivePlatform holds;</item>
/// <item>no correction exists for a key all of whose creates were answered without success;</item>
/// <item>at most one status change; approved and declined are never both reported, and what is reported is the correction's
/// final status, backed by the change when the event says it acted;</item>
/// <item>a status change is not refused when ActivePlatform shows exactly that change (a retry after a lost answer).</item>
/// </list>
/// </summary>
public sealed class CorrectionChecks : IFlowCheck
{
    public IEnumerable<Violation> Check(MessageIndex index)
    {
        foreach (var correction in FlowFacts.BySubject(index, Flow.Corrections))
        {
            var key = correction.Key;
            var messages = correction.ToList();
            var creates = messages.Where(m => m.Payload is CreateCorrection).ToList();
            if (creates.Count == 0)
            {
                continue;
            }

            var comment = ((CreateCorrection)creates[0].Payload!).Comment;
            var created = FlowFacts.Effects(index, EffectKinds.CorrectionCreated).Where(e => e.Details.GetValueOrDefault("comment") == comment).ToList();
            if (created.Count > 1)
            {
                yield return new Violation(Invariants.EffectCount, key, $"{created.Count} corrections created for one key: {string.Join(", ", created.Select(c => c.Subject))}", creates);
            }

            var createdEvents = FlowFacts.Successes(index, creates).OfType<CorrectionCreated>().ToList();
            var ids = createdEvents.Select(e => e.CorrectionId).Distinct(StringComparer.Ordinal).ToList();
            if (ids.Count > 1)
            {
                yield return new Violation(Invariants.EffectCount, key, $"CorrectionCreated names {ids.Count} corrections: {string.Join(", ", ids)}", creates);
            }

            foreach (var success in createdEvents)
            {
                var effect = created.FirstOrDefault(c => c.Subject == success.CorrectionId);
                if (effect is null)
                {
                    yield return new Violation(Invariants.EffectBehindSuccess, key, $"CorrectionCreated names correction {success.CorrectionId}, which ActivePlatform never created for this key", index.Members(success.MessageId));
                }
                else if (FlowFacts.Money(effect.Details["total"]) != success.Total)
                {
                    yield return new Violation(Invariants.Figures, key, $"CorrectionCreated reports total {EventText.Money(success.Total)}; correction {success.CorrectionId} holds {effect.Details["total"]}", index.Members(success.MessageId));
                }
            }

            if (createdEvents.Count == 0 && created.Count > 0 && !FlowFacts.AnyUnsettled(index, creates))
            {
                yield return new Violation(Invariants.EffectCount, key, $"correction {created[0].Subject} exists though every create was answered without success", creates);
            }

            if (created.Count == 0)
            {
                continue;
            }

            var id = created[0].Subject;
            var changes = index.Run.Effects.Where(e => e.Subject == id && e.Kind is EffectKinds.CorrectionApproved or EffectKinds.CorrectionDeclined).ToList();
            var final = index.Run.Sandbox.Corrections.FirstOrDefault(c => c.Id == id)?.Status;
            var statusChanges = messages.Where(m => m.Payload is ApproveCorrection or DeclineCorrection).ToList();
            var successes = FlowFacts.Successes(index, statusChanges);
            var approved = successes.OfType<CorrectionApproved>().ToList();
            var declined = successes.OfType<CorrectionDeclined>().ToList();
            if (changes.Count > 1)
            {
                yield return new Violation(Invariants.EffectCount, key, $"{changes.Count} status changes of correction {id}", statusChanges);
            }

            if (approved.Count > 0 && declined.Count > 0)
            {
                yield return new Violation(Invariants.Figures, key, $"correction {id} reported both approved and declined; it is {final}", statusChanges);
            }

            foreach (var (success, status, acted) in approved.Select(a => ((IResultEvent)a, "approved", !a.AlreadyApplied)).Concat(declined.Select(d => ((IResultEvent)d, "declined", !d.AlreadyApplied))))
            {
                if (final != status)
                {
                    yield return new Violation(Invariants.Figures, key, $"{success.GetType().Name} reported; correction {id} is {final}", index.Members(success.MessageId));
                }

                if (acted && !changes.Any(c => c.Kind == "correction." + status))
                {
                    yield return new Violation(Invariants.EffectBehindSuccess, key, $"{success.GetType().Name} (not already applied) but ActivePlatform never changed correction {id}", index.Members(success.MessageId));
                }
            }

            foreach (var (message, refusal) in FlowFacts.RefusedByActivePlatform(index, statusChanges))
            {
                var asked = message.Payload is ApproveCorrection ? "approved" : "declined";
                if (final == asked && successes.Count == 0)
                {
                    yield return new Violation(Invariants.RightOutcome, key, $"refused although correction {id} is {final}, as asked, and no other message reports it: {EventText.Describe(refusal)}", [message]);
                }
            }
        }
    }
}
