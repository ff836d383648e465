using System.Text.Json;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Operations;
using Bridge.ActivePlatform.Queries;
using Bridge.Sandbox;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Queries;

/// <summary>
/// The rest of the v3 table (issue 10 §3) through the typed client against the sandbox over sockets, one family at a time:
/// the happy path, an absent id (404), another reseller's id (404 within the token's reach; 403 for a reseller outside it),
/// and the refused transition, each parsed by the client's error translation. Reseller 1 is the token's; 2 is below it.
/// </summary>
public sealed class OperationsAgainstSandboxTests : IAsyncLifetime
{
    private const string Token = "operations-tests-token-41d7";
    private const string ChildToken = "operations-tests-child-token-41d7";
    private const string FirstSubscription = "3010001";
    private const string ChildSubscription = "3020001";
    private static readonly string Pdf = "data:application/pdf;base64," + Convert.ToBase64String("%PDF-1.4 offer"u8.ToArray());

    private RunningSandbox _sandbox = null!;
    private StandaloneActivePlatformClient _client = null!;
    private StandaloneActivePlatformClient _childClient = null!;

    private IActivePlatformOperations Operations => _client.Services.GetRequiredService<IActivePlatformOperations>();

    private IActivePlatformQueries Queries => _client.Services.GetRequiredService<IActivePlatformQueries>();

    private static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxServer.StartAsync(
            new SandboxSettings { Tokens = [new SandboxToken { Token = Token, ResellerId = 1 }, new SandboxToken { Token = ChildToken, ResellerId = 2 }] }, Ct);
        _client = ActivePlatformClientFactory.Create(new ActivePlatformOptions
        {
            BaseUrl = _sandbox.BaseAddress, ApiToken = Token, ResellerId = 1, AsyncTaskPolling = new AsyncTaskPollingOptions { InitialDelay = TimeSpan.FromMilliseconds(50) },
        });
        _childClient = ActivePlatformClientFactory.Create(new ActivePlatformOptions { BaseUrl = _sandbox.BaseAddress, ApiToken = ChildToken, ResellerId = 2 });
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _childClient.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task An_account_is_created_changed_and_read_back_and_one_without_an_email_is_refused()
    {
        var created = await Operations.CreateAccountAsync(1, new AccountWrite { Name = "ООО Ромашка", Email = "buh@romashka.example", Country = "RU" }, Ct);
        var changed = await Operations.UpdateAccountAsync(1, long.Parse(created.Id), new AccountWrite { City = "Казань" }, Ct);
        var read = await Queries.GetAccountAsync(1, long.Parse(created.Id), Ct);

        Assert.Equal("ООО Ромашка", created.Attributes.Name);
        Assert.Equal("0.0", created.Attributes.Balance!.Value.Text);
        Assert.True(created.Attributes.Balance.Value.Quoted);
        Assert.Equal("Казань", changed.Attributes.City);
        Assert.Equal("buh@romashka.example", read!.Data!.Attributes.Email);
        Assert.Equal(1, read.Data.Attributes.ResellerId);
        Assert.Single(await _sandbox.Control.GetEffectsAsync(EffectKinds.AccountCreated, created.Id, Ct));

        var refused = await Assert.ThrowsAsync<ActivePlatformPermanentException>(() => Operations.CreateAccountAsync(1, new AccountWrite { Name = "No email" }, Ct));
        Assert.Equal(422, refused.Status);
        Assert.Equal("Email can't be blank", Assert.Single(refused.Errors).Title);
        await AssertNotFound(() => Operations.UpdateAccountAsync(1, 999_999, new AccountWrite { City = "X" }, Ct));
        await AssertNotFound(() => Operations.UpdateAccountAsync(2, 523, new AccountWrite { City = "X" }, Ct));
    }

