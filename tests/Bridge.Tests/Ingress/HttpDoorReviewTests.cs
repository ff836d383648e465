using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Host.Idempotency;
using Bridge.Host.Ingress;
using Bridge.Sandbox;
using Bridge.Tests.DeadLetters;
using MassTransit;
using static Bridge.Tests.Ingress.DoorRequests;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Ingress;

/// <summary>
/// Interleavings an adversarial review of the HTTP door found (each failed on its first version, 2bac069): a status must be
/// this message's own, a resend must reach the queue while nothing decided the message, and an ERP's key must work as given.
/// </summary>
[Collection(DeadLetterCollection.Name)]
public sealed class HttpDoorReviewTests(DeadLetterFixture fixture)
{
    /// <summary>
    /// A schema-valid ApproveInvoice that Bridge's own rules refuse (documentId with a trailing space) is rejected; its
    /// refusal is recorded under the key with the fingerprint of the handler's InvoiceRequest, not of the message. The ERP
    /// sending the very same request again is then refused 409 "different payload".
    /// </summary>
    [Fact]
    public async Task A_rejected_invoice_sent_again_with_the_same_body_is_not_refused_409()
    {
        var key = NewKey();
        using var door = fixture.Door();
        var body = new Dictionary<string, object?>
        {
            ["documentId"] = "NS-" + NewId.NextGuid().ToString("N")[..10] + " ",
            ["billingDate"] = "2026-10-01",
            ["accountId"] = NewAccount(),
        };
        using (var first = await PostAsync(door, "ApproveInvoice", key, body))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        await StatusUntilAsync(door, key, s => s.Status == IngressStatus.Rejected);

        using var again = await PostAsync(door, "ApproveInvoice", key, body);

        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
    }

