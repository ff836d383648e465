using Bridge.Host.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bridge.Host.Outbox;

/// <summary>
/// Degraded (the service still works, someone must look) while result events are parked in the outbox after failing
/// to publish too often; their ids and last errors are in the outbox table.
/// </summary>
public sealed class OutboxHealthCheck(IOutboxStore outbox) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var parked = await outbox.CountParkedAsync(cancellationToken);
            var pending = await outbox.CountPendingAsync(cancellationToken);
            var data = new Dictionary<string, object> { ["pending"] = pending, ["parked"] = parked };
            return parked == 0
                ? HealthCheckResult.Healthy($"{pending} result events waiting to be published", data)
                : HealthCheckResult.Degraded($"{parked} result events parked after failing to publish; they stay unpublished until requeued", data: data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The database check reports the cause; the exception type only, as a driver's message can quote the connection string.
            return HealthCheckResult.Degraded($"outbox could not be counted ({ex.GetType().Name})");
        }
    }
}