    [Fact]
    public async Task A_subscription_is_stopped_activated_renamed_and_deleted_and_each_refused_transition_is_a_422()
    {
        var stopped = await Operations.StopSubscriptionAsync(1, FirstSubscription, Ct);
        await AssertRefused("Only active subscriptions can be stopped", () => Operations.StopSubscriptionAsync(1, FirstSubscription, Ct));
        var active = await Operations.ActivateSubscriptionAsync(1, FirstSubscription, Ct);
        await AssertRefused("Only stopped subscriptions can be activated", () => Operations.ActivateSubscriptionAsync(1, FirstSubscription, Ct));
        var renamed = await Operations.UpdateSubscriptionAsync(1, FirstSubscription,
            new SubscriptionWrite { Name = "Renamed", RenewalSettings = new RenewalSettingsWrite { Autorenew = true } }, Ct);
        var deleted = await Operations.DeleteSubscriptionAsync(1, FirstSubscription, Ct);

        Assert.Equal(["stopped", "active", "deleted"], new[] { stopped, active, deleted }.Select(s => s.Attributes.Status));
        Assert.Equal("Renamed", renamed.Attributes.Name);
        Assert.True(renamed.Attributes.RenewalSettings!.Autorenew);
        Assert.False(renamed.Attributes.RenewalSettings.DisableAutorenew);
        Assert.Equal("deleted", (await Queries.GetSubscriptionAsync(1, FirstSubscription, null, Ct))!.Data!.Attributes.Status);
        await AssertRefused("Subscription has already been deleted", () => Operations.DeleteSubscriptionAsync(1, FirstSubscription, Ct));
        await AssertRefused("Deleted subscriptions cannot be updated", () => Operations.UpdateSubscriptionAsync(1, FirstSubscription, new SubscriptionWrite { Name = "Again" }, Ct));
        Assert.Equal(
            [EffectKinds.SubscriptionStopped, EffectKinds.SubscriptionActivated, EffectKinds.SubscriptionUpdated, EffectKinds.SubscriptionDeleted],
            (await _sandbox.Control.GetEffectsAsync("subscription.", FirstSubscription, Ct)).Select(e => e.Kind));

        await AssertNotFound(() => Operations.StopSubscriptionAsync(1, "1", Ct));
        await AssertNotFound(() => Operations.StopSubscriptionAsync(1, ChildSubscription, Ct));
    }

    [Fact]
    public async Task Orders_of_every_kind_are_created_a_new_one_is_cancelled_once_and_a_completed_one_cannot_be()
    {
        var sales = await Operations.CreateSalesOrderAsync(1, new SalesOrderWrite { AccountId = 523, PlanPeriodId = 1614, Comment = "from the ERP" }, Ct);
        var switched = await Operations.CreateSwitchOrderAsync(1, new SwitchOrderWrite { SubscriptionId = 3010001, PlanPeriodId = 1614 }, Ct);
        var change = await Operations.CreateChangeOrderAsync(1, new ChangeOrderWrite { SubscriptionId = 3010002, Resources = [new OrderResourceWrite { ResourceId = 2849, Amount = 5 }] }, Ct);
        var renewal = await Operations.CreateRenewalOrderAsync(1, new RenewalOrderWrite { SubscriptionId = 3010002 }, Ct);
        var prolong = await Operations.CreateProlongOrderAsync(1, new ProlongOrderWrite { SubscriptionId = 3010002, ExpirationDate = new DateOnly(2027, 1, 31) }, Ct);

        Assert.Equal(["sales_order", "switch_order", "change_order", "renewal_order", "prolong_order"], new[] { sales, switched, change, renewal, prolong }.Select(o => o.Attributes.OrderType));
        Assert.All(new[] { sales, switched, change, renewal, prolong }, o => Assert.Equal("new", o.Attributes.Status));
        Assert.Equal(523, sales.Attributes.AccountId);
        Assert.True(sales.Attributes.Total!.Value.Quoted);
        Assert.Equal(sales.Id, (await Queries.GetOrderAsync(1, sales.Id, Ct))!.Data!.Id);

        var cancelled = await Operations.CancelOrderAsync(1, sales.Id, Ct);
        Assert.Equal("cancelled", cancelled.Attributes.Status);
        await AssertRefused("Order has already been cancelled", () => Operations.CancelOrderAsync(1, sales.Id, Ct));
        var completed = (await Queries.ListOrdersAsync(1, new ListQuery { Filters = new Dictionary<string, string> { ["status"] = "completed" } }, Ct)).Data[0];
        await AssertRefused("Only orders that are not completed can be cancelled", () => Operations.CancelOrderAsync(1, completed.Id, Ct));
        await AssertRefused("Plan period must belong to another plan (see switchable_plans)", () => Operations.CreateSwitchOrderAsync(1, new SwitchOrderWrite { SubscriptionId = 3010002, PlanPeriodId = 1614 }, Ct));

        await AssertNotFound(() => Operations.CancelOrderAsync(1, "1", Ct));
        await AssertNotFound(() => Operations.CreateRenewalOrderAsync(1, new RenewalOrderWrite { SubscriptionId = 3020001 }, Ct));
        await AssertNotFound(() => Operations.CancelOrderAsync(2, switched.Id, Ct));
    }

