using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Bridge.Chaos.Checking;
using Bridge.Chaos.Faults;
using Bridge.Chaos.Generation;
using Bridge.Chaos.Model;
using Bridge.Chaos.Processes;
using Bridge.Chaos.Recording;
using Bridge.Sandbox;

namespace Bridge.Chaos;

/// <summary>The outcome of a run: its summary line, and the report (every violation with its history) it wrote.</summary>
public sealed record ChaosResult(RunSummary Summary, string ReportPath, IReadOnlyList<string> RenderedViolations);

/// <summary>
/// One chaos run, start to end: plan the stream; start the sandbox, the database, the event capture and two Bridge
/// processes; publish the stream while the fault schedule disturbs everything; calm down, settle, replay what is left as
/// an operator would, settle again; then read every final state and check the invariants.
/// </summary>
public sealed class ChaosRun(ChaosOptions options)
{
    private const string SandboxToken = SandboxSettings.DefaultToken;

    /// <summary>How long a message that follows another (an approval after its create) waits for that one's result.</summary>
    private static readonly TimeSpan FollowerPatience = TimeSpan.FromSeconds(30);

    /// <summary>The seed's stream, one publication a line, as a run would publish it (the world is seeded into a private sandbox).</summary>
    public async Task<IReadOnlyList<string>> PlanAsync(CancellationToken ct)
    {
        var generator = ScenarioGenerator.Plan(options.Seed, options.Messages, options.Excluded);
        await using var sandbox = await SandboxServer.StartAsync(new SandboxSettings { RandomSeed = options.Seed }, ct);
        await WorldSeeder.SeedAsync(generator.World, sandbox.Control, ct);
        var stream = generator.Emit().Stream;
        var routes = DoorRouting.Plan(options.Seed, options.DoorShare, stream);
        return
        [
            $"# {stream.Count} publications, {routes.Count(r => r != Route.Amqp)} through the HTTP door ({routes.Count(r => r == Route.DoorResent)} sent again after their 202) (--door-share {options.DoorShare.ToString(CultureInfo.InvariantCulture)} of the {stream.Count(p => DoorRouting.CanCarry(p.Message))} it can carry), the rest over AMQP",
            .. stream.Select((p, i) => Describe(p, i, routes[i])),
        ];
    }

    private static string Describe(Publication publication, int position, Route route) =>
        $"{position,6} {route switch { Route.Door => "door", Route.DoorResent => "door2", _ => "amqp" },-5} {Flows.Name(publication.Message.Flow),-17} {EventText.Visible(publication.Message.ToString())} ({publication.Message.Expectation}){(publication.Copy > 0 ? " (duplicate delivery)" : "")}";

    public async Task<ChaosResult> RunAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(options.WorkDirectory);
        var history = new History();
        var runTag = string.Create(CultureInfo.InvariantCulture, $"{options.Seed}x{RandomNumberGenerator.GetHexString(4, lowercase: true)}");
        var broker = Uri.TryCreate(Environment.GetEnvironmentVariable("BRIDGE_TEST_RABBITMQ"), UriKind.Absolute, out var uri)
            ? uri
            : throw new ArgumentException("BRIDGE_TEST_RABBITMQ must be the AMQP URI of a RabbitMQ (chaos.sh sets it).");
        if (!File.Exists(options.BridgeDll))
        {
            throw new ArgumentException($"{options.BridgeDll} does not exist: build the solution first (chaos.sh does).");
        }

        Say($"seed {options.Seed}: planning {options.Messages} messages{(options.Excluded.Count == 0 ? "" : " without " + string.Join(", ", options.Excluded.Select(Flows.Name)))}; work directory {options.WorkDirectory}");
        var generator = ScenarioGenerator.Plan(options.Seed, options.Messages, options.Excluded);

        await using var sandbox = await SandboxServer.StartAsync(
            new SandboxSettings
            {
                RandomSeed = options.Seed,
                Async = Disturber.AsyncMode(FaultSchedule.NormalPolls),
            },
            ct);
        await WorldSeeder.SeedAsync(generator.World, sandbox.Control, ct);
        var plan = generator.Emit();
        var routes = DoorRouting.Plan(options.Seed, options.DoorShare, plan.Stream);

