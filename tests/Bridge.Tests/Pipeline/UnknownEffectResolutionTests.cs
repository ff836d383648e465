using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bridge.Contracts;
using Bridge.Host.Cli;
using Bridge.Host.Effects;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using Bridge.Tests.DeadLetters;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// An effect whose outcome Bridge cannot tell (Unknown) is resolved by an operator, end to end: the sandbox loses the
/// answer to a send (or fails it) and, before Bridge reads the payment back, a manager changes it by hand in ActivePlatform,
/// so the read-back finds a change it cannot attribute to the line, and the message is dead-lettered with its effect Unknown;
/// the operator finds the effect, resolves it through the CLI or the admin API, and replays the dead letter. Not applied
/// sends the effect again; applied answers the message without sending anything.
/// </summary>
[Collection(PipelineCollection5.Name)]
public sealed class UnknownEffectResolutionTests(PipelineFixture fixture) : IAsyncLifetime
{
    private const string OperatorToken = "effects-operator-0123456789";
    private const string ViewerToken = "effects-viewer-0123456789";

    private readonly string _prefix = $"bridge-unk-{Guid.NewGuid():N}"[..22];
    private WebApplication _bridge = null!;
    private Uri _baseAddress = null!;

    private SandboxControlClient Sandbox => fixture.Sandbox.Control;

    public async Task InitializeAsync()
    {
        _bridge = await DeadLetterFixture.StartBridgeAsync(fixture.Settings(_prefix, new Dictionary<string, string?>
        {
            // A line whose answer was lost is settled once it can no longer land: a short in-flight window keeps that short.
            ["ActivePlatform:AttemptTimeout"] = "00:00:01",
            ["ActivePlatform:TotalTimeout"] = "00:00:02",
            ["Bridge:Admin:Tokens:0:Name"] = "olga",
            ["Bridge:Admin:Tokens:0:Token"] = OperatorToken,
            ["Bridge:Admin:Tokens:0:Role"] = "Operator",
            ["Bridge:Admin:Tokens:1:Name"] = "viewer",
            ["Bridge:Admin:Tokens:1:Token"] = ViewerToken,
            ["Bridge:Admin:Tokens:1:Role"] = "ReadOnly",
        }));
        _baseAddress = new Uri(_bridge.Urls.Single());
    }

    public async Task DisposeAsync()
    {
        await Sandbox.ClearFaultsAsync(CancellationToken.None);
        await _bridge.StopAsync();
        await _bridge.DisposeAsync();
    }

    [Fact]
    public async Task A_statement_line_resolved_as_not_applied_is_sent_again_when_its_dead_letter_is_replayed()
    {
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);
        var line = NewLine();
        var messageId = NewId.NextGuid().ToString("D");

