namespace Bridge.Benchmarks;

public sealed record Percentiles(double P50, double P95, double P99)
{
    /// <summary>Nearest-rank percentiles of <paramref name="values"/> (empty → zeros).</summary>
    public static Percentiles Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        double At(double p) => sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Percentiles(At(0.50), At(0.95), At(0.99));
    }
}

/// <summary>
/// One flow's messages in a scenario: how many were sent, how many got their success event, every answer by event type, and
/// the scenario's two latencies over this flow's messages alone.
/// </summary>
public sealed record FlowResult(int Messages, int Succeeded, IReadOnlyDictionary<string, int> EventTypes, Percentiles EndToEndLatencyMs, Percentiles OutboxDispatchLagMs);

/// <summary>The concurrency bound of the latency scenario: C ÷ (latency × ActivePlatform calls per message).</summary>
public sealed record ConcurrencyBound(int LatencyMs, int Concurrency, double CallsPerMessage, double MessagesPerSecond, double ShareOfBound);

/// <summary>One scenario's figures (README, "Benchmark", says what each means).</summary>
public sealed record ScenarioResult
{
    public required string Name { get; init; }
    public required string Storage { get; init; }
    public required int SandboxLatencyMs { get; init; }
    public required int Concurrency { get; init; }
    public required int Prefetch { get; init; }
    public required int Messages { get; init; }
    public required int BodyBytes { get; init; }

    /// <summary>Result events received, one per message (the first answer per message id).</summary>
    public required int Events { get; init; }

    /// <summary>
    /// Of those, the success event each message expects (<c>ClosingDocumentSent</c> for a closing document); anything else
    /// (a rejection) is counted by type in <see cref="EventTypes"/>.
    /// </summary>
    public required int Sent { get; init; }

    public required IReadOnlyDictionary<string, int> EventTypes { get; init; }

    /// <summary>Per message type sent (one flow for the closing-document scenarios, every flow for the mix): its messages and their answers.</summary>
    public required IReadOnlyDictionary<string, FlowResult> Flows { get; init; }
    public required double MessagesPerSecond { get; init; }
    public required double Seconds { get; init; }
    public required Percentiles EndToEndLatencyMs { get; init; }
    public required Percentiles OutboxDispatchLagMs { get; init; }
    public required int ActivePlatformCalls { get; init; }
    public required double ActivePlatformCallsPerMessage { get; init; }

    /// <summary>
    /// Messages answered before Bridge reported ready (it consumes before): the CPU, transaction and WAL figures per message
    /// count only what came after, and divide by the rest.
    /// </summary>
    public required int AnsweredBeforeReady { get; init; }

    public required double BridgeCpuMsPerMessage { get; init; }

    /// <summary>
    /// The machine's CPU per message over the same window, by process: Bridge, PostgreSQL, RabbitMQ, this benchmark (the
    /// sandbox and the result capture), the rest, and the machine's busy time in all.
    /// </summary>
    public CpuByProcess? CpuMsPerMessage { get; init; }

    /// <summary>PostgreSQL only: transactions committed (or rolled back) in the scenario's database per message.</summary>
    public double? DatabaseTransactionsPerMessage { get; init; }

    /// <summary>PostgreSQL only: WAL flushes to disk (<c>pg_stat_wal.wal_sync</c>, the whole server) per message — what fsync costs.</summary>
    public double? WalFlushesPerMessage { get; init; }
    public required double BridgePeakRssMb { get; init; }
    public required RelayResult Relay { get; init; }
    public required double BridgeToRelay { get; init; }
    public ConcurrencyBound? Bound { get; init; }
    public required string BridgeLog { get; init; }

    /// <summary>Bridge processes sharing the queue (CPU per message is their sum, peak RSS the larger).</summary>
    public int Instances { get; init; } = 1;

    /// <summary>Bridge's resident memory (MB) when it began and about every five seconds until the last event: steady or growing.</summary>
    public IReadOnlyList<double> BridgeRssMb { get; init; } = [];
}

public sealed record BenchReport(
    string Command,
    DateTimeOffset StartedAt,
    int ProcessorCount,
    string Runtime,
    string BridgeMode,
    IReadOnlyList<ScenarioResult> Scenarios);
