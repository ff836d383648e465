using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Features.Payments;
using Bridge.Sandbox;
using MassTransit;
using Microsoft.Playwright;
using static Bridge.Tests.Pipeline.PipelineTestData;
using static Microsoft.Playwright.Assertions;

namespace Bridge.Tests.DeadLetters;

/// <summary>
/// The operators' web page at /admin/ui/, end to end: headless Chromium drives the page served by a real Bridge, whose dead
/// letters are produced for real (RabbitMQ, PostgreSQL, the sandbox answering 429), and whose effects are checked in the
/// sandbox and through the admin API. Every wait is Playwright's own (auto-waiting locators and expectations) or an event.
/// </summary>
[Collection(DeadLetterCollection2.Name)]
public sealed class WebPageTests(DeadLetterFixture fixture, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>, IAsyncLifetime
{
    private const string ReadOnlyTip = "Your token is read-only: this needs a token with the Operator role.";
    private static int _nextAccount = 9400;

    private readonly List<BrowserPage> _pages = [];

    private string SendQueue => fixture.Queue(SendClosingDocumentConsumer.Queue);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var page in _pages)
        {
            await page.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_page_is_served_without_a_token_behind_a_strict_content_security_policy_and_knows_who_signed_in()
    {
        using var anonymous = fixture.Admin(token: null);
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.BaseAddress };
        using var viewer = fixture.Admin(DeadLetterFixture.ReadOnlyToken);
        using var admin = fixture.Admin();

        var index = await anonymous.GetAsync(new Uri("admin/ui/", UriKind.Relative));
        var script = await anonymous.GetAsync(new Uri("admin/ui/app.js", UriKind.Relative));
        var style = await anonymous.GetAsync(new Uri("admin/ui/app.css", UriKind.Relative));
        var unknown = await anonymous.GetAsync(new Uri("admin/ui/secrets.json", UriKind.Relative));
        var bare = await noRedirects.GetAsync(new Uri("admin/ui", UriKind.Relative));
        var meAnonymous = await anonymous.GetAsync(new Uri("admin/me", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<script src=\"app.js\" defer></script>", await index.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var csp = index.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", index.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal((HttpStatusCode.OK, "text/javascript"), (script.StatusCode, script.Content.Headers.ContentType!.MediaType));
        var code = await script.Content.ReadAsStringAsync();
        Assert.All(["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("], sink => Assert.DoesNotContain(sink, code, StringComparison.Ordinal));
        Assert.Equal((HttpStatusCode.OK, "text/css"), (style.StatusCode, style.Content.Headers.ContentType!.MediaType));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/admin/ui/", bare.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, meAnonymous.StatusCode);
        var me = (await admin.GetFromJsonAsync<JsonObject>(new Uri("admin/me", UriKind.Relative)))!;
        Assert.Equal((DeadLetterFixture.OperatorName, "Operator", true), (me["name"]!.GetValue<string>(), me["role"]!.GetValue<string>(), me["editAndReplay"]!.GetValue<bool>()));
        var them = (await viewer.GetFromJsonAsync<JsonObject>(new Uri("admin/me", UriKind.Relative)))!;
        Assert.Equal(("viewer", "ReadOnly"), (them["name"]!.GetValue<string>(), them["role"]!.GetValue<string>()));
    }

    [ChromiumFact]
    public async Task An_operator_signs_in_sees_the_dead_letters_narrows_them_by_ERP_key_and_reads_one()
    {
        var account = NewAccount();
        var (first, second) = (Guid.NewGuid().ToString("D"), Guid.NewGuid().ToString("D"));
        var firstLetter = await DeadLetterAfterThrottlingAsync(first, account);
        var secondLetter = await DeadLetterAfterThrottlingAsync(second, account);
        using var admin = fixture.Admin();
        var stored = (await admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/dead-letters/{firstLetter.DeadLetterId}", UriKind.Relative)))!;

        var browser = await OpenAsync();
        var page = browser.Page;
        await page.GotoAsync("admin/ui/");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.GetByLabel("Operator token").FillAsync(DeadLetterFixture.OperatorToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.Locator("#who-text")).ToHaveTextAsync("Signed in as alice (Operator)");
        await Expect(Row(page, firstLetter.DeadLetterId)).ToContainTextAsync(first);
        await Expect(Row(page, secondLetter.DeadLetterId)).ToContainTextAsync(second);
        await Expect(Row(page, firstLetter.DeadLetterId).Locator(".status")).ToHaveTextAsync("Pending");
        Assert.True(await page.Locator("#letters tbody tr").CountAsync() >= 2);
        Assert.DoesNotContain(DeadLetterFixture.OperatorToken, page.Url, StringComparison.Ordinal);

        await page.GetByLabel("ERP key", new() { Exact = true }).FillAsync(first);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.Locator("#letters tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#letters-count")).ToHaveTextAsync("1 dead letter");
        await Expect(Row(page, firstLetter.DeadLetterId)).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = first }).ClickAsync();
        await Expect(page.Locator("#d-id")).ToHaveTextAsync(firstLetter.DeadLetterId.ToString("D"));
        await Expect(page.Locator("#d-status")).ToHaveTextAsync("Pending");
        await Expect(page.Locator("#d-encoding")).ToHaveTextAsync("(JSON)");
        // Pretty-printed: one member a line, indented, with the exact digits of the amount.
        await Expect(page.Locator("#d-body")).ToContainTextAsync($"{{\n  \"accountId\": {account},\n  \"key\": \"{first}\",");
        await Expect(page.Locator("#d-body")).ToContainTextAsync("\"total\": 100.50");
        await Expect(page.Locator("#d-exception-type")).ToHaveTextAsync(stored["exceptionType"]!.GetValue<string>());
        await Expect(page.Locator("#d-exception-message")).ToHaveTextAsync(stored["exceptionMessage"]!.GetValue<string>());
        await page.Locator("#d-stack-box summary").ClickAsync();
        await Expect(page.Locator("#d-stack")).ToContainTextAsync("   at ");
        await Expect(page.Locator("#d-headers")).ToContainTextAsync("amqp:message_id");
        await Expect(page.Locator("#d-audit tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#d-audit tbody tr")).ToContainTextAsync("Captured");
        await Expect(page.Locator("#d-edit-body")).ToHaveValueAsync(new Regex($"\"key\": \"{first}\""));

        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "bridge-admin-ui.png"), FullPage = true });
        Assert.Empty(browser.Messages);
    }

    [ChromiumFact]
    public async Task Replaying_from_the_page_after_the_fault_clears_succeeds_exactly_once_and_the_row_says_Replayed()
    {
        var (key, account) = (Guid.NewGuid().ToString("D"), NewAccount());
        var letter = await DeadLetterAfterThrottlingAsync(key, account);
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        var page = await SignInAsync(DeadLetterFixture.OperatorToken);

        await OpenLetterAsync(page, key, letter.DeadLetterId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Replay", Exact = true }).ClickAsync();

        await Expect(page.Locator("#d-status")).ToHaveTextAsync("Replayed");
        await Expect(page.Locator("#notice")).ToContainTextAsync("Replayed");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Replay", Exact = true })).ToBeDisabledAsync();
        await Expect(page.Locator("#d-audit tbody tr").Last).ToContainTextAsync("alice");
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        Assert.Equal(letter.MessageId, sent.MessageId);
        Assert.Single(await DocumentsAsync(key));
        Assert.Single(await PostsAsync(account), call => call.Status == 201);

        await page.GetByRole(AriaRole.Link, new() { Name = "← Back to the messages" }).ClickAsync();
        await Expect(Row(page, letter.DeadLetterId).Locator(".status")).ToHaveTextAsync("Replayed");
    }

    [ChromiumFact]
    public async Task Discarding_needs_a_reason_moves_the_message_to_Discarded_and_restore_brings_it_back()
    {
        var (key, account) = (Guid.NewGuid().ToString("D"), NewAccount());
        var letter = await DeadLetterAfterThrottlingAsync(key, account);
        var page = await SignInAsync(DeadLetterFixture.OperatorToken);
        await OpenLetterAsync(page, key, letter.DeadLetterId);

        await page.GetByRole(AriaRole.Button, new() { Name = "Discard" }).ClickAsync();
        await Expect(page.Locator("#d-error")).ToHaveTextAsync("Give a reason to discard: it is kept in the audit trail.");
        await Expect(page.Locator("#d-status")).ToHaveTextAsync("Pending");

        await page.GetByLabel("Reason to discard").FillAsync("entered by hand in ActivePlatform");
        await page.GetByRole(AriaRole.Button, new() { Name = "Discard" }).ClickAsync();
        await Expect(page.Locator("#d-status")).ToHaveTextAsync("Discarded");
        await Expect(page.Locator("#d-reason")).ToHaveTextAsync("— entered by hand in ActivePlatform");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Discard" })).ToBeHiddenAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Restore" }).ClickAsync();
        await Expect(page.Locator("#d-status")).ToHaveTextAsync("Pending");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Restore" })).ToBeHiddenAsync();
        await Expect(page.Locator("#d-audit tbody tr")).ToHaveCountAsync(3);

        using var admin = fixture.Admin();
        var stored = (await admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/dead-letters/{letter.DeadLetterId}", UriKind.Relative)))!;
        Assert.Equal("Pending", stored["status"]!.GetValue<string>());
        Assert.Equal(
            [("bridge", "Captured", "Pending", null), ("alice", "Discard", "Discarded", "entered by hand in ActivePlatform"), ("alice", "Restore", "Pending", null)],
            stored["audit"]!.AsArray().Select(entry => (
                entry!["actor"]!.GetValue<string>(), entry["action"]!.GetValue<string>(), entry["outcome"]!.GetValue<string>(),
                entry["action"]!.GetValue<string>() == "Discard" ? entry["detail"]!.GetValue<string>() : null)));
        Assert.Empty(await DocumentsAsync(key));
    }

    [ChromiumFact]
    public async Task A_read_only_token_sees_the_data_but_every_action_button_is_disabled_and_says_why()
    {
        var (key, account) = (Guid.NewGuid().ToString("D"), NewAccount());
        var letter = await DeadLetterAfterThrottlingAsync(key, account);
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        var page = await SignInAsync(DeadLetterFixture.ReadOnlyToken, "Signed in as viewer (ReadOnly)");

        await Expect(page.Locator("#read-only-note")).ToBeVisibleAsync();
        await page.GetByLabel("ERP key", new() { Exact = true }).FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(Row(page, letter.DeadLetterId)).ToContainTextAsync(key);
        await Row(page, letter.DeadLetterId).GetByRole(AriaRole.Checkbox).CheckAsync();
        await ExpectDisabledForReadOnlyAsync(page.Locator("#replay-selected"));
        await ExpectDisabledForReadOnlyAsync(page.Locator("#replay-matching"));

        await page.GetByRole(AriaRole.Link, new() { Name = "Failure groups" }).ClickAsync();
        await Expect(page.Locator("#groups tbody tr").First).ToBeVisibleAsync();
        await ExpectDisabledForReadOnlyAsync(page.GetByRole(AriaRole.Button, new() { Name = "Replay group" }).First);

        await page.GetByRole(AriaRole.Link, new() { Name = "Messages", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = key }).ClickAsync();
        await Expect(page.Locator("#d-body")).ToContainTextAsync(key);
        await Expect(page.Locator("#d-exception-type")).Not.ToBeEmptyAsync();
        await ExpectDisabledForReadOnlyAsync(page.GetByRole(AriaRole.Button, new() { Name = "Replay", Exact = true }));
        await ExpectDisabledForReadOnlyAsync(page.GetByRole(AriaRole.Button, new() { Name = "Discard" }));
        await Expect(page.GetByLabel("Reason to discard")).ToBeDisabledAsync();
        await ExpectDisabledForReadOnlyAsync(page.GetByRole(AriaRole.Button, new() { Name = "Check and send as a new message" }));
        await Expect(page.GetByLabel("Edited body (JSON)")).Not.ToBeEditableAsync();

        using var admin = fixture.Admin();
        var stored = (await admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/dead-letters/{letter.DeadLetterId}", UriKind.Relative)))!;
        Assert.Equal(("Pending", 1), (stored["status"]!.GetValue<string>(), stored["audit"]!.AsArray().Count));
        Assert.Empty(await DocumentsAsync(key));
    }

    [ChromiumFact]
    public async Task Markup_in_a_message_renders_as_text_and_runs_no_script()
    {
        var marker = Guid.NewGuid().ToString("N");
        var attack = $"<img src=x onerror=document.body.dataset.pwned='{marker}'><script>document.body.dataset.pwned='{marker}'</script>";
        var messageId = NewId.NextGuid().ToString("D");
        // Valid JSON whose key can be read, but not a SendClosingDocument: dead-lettered at once, the markup as its ERP key and
        // in its body. Written by hand: a serializer would escape the angle brackets.
        var body = $"{{\"key\":\"{attack}\",\"revision\":\"not a number\",\"note\":\"{attack}\"}}";
        await fixture.Erp.PublishRawAsync(SendQueue, Encoding.UTF8.GetBytes(body), messageId);
        var letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId);
        Assert.Equal(attack, letter.Key);

        var browser = await OpenAsync();
        var page = browser.Page;
        await SignInAsync(browser, DeadLetterFixture.OperatorToken);
        await page.GetByLabel("Text", new() { Exact = true }).FillAsync(marker);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.Locator("#letters tbody tr")).ToHaveCountAsync(1);
        await Expect(Row(page, letter.DeadLetterId).GetByRole(AriaRole.Link)).ToHaveTextAsync(attack);

        await Row(page, letter.DeadLetterId).GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.Locator("#d-body")).ToContainTextAsync($"\"note\": \"{attack}\"");
        await Expect(page.Locator("#d-meta")).ToContainTextAsync(attack);
        await Expect(page.GetByLabel("Edited body (JSON)")).ToHaveValueAsync(new Regex(Regex.Escape("<img src=x onerror=")));

        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Equal(0, await page.Locator("main script").CountAsync());
        Assert.Null(await page.EvaluateAsync<string?>("() => document.body.dataset.pwned ?? null"));
        // No handler was even attempted: an inline one would show up as a Content-Security-Policy refusal, an <img> as a request.
        Assert.Empty(browser.Messages);
        Assert.DoesNotContain(browser.Requests, url => url.EndsWith("/x", StringComparison.Ordinal));
    }

    [ChromiumFact]
    public async Task Replaying_a_failure_group_shows_the_jobs_progress_until_it_completes()
    {
        var account = NewAccount();
        var keys = new[] { Guid.NewGuid().ToString("D"), Guid.NewGuid().ToString("D") };
        foreach (var key in keys)
        {
            await DeadLetterAfterThrottlingAsync(key, account);
        }

        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        var page = await SignInAsync(DeadLetterFixture.OperatorToken);
        await page.GetByRole(AriaRole.Link, new() { Name = "Failure groups" }).ClickAsync();
        await page.GetByLabel("Queue", new() { Exact = true }).FillAsync(SendQueue);
        // The account as the bodies write it: its bare digits can also turn up in another dead letter's random key or id.
        await page.GetByLabel("Text", new() { Exact = true }).FillAsync($"\"accountId\":{account},");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        var group = page.Locator("#groups tbody tr");
        await Expect(group).ToHaveCountAsync(1);
        await Expect(group.Locator("td.num")).ToHaveTextAsync("2");

        await group.GetByRole(AriaRole.Button, new() { Name = "Replay group" }).ClickAsync();
        await Expect(page.Locator("#job")).ToHaveAttributeAsync("data-state", "Completed");
        await Expect(page.Locator("#job-text")).ToHaveTextAsync("Completed: 2 of 2 done — 2 replayed, 0 skipped, 0 failed");
        await Expect(page.Locator("#job-progress")).ToHaveJSPropertyAsync("value", 2);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel the job" })).ToBeDisabledAsync();
        foreach (var key in keys)
        {
            await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
            Assert.Single(await DocumentsAsync(key));
        }

        Assert.Equal(2, (await PostsAsync(account)).Count(call => call.Status == 201));
    }

    [ChromiumFact]
    public async Task Edit_and_replay_shows_the_APIs_validation_errors_inline_then_sends_the_corrected_body_as_a_new_message()
    {
        var (key, account) = (Guid.NewGuid().ToString("D"), NewAccount());
        var letter = await DeadLetterAfterThrottlingAsync(key, account);
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        var page = await SignInAsync(DeadLetterFixture.OperatorToken);
        await OpenLetterAsync(page, key, letter.DeadLetterId);
        var editor = page.GetByLabel("Edited body (JSON)");
        var send = page.GetByRole(AriaRole.Button, new() { Name = "Check and send as a new message" });
        var original = await editor.InputValueAsync();

        await editor.FillAsync("{ \"key\": ");
        await send.ClickAsync();
        await Expect(page.Locator("#d-edit-errors")).ToContainTextAsync("Not valid JSON");

        await editor.FillAsync($"{{ \"key\": \"{key}\", \"revision\": 2 }}");
        await send.ClickAsync();
        await Expect(page.Locator("#d-edit-errors")).ToContainTextAsync("The API refused the edited body:");
        Assert.True(await page.Locator("#d-edit-errors li").CountAsync() >= 1);
        await Expect(page.Locator("#d-status")).ToHaveTextAsync("Pending");

        await editor.FillAsync(original.Replace($"\"name\": \"Act {key[..8]} r1\"", $"\"name\": \"Act {key[..8]} corrected\"", StringComparison.Ordinal));
        await send.ClickAsync();
        await Expect(page.Locator("#d-status")).ToHaveTextAsync("Discarded");
        await Expect(page.Locator("#d-reason")).ToContainTextAsync("Edited and replayed as message");
        await Expect(page.Locator("#d-edit-errors")).ToBeEmptyAsync();
        var sent = await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        Assert.NotEqual(letter.MessageId, sent.MessageId);
        await Expect(page.Locator("#notice")).ToContainTextAsync(sent.MessageId!);
        var document = Assert.Single(await DocumentsAsync(key));
        Assert.Equal($"Act {key[..8]} corrected", document.Name);
    }

    [ChromiumFact]
    public async Task An_operator_finds_an_Unknown_effect_resolves_it_on_the_page_and_replaying_its_dead_letter_sends_it_once()
    {
        var sandbox = fixture.Sandbox.Control;
        var payment = await sandbox.AddPaymentAsync(new SandboxPaymentSeed { Total = 100m }, CancellationToken.None);
        var line = $"BS-{Guid.NewGuid():N}"[..20];
        var messageId = NewId.NextGuid().ToString("D");

        // The line's POST fails with 502 (nothing applied, but Bridge cannot know) and, before Bridge reads the payment back,
        // a manager enters a correction of 20.00 on it by hand: a change Bridge cannot attribute to the line, so Unknown.
        await sandbox.SetFaultAsync(
            new FaultRule
            {
                Method = "POST",
                PathContains = $"/payments/{payment.Number}",
                FailNext = 1,
                ErrorStatus = 502,
                ThenByHand = new SandboxHandChange { PaymentId = payment.Id, CorrectionTotal = 20m },
            },
            CancellationToken.None);
        await fixture.Erp.PublishJsonAsync(fixture.Queue(CompletePaymentConsumer.Queue), new Dictionary<string, object?>
        {
            ["mode"] = "ByPaymentNumber",
            ["paymentNumber"] = payment.Number,
            ["paymentMethodId"] = 2,
            ["amount"] = 100m,
            ["currencyCode"] = "USD",
            ["externalTransactionId"] = line,
        }, messageId);
        var letter = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == messageId);
        await sandbox.ClearFaultsAsync(CancellationToken.None);
        var key = $"{payment.Number}|{line}";

        // A read-only token sees the effect but cannot resolve it.
        var viewer = await SignInAsync(DeadLetterFixture.ReadOnlyToken, "Signed in as viewer (ReadOnly)");
        await FindEffectAsync(viewer, messageId, key);
        await ExpectDisabledForReadOnlyAsync(viewer.GetByRole(AriaRole.Button, new() { Name = "Resolve", Exact = true }));

        var page = await SignInAsync(DeadLetterFixture.OperatorToken);
        await FindEffectAsync(page, messageId, key);
        await Expect(page.Locator("#ef-why")).ToContainTextAsync("waits for an operator");
        await Expect(page.Locator("#ef-why")).ToContainTextAsync("as not applied not yet");
        await Expect(page.Locator("#ef-evidence")).ToContainTextAsync("not exactly as this line would change it");
        var resolve = page.GetByRole(AriaRole.Button, new() { Name = "Resolve", Exact = true });
        await page.GetByLabel("It was not applied").CheckAsync();
        await resolve.ClickAsync();
        await Expect(page.Locator("#ef-error")).ToContainTextAsync("Write a note");
        await page.GetByLabel("Note: who checked what, and why").FillAsync($"no line {line} on payment {payment.Number} in ActivePlatform");
        await resolve.ClickAsync();

        // Sent moments ago, the POST may still be carried out: "not applied" is refused until the wait has passed.
        await Expect(page.Locator("#ef-error")).ToContainTextAsync("Not applied cannot be recorded yet");
        await Expect(page.Locator("#ef-state")).ToHaveTextAsync("Unknown");

        // The operator comes back once the wait has passed (moved back by the database's clock) and resolves it.
        await using (var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString))
        {
            Assert.Equal(1, await Dapper.SqlMapper.ExecuteAsync(
                connection, "UPDATE bridge.effect_journal SET sent_at = sent_at - interval '1 hour' WHERE owner_key = @Owner", new { Owner = messageId }));
        }

        await FindEffectAsync(page, messageId, key);
        await Expect(page.Locator("#ef-why")).Not.ToContainTextAsync("not yet");
        await page.GetByLabel("It was not applied").CheckAsync();
        await page.GetByLabel("Note: who checked what, and why").FillAsync($"no line {line} on payment {payment.Number} in ActivePlatform");
        await resolve.ClickAsync();

        await Expect(page.Locator("#ef-state")).ToHaveTextAsync("NotApplied");
        await Expect(page.Locator("#notice")).ToContainTextAsync("sent again");
        await Expect(page.Locator("#ef-resolve")).ToBeHiddenAsync();
        await Expect(page.Locator("#ef-audit tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#ef-audit tbody tr").Last).ToContainTextAsync("alice");
        await Expect(page.Locator("#ef-evidence")).ToContainTextAsync($"no line {line}");

        await page.GotoAsync($"admin/ui/#/letter/{letter.DeadLetterId:D}");
        await Expect(page.Locator("#d-id")).ToHaveTextAsync(letter.DeadLetterId.ToString("D"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Replay", Exact = true }).ClickAsync();
        await Expect(page.Locator("#d-status")).ToHaveTextAsync("Replayed");

        var completed = await fixture.Events.WaitForAsync<PaymentCompleted>(e => e.ExternalTransactionId == line);
        Assert.Equal((PaymentCompletionOutcome.Completed, false), (completed.Outcome, completed.AlreadyApplied));
        var after = Assert.Single(await sandbox.GetPaymentsAsync(null, payment.Id, CancellationToken.None));
        Assert.Equal("completed", after.Status);
        Assert.Equal([line], after.ExternalTransactionIds);
        Assert.Equal([502, 200], (await sandbox.GetCallsAsync("POST", $"/payments/{payment.Number}", null, CancellationToken.None)).Select(call => call.Status));
        // By message id: payment numbers repeat across the test sandboxes, which publish to one broker.
        Assert.Same(completed, Assert.Single(fixture.Events.EventsFor(payment.Number), e => (e is PaymentCompleted or PaymentRejected) && e.MessageId == completed.MessageId));
    }

    private static async Task FindEffectAsync(IPage page, string owner, string key)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = "Effects", Exact = true }).ClickAsync();
        await page.GetByLabel("Owner (message id)").FillAsync(owner);
        await page.Locator("#effect-filters").GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        // The filtered list, not the unfiltered one the tab opened with (when this is the only effect they look alike, and a
        // late render of the filtered one replaced the row under the click that followed).
        await Expect(page.Locator("#effects")).Not.ToHaveAttributeAsync("aria-busy", "true");
        await Expect(page.Locator("#effects tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#effects tbody tr .status")).ToHaveTextAsync("Unknown");
        await page.GetByRole(AriaRole.Link, new() { Name = key }).ClickAsync();
        await Expect(page.Locator("#ef-meta")).ToContainTextAsync(key);
        await Expect(page.Locator("#ef-state")).ToHaveTextAsync("Unknown");
    }

    private async Task ExpectDisabledForReadOnlyAsync(ILocator button)
    {
        await Expect(button).ToBeDisabledAsync();
        await Expect(button).ToHaveAttributeAsync("title", ReadOnlyTip);
    }

    private static ILocator Row(IPage page, Guid id) => page.Locator($"#letters tbody tr[data-id='{id:D}']");

    private async Task<BrowserPage> OpenAsync()
    {
        var page = await chromium.OpenAsync(fixture.BaseAddress);
        _pages.Add(page);
        return page;
    }

    private async Task<IPage> SignInAsync(string token, string who = "Signed in as alice (Operator)")
    {
        var browser = await OpenAsync();
        await SignInAsync(browser, token, who);
        return browser.Page;
    }

    private static async Task SignInAsync(BrowserPage browser, string token, string who = "Signed in as alice (Operator)")
    {
        var page = browser.Page;
        await page.GotoAsync("admin/ui/");
        await page.GetByLabel("Operator token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#who-text")).ToHaveTextAsync(who);
    }

    private static async Task OpenLetterAsync(IPage page, string key, Guid id)
    {
        await page.GetByLabel("ERP key", new() { Exact = true }).FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.Locator("#letters tbody tr")).ToHaveCountAsync(1);
        await page.GetByRole(AriaRole.Link, new() { Name = key }).ClickAsync();
        await Expect(page.Locator("#d-id")).ToHaveTextAsync(id.ToString("D"));
    }

    private static long NewAccount() => Interlocked.Increment(ref _nextAccount);

    /// <summary>Publishes a document whose create ActivePlatform keeps answering with 429 (nothing created), and waits until it is dead-lettered.</summary>
    private async Task<ErpMessageDeadLettered> DeadLetterAfterThrottlingAsync(string key, long account)
    {
        await fixture.Sandbox.Control.SetFaultAsync(
            new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 429 }, CancellationToken.None);
        await fixture.Erp.PublishJsonAsync(SendQueue, Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
        return await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key);
    }

    private async Task<List<SandboxExternalInvoice>> DocumentsAsync(string key) =>
        (await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None)).Where(d => d.Key == key).ToList();

    private async Task<IReadOnlyList<SandboxCall>> PostsAsync(long account) =>
        await fixture.Sandbox.Control.GetCallsAsync("POST", $"/accounts/{account}/external_invoices", null, CancellationToken.None);
}
