using System.Collections;
using System.Diagnostics;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Hosting;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// Telemetry runs alone: activity sources and meters are seen by every listener in the process, so another collection's
/// Bridge would add its spans and its gauges' values to what these tests export.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection : ICollectionFixture<TelemetryFixture>
{
    public const string Name = "Telemetry (alone: listeners are process-wide)";
}

/// <summary>The real broker, a fresh PostgreSQL database and the sandbox; each test starts its own Bridge with in-memory exporters.</summary>
public sealed class TelemetryFixture : IAsyncLifetime
{
    private readonly string _databaseName = $"bridge_telemetry_{Guid.NewGuid():N}";

    public RunningSandbox Sandbox { get; private set; } = null!;

    public ErpPublisher Erp { get; private set; } = null!;

    public ResultEventListener Events { get; private set; } = null!;

    public string DatabaseConnectionString { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        DatabaseConnectionString = await TestEnvironment.CreatePostgresDatabaseAsync(_databaseName);
        Sandbox = await SandboxServer.StartAsync(
            new SandboxSettings { Async = new AsyncModeSettings { Mode = AsyncWriteMode.KeyPattern, KeyPattern = "^async-", PollsToComplete = 2 } }.WithTestAccounts(),
            CancellationToken.None);
        Events = await ResultEventListener.StartAsync(TestEnvironment.RabbitMqUri);
        Erp = await ErpPublisher.ConnectAsync(TestEnvironment.RabbitMqUri);
    }

    public Dictionary<string, string?> Settings(string queuePrefix) => new()
    {
        ["Bridge:Messaging:Transport"] = "RabbitMq",
        ["Bridge:Messaging:RabbitMqUri"] = TestEnvironment.RabbitMqUri.ToString(),
        ["Bridge:Messaging:QueuePrefix"] = queuePrefix,
        ["Bridge:Messaging:RetryLimit"] = "6",
        ["Bridge:Messaging:RetryMinInterval"] = "00:00:00.050",
        ["Bridge:Messaging:RetryMaxInterval"] = "00:00:01",
        ["Bridge:Storage:Provider"] = "PostgreSql",
        // The in-memory exporter these tests add is not OTLP: dependency spans are asked for.
        [BridgeTelemetry.TraceDependenciesSetting] = "true",
        ["Bridge:Storage:ConnectionString"] = DatabaseConnectionString,
        ["Bridge:Outbox:PollInterval"] = "00:00:01",
        ["ActivePlatform:BaseUrl"] = Sandbox.BaseAddress.ToString(),
        ["ActivePlatform:ApiToken"] = SandboxSettings.DefaultToken,
        ["ActivePlatform:ResellerId"] = "1",
        ["ActivePlatform:RetryBaseDelay"] = "00:00:00.050",
        ["ActivePlatform:AsyncTaskPolling:InitialDelay"] = "00:00:00.050",
        ["ActivePlatform:AsyncTaskPolling:MaxDelay"] = "00:00:00.200",
    };

    public async Task DisposeAsync()
    {
        await Erp.DisposeAsync();
        await Events.DisposeAsync();
        await Sandbox.DisposeAsync();
        await TestEnvironment.DropPostgresDatabaseAsync(_databaseName);
    }
}

