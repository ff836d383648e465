using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bridge.Contracts;
using Bridge.Host.Ingress;
using Bridge.Sandbox;
using Bridge.Tests.DeadLetters;
using static Bridge.Tests.Ingress.DoorRequests;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.Ingress;

/// <summary>
/// Bodies the schema and the consumer read differently (the review's leftovers of the door): what the door validated must
/// be what the consumer applies, and the key the ERP polls must be the key every outcome is filed under.
/// </summary>
[Collection(DeadLetterCollection.Name)]
public sealed class HttpDoorBodyTests(DeadLetterFixture fixture)
{
    /// <summary>
    /// The schema matches names as written and allows extra members; the consumer reads names without case and keeps the
    /// last. <c>{"key":"A", …, "KEY":"B"}</c> validated as A would be applied as B.
    /// </summary>
    [Theory]
    [InlineData("KEY", "/KEY")]
    [InlineData("key", "/key")]
    public async Task Two_members_whose_names_differ_only_in_case_are_refused_and_nothing_is_sent(string second, string path)
    {
        var (key, documentKey, otherKey) = (NewKey(), NewKey(), NewKey());
        var json = JsonSerializer.Serialize(Document(documentKey, revision: 1, accountId: NewAccount()), WebJson);
        json = json[..^1] + $",\"{second}\":\"{otherKey}\"}}";
        using var door = fixture.Door();

        using var answer = await door.PostAsync(new Uri("api/messages/SendClosingDocument", UriKind.Relative), JsonBody(json, key));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        using var problem = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        Assert.Contains(path, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var status = await door.GetAsync(StatusUri(key));
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
    }

    /// <summary>The same rule inside a nested object: the consumer reads <c>amount.TOTAL</c> as <c>amount.total</c>.</summary>
    [Fact]
    public async Task A_nested_member_repeated_in_another_case_is_refused()
    {
        var key = NewKey();
        var body = Document(NewKey(), revision: 1, accountId: NewAccount());
        body["amount"] = new Dictionary<string, object> { ["total"] = 100.50m, ["currency"] = "EUR", ["TOTAL"] = 1_000_000m };
        using var door = fixture.Door();

        using var answer = await PostAsync(door, "SendClosingDocument", key, body);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Contains("/amount/TOTAL", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// An ERP that puts its key in the body with spaces around it: the door and the consumer trim it, the dead-letter capture
    /// did not, so the dead letter's event was filed under "  key  " and the status the ERP polls had no result to show.
    /// </summary>
    [Fact]
    public async Task A_body_key_with_spaces_around_it_is_dead_lettered_under_the_key_the_ERP_polls()
    {
        var (key, documentKey, account) = (NewKey(), NewKey(), NewAccount());
        var body = Document(documentKey, revision: 1, accountId: account);
        body["idempotencyKey"] = "  " + key + " ";
        using var door = fixture.Door();
        await fixture.Sandbox.Control.SetFaultAsync(
            new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 401 }, CancellationToken.None);
        ErpMessageDeadLettered deadLettered;
        try
        {
            using (var answer = await PostAsync(door, "SendClosingDocument", null, body))
            {
                Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
                Assert.Equal(key, (await answer.Content.ReadFromJsonAsync<IngressReceipt>(WebJson))!.IdempotencyKey);
            }

            deadLettered = await fixture.Events.WaitForAsync<ErpMessageDeadLettered>(documentKey);
        }
        finally
        {
            await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);
        }

        Assert.Equal(key, deadLettered.MessageId);
        var status = await StatusAsync(door, key);
        Assert.Equal(IngressStatus.DeadLettered, status.Status);
        Assert.Equal(nameof(ErpMessageDeadLettered), status.Result?.Type);
    }
}