    [Fact]
    public async Task A_manager_is_created_and_changed_and_a_taken_email_or_unknown_role_is_refused()
    {
        var created = await Operations.CreateManagerAsync(1, new ManagerWrite { Name = "Бухгалтер", Email = "buh@reseller1.example.com", Role = "billing" }, Ct);
        var blocked = await Operations.UpdateManagerAsync(1, created.Id, new ManagerWrite { Status = "blocked" }, Ct);

        Assert.Equal("active", created.Attributes.Status);
        Assert.Equal("blocked", blocked.Attributes.Status);
        Assert.Equal("billing", blocked.Attributes.Role);
        Assert.Equal("blocked", (await Queries.GetManagerAsync(1, created.Id, Ct))!.Data!.Attributes.Status);
        await AssertRefused("Email has already been taken", () => Operations.CreateManagerAsync(1, new ManagerWrite { Name = "Twin", Email = "BUH@reseller1.example.com", Role = "sales" }, Ct));
        await AssertRefused("Role is not included in the list", () => Operations.UpdateManagerAsync(1, created.Id, new ManagerWrite { Role = "owner" }, Ct));
        await AssertNotFound(() => Operations.UpdateManagerAsync(1, "1", new ManagerWrite { Name = "X" }, Ct));
        await AssertNotFound(() => Operations.UpdateManagerAsync(2, created.Id, new ManagerWrite { Name = "X" }, Ct));
    }

    [Fact]
    public async Task A_note_is_created_read_and_deleted_once_and_another_resellers_note_is_not_there()
    {
        var note = await Operations.CreateNoteAsync(1, new NoteWrite { AccountId = 523, Text = "Счёт отправлен" }, Ct);
        var read = await Queries.GetNoteAsync(1, note.Id, Ct);
        var deleted = await Operations.DeleteNoteAsync(1, note.Id, Ct);
        var again = await Operations.DeleteNoteAsync(1, note.Id, Ct);

        Assert.Equal("Счёт отправлен", read!.Data!.Attributes!.Value.GetProperty("text").GetString());
        Assert.True(deleted.WasPresent);
        Assert.Equal(note.Id, deleted.Resource!.Id);
        Assert.False(again.WasPresent);
        Assert.False(again.AnAttemptMayHaveApplied);
        Assert.Null(await Queries.GetNoteAsync(1, note.Id, Ct));
        Assert.False((await Operations.DeleteNoteAsync(1, "70201", Ct)).WasPresent);
        Assert.Equal(5, (await Queries.ListNotesAsync(2, new ListQuery(), Ct)).Data.Count);
        await AssertRefused("Text can't be blank", () => Operations.CreateNoteAsync(1, new NoteWrite { AccountId = 523, Text = " " }, Ct));
    }

