using System.Diagnostics;
using System.Globalization;

namespace Bridge.Chaos.Processes;

/// <summary>
/// Restarts the private RabbitMQ and PostgreSQL that chaos.sh started, through <c>scripts/chaos-services.sh</c> (which knows
/// their data directories, ports and users). Without that script (services given from outside) nothing is restarted, and
/// the summary says so.
/// </summary>
public sealed class ServiceControl(string? script, bool wholeBrokerNode)
{
    public const string ScriptVariable = "BRIDGE_CHAOS_SERVICES";

    public bool CanRestart => script is not null;

    /// <summary>
    /// Restarts RabbitMQ: by default the RabbitMQ application inside its Erlang node (every connection drops, the broker
    /// refuses clients until it is back, queues and persistent messages are recovered from disk); the whole node with
    /// <c>--full-broker-restart</c>, which takes several times longer on a busy machine.
    /// </summary>
    public Task<TimeSpan> RestartRabbitMqAsync(CancellationToken ct) => RunAsync(ct, wholeBrokerNode ? "restart-rabbitmq-node" : "restart-rabbitmq");

    /// <summary>Stops PostgreSQL abruptly (immediate mode: like a crash), keeps it down for <paramref name="outage"/>, starts it again.</summary>
    public Task<TimeSpan> RestartPostgresAsync(TimeSpan outage, CancellationToken ct) =>
        RunAsync(ct, "restart-postgres", outage.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture));

    private async Task<TimeSpan> RunAsync(CancellationToken ct, params string[] arguments)
    {
        if (script is null)
        {
            throw new InvalidOperationException($"{ScriptVariable} is not set: the services were not started by chaos.sh.");
        }

        var started = Stopwatch.StartNew();
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await errors}");
        }

        return started.Elapsed;
    }
}
