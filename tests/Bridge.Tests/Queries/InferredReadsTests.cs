using System.Text.Json;
using System.Text.Json.Nodes;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Queries;
using Bridge.Sandbox;
using Bridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Tests.Queries;

/// <summary>
/// The GET endpoints whose objects are undocumented here (manager roles, account attributes, switchable plans, order
/// attributes, notes, free-access documents): read whole past a cap, their objects kept raw and handed back as sent.
/// </summary>
public sealed class InferredReadsTests : IAsyncLifetime
{
    private const string Token = "inferred-tests-token-6c0a";
    private RunningSandbox _sandbox = null!;
    private StandaloneActivePlatformClient _client = null!;

    private IActivePlatformQueries Queries => _client.Services.GetRequiredService<IActivePlatformQueries>();

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxServer.StartAsync(new SandboxSettings { Tokens = [new SandboxToken { Token = Token, ResellerId = 1 }] }.WithTestAccounts(), CancellationToken.None);
        _client = ActivePlatformClientFactory.Create(new ActivePlatformOptions { BaseUrl = _sandbox.BaseAddress, ApiToken = Token, ResellerId = 1 });
        await _sandbox.Control.SetPagingAsync(new SandboxPagingSettings { MaxPageSize = 2 }, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task Each_list_is_read_whole_past_a_cap_of_two()
    {
        var roles = await Queries.ListManagerRolesAsync(1, new ListQuery(), CancellationToken.None);
        var attributes = await Queries.ListAccountAttributesAsync(1, new ListQuery(), CancellationToken.None);
        var switchable = await Queries.ListSwitchablePlansAsync(1, "1200", new ListQuery(), CancellationToken.None);
        var orderAttributes = await Queries.ListOrderAttributesAsync(1, "804", new ListQuery(), CancellationToken.None);
        var notes = await Queries.ListNotesAsync(1, new ListQuery(), CancellationToken.None);
        var documents = await Queries.ListFreeAccessDocumentsAsync(1, new ListQuery(), CancellationToken.None);

        Assert.Equal([4, 3, 1, 2, 5, 3], new[] { roles, attributes, (object)switchable, orderAttributes, notes, documents }.Select(Count));
        Assert.Equal([2, 2, 1, 1, 3, 2], new[] { roles.PagesRead, attributes.PagesRead, switchable.PagesRead, orderAttributes.PagesRead, notes.PagesRead, documents.PagesRead });
        Assert.Equal("804", Assert.Single(switchable.Data).Id);
        Assert.Equal("product_owner", roles.Data[1].Attributes!.Value.GetProperty("key").GetString());
    }

    [Fact]
    public async Task A_note_is_read_as_sent_and_an_unknown_one_is_absent()
    {
        using var raw = _sandbox.CreateClient(Token);
        raw.DefaultRequestHeaders.Accept.ParseAdd("application/vnd.api+json");
        var sent = JsonNode.Parse(await raw.GetStringAsync(new Uri("api/v3/resellers/1/notes/70103", UriKind.Relative)));

        var note = await Queries.GetNoteAsync(1, "70103", CancellationToken.None);

        JsonAssert.Same(sent, JsonNode.Parse(JsonSerializer.Serialize(note, QueryJson.Options)));
        Assert.Null(await Queries.GetNoteAsync(1, "1", CancellationToken.None));
    }

    private static int Count(object pages) => pages switch
    {
        AllPages<Bridge.ActivePlatform.Models.UnknownResource> raw => raw.Data.Count,
        AllPages<Bridge.ActivePlatform.Models.Plan> plans => plans.Data.Count,
        _ => -1,
    };
}