    [Fact]
    public async Task A_free_access_document_is_created_replaced_and_deleted_and_a_file_without_its_mime_type_is_refused()
    {
        var created = await Operations.CreateFreeAccessDocumentAsync(1, new FreeAccessDocumentWrite { Name = "Оферта", FileName = "offer.pdf", File = Pdf }, Ct);
        var replaced = await Operations.ReplaceFreeAccessDocumentAsync(1, created.Id, new FreeAccessDocumentWrite { Name = "Оферта 2027", Description = "new", FileName = "offer-2027.pdf", File = Pdf }, Ct);
        var listed = await Queries.ListFreeAccessDocumentsAsync(1, new ListQuery(), Ct);

        Assert.Equal("Оферта 2027", replaced.Attributes!.Value.GetProperty("name").GetString());
        Assert.False(replaced.Attributes.Value.TryGetProperty("file", out _));
        Assert.Equal(4, listed.Data.Count);
        Assert.True((await Operations.DeleteFreeAccessDocumentAsync(1, created.Id, Ct)).WasPresent);
        Assert.False((await Operations.DeleteFreeAccessDocumentAsync(1, created.Id, Ct)).WasPresent);
        Assert.Equal(3, (await Queries.ListFreeAccessDocumentsAsync(1, new ListQuery(), Ct)).Data.Count);

        await AssertRefused(
            "File must be a DOC, PDF or XLSX in base64 including its MIME type (data:<mime>;base64,<data>)",
            () => Operations.CreateFreeAccessDocumentAsync(1, new FreeAccessDocumentWrite { Name = "Raw", FileName = "raw.pdf", File = Pdf["data:application/pdf;base64,".Length..] }, Ct));
        await AssertNotFound(() => Operations.ReplaceFreeAccessDocumentAsync(1, "1", new FreeAccessDocumentWrite { Name = "X", FileName = "x.pdf", File = Pdf }, Ct));
        await AssertNotFound(() => Operations.ReplaceFreeAccessDocumentAsync(1, "80201", new FreeAccessDocumentWrite { Name = "X", FileName = "x.pdf", File = Pdf }, Ct));
    }

    [Fact]
    public async Task Order_attributes_are_validated_in_an_async_task_whose_results_say_what_is_wrong()
    {
        var domain = JsonSerializer.SerializeToElement("romashka.example");
        var valid = await Operations.ValidateOrderAttributesAsync(1, "804", new OrderAttributesValidationWrite { AccountId = 523, PluginAttributes = new Dictionary<string, JsonElement> { ["customer_domain"] = domain } }, Ct);
        var invalid = await Operations.ValidateOrderAttributesAsync(1, "804", new OrderAttributesValidationWrite { AccountId = 523 }, Ct);

        Assert.Equal("pending", valid.Attributes.Status);
        var validDone = await _client.Poller.WaitForCompletionAsync(1, valid.Id, Ct);
        var invalidDone = await _client.Poller.WaitForCompletionAsync(1, invalid.Id, Ct);
        Assert.True(validDone.Attributes.Results!.Valid);
        Assert.Equal("romashka.example", validDone.Attributes.Results.ApplicationAttributes!.Value.GetProperty("customer_domain").GetString());
        Assert.False(invalidDone.Attributes.Results!.Valid);
        Assert.Equal("can't be blank", invalidDone.Attributes.Results.Errors!.Value[0].GetProperty("customer_domain").GetString());
        await AssertNotFound(() => Operations.ValidateOrderAttributesAsync(1, "1", new OrderAttributesValidationWrite { AccountId = 523 }, Ct));
    }

    [Fact]
    public async Task The_customer_store_serves_the_resellers_the_token_reaches_and_the_products_of_the_plans()
    {
        var resellers = await Queries.ListCustomerStoreResellersAsync(new ListQuery(), Ct);
        var childResellers = await _childClient.Services.GetRequiredService<IActivePlatformQueries>().ListCustomerStoreResellersAsync(new ListQuery(), Ct);
        var categories = await Queries.ListProductCategoriesAsync(1, new ListQuery(), Ct);
        var products = await Queries.ListProductsAsync(1, new ListQuery(), Ct);
        var product = await Queries.GetProductAsync(1, "575", Ct);

        Assert.Equal(["1", "2", "3"], resellers.Data.Select(r => r.Id));
        Assert.Equal(["2"], childResellers.Data.Select(r => r.Id));
        Assert.Equal("default", Assert.Single(categories.Data).Attributes.Name);
        Assert.Equal(["400", "575"], products.Data.Select(p => p.Id));
        Assert.Equal("G Suite", product!.Data!.Attributes.Name);
        Assert.Equal(190, product.Data.Attributes.ProductCategoryId);
        Assert.Equal("3", (await Queries.GetCustomerStoreResellerAsync(3, Ct))!.Data!.Id);
        Assert.Null(await Queries.GetProductAsync(1, "1", Ct));
        var outside = await Assert.ThrowsAsync<ActivePlatformPermanentException>(() => Queries.GetCustomerStoreResellerAsync(10, Ct));
        Assert.Equal(403, outside.Status);
    }