[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests(TelemetryFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_handled_message_is_one_span_with_its_identity_and_outcome_and_ActivePlatform_calls_as_child_spans()
    {
        var spans = new ExportedSpans();
        var prefix = NewPrefix();
        await using var bridge = await BridgeInstance.StartAsync(fixture.Settings(prefix), services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)));
        var key = "async-" + Guid.NewGuid().ToString("D");
        var messageId = NewId.NextGuid().ToString("D");

        await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1), messageId);
        var received = await fixture.Events.WaitForReceivedAsync<ClosingDocumentSent>(key);
        var handling = await spans.WaitForAsync(
            span => span.OperationName == "handle SendClosingDocument" && (string?)span.GetTagItem(MessageTags.IdempotencyKey) == messageId, Patience);

        Assert.Equal(BridgeTelemetry.Name, handling.Source.Name);
        Assert.Equal("SendClosingDocument", handling.GetTagItem(MessageTags.Flow));
        Assert.Equal("Applied", handling.GetTagItem(MessageTags.Outcome));
        Assert.Equal(key, handling.GetTagItem(MessageTags.ErpKey));
        Assert.Equal(messageId, handling.GetTagItem(MessageTags.CorrelationId));
        Assert.Equal(ActivityStatusCode.Unset, handling.Status);
        // Identity only: nothing of the payload (amounts, the PDF, the customer) is an attribute.
        Assert.All(handling.TagObjects, tag => Assert.StartsWith("bridge.", tag.Key, StringComparison.Ordinal));

        // Every ActivePlatform call (the lookup by key, the POST, the async-task polls) is an HTTP client span under it.
        var calls = spans.Snapshot()
            .Where(span => span.Kind == ActivityKind.Client && span.GetTagItem("http.request.method") is not null && span.TraceId == handling.TraceId)
            .ToList();
        Assert.Contains(calls, call => (string?)call.GetTagItem("http.request.method") == "POST" && ((string?)call.GetTagItem("url.full") ?? "").Contains("external_invoices", StringComparison.Ordinal));
        Assert.Contains(calls, call => ((string?)call.GetTagItem("url.full") ?? "").Contains("async_tasks", StringComparison.Ordinal));
        Assert.All(calls, call => Assert.True(IsDescendantOf(call, handling, spans.Snapshot()), $"{call.DisplayName} is not under the handling span"));
        Assert.All(calls, call => Assert.DoesNotContain(call.TagObjects, tag => tag.Value is string text && text.Contains(SandboxSettings.DefaultToken, StringComparison.Ordinal)));

        // Database work is traced where it is cheap: Npgsql's own spans, in the same trace.
        Assert.Contains(spans.Snapshot(), span => span.Source.Name == "Npgsql" && span.TraceId == handling.TraceId);

        // The event crossed the outbox in the handling's trace, under the standard W3C header.
        var headers = received.Headers!;
        Assert.True(headers.TryGetValue("traceparent", out var traceParent), "no traceparent header: " + string.Join(", ", headers.Keys));
        Assert.True(ActivityContext.TryParse(traceParent, null, out var published));
        Assert.Equal(handling.TraceId, published.TraceId);
        Assert.DoesNotContain("bridge-traceparent", headers.Keys);
        var publish = await spans.WaitForAsync(span => span.OperationName == "outbox publish ClosingDocumentSent" && span.TraceId == handling.TraceId, Patience);
        Assert.Equal(BridgeTelemetry.Name, publish.Source.Name);
    }

    [Fact]
    public async Task With_nothing_exporting_dependency_calls_are_not_traced_and_the_event_still_carries_the_trace()
    {
        // Issue 8: a span per ActivePlatform call and per PostgreSQL command cost CPU on every message and went nowhere.
        var spans = new ExportedSpans();
        var prefix = NewPrefix();
        var settings = fixture.Settings(prefix);
        settings.Remove(BridgeTelemetry.TraceDependenciesSetting);
        await using var bridge = await BridgeInstance.StartAsync(settings, services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)));
        var key = "sync-" + Guid.NewGuid().ToString("D");
        var messageId = NewId.NextGuid().ToString("D");

        await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1), messageId);
        var received = await fixture.Events.WaitForReceivedAsync<ClosingDocumentSent>(key);
        var handling = await spans.WaitForAsync(
            span => span.OperationName == "handle SendClosingDocument" && (string?)span.GetTagItem(MessageTags.IdempotencyKey) == messageId, Patience);
        await spans.WaitForAsync(span => span.OperationName == "outbox publish ClosingDocumentSent" && span.TraceId == handling.TraceId, Patience);

        var inTrace = spans.Snapshot().Where(span => span.TraceId == handling.TraceId).ToList();
        Assert.DoesNotContain(inTrace, span => span.Source.Name == "Npgsql");
        Assert.DoesNotContain(inTrace, span => span.Kind == ActivityKind.Client && span.GetTagItem("http.request.method") is not null);
        Assert.True(received.Headers!.TryGetValue("traceparent", out var traceParent));
        Assert.True(ActivityContext.TryParse(traceParent, null, out var published));
        Assert.Equal(handling.TraceId, published.TraceId);
    }

    [Fact]
    public async Task The_meter_reports_outcomes_by_flow_and_the_age_of_the_oldest_undispatched_event()
    {
        var metrics = new List<MetricSnapshot>();
        var prefix = NewPrefix();
        await using var bridge = await BridgeInstance.StartAsync(
            fixture.Settings(prefix),
            services => services.ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(
                metrics,
                // Exported only when the test collects, never behind its back.
                reader => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)TimeSpan.FromHours(1).TotalMilliseconds)));
        var key = Guid.NewGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", Document(key, revision: 1), NewId.NextGuid().ToString("D"));
        await fixture.Erp.PublishJsonAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", new Dictionary<string, object?> { ["key"] = "" }, NewId.NextGuid().ToString("D"));
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        await fixture.Events.WaitForAsync<ClosingDocumentRejected>(rejected => rejected.Key == "");
        // Received is not yet recorded: the dispatcher marks its batch once every publish in it is confirmed. A row an earlier
        // test's Bridge claimed and stopped before publishing (on this database) is published by this one once that claim's
        // lease has run out: waited for as long as the lease, and then some.
        await EventuallyAsync(
            () => bridge.Get<IOutboxStore>().CountPendingAsync(CancellationToken.None),
            pending => pending == 0,
            bridge.Get<Microsoft.Extensions.Options.IOptions<Bridge.Host.Outbox.OutboxOptions>>().Value.ClaimLease + Patience);

        // An event written ten minutes ago waits in the outbox: its publishing failed and is retried in an hour.
        await EnqueueWaitingAsync(bridge, DateTimeOffset.UtcNow.AddMinutes(-10));

        // A handled message is counted once its delivery's pipeline ends, which may be after its event was received.
        var points = await EventuallyAsync(
            () => Task.FromResult(Collect(bridge, metrics)),
            collected => collected.TryGetValue("bridge.messages.handled", out var counted)
                && counted.Exists(p => p.Tags["flow"] == "SendClosingDocument" && p.Tags["outcome"] == "Applied" && p.Value >= 1)
                && counted.Exists(p => p.Tags["flow"] == "SendClosingDocument" && p.Tags["outcome"] == "Rejected" && p.Value >= 1));
        Assert.Contains(points["bridge.messages.duration"], p => p.Tags["flow"] == "SendClosingDocument" && p.Tags["outcome"] == "Applied" && p.Value >= 1);
        var age = Assert.Single(points["bridge.outbox.oldest_pending_age"]).Value;
        Assert.InRange(age, 600, 600 + Patience.TotalSeconds + 60);
        Assert.Contains(points["bridge.outbox.messages"], p => p.Tags["state"] == "pending" && p.Value == 1);
        // ActivePlatform calls' duration and status come from HttpClient's own instruments: the lookup and the POST at least.
        Assert.True(points["http.client.request.duration"].Sum(p => p.Value) >= 2);
    }

    [Fact]
    public async Task Every_line_logged_while_a_message_is_handled_carries_its_flow_keys_and_correlation_id()
    {
        var spans = new ExportedSpans();
        var logs = new ScopeCapturingLoggerProvider();
        var prefix = NewPrefix();
        await using var bridge = await BridgeInstance.StartAsync(fixture.Settings(prefix), services =>
        {
            services.AddSingleton<ILoggerProvider>(logs);
            services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans));
        });
        var key = Guid.NewGuid().ToString("D");
        var messageId = NewId.NextGuid().ToString("D");
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";

        // The same message twice: the second is a duplicate, which Bridge logs while handling it.
        await fixture.Erp.PublishJsonAsync(queue, Document(key, revision: 1), messageId);
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        await fixture.Erp.PublishJsonAsync(queue, Document(key, revision: 1), messageId);
        await spans.WaitForAsync(
            span => span.OperationName == "handle SendClosingDocument" && (string?)span.GetTagItem(MessageTags.ErpKey) == key
                && (string?)span.GetTagItem(MessageTags.Outcome) == "Duplicate",
            Patience);

        var duplicate = Assert.Single(logs.Entries, entry => entry.Message.StartsWith("Duplicate SendClosingDocument " + messageId, StringComparison.Ordinal));
        Assert.Equal("SendClosingDocument", duplicate.Scope["Flow"]);
        Assert.Equal(messageId, duplicate.Scope["IdempotencyKey"]);
        Assert.Equal(key, duplicate.Scope["ErpKey"]);
        Assert.Equal(messageId, duplicate.Scope["CorrelationId"]);
    }

    [Fact]
    public async Task A_dead_letter_keeps_the_failed_trace_and_its_replay_is_a_new_trace_linked_to_it()
    {
        var spans = new ExportedSpans();
        var prefix = NewPrefix();
        await using var bridge = await BridgeInstance.StartAsync(fixture.Settings(prefix), services => services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)));
        var poisonId = NewId.NextGuid().ToString("D");

        await fixture.Erp.PublishRawAsync($"{prefix}.{SendClosingDocumentConsumer.Queue}", System.Text.Encoding.UTF8.GetBytes("{ not json"), poisonId);
        var captured = await fixture.Events.WaitForReceivedAsync<ErpMessageDeadLettered>("", poisonId);
        var deadLetterId = ((ErpMessageDeadLettered)captured.Event).DeadLetterId;
        var letter = (await bridge.Get<Bridge.Host.DeadLetters.Store.IDeadLetterStore>().GetAsync(deadLetterId, CancellationToken.None))!.Letter;

        // The failed handling's trace is kept with the dead letter, and its event was published in that trace.
        Assert.True(ActivityContext.TryParse(letter.Headers[Bridge.Host.DeadLetters.Capture.DeadLetterCapture.TraceParentHeader], null, out var failed));
        Assert.True(ActivityContext.TryParse(captured.Headers!["traceparent"], null, out var announced));
        Assert.Equal(failed.TraceId, announced.TraceId);

        var replay = await bridge.Get<Bridge.Host.DeadLetters.Replay.DeadLetterOperations>().ReplayAsync(deadLetterId, "telemetry-test", null, CancellationToken.None);
        Assert.Equal(Bridge.Host.DeadLetters.Replay.DeadLetterActionOutcome.Done, replay.Outcome);

        var replayed = await spans.WaitForAsync(span => span.Links.Any(link => link.Context.TraceId == failed.TraceId), Patience);
        Assert.NotEqual(failed.TraceId, replayed.TraceId);
        Assert.Equal(ActivityKind.Consumer, replayed.Kind);
    }

    [Fact]
    public async Task Setting_OTEL_EXPORTER_OTLP_ENDPOINT_turns_the_OTLP_exporter_on()
    {
        using var collector = new System.Net.HttpListener();
        var port = FreePort();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var request = collector.GetContextAsync();

        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });
        builder.AddBridgeTelemetry();
        using var host = builder.Build();
        await host.StartAsync();
        using (BridgeTelemetry.Source.StartActivity("otlp probe"))
        {
        }

        host.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000);
        var context = await request.WaitAsync(Patience);
        Assert.Equal("POST", context.Request.HttpMethod);
        Assert.Equal("/v1/traces", context.Request.Url!.AbsolutePath);
        context.Response.StatusCode = 200;
        context.Response.Close();
        await host.StopAsync();

        Assert.False(BridgeTelemetry.OtlpConfigured(new ConfigurationBuilder().Build()));
        Assert.True(BridgeTelemetry.OtlpConfigured(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = "http://collector:4318/v1/metrics" }).Build()));
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        socket.Start();
        return ((System.Net.IPEndPoint)socket.LocalEndpoint).Port;
    }

    private static string NewPrefix() => $"bridge-otel-{Guid.NewGuid():N}"[..24];

    private static async Task EnqueueWaitingAsync(BridgeInstance bridge, DateTimeOffset createdAt)
    {
        var database = bridge.Get<IBridgeDatabase>();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        var skipped = new ClosingDocumentSkipped
        {
            Key = "waiting-" + Guid.NewGuid().ToString("N"),
            MessageId = Guid.NewGuid().ToString("D"),
            CorrelationId = Guid.NewGuid().ToString("D"),
            OccurredAt = createdAt,
            AccountId = 1,
            SkippedVersion = "1",
            AppliedVersion = "2",
        };
        var id = Guid.NewGuid();
        await bridge.Get<IOutboxStore>().EnqueueAsync(
            transaction,
            new OutboxMessage(id, nameof(ClosingDocumentSkipped), System.Text.Json.JsonSerializer.Serialize(skipped), "{}", createdAt, 0),
            CancellationToken.None);
        await using (var delay = connection.CreateCommand())
        {
            // Committed together, so the dispatcher never sees it due.
            delay.Transaction = transaction;
            delay.CommandText = "UPDATE bridge.outbox_messages SET attempts = 1, next_attempt_at = now() + interval '1 hour' WHERE id = @id";
            delay.Parameters.Add(new NpgsqlParameter("id", id));
            await delay.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>Collects now (as a scrape would) and returns every point by instrument name.</summary>
    private static Dictionary<string, List<Point>> Collect(BridgeInstance bridge, List<MetricSnapshot> exported)
    {
        lock (exported)
        {
            exported.Clear();
        }

        Assert.True(bridge.Get<MeterProvider>().ForceFlush(30_000));
        var points = new Dictionary<string, List<Point>>(StringComparer.Ordinal);
        lock (exported)
        {
            foreach (var metric in exported)
            {
                var list = points.TryGetValue(metric.Name, out var existing) ? existing : points[metric.Name] = [];
                foreach (var point in metric.MetricPoints)
                {
                    var tags = new Dictionary<string, string?>(StringComparer.Ordinal);
                    foreach (var tag in point.Tags)
                    {
                        tags[tag.Key] = tag.Value?.ToString();
                    }

                    double value = metric.MetricType switch
                    {
                        MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong(),
                        MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => point.GetSumDouble(),
                        MetricType.LongGauge => point.GetGaugeLastValueLong(),
                        MetricType.DoubleGauge => point.GetGaugeLastValueDouble(),
                        MetricType.Histogram or MetricType.ExponentialHistogram => point.GetHistogramCount(),
                        _ => double.NaN,
                    };
                    list.Add(new Point(tags, value));
                }
            }
        }

        return points;
    }

    private static bool IsDescendantOf(Activity span, Activity ancestor, IReadOnlyList<Activity> all)
    {
        var byId = all.GroupBy(a => a.SpanId).ToDictionary(g => g.Key, g => g.First());
        var current = span;
        for (var depth = 0; depth < 32; depth++)
        {
            if (current.ParentSpanId == ancestor.SpanId)
            {
                return true;
            }

            if (!byId.TryGetValue(current.ParentSpanId, out var parent))
            {
                return false;
            }

            current = parent;
        }

        return false;
    }

    private sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception, IReadOnlyDictionary<string, object?> Scope);

    /// <summary>Keeps every log line with the values of the scopes it was written in.</summary>
    private sealed class ScopeCapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<LogEntry> _entries = new();
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public IReadOnlyList<LogEntry> Entries => _entries.ToArray();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeCapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => provider._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
                provider._scopes.ForEachScope(
                    (value, values) =>
                    {
                        if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
                        {
                            foreach (var (name, item) in pairs)
                            {
                                values[name] = item;
                            }
                        }
                    },
                    scope);
                provider._entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception), exception, scope));
            }
        }
    }

    private sealed record Point(Dictionary<string, string?> Tags, double Value);

    /// <summary>The in-memory exporter's collection, safe to read while spans end on other threads, and awaitable.</summary>
    private sealed class ExportedSpans : ICollection<Activity>
    {
        private readonly List<Activity> _spans = [];
        private readonly List<(Func<Activity, bool> Match, TaskCompletionSource<Activity> Done)> _waiters = [];
        private readonly Lock _lock = new();

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _spans.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public IReadOnlyList<Activity> Snapshot()
        {
            lock (_lock)
            {
                return _spans.ToList();
            }
        }

        public async Task<Activity> WaitForAsync(Func<Activity, bool> match, TimeSpan timeout)
        {
            var done = new TaskCompletionSource<Activity>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                if (_spans.FirstOrDefault(match) is { } already)
                {
                    return already;
                }

                _waiters.Add((match, done));
            }

            try
            {
                return await done.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException("No matching span; exported: " + string.Join(", ", Snapshot().Select(s => s.DisplayName)));
            }
        }

        public void Add(Activity item)
        {
            lock (_lock)
            {
                _spans.Add(item);
                foreach (var waiter in _waiters.Where(w => w.Match(item)).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Done.TrySetResult(item);
                }
            }
        }

        public void Clear()
        {
            lock (_lock)
            {
                _spans.Clear();
            }
        }

        public bool Contains(Activity item)
        {
            lock (_lock)
            {
                return _spans.Contains(item);
            }
        }

        public void CopyTo(Activity[] array, int arrayIndex)
        {
            lock (_lock)
            {
                _spans.CopyTo(array, arrayIndex);
            }
        }

        public bool Remove(Activity item)
        {
            lock (_lock)
            {
                return _spans.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
