using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit;

namespace Bridge.Tests.Sandbox;

public sealed partial class ClosingDocumentTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{4}$")]
    private static partial Regex MicrosecondTimestamp();

    [Fact]
    public async Task Create_lookup_by_key_patch_and_delete_round_trip_in_the_documented_shapes()
    {
        var key = NewKey();

        var created = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("application/vnd.api+json", created.MediaType);
        Assert.Equal("external_invoices", (string?)created.Body!["data"]!["type"]);
        Assert.Matches(MicrosecondTimestamp(), (string?)created.Attributes["created_at"]);
        Assert.Matches(MicrosecondTimestamp(), (string?)created.Attributes["updated_at"]);
        Assert.Equal("123.45", (string?)created.Attributes["amount"]!["total"]);
        Assert.Equal(Pdf, (string?)created.Attributes["file"]);
        var id = created.Id;

        var found = await SendAsync(HttpMethod.Get, $"{Documents}?filter[key]={key}");
        Assert.Equal(HttpStatusCode.OK, found.Status);
        Assert.Equal(id, found.Id);
        Assert.Equal(key, (string?)found.Attributes["key"]);

        // PATCH is a full replacement; money sent as a number comes back as a string.
        var replacement = ClosingDocument(key, name: "Act 1 corrected");
        replacement["amount"]!["total"] = 100;
        var patched = await SendAsync(HttpMethod.Patch, $"{Documents}/{id}", replacement);
        Assert.Equal(HttpStatusCode.OK, patched.Status);
        Assert.Equal("Act 1 corrected", (string?)patched.Attributes["name"]);
        Assert.Equal("100.0", (string?)patched.Attributes["amount"]!["total"]);

        var deleted = await SendAsync(HttpMethod.Delete, $"{Documents}/{id}");
        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.Equal(id, deleted.Id);
        Assert.Null(deleted.Attributes["file"]);
        Assert.False(deleted.Attributes.AsObject().ContainsKey("file"));
        Assert.Equal("Act 1 corrected", (string?)deleted.Attributes["name"]);

        var gone = await SendAsync(HttpMethod.Get, $"{Documents}?filter[key]={key}");
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.Equal("404", (string?)gone.Body!["errors"]!["status"]);

        var writes = await Control.GetCallsAsync(null, "/external_invoices", key, CancellationToken.None);
        Assert.Equal(["POST", "PATCH", "DELETE"], writes.Select(c => c.Method));
    }

    [Fact]
    public async Task The_data_attributes_envelope_is_accepted_with_or_without_data_type()
    {
        var withType = new JsonObject { ["data"] = new JsonObject { ["type"] = "external_invoices", ["attributes"] = ClosingDocument(NewKey()) } };
        var withoutType = new JsonObject { ["data"] = new JsonObject { ["attributes"] = ClosingDocument(NewKey()) } };

        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, Documents, withType)).Status);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, Documents, withoutType)).Status);
        Assert.Equal(2, (await Control.GetExternalInvoicesAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_second_POST_with_the_same_key_for_the_account_is_a_422_and_creates_nothing()
    {
        var key = NewKey();
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key))).Status);

        var duplicate = await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key, name: "other"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, duplicate.Status);
        Assert.Equal("Key has already been taken", duplicate.ErrorTitle);
        Assert.Equal("422", (string?)duplicate.Body!["errors"]!["status"]);
        Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None));

        // The same key on another account is another document.
        var otherAccount = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/accounts/506/external_invoices", ClosingDocument(key));
        Assert.Equal(HttpStatusCode.Created, otherAccount.Status);
    }

    [Fact]
    public async Task Concurrent_POSTs_of_one_key_create_one_document()
    {
        var key = NewKey();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => SendAsync(HttpMethod.Post, Documents, ClosingDocument(key))));

        Assert.Single(responses, r => r.Status == HttpStatusCode.Created);
        Assert.All(responses.Where(r => r.Status != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.UnprocessableEntity, r.Status));
        Assert.Single(await Control.GetExternalInvoicesAsync(CancellationToken.None));
        Assert.Equal(8, (await Control.GetCallsAsync("POST", null, key, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Invalid_fields_give_a_422_naming_each_problem()
    {
        var body = ClosingDocument(NewKey());
        body["type"] = "upd";
        body["end_date"] = "2019-31-11";
        body["file"] = Convert.ToBase64String("no mime type"u8.ToArray());

        var response = await SendAsync(HttpMethod.Post, Documents, body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Contains("Type is not included in the list", response.ErrorTitle, StringComparison.Ordinal);
        Assert.Contains("End date is invalid", response.ErrorTitle, StringComparison.Ordinal);
        Assert.Contains("File must be base64 including its MIME type", response.ErrorTitle, StringComparison.Ordinal);
        Assert.Empty(await Control.GetExternalInvoicesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_data_uri_that_does_not_decode_is_rejected()
    {
        var body = ClosingDocument(NewKey());
        body["file"] = "data:application/pdf;base64,***not-base64***";

        var response = await SendAsync(HttpMethod.Post, Documents, body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("File is not valid base64", response.ErrorTitle);
    }

    [Fact]
    public async Task Patch_and_delete_of_an_unknown_id_are_404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Patch, $"{Documents}/999999", ClosingDocument(NewKey()))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, $"{Documents}/999999")).Status);
    }

    [Fact]
    public async Task Notifications_answer_200_with_body_null()
    {
        var key = NewKey();
        await SendAsync(HttpMethod.Post, Documents, ClosingDocument(key));
        var body = new JsonObject { ["account_ids"] = new JsonArray(505, 506), ["start_date"] = "2019-11-01", ["end_date"] = "2019-11-30" };

        var response = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/notifications/external_invoices", body);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("null", response.Text);
        var notification = Assert.Single(await Control.GetNotificationsAsync(CancellationToken.None));
        Assert.Equal([505L, 506L], notification.AccountIds);
        Assert.Equal([key], notification.DocumentKeys);
    }

    [Theory]
    [InlineData("{\"start_date\":\"2019-11-01\",\"end_date\":\"2019-11-30\"}")]
    [InlineData("{\"account_ids\":[],\"start_date\":\"2019-11-01\",\"end_date\":\"2019-11-30\"}")]
    [InlineData("{\"account_ids\":[\"abc\"],\"start_date\":\"2019-11-01\",\"end_date\":\"2019-11-30\"}")]
    public async Task Notifications_without_valid_account_ids_answer_the_documented_422(string json)
    {
        var response = await SendAsync(HttpMethod.Post, "api/v3/resellers/1/notifications/external_invoices", JsonNode.Parse(json));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("{\"errors\":{\"title\":\"param is missing or the value is empty: account_ids\",\"status\":\"422\"}}", response.Text);
        Assert.Empty(await Control.GetNotificationsAsync(CancellationToken.None));
    }
}