    [Fact]
    public async Task Analytics_count_what_the_api_changed_and_cover_the_resellers_the_token_reaches()
    {
        var before = await Queries.GetResellerAnalyticsAsync(1, Ct);
        await Operations.StopSubscriptionAsync(1, FirstSubscription, Ct);
        var after = await Queries.GetResellerAnalyticsAsync(1, Ct);
        var daily = await Queries.ListDailyAnalyticsAsync(new ListQuery(), Ct);
        var drafts = await Queries.ListDailyAnalyticsDraftsAsync(new ListQuery(), Ct);
        var monthly = await Queries.ListMonthlyAnalyticsAsync(new ListQuery { Filters = new Dictionary<string, string> { ["reseller_id"] = "2" } }, Ct);

        int Stopped(Bridge.ActivePlatform.Queries.JsonApiResourceDocument<Bridge.ActivePlatform.Models.UnknownResource>? d) =>
            d!.Data!.Attributes!.Value.GetProperty("stopped_subscriptions_count").GetInt32();
        Assert.Equal(Stopped(before) + 1, Stopped(after));
        Assert.Equal(21, daily.Data.Count);
        Assert.Equal(3, drafts.Data.Count);
        Assert.Equal(3, monthly.Data.Count);
        var outside = await Assert.ThrowsAsync<ActivePlatformPermanentException>(() => Queries.GetResellerAnalyticsAsync(10, Ct));
        Assert.Equal(403, outside.Status);
    }

    [Fact]
    public async Task A_user_token_names_its_accounts_owner_and_is_unknown_to_another_reseller()
    {
        var user = await Queries.GetUserByTokenAsync(1, "user-token-523", Ct);

        Assert.Equal("949", user!.Data!.Id);
        Assert.Equal("test@xample.com", user.Data.Attributes.Email);
        Assert.Equal(523, user.Data.Attributes.AccountId);
        Assert.Null(await Queries.GetUserByTokenAsync(1, "user-token-1", Ct));
        Assert.Null(await Queries.GetUserByTokenAsync(2, "user-token-523", Ct));
    }

    [Fact]
    public async Task A_vendor_closes_a_subscriptions_open_charges_once_and_reaches_only_its_resellers_subscriptions()
    {
        var closeDate = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(1));
        var closed = await Operations.CloseChargesAsync(FirstSubscription, closeDate, Ct);

        Assert.Equal(2, closed.Count);
        Assert.All(closed, c => Assert.Equal("closed", c.Attributes.Status));
        Assert.All(closed, c => Assert.Equal(closeDate, c.Attributes.CloseDate));
        await AssertRefused("There are no open charges to close", () => Operations.CloseChargesAsync(FirstSubscription, closeDate, Ct));