        // The POST fails with 502 (nothing applied, but Bridge cannot know), and before the read-back a manager enters a
        // correction of 20.00 by hand: the payment did not close as this line closes it, yet it changed.
        var letter = await DeadLetteredUnknownAsync(payment, line, 100m, messageId, new FaultRule { Method = "POST", PathContains = $"/payments/{payment.Number}", FailNext = 1, ErrorStatus = 502 }, 20m);
        using var admin = Admin(OperatorToken);
        var reason = Text(await admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/dead-letters/{letter.DeadLetterId}", UriKind.Relative)), "exceptionMessage");
        Assert.Contains("bridge effects resolve", reason, StringComparison.Ordinal);
        var effect = await SingleEffectAsync(messageId);
        Assert.Equal(("Unknown", $"payment-statement-line:1", $"{payment.Number}|{line}", payment.Number), (Text(effect, "state"), Text(effect, "scope"), Text(effect, "key"), Text(effect, "group")));
        Assert.Contains(Text(effect, "id"), reason, StringComparison.Ordinal);
        Assert.Contains("not exactly as this line would change it", reason, StringComparison.Ordinal);
        Assert.Contains("not exactly as this line would change it", Text((await ShowAsync(admin, Text(effect, "id")))["evidence"], "reason"), StringComparison.Ordinal);
        Assert.Equal("waiting_for_payment", (await PaymentAsync(payment.Id)).Status);
        var posts = await PostsAsync(payment);

        // Replayed before anyone decided, it is dead-lettered again and sends nothing.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(new Uri($"admin/dead-letters/{letter.DeadLetterId}/replay", UriKind.Relative), null)).StatusCode);
        await PipelineTestData.EventuallyAsync(
            () => admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/dead-letters/{letter.DeadLetterId}", UriKind.Relative)),
            dead => dead!["failureCount"]!.GetValue<int>() == 2 && Text(dead, "status") == "Pending");
        Assert.Equal(posts.Count, (await PostsAsync(payment)).Count);

        // The operator checked ActivePlatform at once and found no line — but the POST was sent moments ago and might still be
        // carried out: "not applied" (which sends it again on replay) is refused until the wait has passed since the send.
        Assert.Contains("as not applied only after that", Text(await ShowAsync(admin, Text(effect, "id")), "notAppliedNotYetBecause"), StringComparison.Ordinal);
        using (var early = new StringWriter())
        using (var earlyError = new StringWriter())
        {
            var refused = await EffectCli.RunAsync(
                ["resolve", Text(effect, "id"), "--as", "not-applied", "--note", "olga: no line yet", "--url", _baseAddress.ToString(), "--token", OperatorToken],
                early,
                earlyError);
            Assert.NotEqual(0, refused);
            Assert.Contains("Not applied cannot be recorded yet", early.ToString() + earlyError.ToString(), StringComparison.Ordinal);
            Assert.Equal("Unknown", Text(await ShowAsync(admin, Text(effect, "id")), "state"));
        }

        // The operator comes back once the wait has passed (by the database's clock), checks again: the line is not on the
        // payment. Resolved from the CLI.
        await using (var connection = new Npgsql.NpgsqlConnection(fixture.DatabaseConnectionString))
        {
            Assert.Equal(1, await Dapper.SqlMapper.ExecuteAsync(
                connection, "UPDATE bridge.effect_journal SET sent_at = sent_at - interval '1 hour' WHERE effect_id = @Id", new { Id = Text(effect, "id") }));
        }

        Assert.Equal("", Text(await ShowAsync(admin, Text(effect, "id")), "notAppliedNotYetBecause"));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await EffectCli.RunAsync(
            ["resolve", Text(effect, "id"), "--as", "not-applied", "--note", "olga: payment 100.00 shows no line " + line + " in ActivePlatform", "--url", _baseAddress.ToString(), "--token", OperatorToken],
            output,
            error);
        Assert.True(exit == 0, error.ToString());
        Assert.Contains("resolved as NotApplied", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(OperatorToken, output.ToString() + error.ToString(), StringComparison.Ordinal);

        var replay = await admin.PostAsync(new Uri($"admin/dead-letters/{letter.DeadLetterId}/replay", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);

        var completed = await fixture.Events.WaitForAsync<PaymentCompleted>(e => e.ExternalTransactionId == line);
        Assert.Equal((PaymentCompletionOutcome.Completed, messageId, false), (completed.Outcome, completed.MessageId, completed.AlreadyApplied));
        var after = await PaymentAsync(payment.Id);
        Assert.Equal("completed", after.Status);
        Assert.Equal([line], after.ExternalTransactionIds);
        Assert.Equal(posts.Count + 1, (await PostsAsync(payment)).Count);
        Assert.Equal([200], (await PostsAsync(payment)).Skip(posts.Count).Select(call => call.Status));

        var resolved = await ShowAsync(admin, Text(effect, "id"));
        Assert.Equal("Applied", Text(resolved, "state"));
        Assert.Equal(["Refused: Conflict", "NotApplied"], resolved["audit"]!.AsArray().Select(entry => Text(entry, "outcome")));
        var audit = resolved["audit"]!.AsArray()[^1];
        Assert.Equal(("olga", "Resolve", "NotApplied"), (Text(audit, "actor"), Text(audit, "action"), Text(audit, "outcome")));
        Assert.Contains("shows no line", Text(audit, "detail"), StringComparison.Ordinal);
        // By message id: payment numbers repeat across the test sandboxes, which publish to one broker.
        Assert.Same(completed, Assert.Single(fixture.Events.EventsFor(payment.Number), e => (e is PaymentCompleted or PaymentRejected) && e.MessageId == completed.MessageId));
    }

    [Fact]
    public async Task A_statement_line_resolved_as_applied_is_answered_with_the_operators_correction_without_sending_it_again()
    {
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);
        var line = NewLine();
        var messageId = NewId.NextGuid().ToString("D");

        // ActivePlatform applies the partial payment but the answer is lost, and before the read-back a manager enters a
        // correction of 12.50 by hand: two new corrections, and Bridge cannot tell which (if either) is the line's.
        var letter = await DeadLetteredUnknownAsync(payment, line, 30m, messageId, new FaultRule { Method = "POST", PathContains = $"/payments/{payment.Number}", LoseAnswerNext = 1 }, 12.5m);
        var effect = await SingleEffectAsync(messageId);
        Assert.Equal("Unknown", Text(effect, "state"));
        var corrections = await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None);
        Assert.Equal(["30.0", "12.5"], corrections.Select(c => c.Total));
        var correction = corrections[0];
        var posts = await PostsAsync(payment);
        Assert.Equal([502], posts.Select(call => call.Status));

        using var viewer = Admin(ViewerToken);
        using var admin = Admin(OperatorToken);
        var id = Text(effect, "id");
        var resolveUri = new Uri($"admin/effects/{id}/resolve", UriKind.Relative);
        var byViewer = await viewer.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = correction.Id, note = "seen" });
        var noNote = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = correction.Id, note = " " });
        var badResolution = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Maybe", note = "seen" });
        var staleAttempt = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = correction.Id, note = "seen", attempt = "0123456789abcdef0123456789abcdef" });
        Assert.Equal((HttpStatusCode.Forbidden, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.Conflict), (byViewer.StatusCode, noNote.StatusCode, badResolution.StatusCode, staleAttempt.StatusCode));

        // The manager's correction (12.50), or one the payment does not have, is not the line's: refused, with why.
        var managers = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = corrections[1].Id, note = "seen" });
        var missing = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = "999999", note = "seen" });
        var none = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", note = "seen" });
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (managers.StatusCode, missing.StatusCode, none.StatusCode));
        Assert.Contains("entered otherwise (by hand), and is not this line's", await managers.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("give the correction's id", await none.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains($"has no correction 999999", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Two operators resolve it at once (same finding): one wins, the other is told it changed meanwhile.
        var note = $"payment {payment.Number} has correction {correction.Id} of 30.00 for line {line}";
        var both = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = correction.Id, note, attempt = Text(effect, "attempt") })));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], both.Select(response => response.StatusCode).Order());

        var replay = await admin.PostAsync(new Uri($"admin/dead-letters/{letter.DeadLetterId}/replay", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);

        var completed = await fixture.Events.WaitForAsync<PaymentCompleted>(e => e.ExternalTransactionId == line);
        Assert.Equal((PaymentCompletionOutcome.PartiallyPaid, correction.Id, payment.Id, messageId), (completed.Outcome, completed.CorrectionId, completed.PaymentId, completed.MessageId));
        Assert.Equal("waiting_for_payment", completed.PaymentStatus);
        Assert.Equal(posts.Select(call => call.Sequence), (await PostsAsync(payment)).Select(call => call.Sequence));
        Assert.Equal(corrections.Select(c => c.Id), (await Sandbox.GetPaymentCorrectionsAsync(payment.Id, CancellationToken.None)).Select(c => c.Id));

        var resolved = await ShowAsync(admin, id);
        Assert.Equal(("Applied", correction.Id, false), (Text(resolved, "state"), Text(resolved, "resourceId"), resolved["resolvable"]!.GetValue<bool>()));
        Assert.Equal(("olga", note), (Text(resolved["evidence"], "resolvedBy"), Text(resolved["evidence"], "note")));
        Assert.Equal(
            ["Refused: Conflict", "Applied", "Refused: Conflict"],
            resolved["audit"]!.AsArray().Where(entry => Text(entry, "outcome") != "Refused: Invalid").Select(entry => Text(entry, "outcome")));

        // Resolved once, it cannot be resolved again.
        var again = await admin.PostAsJsonAsync(resolveUri, new { resolution = "NotApplied", note = "changed my mind" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        // By message id: payment numbers repeat across the test sandboxes, which publish to one broker.
        Assert.Same(completed, Assert.Single(fixture.Events.EventsFor(payment.Number), e => (e is PaymentCompleted or PaymentRejected) && e.MessageId == completed.MessageId));
    }

    [Fact]
    public async Task A_top_up_resolved_as_applied_is_answered_with_the_operators_payment_without_creating_another()
    {
        var key = $"topup-{Guid.NewGuid():N}";
        var account = 600_000 + Random.Shared.Next(99_999);
        var messageId = NewId.NextGuid().ToString("D");
        var queue = $"{_prefix}.{RegisterPaymentConsumer.Queue}";

        // A payment with the very figures of the top-up exists and no key owns it; the create's answer is lost. Two payments
        // match the send, so Bridge cannot tell which is this key's.
        var lookalike = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { AccountId = account, Total = 55m, TopUp = true }, CancellationToken.None);
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/resellers/1/payments", LoseAnswerNext = 1 }, CancellationToken.None);
        await fixture.Erp.PublishJsonAsync(queue, new { key, accountId = account, total = 55m, comment = "top-up payment" }, messageId);
        var letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId);
        await Sandbox.ClearFaultsAsync(CancellationToken.None);
        var effect = await SingleEffectAsync(messageId);
        Assert.Equal(("Unknown", "payment-top-up:1", key), (Text(effect, "state"), Text(effect, "scope"), Text(effect, "key")));
        var created = Assert.Single(await Sandbox.GetPaymentsAsync(null, null, CancellationToken.None), p => p.AccountId == account && p.Id != lookalike.Id);

        using var admin = Admin(OperatorToken);
        var resolveUri = new Uri($"admin/effects/{Text(effect, "id")}/resolve", UriKind.Relative);
        var withoutPayment = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", note = "the newer payment is ours" });
        Assert.Equal(HttpStatusCode.BadRequest, withoutPayment.StatusCode);
        Assert.Contains("payment id", (await withoutPayment.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var resolved = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = created.Id, note = $"payment {created.Id} was created at the time of the send; {lookalike.Id} is older" });
        Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);
        var creates = await CreatesAsync();

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(new Uri($"admin/dead-letters/{letter.DeadLetterId}/replay", UriKind.Relative), null)).StatusCode);

        var registered = await fixture.Events.WaitForAsync<PaymentRegistered>(key);
        Assert.Equal((created.Id, created.Number, messageId, false), (registered.PaymentId, registered.PaymentNumber, registered.MessageId, registered.AlreadyApplied));
        Assert.Equal(creates, await CreatesAsync());
        Assert.Equal(2, (await Sandbox.GetPaymentsAsync(null, null, CancellationToken.None)).Count(p => p.AccountId == account));
    }

    /// <summary>
    /// An operator's "applied, payment X" is the ERP's answer: a mistyped id, or another account's payment, would be
    /// reported to finance as this top-up's payment. Both are refused when resolving, and the effect stays Unknown.
    /// </summary>
    [Fact]
    public async Task A_top_up_is_not_resolved_as_a_payment_that_is_not_there_or_is_another_accounts()
    {
        var key = $"topup-{Guid.NewGuid():N}";
        var account = 600_000 + Random.Shared.Next(99_999);
        var messageId = NewId.NextGuid().ToString("D");
        var lookalike = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { AccountId = account, Total = 55m, TopUp = true }, CancellationToken.None);
        var otherAccounts = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { AccountId = account + 1, Total = 55m, TopUp = true }, CancellationToken.None);
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/resellers/1/payments", LoseAnswerNext = 1 }, CancellationToken.None);
        await fixture.Erp.PublishJsonAsync($"{_prefix}.{RegisterPaymentConsumer.Queue}", new { key, accountId = account, total = 55m, comment = "top-up payment" }, messageId);
        await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId);
        await Sandbox.ClearFaultsAsync(CancellationToken.None);
        var effect = await SingleEffectAsync(messageId);
        using var admin = Admin(OperatorToken);
        var resolveUri = new Uri($"admin/effects/{Text(effect, "id")}/resolve", UriKind.Relative);

        var absent = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = "pay-no-such-payment", note = "typed from the screen" });
        var another = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = otherAccounts.Id, note = "the one at 55" });

        Assert.Equal(HttpStatusCode.BadRequest, absent.StatusCode);
        Assert.Contains("has no payment pay-no-such-payment", (await absent.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, another.StatusCode);
        Assert.Contains($"account {account + 1}", (await another.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Unknown", Text(await ShowAsync(admin, Text(effect, "id")), "state"));
        var resolved = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = lookalike.Id, note = "checked: this one" });
        Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);
    }

    /// <summary>
    /// A top-up resolved as a payment ActivePlatform does not have (resolved before the check existed, or the payment removed
    /// since) is not answered PaymentRegistered: it was answered with a success event saying the payment "could not be read".
    /// </summary>
    [Fact]
    public async Task A_top_up_resolved_as_a_payment_that_cannot_be_read_is_kept_for_an_operator_not_reported_registered()
    {
        var key = $"topup-{Guid.NewGuid():N}";
        var account = 600_000 + Random.Shared.Next(99_999);
        var messageId = NewId.NextGuid().ToString("D");
        await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { AccountId = account, Total = 55m, TopUp = true }, CancellationToken.None);
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/resellers/1/payments", LoseAnswerNext = 1 }, CancellationToken.None);
        await fixture.Erp.PublishJsonAsync($"{_prefix}.{RegisterPaymentConsumer.Queue}", new { key, accountId = account, total = 55m, comment = "top-up payment" }, messageId);
        var letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId);
        await Sandbox.ClearFaultsAsync(CancellationToken.None);
        var effect = await SingleEffectAsync(messageId);
        var services = _bridge.Services;
        var unchecked_ = new EffectOperations(
            services.GetRequiredService<SqlEffectAdminStore>(),
            services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Bridge.ActivePlatform.ActivePlatformOptions>>(),
            services.GetRequiredService<EffectMetrics>(),
            TimeProvider.System,
            services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<EffectOperations>>());
        var resolved = await unchecked_.ResolveAsync(Text(effect, "id"), Bridge.Host.Effects.EffectState.Applied, "pay-gone", "resolved before the check", null, "olga", CancellationToken.None);
        Assert.Equal(EffectActionOutcome.Done, resolved.Outcome);

        using var admin = Admin(OperatorToken);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(new Uri($"admin/dead-letters/{letter.DeadLetterId}/replay", UriKind.Relative), null)).StatusCode);

        var again = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId && (e.DeadLetterId != letter.DeadLetterId || e.FailureCount > letter.FailureCount));
        Assert.Contains("pay-gone", again.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Events.EventsFor(key), e => e is PaymentRegistered);
    }

    /// <summary>
    /// (Review, 2026-12-03.) ActivePlatform reads payment "03006" as 3006, while the journal's one-payment-one-key index
    /// compares ids as text: without the check's exact-id rule, a second top-up of the same account and total resolved as
    /// "0" + the first's payment id was reported credited with the very payment the first top-up was reported with.
    /// </summary>
    [Fact]
    public async Task A_top_up_is_not_resolved_as_the_payment_another_top_up_owns_written_with_a_leading_zero()
    {
        var account = 700_000 + Random.Shared.Next(99_999);
        var queue = $"{_prefix}.{RegisterPaymentConsumer.Queue}";

        // Top-up 1 goes through: ActivePlatform created payment P1, finance was told "P1 credited for top-up 1".
        var first = $"topup-{Guid.NewGuid():N}";
        await fixture.Erp.PublishJsonAsync(queue, new { key = first, accountId = account, total = 55m, comment = "top-up payment" }, NewId.NextGuid().ToString("D"));
        var firstRegistered = await fixture.Events.WaitForAsync<PaymentRegistered>(first);

        // Top-up 2, same account and total (a monthly top-up): its answer is lost and two unowned payments match -> Unknown.
        var second = $"topup-{Guid.NewGuid():N}";
        var secondId = NewId.NextGuid().ToString("D");
        await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { AccountId = account, Total = 55m, TopUp = true }, CancellationToken.None);
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/resellers/1/payments", LoseAnswerNext = 1 }, CancellationToken.None);
        await fixture.Erp.PublishJsonAsync(queue, new { key = second, accountId = account, total = 55m, comment = "top-up payment" }, secondId);
        var letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == secondId);
        await Sandbox.ClearFaultsAsync(CancellationToken.None);
        var effect = await SingleEffectAsync(secondId);
        Assert.Equal("Unknown", Text(effect, "state"));

        // The operator names top-up 1's payment, as "0<id>" (copied from a zero-padded column, or typed so).
        using var admin = Admin(OperatorToken);
        var resolveUri = new Uri($"admin/effects/{Text(effect, "id")}/resolve", UriKind.Relative);
        var resolved = await admin.PostAsJsonAsync(resolveUri, new { resolution = "Applied", resourceId = "0" + firstRegistered.PaymentId, note = "checked in ActivePlatform" });

        if (resolved.IsSuccessStatusCode)
        {
            // What the acceptance leads to: top-up 2 reported credited with the very payment top-up 1 was reported with.
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(new Uri($"admin/dead-letters/{letter.DeadLetterId}/replay", UriKind.Relative), null)).StatusCode);
            var secondRegistered = await fixture.Events.WaitForAsync<PaymentRegistered>(second);
            Assert.Fail(
                $"Top-up {second} was reported PaymentRegistered with payment id '{secondRegistered.PaymentId}' (number {secondRegistered.PaymentNumber}), "
                + $"which is payment {firstRegistered.PaymentId} (number {firstRegistered.PaymentNumber}) already reported for top-up {first}: one payment credited twice to finance.");
        }

        Assert.Equal(HttpStatusCode.BadRequest, resolved.StatusCode);
    }

    [Fact]
    public async Task A_correction_resolved_as_applied_is_answered_with_the_operators_correction_and_a_later_republish_too()
    {
        var key = $"corr-{Guid.NewGuid():N}";
        var messageId = NewId.NextGuid().ToString("D");
        var create = new Dictionary<string, object?>
        {
            ["key"] = key,
            ["accountId"] = PipelineFixture.AccountId,
            ["includedInvoice"] = false,
            ["total"] = 12.5m,
            ["comment"] = key,
        };

        // ActivePlatform creates the correction but the answer is lost: corrections cannot be read back, so it is Unknown.
        await Sandbox.SetFaultAsync(new FaultRule { Method = "POST", PathContains = "/corrections", LoseAnswerNext = 1 }, CancellationToken.None);
        await fixture.Erp.PublishJsonAsync($"{_prefix}.{Bridge.Host.Features.Corrections.CreateCorrectionConsumer.Queue}", create, messageId);
        var letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId);
        await Sandbox.ClearFaultsAsync(CancellationToken.None);
        var effect = await SingleEffectAsync(messageId);
        Assert.Equal(("Unknown", "correction:1", key), (Text(effect, "state"), Text(effect, "scope"), Text(effect, "key")));
        var correction = Assert.Single(await Sandbox.GetCorrectionsAsync(CancellationToken.None), c => c.Comment == key);

        using var admin = Admin(OperatorToken);
        var resolved = await admin.PostAsJsonAsync(
            new Uri($"admin/effects/{Text(effect, "id")}/resolve", UriKind.Relative),
            new { resolution = "Applied", resourceId = correction.Id, note = $"correction {correction.Id} with comment {key} exists" });
        Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync(new Uri($"admin/dead-letters/{letter.DeadLetterId}/replay", UriKind.Relative), null)).StatusCode);

        var created = await fixture.Events.WaitForAsync<CorrectionCreated>(e => e.Key == key && e.MessageId == messageId);
        Assert.Equal((correction.Id, false), (created.CorrectionId, created.AlreadyApplied));

        // A republish under a new message id is answered from the key, as for any created correction.
        var republishId = NewId.NextGuid().ToString("D");
        await fixture.Erp.PublishJsonAsync($"{_prefix}.{Bridge.Host.Features.Corrections.CreateCorrectionConsumer.Queue}", create, republishId);
        var again = await fixture.Events.WaitForAsync<CorrectionCreated>(e => e.Key == key && e.MessageId == republishId);
        Assert.Equal((correction.Id, true), (again.CorrectionId, again.AlreadyApplied));
        Assert.Single(await Sandbox.GetCorrectionsAsync(CancellationToken.None), c => c.Comment == key);
    }

    [Fact]
    public async Task Listing_by_default_shows_the_effects_that_need_an_operator_and_bad_input_is_refused_clearly()
    {
        var payment = await Sandbox.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);
        var messageId = NewId.NextGuid().ToString("D");
        await DeadLetteredUnknownAsync(payment, NewLine(), 10m, messageId, new FaultRule { Method = "POST", PathContains = $"/payments/{payment.Number}", FailNext = 1, ErrorStatus = 502 }, 20m);
        using var viewer = Admin(ViewerToken);

        var needing = (await viewer.GetFromJsonAsync<JsonObject>(new Uri("admin/effects?pageSize=500", UriKind.Relative)))!;
        var applied = (await viewer.GetFromJsonAsync<JsonObject>(new Uri("admin/effects?state=applied&owner=" + messageId, UriKind.Relative)))!;
        var badState = await viewer.GetAsync(new Uri("admin/effects?state=Lost", UriKind.Relative));
        var badAge = await viewer.GetAsync(new Uri("admin/effects?olderThan=soon", UriKind.Relative));
        var badId = await viewer.GetAsync(new Uri("admin/effects/not-an-id", UriKind.Relative));
        var noSuch = await viewer.GetAsync(new Uri($"admin/effects/{new string('a', 64)}", UriKind.Relative));

        var unknown = Assert.Single(needing["items"]!.AsArray(), item => Text(item, "owner") == messageId);
        Assert.Equal(("Unknown", true), (Text(unknown, "state"), unknown!["resolvable"]!.GetValue<bool>()));
        Assert.Contains("read back: the payment changed, but not exactly as this line would change it", Text(unknown["evidence"], "reason"), StringComparison.Ordinal);
        Assert.All(needing["items"]!.AsArray(), item => Assert.True(Text(item, "state") == "Unknown" || item!["open"]!.GetValue<bool>()));
        Assert.Empty(applied["items"]!.AsArray());
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.NotFound), (badState.StatusCode, badAge.StatusCode, badId.StatusCode, noSuch.StatusCode));
        Assert.Contains("Unknown", (await badState.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(0, await EffectCli.RunAsync(["list", "--owner", messageId, "--url", _baseAddress.ToString(), "--token", ViewerToken], output, error));
        Assert.Contains("Unknown", output.ToString(), StringComparison.Ordinal);
        Assert.Contains($"{payment.Number}|", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("read back: the payment changed", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(ViewerToken, output.ToString() + error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Publishes a statement line that <paramref name="sendFault"/> makes uncertain; as the fault happens (before Bridge can
    /// read the payment back) a manager enters a correction of <paramref name="byHand"/> on the payment in ActivePlatform,
    /// so the read-back finds a change it cannot attribute to the line: Unknown. Returns the line's dead letter.
    /// </summary>
    private async Task<ErpMessageDeadLettered> DeadLetteredUnknownAsync(SandboxPayment payment, string line, decimal amount, string messageId, FaultRule sendFault, decimal byHand)
    {
        sendFault.ThenByHand = new SandboxHandChange { PaymentId = payment.Id, CorrectionTotal = byHand };
        await Sandbox.SetFaultAsync(sendFault, CancellationToken.None);
        await fixture.Erp.PublishJsonAsync($"{_prefix}.{CompletePaymentConsumer.Queue}", new Dictionary<string, object?>
        {
            ["mode"] = "ByPaymentNumber",
            ["paymentNumber"] = payment.Number,
            ["paymentMethodId"] = 2,
            ["amount"] = amount,
            ["currencyCode"] = "USD",
            ["externalTransactionId"] = line,
        }, messageId);
        var letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId);
        await Sandbox.ClearFaultsAsync(CancellationToken.None);
        Assert.Contains(nameof(PaymentOutcomeUnknownException), letter.ExceptionType, StringComparison.Ordinal);
        return letter;
    }

    private async Task<JsonObject> SingleEffectAsync(string owner)
    {
        using var viewer = Admin(ViewerToken);
        var page = (await viewer.GetFromJsonAsync<JsonObject>(new Uri($"admin/effects?owner={Uri.EscapeDataString(owner)}", UriKind.Relative)))!;
        return Assert.Single(page["items"]!.AsArray())!.AsObject();
    }

    private static async Task<JsonObject> ShowAsync(HttpClient admin, string id) =>
        (await admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/effects/{id}", UriKind.Relative)))!;

    private async Task<SandboxPayment> PaymentAsync(string id) => Assert.Single(await Sandbox.GetPaymentsAsync(null, id, CancellationToken.None));

    private async Task<List<SandboxCall>> PostsAsync(SandboxPayment payment) =>
        [.. await Sandbox.GetCallsAsync("POST", $"/payments/{payment.Number}", null, CancellationToken.None)];

    private async Task<List<long>> CreatesAsync() =>
        [.. (await Sandbox.GetCallsAsync("POST", "/resellers/1/payments", null, CancellationToken.None)).Where(call => !call.Path.Contains("/payments/", StringComparison.Ordinal)).Select(call => call.Sequence)];

    private HttpClient Admin(string token)
    {
        var client = new HttpClient { BaseAddress = _baseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static string NewLine() => $"BS-{Guid.NewGuid():N}"[..20];

    private static string Text(JsonNode? node, string name) => node?[name] switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => other.ToJsonString(),
    };
}