    /// <summary>
    /// An idempotency key of 133 characters (within the door's 200) but more than 255 UTF-8 bytes, sent in the body as 1C
    /// would (Cyrillic): it cannot be an AMQP message_id (a short string), so every attempt is answered 503 "send it again".
    /// </summary>
    [Fact]
    public async Task A_key_longer_than_255_UTF8_bytes_is_not_answered_503_forever()
    {
        var key = "1c:" + new string('ж', 130);
        using var door = fixture.Door();
        var body = Document(NewKey(), revision: 1, accountId: NewAccount());
        body["idempotencyKey"] = key;

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            using var answer = await door.PostAsync(
                new Uri("api/messages/SendClosingDocument", UriKind.Relative), JsonBody(JsonSerializer.Serialize(body, WebJson), idempotencyKey: null));
            answers.Add(answer.StatusCode);
        }

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest], answers);
        Assert.Null(await fixture.Get<IngressStore>().FindAsync(key, CancellationToken.None));
    }

    /// <summary>
    /// The door recorded A and died before publishing it (no 202). Meanwhile an AMQP publisher used the same key for another
    /// payload B, which was applied. The status of A must not be "applied" with B's result.
    /// </summary>
    [Fact]
    public async Task A_submission_is_not_shown_applied_when_another_payload_applied_its_key()
    {
        var (key, account) = (NewKey(), NewAccount());
        using var door = fixture.Door();
        await fixture.RecordUnsentAsync(key, Document(key, revision: 1, accountId: account, total: 10m));

        await fixture.Erp.PublishJsonAsync(fixture.Queue(SendClosingDocumentConsumer.Queue), Document(key, revision: 1, accountId: account, total: 99m), key);
        await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);

        var status = await StatusAsync(door, key);
        Assert.Equal(IngressStatus.Conflict, status.Status);
        Assert.Null(status.Result);
        using var again = await PostAsync(door, "SendClosingDocument", key, Document(key, revision: 1, accountId: account, total: 10m));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    /// <summary>
    /// The door recorded A and died before publishing it. A foreign, unreadable message with the same AMQP message_id is
    /// dead-lettered. A's status must not say "dead-lettered ... Do not send it again": A was never sent.
    /// </summary>
    [Fact]
    public async Task An_unsent_submission_is_not_shown_dead_lettered_for_another_message_under_its_key()
    {
        var (key, account) = (NewKey(), NewAccount());
        using var door = fixture.Door();
        await fixture.RecordUnsentAsync(key, Document(key, revision: 1, accountId: account));

        await fixture.Erp.PublishRawAsync(fixture.Queue(SendClosingDocumentConsumer.Queue), Encoding.UTF8.GetBytes("{ not json"), key);
        await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(e => e.MessageId == key);

        var status = await StatusAsync(door, key);
        Assert.Equal(IngressStatus.Unconfirmed, status.Status);
        Assert.Null(status.DeadLetter);
        Assert.Null(status.Result);
    }

    /// <summary>
    /// A door message dead-lettered, then fixed by an operator's edit-and-replay (sent as a new message and applied): the
    /// ERP must not be told "discarded: it will not be applied" — it would send a new message and pay twice.
    /// </summary>
    [Fact]
    public async Task A_message_edited_and_replayed_by_an_operator_is_not_shown_discarded()
    {
        var (key, account) = (NewKey(), NewAccount());
        using var door = fixture.Door();
        await fixture.Sandbox.Control.SetFaultAsync(
            new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 429 }, CancellationToken.None);
        Guid deadLetterId;
        try
        {
            using (var answer = await PostAsync(door, "SendClosingDocument", key, Document(key, revision: 1, accountId: account)))
            {
                Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
            }

            deadLetterId = (await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key)).DeadLetterId;
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }

        using var admin = fixture.Admin();
        using (var edited = await admin.PostAsJsonAsync(
            new Uri($"admin/dead-letters/{deadLetterId}/edit-and-replay", UriKind.Relative), new { body = Document(key, revision: 1, accountId: account) }))
        {
            Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        }

        await fixture.Events.WaitForAsync<ClosingDocumentSent>(key);
        Assert.Single(await fixture.DocumentsAsync(key));

        var status = await StatusAsync(door, key);
        Assert.Equal(IngressStatus.Edited, status.Status);
        Assert.Equal(nameof(ClosingDocumentSent), status.Result?.Type);
        using var again = await PostAsync(door, "SendClosingDocument", key, Document(key, revision: 1, accountId: account));
        Assert.Equal(IngressStatus.Edited, (await again.Content.ReadFromJsonAsync<IngressReceipt>(WebJson))!.Status);
        Assert.Single(await fixture.DocumentsAsync(key));
    }

    /// <summary>
    /// A door message dead-lettered and left Pending past Bridge:DeadLetters:RetainFor (14 days; the purge deletes Pending
    /// letters too) — as the hourly purge would. Its status then says "in-progress, poll again", and the ERP's resend of the
    /// same request is answered 202 without being sent (the submission is confirmed): the message is never applied.
    /// </summary>
    [Fact]
    public async Task A_message_whose_dead_letter_was_purged_is_applied_when_the_ERP_sends_it_again()
    {
        var (key, account) = (NewKey(), NewAccount());
        var body = Document(key, revision: 1, accountId: account);
        using var door = fixture.Door();
        await fixture.Sandbox.Control.SetFaultAsync(
            new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 429 }, CancellationToken.None);
        Guid deadLetterId;
        try
        {
            using (var answer = await PostAsync(door, "SendClosingDocument", key, body))
            {
                Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
            }

            deadLetterId = (await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(key)).DeadLetterId;
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }

        await using (var connection = await fixture.Get<Bridge.Host.Storage.IBridgeDatabase>().OpenAsync(CancellationToken.None))
        {
            await Dapper.SqlMapper.ExecuteAsync(connection, "DELETE FROM bridge.dead_letters WHERE id = @Id", new { Id = deadLetterId });
        }

        var status = (await StatusAsync(door, key)).Status;
        using (var again = await PostAsync(door, "SendClosingDocument", key, body))
        {
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        }

        Assert.Equal(IngressStatus.InProgress, status);
        await StatusUntilAsync(door, key, s => s.Status == IngressStatus.Applied);
        Assert.Single(await fixture.DocumentsAsync(key));
    }

    /// <summary>A key holding '/' (an ERP document number such as NS-2026/10): its own status URL answers 404.</summary>
    [Fact]
    public async Task A_key_with_a_slash_can_be_polled_at_the_status_url_the_door_gave()
    {
        var key = "1c/invoice/" + NewId.NextGuid().ToString("N");
        using var door = fixture.Door();
        string statusUrl;
        using (var answer = await PostAsync(door, "SendClosingDocument", key, Document(NewKey(), revision: 1, accountId: NewAccount())))
        {
            Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
            statusUrl = (await answer.Content.ReadFromJsonAsync<IngressReceipt>(WebJson))!.StatusUrl;
        }

        using var status = await door.GetAsync(new Uri(statusUrl.TrimStart('/'), UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
    }
}
