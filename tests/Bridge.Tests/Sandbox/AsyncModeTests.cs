using System.Net;
using Bridge.Sandbox;
using Xunit;

namespace Bridge.Tests.Sandbox;

public sealed class AsyncModeTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private Task<Response> PollAsync(string taskId) => SendAsync(HttpMethod.Get, $"api/v3/resellers/1/async_tasks/{taskId}");

    private static string Status(Response task) => (string)task.Attributes["status"]!;

    [Fact]
    public async Task An_async_create_takes_effect_exactly_when_its_task_completes()
    {
        await Control.SetAsyncModeAsync(new AsyncModeSettings { Mode = AsyncWriteMode.All, PollsToComplete = 3 }, CancellationToken.None);
        var key = NewKey();

        var accepted = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));
        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.Equal("async_tasks", (string?)accepted.Body!["data"]!["type"]);
        Assert.Equal("pending", Status(accepted));
        Assert.True(Guid.TryParse(accepted.Id, out _));

        var first = await PollAsync(accepted.Id);
        Assert.Equal("pending", Status(first));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"{Documents}?filter[key]={key}")).Status);

        var second = await PollAsync(accepted.Id);
        Assert.Equal("running", Status(second));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"{Documents}?filter[key]={key}")).Status);

        var third = await PollAsync(accepted.Id);
        Assert.Equal("completed", Status(third));
        Assert.Equal("", (string?)third.Attributes["failure_message"]);
        Assert.True((bool)third.Attributes["results"]!["valid"]!);
        Assert.Empty(third.Attributes["results"]!["errors"]!.AsArray());

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"{Documents}?filter[key]={key}")).Status);
        Assert.Equal("completed", Status(await PollAsync(accepted.Id)));
        Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_failed_task_leaves_no_document()
    {
        await Control.SetAsyncModeAsync(
            new AsyncModeSettings { Mode = AsyncWriteMode.All, PollsToComplete = 2, Fail = true, FailureMessage = "ERP file rejected" },
            CancellationToken.None);
        var key = NewKey();

        var accepted = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));
        Assert.Equal("pending", Status(await PollAsync(accepted.Id)));
        var failed = await PollAsync(accepted.Id);

        Assert.Equal("failed", Status(failed));
        Assert.Equal("ERP file rejected", (string?)failed.Attributes["failure_message"]);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"{Documents}?filter[key]={key}")).Status);
        Assert.Empty(await Control.GetExternalInvoicesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Only_keys_matching_the_pattern_are_answered_with_a_task()
    {
        await Control.SetAsyncModeAsync(new AsyncModeSettings { Mode = AsyncWriteMode.KeyPattern, KeyPattern = "^async-" }, CancellationToken.None);

        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, Documents, ClosingDocument("sync-" + NewKey()))).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(HttpMethod.Post, Documents, ClosingDocument("async-" + NewKey()))).Status);
    }

    [Fact]
    public async Task An_async_patch_replaces_the_document_only_on_completion()
    {
        var key = NewKey();
        var created = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key, name: "v1"));
        await Control.SetAsyncModeAsync(new AsyncModeSettings { Mode = AsyncWriteMode.All, PollsToComplete = 1 }, CancellationToken.None);

        var accepted = await SendAsync(HttpMethod.Patch, $"{Documents}/{created.Id}", ClosingDocument(key, name: "v2"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.Equal("v1", (await Control.GetExternalInvoicesAsync(CancellationToken.None)).Single().Name);

        Assert.Equal("completed", Status(await PollAsync(accepted.Id)));
        var document = (await Control.GetExternalInvoicesAsync(CancellationToken.None)).Single();
        Assert.Equal("v2", document.Name);
        Assert.Equal(2, document.Version);
    }

    [Fact]
    public async Task A_task_of_another_reseller_or_an_unknown_id_is_404()
    {
        await Control.SetAsyncModeAsync(new AsyncModeSettings { Mode = AsyncWriteMode.All }, CancellationToken.None);
        var accepted = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(NewKey()));

        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"api/v3/resellers/2/async_tasks/{accepted.Id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await PollAsync(Guid.NewGuid().ToString())).Status);
    }
}
