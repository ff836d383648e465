using System.Net;
using System.Text;
using Bridge.ActivePlatform;
using Bridge.Contracts;
using Bridge.Host.Features.ClosingDocuments;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Bridge.Tests.Pipeline;

/// <summary>
/// An update answered by the HTTP layer's repeat after its first attempt went unanswered: the first attempt may still be
/// carried out by ActivePlatform, writing that version again. The document's next version must not be written before that
/// attempt can no longer land, or the older version ends up in ActivePlatform while Bridge reports the newer one sent.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ClosingDocumentLateUpdateTests(PipelineFixture fixture)
{
    [Theory]
    [InlineData("clu-")]
    // The fixture's sandbox answers writes of documents keyed async-* with an async task, completed on its third poll: the
    // repeat is answered by a task, and the held attempt, once it lands, becomes a task of its own that ActivePlatform runs.
    [InlineData("async-clu-")]
    public async Task A_newer_version_is_not_written_while_an_unanswered_attempt_of_the_previous_update_may_still_land(string keyPrefix)
    {
        var prefix = $"bridge-clu-{Guid.NewGuid():N}"[..22];
        var queue = $"{prefix}.{SendClosingDocumentConsumer.Queue}";
        var key = keyPrefix + Guid.NewGuid().ToString("D");
        var account = 9_800_000 + Random.Shared.Next(100_000);
        var network = new HeldAttempt($" r2\"", $" r3\"");
        await using var bridge = await fixture.StartBridgeAsync(
            prefix,
            new Dictionary<string, string?>
            {
                // In-flight window 18 s: the next version waits that long after the update whose first attempt went unanswered.
                ["ActivePlatform:TotalTimeout"] = "00:00:15",
                ["ActivePlatform:AttemptTimeout"] = "00:00:03",
                ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:02",
            },
            services => services.AddHttpClient(ActivePlatformServiceCollectionExtensions.HttpClientName).AddHttpMessageHandler(() => network));

        try
        {
            await fixture.Erp.PublishJsonAsync(queue, PipelineTestData.Document(key, revision: 1, accountId: account), NewId.NextGuid().ToString("D"));
            await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Outcome == ClosingDocumentWriteOutcome.Created, TimeSpan.FromSeconds(120));

            // Version 2: its first PATCH attempt is held on the network and answered 502; the HTTP layer's repeat is applied.
            await fixture.Erp.PublishJsonAsync(queue, PipelineTestData.Document(key, revision: 2, accountId: account), NewId.NextGuid().ToString("D"));
            await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.Key == key && e.Outcome == ClosingDocumentWriteOutcome.Updated, TimeSpan.FromSeconds(120));
            Assert.True(network.Held.Task.IsCompleted, "the first attempt of version 2 was never held");
            var holder = await ClaimedByAsync(account, key);

            // Version 3 arrives: it is either written at once, or waits behind the document's held claim.
            var third = NewId.NextGuid().ToString("D");
            await fixture.Erp.PublishJsonAsync(queue, PipelineTestData.Document(key, revision: 3, accountId: account), third);
            var waiting = PipelineTestData.EventuallyAsync(
                async () => (await RecordExistsAsync(third), await ClaimedByAsync(account, key)),
                state => holder is not null && state.Item1 && state.Item2 == holder,
                TimeSpan.FromSeconds(120));
            await Task.WhenAny(network.NewerSent.Task, waiting).WaitAsync(TimeSpan.FromSeconds(120));

            // The held attempt of version 2 lands now, within its window.
            await network.LandAsync();

            await fixture.Events.WaitForAsync<ClosingDocumentSent>(e => e.MessageId == third, TimeSpan.FromSeconds(120));
            var document = Assert.Single(await fixture.Sandbox.Control.GetExternalInvoicesAsync(CancellationToken.None), d => d.Key == key);
            Assert.EndsWith(" r3", document.Name, StringComparison.Ordinal);
            Assert.NotNull(holder);
        }
        finally
        {
            await network.LandAsync();
        }
    }

    private async Task<string?> ClaimedByAsync(long account, string key)
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        return await connection.QuerySingleOrDefaultAsync<string?>(
            "SELECT claimed_by FROM bridge.document_states WHERE scope = @Scope AND document_key = @Key",
            new { Scope = ClosingDocumentScope.Of(1, account), Key = key });
    }

    private async Task<bool> RecordExistsAsync(string idempotencyKey)
    {
        await using var connection = new NpgsqlConnection(fixture.DatabaseConnectionString);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM bridge.idempotency_records WHERE idempotency_key = @Key", new { Key = idempotencyKey }) > 0;
    }

    /// <summary>
    /// The network under the HTTP layer's retries: the first PATCH whose body holds <c>held</c> never reaches ActivePlatform
    /// and is answered 502 (a gateway giving up); <see cref="LandAsync"/> delivers it later, as a real request to the sandbox.
    /// </summary>
    private sealed class HeldAttempt(string held, string newer) : DelegatingHandler
    {
        private int holding;
        private (HttpMethod Method, Uri Uri, string Body, string? ContentType, List<KeyValuePair<string, IEnumerable<string>>> Headers)? request;
        private int landed;

        public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource NewerSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task LandAsync()
        {
            if (request is { } r && Interlocked.Exchange(ref landed, 1) == 0)
            {
                using var client = new HttpClient();
                using var message = new HttpRequestMessage(r.Method, r.Uri) { Content = new StringContent(r.Body, Encoding.UTF8) };
                message.Content.Headers.Remove("Content-Type");
                message.Content.Headers.TryAddWithoutValidation("Content-Type", r.ContentType ?? "application/json");
                foreach (var (name, values) in r.Headers)
                {
                    message.Headers.TryAddWithoutValidation(name, values);
                }

                using var answer = await client.SendAsync(message);
                Assert.True(answer.IsSuccessStatusCode, $"the held attempt landed with {(int)answer.StatusCode}");
                if (answer.StatusCode == HttpStatusCode.Accepted)
                {
                    // Answered with a task: ActivePlatform runs it whether anyone polls or not; in the sandbox a task takes
                    // effect on the poll that completes it, so the platform's own run is these polls.
                    var task = System.Text.Json.Nodes.JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["data"]!["id"]!.ToString();
                    for (var poll = 0; poll < 10; poll++)
                    {
                        using var get = new HttpRequestMessage(HttpMethod.Get, new Uri(r.Uri, $"/api/v3/resellers/1/async_tasks/{task}"));
                        foreach (var (name, values) in r.Headers)
                        {
                            get.Headers.TryAddWithoutValidation(name, values);
                        }

                        get.Content = new StringContent("", Encoding.UTF8);
                        get.Content.Headers.Remove("Content-Type");
                        get.Content.Headers.TryAddWithoutValidation("Content-Type", r.ContentType ?? "application/json");
                        using var polled = await client.SendAsync(get);
                        var status = System.Text.Json.Nodes.JsonNode.Parse(await polled.Content.ReadAsStringAsync())?["data"]?["attributes"]?["status"]?.ToString();
                        if (status is "completed" or "failed")
                        {
                            Assert.Equal("completed", status);
                            break;
                        }
                    }
                }
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken cancellationToken)
        {
            var body = message.Content is null ? "" : await message.Content.ReadAsStringAsync(cancellationToken);
            if (message.Method == HttpMethod.Patch && body.Contains(held, StringComparison.Ordinal) && Interlocked.Exchange(ref holding, 1) == 0)
            {
                request = (message.Method, message.RequestUri!, body, message.Content?.Headers.ContentType?.ToString(), [.. message.Headers]);
                Held.SetResult();
                return new HttpResponseMessage(HttpStatusCode.BadGateway) { RequestMessage = message, Content = new StringContent("") };
            }

            var answer = await base.SendAsync(message, cancellationToken);
            if (message.Method == HttpMethod.Patch && body.Contains(newer, StringComparison.Ordinal))
            {
                NewerSent.TrySetResult();
            }

            return answer;
        }
    }
}
