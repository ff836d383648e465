using System.Net;
using System.Text.Json.Nodes;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Corrections;
using Bridge.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Bridge.Tests.Sandbox;

/// <summary>Corrections as REFERENCE.md §4 documents them: created in approval_required, approved or declined once.</summary>
public sealed class CorrectionsTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    private const string Corrections = "api/v3/resellers/1/corrections";

    private static JsonObject Envelope(JsonObject attributes) => new() { ["data"] = new JsonObject { ["attributes"] = attributes } };

    private static JsonObject Included(string total = "100.25") => new()
    {
        ["account_id"] = 710,
        ["included_invoice"] = true,
        ["subscription_id"] = 3008954,
        ["period_from"] = "2021-12-01",
        ["period_to"] = "2021-12-31",
        ["total"] = total,
        ["comment"] = "top-up payment",
    };

    private static JsonObject Status(string status) => Envelope(new JsonObject { ["status"] = status });

    [Fact]
    public async Task Create_answers_201_in_approval_required_with_the_documented_attributes_and_a_string_total()
    {
        var created = await SendAsync(HttpMethod.Post, Corrections, Envelope(Included()));

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("corrections", (string?)created.Body!["data"]!["type"]);
        var attributes = created.Attributes;
        Assert.Equal("approval_required", (string?)attributes["status"]);
        Assert.Equal("100.25", (string?)attributes["total"]);
        Assert.Equal(710, (long?)attributes["account_id"]);
        Assert.True((bool?)attributes["included_invoice"]);
        Assert.Equal(3008954, (long?)attributes["subscription_id"]);
        Assert.Equal("2021-12-01", (string?)attributes["period_from"]);
        Assert.Equal("top-up payment", (string?)attributes["comment"]);
        Assert.NotNull((long?)attributes["manager_id"]);
        Assert.False(attributes.AsObject().ContainsKey("approved_at"));

        var stored = Assert.Single(await Control.GetCorrectionsAsync(CancellationToken.None), c => c.Id == created.Id);
        Assert.Equal("approval_required", stored.Status);
    }

    [Fact]
    public async Task An_included_correction_needs_its_subscription_and_period_and_a_not_included_one_does_not()
    {
        var included = Included();
        included.Remove("subscription_id");
        included.Remove("period_to");
        var refused = await SendAsync(HttpMethod.Post, Corrections, Envelope(included));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        Assert.Equal("422", (string?)refused.Body!["errors"]!["status"]);
        Assert.Contains("Subscription can't be blank", refused.ErrorTitle);
        Assert.Contains("Period to can't be blank", refused.ErrorTitle);

        var balanceOnly = new JsonObject { ["account_id"] = 710, ["included_invoice"] = false, ["total"] = "-50.5" };
        var created = await SendAsync(HttpMethod.Post, Corrections, Envelope(balanceOnly));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("-50.5", (string?)created.Attributes["total"]);
    }

    [Theory]
    [InlineData("0", "Total must be other than 0")]
    [InlineData("1.005", "Total must have at most 2 decimal places")]
    [InlineData("abc", "Total is not a number")]
    public async Task A_zero_or_over_precise_total_is_refused(string total, string title)
    {
        var refused = await SendAsync(HttpMethod.Post, Corrections, Envelope(Included(total)));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        Assert.Equal(title, refused.ErrorTitle);
        Assert.DoesNotContain(await Control.GetCorrectionsAsync(CancellationToken.None), c => c.Total == total);
    }

    [Fact]
    public async Task Approve_sets_a_date_only_approved_at_and_the_status_then_cannot_change_again()
    {
        var id = (await SendAsync(HttpMethod.Post, Corrections, Envelope(Included()))).Id;

        var approved = await SendAsync(HttpMethod.Patch, $"{Corrections}/{id}", Status("approved"));
        Assert.Equal(HttpStatusCode.OK, approved.Status);
        Assert.Equal("approved", (string?)approved.Attributes["status"]);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", (string?)approved.Attributes["approved_at"]);

        var declineAfter = await SendAsync(HttpMethod.Patch, $"{Corrections}/{id}", Status("declined"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, declineAfter.Status);
        Assert.Contains("approval_required", declineAfter.ErrorTitle);

        var approveAgain = await SendAsync(HttpMethod.Patch, $"{Corrections}/{id}", Status("approved"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, approveAgain.Status);
        Assert.Equal("approved", Assert.Single(await Control.GetCorrectionsAsync(CancellationToken.None), c => c.Id == id).Status);
    }

    [Fact]
    public async Task Decline_has_no_approval_date_and_unknown_ids_or_statuses_are_refused()
    {
        var id = (await SendAsync(HttpMethod.Post, Corrections, Envelope(Included()))).Id;

        var invalid = await SendAsync(HttpMethod.Patch, $"{Corrections}/{id}", Status("approval_required"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);

        var declined = await SendAsync(HttpMethod.Patch, $"{Corrections}/{id}", Status("declined"));
        Assert.Equal(HttpStatusCode.OK, declined.Status);
        Assert.Equal("declined", (string?)declined.Attributes["status"]);
        Assert.Null(declined.Attributes["approved_at"]);

        var unknown = await SendAsync(HttpMethod.Patch, $"{Corrections}/999999", Status("approved"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);

        // Another reseller's path does not reach this correction.
        var elsewhere = await SendAsync(HttpMethod.Patch, $"api/v3/resellers/2/corrections/{id}", Status("approved"));
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.Status);
    }

    [Fact]
    public async Task The_client_facade_creates_and_approves_over_http_and_a_refused_change_is_a_permanent_422()
    {
        await using var standalone = ActivePlatformClientFactory.Create(new ActivePlatformOptions
        {
            BaseUrl = Fixture.Sandbox.BaseAddress,
            ApiToken = SandboxSettings.DefaultToken,
            ResellerId = 1,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        });
        var client = standalone.Services.GetRequiredService<ICorrectionsClient>();

        var created = await client.CreateCorrectionAsync(1, new CorrectionCreate { AccountId = 505, IncludedInvoice = false, Total = 12.5m, Comment = "facade" }, CancellationToken.None);
        Assert.Equal("approval_required", created.Attributes.Status);
        Assert.Equal(12.5m, created.Attributes.Total);

        var approved = await client.SetCorrectionStatusAsync(1, created.Id, CorrectionStatus.Approved, CancellationToken.None);
        Assert.Equal("approved", approved.Attributes.Status);
        Assert.NotNull(approved.Attributes.ApprovedAt);

        var refused = await Assert.ThrowsAsync<ActivePlatformPermanentException>(
            () => client.SetCorrectionStatusAsync(1, created.Id, CorrectionStatus.Declined, CancellationToken.None));
        Assert.Equal(422, refused.Status);
        Assert.Contains("approval_required", refused.Title);
    }
}