        var storage = await StorageProbe.CreateAsync(options.Storage, Environment.GetEnvironmentVariable("BRIDGE_TEST_POSTGRES"), options.WorkDirectory, "bridge_chaos_" + runTag, ct);
        try
        {
            await using var capture = await EventCapture.StartAsync(broker, $"chaos{runTag}.finance", history, ct);
            var adminToken = RandomNumberGenerator.GetHexString(32, lowercase: true);
            var erpKey = RandomNumberGenerator.GetHexString(32, lowercase: true);
            var settings = BridgeSettings(broker, $"chaos{runTag}", storage, sandbox.BaseAddress, adminToken, erpKey);
            await using var supervisor = new ProcessSupervisor(
                [new BridgeProcess("bridge-a", options.BridgeDll, settings, options.WorkDirectory), new BridgeProcess("bridge-b", options.BridgeDll, settings, options.WorkDirectory)],
                history,
                storage);
            await supervisor.StartAllAsync(ct);
            await using var publisher = await ErpPublisher.ConnectAsync(broker, $"chaos{runTag}", history, ct);
            using var admin = new AdminClient(supervisor.LiveAddresses, adminToken);
            using var door = new ErpDoor(supervisor.LiveDoors, erpKey, history, options.Seed);
            var services = new ServiceControl(Environment.GetEnvironmentVariable(ServiceControl.ScriptVariable), options.FullBrokerRestart);
            var statementLines = plan.Stream
                .Select((publication, i) => (Publication: i, Line: publication.Message.Payload as Bridge.Contracts.CompletePayment))
                .Where(p => p.Line is { Mode: Bridge.Contracts.PaymentCompletionMode.ByPaymentNumber, PaymentNumber: not null, Amount: not null })
                .Select(p => (p.Publication, p.Line!.PaymentNumber!, p.Line.Amount!.Value))
                .ToList();
            var schedule = FaultSchedule.Build(
                options.Seed, plan.Stream.Count, options.Kills, options.Restarts, services.CanRestart, options.Storage == StorageKind.PostgreSql, options.Faults, options.Pauses, options.ClaimLease,
                options.LateLandings, statementLines, options.Faults ? options.ManagerCorrections : 0);
            Say($"{plan.Messages.Count} messages in {plan.Stream.Count} publications ({routes.Count(r => r != Route.Amqp)} through the HTTP door), {schedule.Count} disturbances; two Bridge processes up after {clock.Elapsed.TotalSeconds:0}s");

            await using var disturber = new Disturber(sandbox.Control, supervisor, services, admin, history, ct);
            var outbound = new Outbound(publisher, door);
            await PublishAsync(plan, routes, schedule, outbound, disturber, history, ct);
            await disturber.DrainAsync();
            Say($"published after {clock.Elapsed.TotalSeconds:0}s; calming down");

            var settled = await SettleAsync(plan, history, sandbox.Control, supervisor, disturber, admin, storage, publisher, ct);
            var record = await CollectAsync(options.Seed, plan, history, admin, sandbox.Control, storage, publisher, door, capture, ct);
            var index = new MessageIndex(record);
            var findings = InvariantChecker.Check(index);
            var violations = findings.Where(f => !f.IsKnownLimit).ToList();
            var knownLimits = findings.Where(f => f.IsKnownLimit).ToList();
            var renderer = new HistoryRenderer(index);
            var rendered = violations.Select(renderer.Render).ToList();
            var summary = Summarize(plan, history, record, disturber, supervisor, violations, knownLimits.Count, clock.Elapsed);
            var reportPath = await WriteReportAsync(summary, plan, routes, record, rendered, [.. knownLimits.Select(renderer.Render)], settled, ct);
            return new ChaosResult(summary, reportPath, rendered);
        }
        finally
        {
            try
            {
                await storage.DropAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Say($"could not drop the run's database: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// Faults off, every instance up; waits for quiet; then replays what faults left as an operator would (at most three
    /// rounds, while there is something to replay) and waits for quiet again.
    /// </summary>
    private async Task<QuiescenceResult> SettleAsync(
        ChaosPlan plan, History history, SandboxControlClient sandbox, ProcessSupervisor supervisor, Disturber disturber, AdminClient admin,
        StorageProbe storage, ErpPublisher publisher, CancellationToken ct)
    {
        await sandbox.ClearFaultsAsync(ct);
        await sandbox.SetAsyncModeAsync(Disturber.AsyncMode(FaultSchedule.NormalPolls), ct);
        history.Disturbed("calm", "faults off; every instance started");
        await supervisor.EnsureAllRunningAsync(ct);
        var quiescence = new Quiescence(plan, history, admin, storage, publisher, sandbox);

        // Longer than any quiet period Bridge has on purpose: a dead instance's claim, retried as busy for twice its lease.
        var stall = TimeSpan.FromSeconds(Math.Max(45, (3 * options.ClaimLease.TotalSeconds) + 15));
        var settled = await quiescence.WaitAsync(options.QuiesceTimeout, stall, ct);
        Say($"settled={settled.Reached} after {settled.Waited.TotalSeconds:0}s: {settled.State}");
        for (var round = 1; round <= 3; round++)
        {
            var replayed = await disturber.ReplayPendingAsync(ct);
            if (replayed == 0)
            {
                break;
            }

            history.Disturbed("replay", $"final round {round}: {replayed} pending dead letter(s) replayed");
            settled = await quiescence.WaitAsync(options.QuiesceTimeout, stall, ct);
            Say($"replay round {round}: {replayed} replayed; settled={settled.Reached} after {settled.Waited.TotalSeconds:0}s: {settled.State}");
        }

        return settled;
    }

    private RunSummary Summarize(
        ChaosPlan plan, History history, RunRecord record, Disturber disturber, ProcessSupervisor supervisor, IReadOnlyList<Violation> violations, int knownLimits,
        TimeSpan took) => new(
        options.Seed,
        options.Storage == StorageKind.PostgreSql ? "postgresql" : "sqlite",
        plan.Messages.Count,
        history.Publications.Count(p => p.Confirmed),
        DoorTraffic.Of(history.Publications),
        record.Effects.Count,
        record.Calls.Count(c => c.Fault == "landed-late"),
        record.Events.Count,
        record.DeadLetters.Count,
        record.DeadLetters.Count(d => d.Status == "Pending"),
        history.Kills.Count,
        disturber.Pauses,
        disturber.BrokerRestarts,
        disturber.DatabaseRestarts,
        supervisor.UnexpectedExits,
        ResumeTimes.Measure(history.Kills, record.Events),
        violations,
        knownLimits,
        took);

    /// <summary>
    /// Publishes the stream at the configured rate (in small bursts, so messages race), firing each scheduled disturbance
    /// when its position comes. A message that follows another (an approval after its create) waits for that one's answer
    /// without holding up the stream.
    /// </summary>
    private async Task PublishAsync(
        ChaosPlan plan, Route[] routes, IReadOnlyList<ChaosAction> schedule, Outbound outbound, Disturber disturber, History history, CancellationToken ct)
    {
        var pacing = new Random(options.Seed);
        var interval = TimeSpan.FromSeconds(1 / options.Rate);
        var followers = new List<Task>();
        var next = 0;
        var burst = 0;
        for (var position = 0; position < plan.Stream.Count; position++)
        {
            while (next < schedule.Count && schedule[next].AtPublication <= position)
            {
                disturber.Enqueue(schedule[next++]);
            }

            var publication = plan.Stream[position];
            if (publication.Message.After is { } after && !history.IsAnswered(after))
            {
                followers.Add(PublishAfterAsync(publication, routes[position], after, outbound, history, ct));
            }
            else
            {
                await outbound.SendAsync(publication, routes[position], ct);
            }

            if (--burst <= 0)
            {
                burst = 1 + pacing.Next(4);
                await Task.Delay(interval * burst, ct);
            }
        }

        while (next < schedule.Count)
        {
            disturber.Enqueue(schedule[next++]);
        }

        await Task.WhenAll(followers);
    }

    private static async Task PublishAfterAsync(Publication publication, Route route, string after, Outbound outbound, History history, CancellationToken ct)
    {
        try
        {
            await history.WhenAnswered(after).WaitAsync(FollowerPatience, ct);
        }
        catch (TimeoutException)
        {
            // The message it follows has no result yet (dead-lettered, or slow): an ERP would not wait for ever either.
        }

        await outbound.SendAsync(publication, route, ct);
    }

    /// <summary>
    /// The ERP's two ways in. A publication routed to the door that the door refuses (4xx: recorded, and judged by
    /// <see cref="DoorChecks"/>) is then published over AMQP as before: every planned message still reaches the consumer, so
    /// what the model expects of it (its outcome, a conflict's rejections, its effects) holds unchanged.
    /// </summary>
    private sealed class Outbound(ErpPublisher publisher, ErpDoor door)
    {
        public async Task SendAsync(Publication publication, Route route, CancellationToken ct)
        {
            if (route != Route.Amqp && (await door.SendAsync(publication, ct)).Accepted)
            {
                if (route == Route.DoorResent)
                {
                    // The same request again, whatever it is answered: the message is queued already.
                    await door.SendAsync(publication, ct);
                }

                return;
            }

            await publisher.PublishAsync(publication, ct);
        }
    }

    private static async Task<RunRecord> CollectAsync(
        int seed, ChaosPlan plan, History history, AdminClient admin, SandboxControlClient sandbox, StorageProbe storage, ErpPublisher publisher,
        ErpDoor door, EventCapture capture, CancellationToken ct)
    {
        // What the door says of every message it accepted, now that everything is quiet.
        var doorStatuses = new Dictionary<string, DoorStatusReading>(StringComparer.Ordinal);
        foreach (var key in history.Publications.Where(p => p.Door is not null && p.Confirmed).Select(p => p.Message.IdempotencyKey).Distinct(StringComparer.Ordinal))
        {
            doorStatuses[key] = await door.ReadStatusAsync(key, ct);
        }

        var ready = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (var queue in ErpQueues.All)
        {
            foreach (var name in new[] { publisher.QueueName(queue), publisher.QueueName(queue) + "_error" })
            {
                ready[name] = await publisher.ReadyCountAsync(name, ct) ?? 0;
            }
        }

        var state = new SandboxState(
            await sandbox.GetExternalInvoicesAsync(ct),
            await sandbox.GetNotificationsAsync(ct),
            await sandbox.GetPaymentsAsync(null, null, ct),
            await sandbox.GetPaymentCorrectionsAsync(null, ct),
            await sandbox.GetCorrectionsAsync(ct),
            await sandbox.GetCurrencyRatesAsync(null, ct),
            await sandbox.GetInvoicesAsync(ct));
        return new RunRecord(
            seed,
            plan,
            history,
            history.Events,
            await admin.ListAsync(null, ct),
            await sandbox.GetEffectsAsync(null, null, ct),
            await sandbox.GetCallsAsync(null, null, null, ct),
            state,
            new LeftOvers(await storage.PendingOutboxAsync(ct), await storage.LiveClaimsAsync(ct), ready),
            capture.Unreadable,
            doorStatuses);
    }

    private Dictionary<string, string> BridgeSettings(Uri broker, string queuePrefix, StorageProbe storage, Uri sandbox, string adminToken, string erpKey) => new(StringComparer.Ordinal)
    {
        ["Bridge__Storage__Provider"] = storage.Provider,
        ["Bridge__Storage__ConnectionString"] = storage.ConnectionString,
        ["Bridge__Messaging__Transport"] = "RabbitMq",
        ["Bridge__Messaging__RabbitMqUri"] = broker.ToString(),
        ["Bridge__Messaging__QueuePrefix"] = queuePrefix,
        ["Bridge__Messaging__RetryLimit"] = "3",
        ["Bridge__Messaging__RetryMinInterval"] = "00:00:00.100",
        ["Bridge__Messaging__RetryMaxInterval"] = "00:00:02",
        ["Bridge__Idempotency__DocumentClaimLease"] = options.ClaimLease.ToString("c", CultureInfo.InvariantCulture),
        ["Bridge__Outbox__PollInterval"] = "00:00:01",
        ["Bridge__Outbox__ClaimLease"] = "00:00:10",
        ["Bridge__DeadLetters__ReplayClaimLease"] = "00:00:15",
        ["Bridge__DeadLetters__ErrorQueueSweepInterval"] = "00:00:05",
        ["Bridge__Admin__Tokens__0__Name"] = "chaos-operator",
        ["Bridge__Admin__Tokens__0__Token"] = adminToken,
        ["Bridge__Admin__Tokens__0__Role"] = "Operator",
        ["Bridge__Ingress__Clients__0__Name"] = "chaos-erp",
        ["Bridge__Ingress__Clients__0__Key"] = erpKey,
        ["ActivePlatform__BaseUrl"] = sandbox.ToString(),
        ["ActivePlatform__ApiToken"] = SandboxToken,
        ["ActivePlatform__ResellerId"] = "1",
        ["ActivePlatform__AttemptTimeout"] = "00:00:02",
        ["ActivePlatform__TotalTimeout"] = "00:00:08",
        ["ActivePlatform__RetryCount"] = "2",
        ["ActivePlatform__RetryBaseDelay"] = "00:00:00.200",
        ["ActivePlatform__AsyncTaskPolling__InitialDelay"] = "00:00:00.100",
        ["ActivePlatform__AsyncTaskPolling__MaxDelay"] = "00:00:00.500",
        ["ActivePlatform__AsyncTaskPolling__Deadline"] = "00:00:10",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__Bridge"] = "Information",
        ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        // FormatterOptions are read only once a formatter is named: without it the instances' logs carry no time at all.
        ["Logging__Console__FormatterName"] = "simple",
        ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
    };

    private async Task<string> WriteReportAsync(
        RunSummary summary, ChaosPlan plan, Route[] routes, RunRecord record, IReadOnlyList<string> violations,
        IReadOnlyList<string> knownLimits, QuiescenceResult settled, CancellationToken ct)
    {
        var history = record.History;
        var deadLetters = record.DeadLetters;
        var path = Path.Combine(options.WorkDirectory, "report.txt");
        var lines = new List<string>
        {
            summary.ToString(),
            $"settled: {settled.Reached} ({settled.State})",
            "",
            $"violations ({violations.Count}):",
        };
        lines.AddRange(violations);
        lines.Add($"known limits seen (README, not violations) ({knownLimits.Count}):");
        lines.AddRange(knownLimits);
        lines.Add($"dead letters ({deadLetters.Count}):");
        lines.AddRange(deadLetters.OrderBy(d => d.FirstFailedAt).Select(d => "  " + EventText.Visible(d.ToString())));
        lines.Add($"resume after kill ({summary.Resume.Lines.Count} claim(s) held by killed instances):");
        lines.AddRange(summary.Resume.Lines);
        var doorAttempts = history.Publications.Where(p => p.Door is not null).OrderBy(p => p.StartedAt).ToList();
        lines.Add($"door requests ({doorAttempts.Count}):");
        lines.AddRange(doorAttempts.Select(p => $"  #{p.Message.Ordinal} [{EventText.Visible(p.Message.IdempotencyKey)}] {EventText.Visible(p.ToString())}"));
        lines.Add($"door statuses after quiescence ({record.DoorStatuses.Count}):");
        lines.AddRange(record.DoorStatuses.Values.Select(s => $"  [{EventText.Visible(s.Key)}] {EventText.Visible(s.ToString())}"));
        lines.Add("disturbances:");
        lines.AddRange(history.Disturbances.Select(d => "  " + d));
        lines.Add("stream:");
        lines.AddRange(plan.Stream.Select((p, i) => Describe(p, i, routes[i])));
        await File.WriteAllLinesAsync(path, lines, ct);
        return path;
    }

    private static void Say(string text) => Console.Error.WriteLine($"chaos: {text}");
}