        var child = _childClient.Services.GetRequiredService<IActivePlatformOperations>();
        Assert.Equal(2, (await child.CloseChargesAsync(ChildSubscription, closeDate, Ct)).Count);
        var outside = await Assert.ThrowsAsync<ActivePlatformPermanentException>(() => child.CloseChargesAsync("3010002", closeDate, Ct));
        Assert.Equal(404, outside.Status);
        var absent = await Assert.ThrowsAsync<ActivePlatformPermanentException>(() => Operations.CloseChargesAsync("1", closeDate, Ct));
        Assert.Equal(404, absent.Status);
    }

    [Fact]
    public async Task A_write_for_a_reseller_outside_the_token_is_refused_as_configured_and_never_read_as_absent()
    {
        var childOperations = _childClient.Services.GetRequiredService<IActivePlatformOperations>();

        var forbidden = await Assert.ThrowsAsync<ActivePlatformPermanentException>(() => childOperations.StopSubscriptionAsync(1, FirstSubscription, Ct));
        await _sandbox.Control.SetOutOfScopeStatusAsync(404, Ct);
        var hidden = await Assert.ThrowsAsync<ResellerNotReachableException>(() => childOperations.CreateNoteAsync(1, new NoteWrite { AccountId = 523, Text = "x" }, Ct));
        var deleteHidden = await Assert.ThrowsAsync<ResellerNotReachableException>(() => childOperations.DeleteNoteAsync(1, "70101", Ct));

        Assert.Equal(403, forbidden.Status);
        Assert.Equal(1, hidden.ResellerId);
        Assert.Equal(1, deleteHidden.ResellerId);
        Assert.Empty(await _sandbox.Control.GetEffectsAsync("note.", null, Ct));
        Assert.Empty(await _sandbox.Control.GetEffectsAsync("subscription.", null, Ct));
    }

    [Fact]
    public async Task Writes_go_with_a_content_length_and_a_flat_body_is_refused_by_the_strict_envelope()
    {
        using var raw = _sandbox.CreateClient(Token);
        raw.DefaultRequestHeaders.Accept.ParseAdd("application/vnd.api+json");
        using var flat = new StringContent("""{"account_id":523,"text":"flat"}""", System.Text.Encoding.UTF8, "application/vnd.api+json");
        using var typed = new StringContent("""{"data":{"type":"accounts","attributes":{"account_id":523,"text":"typed"}}}""", System.Text.Encoding.UTF8, "application/vnd.api+json");

        using var flatAnswer = await raw.PostAsync(new Uri("api/v3/resellers/1/notes", UriKind.Relative), flat);
        using var typedAnswer = await raw.PostAsync(new Uri("api/v3/resellers/1/notes", UriKind.Relative), typed);
        await Operations.CreateNoteAsync(1, new NoteWrite { AccountId = 523, Text = "typed client" }, Ct);

        Assert.Equal(422, (int)flatAnswer.StatusCode);
        Assert.Contains("param is missing or the value is empty: data", await flatAnswer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(422, (int)typedAnswer.StatusCode);
        Assert.Contains("data.type must be notes", await typedAnswer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(await _sandbox.Control.GetCallsAsync("POST", "/notes", null, Ct), c => c.Status == 201);
    }

    [Fact]
    public async Task Reset_puts_every_written_store_back_to_its_seed()
    {
        await Operations.StopSubscriptionAsync(1, FirstSubscription, Ct);
        var account = await Operations.CreateAccountAsync(1, new AccountWrite { Name = "Temp", Email = "t@example.com" }, Ct);
        await Operations.DeleteNoteAsync(1, "70101", Ct);

        await _sandbox.Control.ResetAsync(Ct);

        Assert.Equal("active", (await Queries.GetSubscriptionAsync(1, FirstSubscription, null, Ct))!.Data!.Attributes.Status);
        Assert.Null(await Queries.GetAccountAsync(1, long.Parse(account.Id), Ct));
        Assert.NotNull(await Queries.GetNoteAsync(1, "70101", Ct));
    }

    private static async Task AssertRefused(string title, Func<Task> call)
    {
        var refused = await Assert.ThrowsAsync<ActivePlatformPermanentException>(call);
        Assert.Equal(422, refused.Status);
        Assert.Equal(title, Assert.Single(refused.Errors).Title);
    }

    private static async Task AssertNotFound(Func<Task> call)
    {
        var absent = await Assert.ThrowsAsync<ActivePlatformPermanentException>(call);
        Assert.IsNotType<ResellerNotReachableException>(absent);
        Assert.Equal(404, absent.Status);
    }
}
