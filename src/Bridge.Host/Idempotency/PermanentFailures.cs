using System.Diagnostics.CodeAnalysis;
using Bridge.ActivePlatform;
using Bridge.Contracts;

namespace Bridge.Host.Idempotency;

/// <summary>Tells a permanent failure (answered with a rejection, never retried) from a transient one (retried).</summary>
public static class PermanentFailures
{
    public static bool TryClassify(Exception exception, [NotNullWhen(true)] out Rejection? rejection)
    {
        switch (exception)
        {
            case Effects.NaturalKeyConflictException conflict:
                rejection = new Rejection(RejectionReason.IdempotencyConflict, conflict.Message, [], null);
                return true;
            case AsyncTaskFailedException failed:
                rejection = new Rejection(
                    RejectionReason.RejectedByActivePlatform,
                    $"ActivePlatform's async task {failed.TaskId} failed: {failed.FailureMessage}",
                    [],
                    new ActivePlatformError(failed.FailureMessage, failed.Status ?? 0, failed.Code));
                return true;
            // A refused token or role, or a reseller the token does not reach (ActivePlatform may say so with a 404), is
            // Bridge's configuration, not the message's fault: rejecting would complete the record and make a replay after
            // the fix a no-op. It is retried and then dead-lettered instead.
            case ActivePlatformException { Status: 401 or 403 or 407 }:
            case ResellerNotReachableException:
                rejection = null;
                return false;
            // A refusal of a repeat, after an attempt of the same write whose outcome was unclear (its answer lost), says
            // nothing about that attempt: never answered as "refused, nothing happened". Retried, then dead-lettered.
            case ActivePlatformException { AnAttemptMayHaveApplied: true }:
                rejection = null;
                return false;
            case ActivePlatformException { IsTransient: false } refused:
                rejection = new Rejection(
                    RejectionReason.RejectedByActivePlatform,
                    $"ActivePlatform refused the request ({refused.Status}): {refused.Title}",
                    [],
                    new ActivePlatformError(refused.Title, refused.Status ?? 0, refused.Code));
                return true;
            default:
                rejection = null;
                return false;
        }
    }
}
