using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bridge.Contracts;
using Bridge.Host.Cli;
using Bridge.Host.DeadLetters;
using Bridge.Host.DeadLetters.Capture;
using Bridge.Host.DeadLetters.Replay;
using Bridge.Host.DeadLetters.Retention;
using Bridge.Host.DeadLetters.Store;
using Bridge.Demo;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using Bridge.Tests.Pipeline;
using MassTransit;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.DeadLetters;

/// <summary>
/// Dead letters end to end: messages that fail for good are captured in PostgreSQL (and announced), operators find and
/// act on them through the admin API over HTTP, and replays go back through RabbitMQ to the sandbox.
/// </summary>
[Collection(DeadLetterCollection.Name)]
public sealed class DeadLetterTests(DeadLetterFixture fixture) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    // Seven digits, from a random start: a replay filter finds dead letters by text, and a short number turns up by chance in
    // other dead letters' ids, times and PDFs (a four-digit account once matched one more letter than the test made).
    private static int _nextAccount = Random.Shared.Next(2_000_000, 9_000_000);

    private readonly MeterListener _meters = new();
    private readonly List<(string Instrument, long Value, string? Outcome)> _measurements = [];

    private string SendQueue => fixture.Queue(SendClosingDocumentConsumer.Queue);

    private static long NewAccount() => Interlocked.Increment(ref _nextAccount);

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task A_poison_message_is_captured_with_its_reason_and_the_consumer_goes_on()
    {
        var poisonId = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishRawAsync(SendQueue, Encoding.UTF8.GetBytes("{ this is not json"), poisonId);
        var key = Guid.NewGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync(SendQueue, Document(key, revision: 1), NewId.NextGuid().ToString("D"));

        await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        var announced = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == poisonId);
        using var admin = fixture.Admin();
        var letter = await ShowAsync(admin, announced.DeadLetterId);

        Assert.Equal((SendQueue, "SendClosingDocument", "", 1), (announced.Queue, announced.MessageType, announced.Key, announced.FailureCount));
        Assert.Equal("{ this is not json", letter["body"]!.GetValue<string>());
        Assert.Equal("utf8", letter["bodyEncoding"]!.GetValue<string>());
        Assert.Equal(poisonId, letter["messageId"]!.GetValue<string>());
        Assert.Equal(poisonId, letter["headers"]!["amqp:message_id"]!.GetValue<string>());
        Assert.Equal(announced.ExceptionType, letter["exceptionType"]!.GetValue<string>());
        Assert.Contains("Json", announced.ExceptionType, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(letter["exceptionMessage"]!.GetValue<string>()));
        Assert.Contains("   at ", letter["stackTrace"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Pending", letter["status"]!.GetValue<string>());
        Assert.Equal("Captured", letter["audit"]![0]!["action"]!.GetValue<string>());
        Assert.Null(await fixture.Erp.GetAsync(SendQueue + "_error"));
        Assert.Equal(0u, await fixture.Erp.MessageCountAsync(SendQueue));
    }

    [Fact]
    public async Task A_message_failing_with_429_is_captured_after_its_retries_then_replayed_after_the_fault_clears_and_succeeds_once()
    {
        ListenToMetrics();
        var (key, account, messageId) = (Guid.NewGuid().ToString("D"), NewAccount(), NewId.NextGuid().ToString("D"));
        var announced = await DeadLetterAfterThrottlingAsync(key, account, messageId);

        using var admin = fixture.Admin();
        var letter = await ShowAsync(admin, announced.DeadLetterId);
        var failedPosts = await PostsAsync(account);
        Assert.Equal((key, messageId, "Pending"), (letter["erpKey"]!.GetValue<string>(), letter["messageId"]!.GetValue<string>(), letter["status"]!.GetValue<string>()));
        Assert.Equal(DeadLetterFixture.RetryLimit + 1, letter["attemptCount"]!.GetValue<int>());
        // Each delivery's create is repeated by the HTTP layer (a 429 proves nothing was created) before it fails.
        Assert.Equal((DeadLetterFixture.RetryLimit + 1) * (new Bridge.ActivePlatform.ActivePlatformOptions().RetryCount + 1), failedPosts.Count(call => call.Status == 429));
        Assert.All(failedPosts, call => Assert.Equal(429, call.Status));
        Assert.Empty(await DocumentsAsync(key));

        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        var replay = await admin.PostAsync(new Uri($"admin/dead-letters/{announced.DeadLetterId}/replay", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        Assert.Equal(messageId, sent.MessageId);
        Assert.Single(await DocumentsAsync(key));
        Assert.Single(await PostsAsync(account), call => call.Status == 201);
        var replayed = await ShowAsync(admin, announced.DeadLetterId);
        Assert.Equal(("Replayed", 1), (replayed["status"]!.GetValue<string>(), replayed["replayCount"]!.GetValue<int>()));
        Assert.Contains(replayed["audit"]!.AsArray(), entry =>
            entry!["action"]!.GetValue<string>() == "Replay" && entry["actor"]!.GetValue<string>() == DeadLetterFixture.OperatorName && entry["outcome"]!.GetValue<string>() == "Replayed");

        await fixture.Get<DeadLetterMaintenance>().RefreshCountsAsync(CancellationToken.None);
        _meters.RecordObservableInstruments();
        lock (_measurements)
        {
            Assert.Contains(_measurements, m => m.Instrument == "bridge.dead_letters.captured" && m.Value == 1);
            Assert.Contains(_measurements, m => m.Instrument == "bridge.dead_letters.replays" && m.Outcome == "replayed");
            Assert.Contains(_measurements, m => m.Instrument == "bridge.dead_letters.count" && m.Value >= 1);
        }
    }

    [Fact]
    public async Task Two_concurrent_replays_of_one_dead_letter_give_one_effect()
    {
        var (key, account) = (Guid.NewGuid().ToString("D"), NewAccount());
        var announced = await DeadLetterAfterThrottlingAsync(key, account, NewId.NextGuid().ToString("D"));
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);

        using var admin = fixture.Admin();
        var uri = new Uri($"admin/dead-letters/{announced.DeadLetterId}/replay", UriKind.Relative);
        var answers = await Task.WhenAll(admin.PostAsync(uri, null), admin.PostAsync(uri, null));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], answers.Select(answer => answer.StatusCode).Order());
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        Assert.Single(await DocumentsAsync(key));
        Assert.Single(await PostsAsync(account), call => call.Status == 201);
        var audit = (await ShowAsync(admin, announced.DeadLetterId))["audit"]!.AsArray().Select(entry => entry!["outcome"]!.GetValue<string>()).ToList();
        Assert.Single(audit, outcome => outcome == "Replayed");
        Assert.Single(audit, outcome => outcome.StartsWith("Refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Replaying_a_message_that_had_in_fact_succeeded_is_harmless()
    {
        var key = Guid.NewGuid().ToString("D");
        var messageId = NewId.NextGuid();
        var body = JsonSerializer.SerializeToUtf8Bytes(Document(key, revision: 1), Json);
        await fixture.Erp.PublishRawAsync(SendQueue, body, messageId.ToString("D"));
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);

        // The same message dead-lettered although its effect happened (e.g. its instance died after committing).
        var captured = await fixture.Get<DeadLetterCapture>().CaptureAsync(
            new NewDeadLetter(
                Guid.NewGuid(), SendQueue, "SendClosingDocument", messageId.ToString("D"), key, null, "application/json", DeadLetterBody.FromBytes(body),
                new Dictionary<string, string?> { ["amqp:message_id"] = messageId.ToString("D"), ["amqp:content_type"] = "application/json" },
                "System.TimeoutException", "The operation has timed out.", null, 1, DateTimeOffset.UtcNow),
            CancellationToken.None);
        var watcher = new ConsumeWatcher();
        using var observer = fixture.Get<IBus>().ConnectConsumeObserver(watcher);
        using var admin = fixture.Admin();

        var replay = await admin.PostAsync(new Uri($"admin/dead-letters/{captured.Id}/replay", UriKind.Relative), null);
        await watcher.WhenConsumed(messageId, times: 1, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Single(await DocumentsAsync(key));
        Assert.Single(await fixture.Sandbox.Control.GetCallsAsync("POST", "external_invoices", key, CancellationToken.None));
        Assert.Single(fixture.Events.EventsFor(key).OfType<ClosingDocumentSent>());
        Assert.Equal("Replayed", (await ShowAsync(admin, captured.Id))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Edit_and_replay_sends_a_corrected_body_as_a_new_message_and_archives_the_original()
    {
        var poisonId = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishRawAsync(SendQueue, Encoding.UTF8.GetBytes("{\"key\": \"half a document"), poisonId);
        var announced = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == poisonId);
        using var admin = fixture.Admin();
        var uri = new Uri($"admin/dead-letters/{announced.DeadLetterId}/edit-and-replay", UriKind.Relative);

        var key = Guid.NewGuid().ToString("D");
        var incomplete = Document(key, revision: 1);
        incomplete.Remove("key");
        var refused = await admin.PostAsJsonAsync(uri, new { body = incomplete });
        var edited = await admin.PostAsJsonAsync(uri, new { body = Document(key, revision: 1) });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("key", (await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        var result = (await edited.Content.ReadFromJsonAsync<JsonObject>())!;
        var newMessageId = result["newMessageId"]!.GetValue<string>();
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        Assert.Equal(newMessageId, sent.MessageId);
        Assert.NotEqual(poisonId, newMessageId);
        Assert.Single(await DocumentsAsync(key));
        var original = await ShowAsync(admin, announced.DeadLetterId);
        Assert.Equal("Discarded", original["status"]!.GetValue<string>());
        Assert.Contains(newMessageId, original["statusReason"]!.GetValue<string>(), StringComparison.Ordinal);
        // The refused edit, the edit's claim (its send begun) and the original archived.
        Assert.Equal(
            ["Captured/Pending", "EditAndReplay/Refused: invalid body", "EditAndReplay/Sending", "EditAndReplay/Discarded"],
            original["audit"]!.AsArray().Select(entry => $"{entry!["action"]!.GetValue<string>()}/{entry["outcome"]!.GetValue<string>()}"));

        // The original is archived for good: restored and replayed, it would be applied next to its edited copy.
        var restore = await admin.PostAsync(new Uri($"admin/dead-letters/{announced.DeadLetterId}/restore", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Conflict, restore.StatusCode);
        Assert.Contains("replaced by an edited copy", await restore.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("Discarded", (await ShowAsync(admin, announced.DeadLetterId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_original_delivered_again_after_its_letter_was_edited_is_held_on_its_letter_and_never_applied_beside_the_edit()
    {
        // The capture committed and its acknowledgement was lost (the instance died in between), or the ERP sent the message
        // again: it comes back after an operator edited its letter and the edit was applied.
        var (key, account, messageId) = (Guid.NewGuid().ToString("D"), NewAccount(), NewId.NextGuid().ToString("D"));
        var body = JsonSerializer.SerializeToUtf8Bytes(Document(key, revision: 1, accountId: account), Json);
        var announced = await DeadLetterAfterThrottlingAsync(key, body, messageId);
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        var correctedKey = await EditAsync(announced.DeadLetterId, account);

        await fixture.Erp.PublishRawAsync(SendQueue, body, messageId);
        var held = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.DeadLetterId == announced.DeadLetterId && e.FailureCount == 2);

        Assert.Equal(typeof(Bridge.Host.Idempotency.HeldByDeadLetterException).FullName, held.ExceptionType);
        Assert.Contains(announced.DeadLetterId.ToString("D"), held.Reason, StringComparison.Ordinal);
        Assert.Empty(await DocumentsAsync(key));
        Assert.Single(await DocumentsAsync(correctedKey));
        Assert.Single(await PostsAsync(account), call => call.Status == 201);
        using var admin = fixture.Admin();
        var letter = await ShowAsync(admin, announced.DeadLetterId);
        Assert.Equal("Discarded", letter["status"]!.GetValue<string>());
        Assert.Equal("FailedAgain", letter["audit"]!.AsArray().Last()!["action"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_message_in_MassTransits_envelope_is_replayed_and_applied_once_its_fault_clears()
    {
        // The replay's headers are the broker's: a consumer reading the envelope's own headers would not see them, and would
        // hold every copy as a delivery its letter does not count.
        var (key, account, messageId) = (Guid.NewGuid().ToString("D"), NewAccount(), NewId.NextGuid().ToString("D"));
        var (announced, sent) = await EnvelopeDeadLetteredThenReplayedAsync(key, account, messageId, amqpMessageId: messageId);

        Assert.Equal(messageId, sent.MessageId);
        Assert.Single(await DocumentsAsync(key));
    }

    [Fact]
    public async Task An_envelope_without_an_AMQP_message_id_is_replayed_under_the_key_its_letter_holds()
    {
        // The envelope's id written otherwise than MassTransit writes it: the consumer reads it as a GUID. A copy carrying it
        // as its AMQP message_id would be another key, one no letter holds.
        var (key, account) = (Guid.NewGuid().ToString("D"), NewAccount());
        var envelopeId = "{" + NewId.NextGuid().ToString("D").ToUpperInvariant() + "}";
        var (announced, sent) = await EnvelopeDeadLetteredThenReplayedAsync(key, account, envelopeId, amqpMessageId: null);

        Assert.Equal(Guid.Parse(envelopeId).ToString("D"), announced.MessageId);
        Assert.Equal(announced.MessageId, sent.MessageId);
    }

    [Fact]
    public async Task A_delivery_held_by_a_letter_leaves_no_record_of_its_own_payload_behind()
    {
        // The original could not be read (no record of its key was begun); the ERP sends a readable message under its key.
        var messageId = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishRawAsync(SendQueue, Encoding.UTF8.GetBytes("{ not json"), messageId);
        var letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId);
        var key = Guid.NewGuid().ToString("D");

        await fixture.Erp.PublishJsonAsync(SendQueue, Document(key, revision: 1, accountId: NewAccount()), messageId);
        var held = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.Key == key);

        Assert.Equal(typeof(Bridge.Host.Idempotency.HeldByDeadLetterException).FullName, held.ExceptionType);
        Assert.Contains(letter.DeadLetterId.ToString("D"), held.Reason, StringComparison.Ordinal);
        Assert.NotEqual(letter.DeadLetterId, held.DeadLetterId);
        Assert.Null(await fixture.Get<Bridge.Host.Storage.IIdempotencyStore>().FindAsync(messageId, CancellationToken.None));
        Assert.Empty(await DocumentsAsync(key));
    }

    [Fact]
    public async Task A_replayed_copy_delivered_again_after_its_capture_is_held_and_never_applied_beside_the_edit_that_followed()
    {
        var (key, account, messageId) = (Guid.NewGuid().ToString("D"), NewAccount(), NewId.NextGuid().ToString("D"));
        var body = JsonSerializer.SerializeToUtf8Bytes(Document(key, revision: 1, accountId: account), Json);
        var announced = await DeadLetterAfterThrottlingAsync(key, body, messageId);
        using var admin = fixture.Admin();

        // Replayed while ActivePlatform still throttles: the copy fails again and its capture takes it back, so the letter
        // counts no copy and may be edited.
        var replay = await admin.PostAsync(new Uri($"admin/dead-letters/{announced.DeadLetterId}/replay", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.DeadLetterId == announced.DeadLetterId && e.FailureCount == 2);
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        var correctedKey = await EditAsync(announced.DeadLetterId, account);

        // That copy again (its capture's acknowledgement lost): the letter no longer counts its id.
        var copy = new Dictionary<string, object?>
        {
            [NewDeadLetter.ReplayOfHeader] = announced.DeadLetterId.ToString("D"),
            [NewDeadLetter.ReplayCopyHeader] = Guid.NewGuid().ToString("D"),
        };
        await fixture.Erp.PublishRawAsync(SendQueue, body, messageId, headers: copy);
        await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.DeadLetterId == announced.DeadLetterId && e.FailureCount == 3);

        Assert.Empty(await DocumentsAsync(key));
        Assert.Single(await DocumentsAsync(correctedKey));
        Assert.Single(await PostsAsync(account), call => call.Status == 201);
    }

    [Fact]
    public async Task The_API_refuses_a_missing_or_unknown_token_and_a_read_only_token_acting()
    {
        var (key, account) = (Guid.NewGuid().ToString("D"), NewAccount());
        var announced = await DeadLetterAfterThrottlingAsync(key, account, NewId.NextGuid().ToString("D"));
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        var replayUri = new Uri($"admin/dead-letters/{announced.DeadLetterId}/replay", UriKind.Relative);
        using var anonymous = fixture.Admin(token: null);
        using var stranger = fixture.Admin("not-a-configured-token-at-all");
        using var viewer = fixture.Admin(DeadLetterFixture.ReadOnlyToken);

        var noToken = await anonymous.GetAsync(new Uri("admin/dead-letters", UriKind.Relative));
        var unknown = await stranger.GetAsync(new Uri("admin/dead-letters", UriKind.Relative));
        var noTokenActing = await anonymous.PostAsync(replayUri, null);
        var viewerReads = await viewer.GetAsync(new Uri($"admin/dead-letters?queue={SendQueue}&key={key}", UriKind.Relative));
        var viewerReplays = await viewer.PostAsync(replayUri, null);
        var viewerDiscards = await viewer.PostAsJsonAsync(new Uri($"admin/dead-letters/{announced.DeadLetterId}/discard", UriKind.Relative), new { reason = "no" });
        var description = await anonymous.GetAsync(new Uri("admin/openapi.json", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal("Bearer", noToken.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noTokenActing.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viewerReads.StatusCode);
        var page = (await viewerReads.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(announced.DeadLetterId, page["items"]![0]!["id"]!.GetValue<Guid>());
        Assert.Equal(HttpStatusCode.Forbidden, viewerReplays.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewerDiscards.StatusCode);
        // Both refusals are problem documents that name no token.
        Assert.Equal("application/problem+json", noToken.Content.Headers.ContentType?.MediaType);
        Assert.Equal("An operator token is required", (await noToken.Content.ReadFromJsonAsync<JsonObject>())!["title"]!.GetValue<string>());
        var forbidden = (await viewerReplays.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("This token is read-only", forbidden["title"]!.GetValue<string>());
        Assert.DoesNotContain(DeadLetterFixture.ReadOnlyToken, forbidden.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, description.StatusCode);
        using var admin = fixture.Admin();
        var letter = await ShowAsync(admin, announced.DeadLetterId);
        Assert.Equal("Pending", letter["status"]!.GetValue<string>());
        Assert.Single(letter["audit"]!.AsArray());
        Assert.Empty(await DocumentsAsync(key));
    }

    [Fact]
    public async Task Discard_needs_a_reason_blocks_replay_until_restored_and_every_action_is_audited()
    {
        var (key, account) = (Guid.NewGuid().ToString("D"), NewAccount());
        var announced = await DeadLetterAfterThrottlingAsync(key, account, NewId.NextGuid().ToString("D"));
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        using var admin = fixture.Admin();
        var id = announced.DeadLetterId;

        var noReason = await admin.PostAsJsonAsync(new Uri($"admin/dead-letters/{id}/discard", UriKind.Relative), new { reason = " " });
        var discarded = await admin.PostAsJsonAsync(new Uri($"admin/dead-letters/{id}/discard", UriKind.Relative), new { reason = "sent by hand in ActivePlatform" });
        var replayRefused = await admin.PostAsync(new Uri($"admin/dead-letters/{id}/replay", UriKind.Relative), null);
        var restored = await admin.PostAsync(new Uri($"admin/dead-letters/{id}/restore", UriKind.Relative), null);
        var unknown = await admin.PostAsync(new Uri($"admin/dead-letters/{Guid.NewGuid()}/restore", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Equal(HttpStatusCode.OK, discarded.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, replayRefused.StatusCode);
        Assert.Equal("Discarded", (await replayRefused.Content.ReadFromJsonAsync<JsonObject>())!["deadLetterStatus"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var letter = await ShowAsync(admin, id);
        Assert.Equal("Pending", letter["status"]!.GetValue<string>());
        Assert.Equal(
            [("bridge", "Captured", "Pending"), ("alice", "Discard", "Discarded"), ("alice", "Replay", "Refused: Discarded"), ("alice", "Restore", "Pending")],
            letter["audit"]!.AsArray().Select(entry => (entry!["actor"]!.GetValue<string>(), entry["action"]!.GetValue<string>(), entry["outcome"]!.GetValue<string>())));
        Assert.Empty(await DocumentsAsync(key));
    }

    [Fact]
    public async Task A_group_replayed_by_filter_runs_as_a_paced_job_whose_progress_can_be_watched()
    {
        var account = NewAccount();
        var keys = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid().ToString("D")).ToList();
        // Another account's dead letter, same failure group, whose random key happens to hold this account's digits (as any
        // key or message id can, by chance): the filter must not take it for one of this account's.
        var accountDigits = account.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var bystanderKey = Guid.NewGuid().ToString("D")[..^accountDigits.Length] + accountDigits;
        var bystander = await DeadLetterAfterThrottlingAsync(bystanderKey, NewAccount(), NewId.NextGuid().ToString("D"));
        // So the text filter names the account as the bodies write it, not as bare digits.
        var accountText = $"\"accountId\":{accountDigits},";
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 429 }, CancellationToken.None);
        foreach (var key in keys)
        {
            await fixture.Erp.PublishJsonAsync(SendQueue, Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
        }

        foreach (var key in keys)
        {
            await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key);
        }

        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        using var admin = fixture.Admin();
        var groups = (await admin.GetFromJsonAsync<JsonArray>(new Uri($"admin/dead-letters/groups?queue={SendQueue}&text={Uri.EscapeDataString(accountText)}", UriKind.Relative)))!;
        var group = Assert.Single(groups);
        Assert.Equal(3, group!["count"]!.GetValue<long>());

        var started = await admin.PostAsJsonAsync(
            new Uri("admin/dead-letters/replay", UriKind.Relative),
            new { filter = new { queue = SendQueue, group = group["failureGroup"]!.GetValue<string>(), text = accountText }, batchSize = 2, ratePerSecond = 5 });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = (await started.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(3, job["total"]!.GetValue<int>());
        var progressUri = started.Headers.Location!;
        var done = await EventuallyAsync(() => admin.GetFromJsonAsync<JsonObject>(progressUri), p => p!["state"]!.GetValue<string>() != "Running");

        Assert.Equal(("Completed", 3, 0, 0), (done!["state"]!.GetValue<string>(), done["replayed"]!.GetValue<int>(), done["skipped"]!.GetValue<int>(), done["failed"]!.GetValue<int>()));
        // Three messages at five a second: the third is not sent before 0.4 s after the first.
        Assert.True(done["finishedAt"]!.GetValue<DateTimeOffset>() - done["startedAt"]!.GetValue<DateTimeOffset>() >= TimeSpan.FromMilliseconds(400));
        foreach (var key in keys)
        {
            await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
            Assert.Single(await DocumentsAsync(key));
        }

        Assert.Equal(3, (await PostsAsync(account)).Count(call => call.Status == 201));
        Assert.Equal("Pending", (await ShowAsync(admin, bystander.DeadLetterId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Replay_jobs_live_in_the_database_are_listed_and_cancelled_from_any_instance_and_an_interrupted_one_says_so()
    {
        using var admin = fixture.Admin();
        var store = fixture.Get<IReplayJobStore>();

        // A slow job (one dead letter every two seconds; these ids name none, so each is counted not found).
        var ids = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToList();
        var started = await admin.PostAsJsonAsync(new Uri("admin/dead-letters/replay", UriKind.Relative), new { ids, ratePerSecond = 0.5 });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var progressUri = started.Headers.Location!;
        var jobId = (await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<Guid>();
        await EventuallyAsync(() => admin.GetFromJsonAsync<JsonObject>(progressUri), p => p!["notFound"]!.GetValue<int>() >= 1);

        // Another instance asks to cancel it: all it has in common with this one is the database.
        Assert.True(await new SqlReplayJobStore(fixture.Get<Bridge.Host.Storage.IBridgeDatabase>()).RequestCancelAsync(jobId, CancellationToken.None));
        var cancelled = (await EventuallyAsync(() => admin.GetFromJsonAsync<JsonObject>(progressUri), p => p!["state"]!.GetValue<string>() != "Running"))!;
        Assert.Equal("Cancelled", cancelled["state"]!.GetValue<string>());
        Assert.True(cancelled["cancelRequested"]!.GetValue<bool>());
        Assert.InRange(cancelled["notFound"]!.GetValue<int>(), 1, 4);
        Assert.Equal(fixture.Get<Bridge.Host.Hosting.InstanceRegistry>().Id, cancelled["instance"]!.GetValue<string>());
        Assert.Equal("5 dead letters by id", cancelled["request"]!.GetValue<string>());

        // A job whose instance died mid-way: nobody renews its lease, and the next reader reports it Interrupted.
        var orphan = new StoredReplayJob(
            Guid.NewGuid(), ReplayJobState.Running, "bob", "{\"queue\":\"bridge.send-closing-document\"}", "gone-host/1/0badf00d",
            DateTimeOffset.UtcNow, null, 50, 20, 40, 0, 0, 0, 0, null, false);
        await store.CreateAsync(orphan, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.False(await store.ProgressAsync(orphan.Id, orphan.Owner, new ReplayJobCounts(12, 0, 0, 0), TimeSpan.FromMilliseconds(1), CancellationToken.None));
        var interrupted = (await EventuallyAsync(
            () => admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/dead-letters/replay-jobs/{orphan.Id:D}", UriKind.Relative)),
            p => p!["state"]!.GetValue<string>() != "Running"))!;
        Assert.Equal(("Interrupted", 12), (interrupted["state"]!.GetValue<string>(), interrupted["replayed"]!.GetValue<int>()));
        Assert.Contains("still Pending", interrupted["error"]!.GetValue<string>(), StringComparison.Ordinal);

        // Both are listed, newest first, with whoever runs (or ran) them.
        var listed = (await admin.GetFromJsonAsync<JsonArray>(new Uri("admin/dead-letters/replay-jobs?limit=500", UriKind.Relative)))!;
        var order = listed.Select(j => j!["id"]!.GetValue<Guid>()).Where(id => id == jobId || id == orphan.Id).ToList();
        Assert.Equal([orphan.Id, jobId], order);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync(new Uri("admin/dead-letters/replay-jobs?limit=0", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync(new Uri($"admin/dead-letters/replay-jobs/{Guid.NewGuid():D}/cancel", UriKind.Relative), null)).StatusCode);
    }

    [Fact]
    public async Task Two_messages_sharing_one_message_id_but_not_their_idempotency_key_are_two_dead_letters_each_replaying_its_own_body()
    {
        var account = NewAccount();
        var sharedMessageId = NewId.NextGuid().ToString("D");
        var (key1, key2) = (Guid.NewGuid().ToString("D"), Guid.NewGuid().ToString("D"));
        var (idempotencyKey1, idempotencyKey2) = ("erp-" + Guid.NewGuid().ToString("N"), "erp-" + Guid.NewGuid().ToString("N"));
        var first = Document(key1, revision: 1, accountId: account);
        first["idempotencyKey"] = idempotencyKey1;
        var second = Document(key2, revision: 1, accountId: account);
        second["idempotencyKey"] = idempotencyKey2;
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 429 }, CancellationToken.None);

        await fixture.Erp.PublishJsonAsync(SendQueue, first, sharedMessageId);
        var firstLetter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == idempotencyKey1);
        await fixture.Erp.PublishJsonAsync(SendQueue, second, sharedMessageId);
        var secondLetter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == idempotencyKey2);

        Assert.NotEqual(firstLetter.DeadLetterId, secondLetter.DeadLetterId);
        Assert.Equal((1, 1), (firstLetter.FailureCount, secondLetter.FailureCount));
        using var admin = fixture.Admin();
        var stored1 = await ShowAsync(admin, firstLetter.DeadLetterId);
        var stored2 = await ShowAsync(admin, secondLetter.DeadLetterId);
        Assert.Equal((sharedMessageId, key1), (stored1["messageId"]!.GetValue<string>(), stored1["erpKey"]!.GetValue<string>()));
        Assert.Equal((sharedMessageId, key2), (stored2["messageId"]!.GetValue<string>(), stored2["erpKey"]!.GetValue<string>()));
        Assert.Contains(idempotencyKey2, stored2["body"]!.GetValue<string>(), StringComparison.Ordinal);

        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        foreach (var id in new[] { firstLetter.DeadLetterId, secondLetter.DeadLetterId })
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(new Uri($"admin/dead-letters/{id}/replay", UriKind.Relative), null)).StatusCode);
        }

        Assert.Equal(idempotencyKey1, (await fixture.Events.WaitForAsync<ClosingDocumentSent>(key1)).MessageId);
        Assert.Equal(idempotencyKey2, (await fixture.Events.WaitForAsync<ClosingDocumentSent>(key2)).MessageId);
        Assert.Single(await DocumentsAsync(key1));
        Assert.Single(await DocumentsAsync(key2));
    }

    [Fact]
    public async Task A_replay_that_died_before_recording_is_replayed_by_a_bulk_job_or_discarded_once_its_lease_has_passed()
    {
        var account = NewAccount();
        var keys = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid().ToString("D")).ToList();
        var letters = new List<ErpMessageDeadLettered>();
        foreach (var key in keys)
        {
            letters.Add(await DeadLetterAfterThrottlingAsync(key, account, NewId.NextGuid().ToString("D")));
        }

        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        // As an instance that died between claiming a replay and recording it leaves them: Replaying, with a lease that
        // ran out long ago (first two) or runs far into the future (a replay still going on: the third).
        await SetReplayingAsync(letters[0].DeadLetterId, new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await SetReplayingAsync(letters[1].DeadLetterId, new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await SetReplayingAsync(letters[2].DeadLetterId, new DateTimeOffset(2999, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var admin = fixture.Admin();

        var discarded = await admin.PostAsJsonAsync(new Uri($"admin/dead-letters/{letters[1].DeadLetterId}/discard", UriKind.Relative), new { reason = "sent by hand" });
        var refused = await admin.PostAsJsonAsync(new Uri($"admin/dead-letters/{letters[2].DeadLetterId}/discard", UriKind.Relative), new { reason = "sent by hand" });
        var started = await admin.PostAsJsonAsync(
            new Uri("admin/dead-letters/replay", UriKind.Relative),
            new { filter = new { queue = SendQueue, text = account.ToString(System.Globalization.CultureInfo.InvariantCulture) }, ratePerSecond = 100 });

        Assert.Equal(HttpStatusCode.OK, discarded.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = (await started.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(1, job["total"]!.GetValue<int>());
        var done = await EventuallyAsync(() => admin.GetFromJsonAsync<JsonObject>(started.Headers.Location!), p => p!["state"]!.GetValue<string>() != "Running");
        Assert.Equal(("Completed", 1), (done!["state"]!.GetValue<string>(), done["replayed"]!.GetValue<int>()));
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(keys[0]);
        Assert.Single(await DocumentsAsync(keys[0]));
        Assert.Empty(await DocumentsAsync(keys[1]));
        var replayed = await ShowAsync(admin, letters[0].DeadLetterId);
        Assert.Equal(
            ["Captured", "ReplayLeaseExpired", "Replay"],
            replayed["audit"]!.AsArray().Select(entry => entry!["action"]!.GetValue<string>()));
        Assert.Equal("Discarded", (await ShowAsync(admin, letters[1].DeadLetterId))["status"]!.GetValue<string>());
        Assert.Equal("Replaying", (await ShowAsync(admin, letters[2].DeadLetterId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task While_the_database_cannot_store_it_a_failed_message_goes_to_the_error_queue_instead_of_being_lost()
    {
        var poisonId = NewId.NextGuid().ToString("D");
        await using (var connection = await fixture.Get<Bridge.Host.Storage.IBridgeDatabase>().OpenAsync(CancellationToken.None))
        {
            await using var hide = connection.CreateCommand();
            hide.CommandText = "ALTER TABLE bridge.dead_letters RENAME TO dead_letters_hidden;";
            await hide.ExecuteNonQueryAsync();
        }

        try
        {
            await fixture.Erp.PublishRawAsync(SendQueue, Encoding.UTF8.GetBytes("not json either"), poisonId);

            var moved = await EventuallyAsync(() => fixture.Erp.GetAsync(SendQueue + "_error"), r => r is not null && r.BasicProperties.MessageId == poisonId);
            Assert.Equal("not json either", ErpPublisher.Utf8(moved!.Body));
            Assert.Equal("fault", Encoding.UTF8.GetString((byte[])moved.BasicProperties.Headers!["MT-Reason"]!));
        }
        finally
        {
            await using var connection = await fixture.Get<Bridge.Host.Storage.IBridgeDatabase>().OpenAsync(CancellationToken.None);
            await using var restore = connection.CreateCommand();
            restore.CommandText = "ALTER TABLE bridge.dead_letters_hidden RENAME TO dead_letters;";
            await restore.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task The_CLI_lists_shows_and_replays_through_the_admin_API_and_reports_refusals()
    {
        var (key, account) = (Guid.NewGuid().ToString("D"), NewAccount());
        var id = (await DeadLetterAfterThrottlingAsync(key, account, NewId.NextGuid().ToString("D"))).DeadLetterId.ToString("D");
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);

        var list = await CliAsync("list", "--queue", SendQueue, "--key", key);
        var listJson = await CliAsync("list", "--queue", SendQueue, "--key", key, "--json");
        var show = await CliAsync("show", id);
        var refused = await CliWithTokenAsync(DeadLetterFixture.ReadOnlyToken, "replay", id);
        var replayed = await CliAsync("replay", id);
        var usage = await CliAsync("discard", id);

        Assert.Equal(0, list.Exit);
        Assert.StartsWith("ID", list.Output, StringComparison.Ordinal);
        Assert.Contains(id, list.Output, StringComparison.Ordinal);
        Assert.Contains("Pending", list.Output, StringComparison.Ordinal);
        Assert.Equal(id, JsonNode.Parse(listJson.Output)!["items"]![0]!["id"]!.GetValue<string>());
        Assert.Contains("body (utf8):", show.Output, StringComparison.Ordinal);
        Assert.Contains(key, show.Output, StringComparison.Ordinal);
        Assert.Contains("Captured", show.Output, StringComparison.Ordinal);
        Assert.Equal(1, refused.Exit);
        Assert.Contains("403", refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, replayed.Exit);
        Assert.Contains("now Replayed", replayed.Output, StringComparison.Ordinal);
        Assert.Equal(2, usage.Exit);
        Assert.Contains("usage: bridge dead-letters", usage.Error, StringComparison.Ordinal);
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        Assert.Single(await DocumentsAsync(key));
    }

    private Task<(int Exit, string Output, string Error)> CliAsync(params string[] args) => CliWithTokenAsync(DeadLetterFixture.OperatorToken, args);

    private async Task<(int Exit, string Output, string Error)> CliWithTokenAsync(string token, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await DeadLetterCli.RunAsync([.. args, "--url", fixture.BaseAddress.ToString(), "--token", token], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Publishes a document whose create ActivePlatform keeps answering with 429 (nothing created), and waits until it is dead-lettered.</summary>
    /// <summary>ActivePlatform throttles every create of the account's documents, and the message (these bytes) is dead-lettered.</summary>
    private async Task<ErpMessageDeadLettered> DeadLetterAfterThrottlingAsync(string key, byte[] body, string messageId)
    {
        var account = JsonDocument.Parse(body).RootElement.GetProperty("accountId").GetInt64();
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 429 }, CancellationToken.None);
        await fixture.Erp.PublishRawAsync(SendQueue, body, messageId);
        return await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key);
    }

    /// <summary>
    /// A document in MassTransit's envelope (id <paramref name="envelopeId"/>; AMQP message_id <paramref name="amqpMessageId"/>)
    /// dead-lettered while ActivePlatform throttles, then replayed once it no longer does: its letter's event and the answer.
    /// </summary>
    private async Task<(ErpMessageDeadLettered Announced, ClosingDocumentSent Sent)> EnvelopeDeadLetteredThenReplayedAsync(string key, long account, string envelopeId, string? amqpMessageId)
    {
        var envelope = JsonSerializer.SerializeToUtf8Bytes(new
        {
            messageId = envelopeId,
            messageType = new[] { "urn:message:Bridge.Contracts:SendClosingDocument" },
            message = Document(key, revision: 1, accountId: account),
        });
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 429 }, CancellationToken.None);
        await fixture.Erp.PublishRawAsync(SendQueue, envelope, amqpMessageId, "application/vnd.masstransit+json");
        var announced = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key);
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);

        using var admin = fixture.Admin();
        var replay = await admin.PostAsync(new Uri($"admin/dead-letters/{announced.DeadLetterId}/replay", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        return (announced, await fixture.Events.WaitForAsync<ClosingDocumentSent>(key));
    }

    /// <summary>Edits the letter into a document of another key (the original's was wrong) and waits until it is sent; that key.</summary>
    private async Task<string> EditAsync(Guid deadLetterId, long account)
    {
        var correctedKey = Guid.NewGuid().ToString("D");
        using var admin = fixture.Admin();
        var edited = await admin.PostAsJsonAsync(
            new Uri($"admin/dead-letters/{deadLetterId}/edit-and-replay", UriKind.Relative), new { body = Document(correctedKey, revision: 1, accountId: account) });
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(correctedKey);
        return correctedKey;
    }

    private async Task<ErpMessageDeadLettered> DeadLetterAfterThrottlingAsync(string key, long account, string messageId)
    {
        await fixture.Sandbox.Control.SetFaultAsync(new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 429 }, CancellationToken.None);
        await fixture.Erp.PublishJsonAsync(SendQueue, Document(key, revision: 1, accountId: account), messageId);
        return await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key);
    }

    private async Task SetReplayingAsync(Guid id, DateTimeOffset claimExpiresAt)
    {
        await using var connection = await fixture.Get<Bridge.Host.Storage.IBridgeDatabase>().OpenAsync(CancellationToken.None);
        await using var update = connection.CreateCommand();
        update.CommandText = "UPDATE bridge.dead_letters SET status = 'Replaying', replay_claimed_by = 'crashed-instance', replay_claim_expires_at = @expires WHERE id = @id;";
        update.Parameters.Add(new Npgsql.NpgsqlParameter("expires", claimExpiresAt));
        update.Parameters.Add(new Npgsql.NpgsqlParameter("id", id));
        Assert.Equal(1, await update.ExecuteNonQueryAsync());
    }

    private static async Task<JsonObject> ShowAsync(HttpClient admin, Guid id) =>
        (await admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/dead-letters/{id}", UriKind.Relative)))!;

    private async Task<List<SandboxExternalInvoice>> DocumentsAsync(string key) =>
        (await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None)).Where(d => d.Key == key).ToList();

    private async Task<IReadOnlyList<SandboxCall>> PostsAsync(long account) =>
        await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None);

    private void ListenToMetrics()
    {
        var meter = fixture.Get<DeadLetterMetrics>().Meter;
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? outcome = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    outcome = tag.Value as string;
                }
            }

            lock (_measurements)
            {
                _measurements.Add((instrument.Name, value, outcome));
            }
        });
        _meters.Start();
    }
}
