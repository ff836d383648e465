using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bridge.Host.Admin;
using Bridge.Host.Features.ClosingDocuments;
using Bridge.Sandbox;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using static Bridge.Tests.Pipeline.PipelineTestData;

namespace Bridge.Tests.DeadLetters;

/// <summary>
/// The admin API's OpenAPI document is generated from the running endpoints: every route is in it, the bearer scheme is
/// required exactly where a policy guards a route, the refusals a policy can give are listed, it is a valid OpenAPI
/// document, and what it says a dead letter and an effect look like is what the API answers.
/// </summary>
[Collection(DeadLetterCollection.Name)]
public sealed partial class AdminOpenApiTests(DeadLetterFixture fixture)
{
    [Fact]
    public async Task Every_admin_route_is_described_in_the_OpenAPI_document()
    {
        var paths = (await DocumentAsync())["paths"]!.AsObject();
        var routes = AdminRoutes();

        Assert.True(routes.Count >= 15, $"only {routes.Count} admin routes found");
        Assert.All(routes, route => Assert.True(
            paths[route.Path]?[route.Method] is not null, $"{route.Method.ToUpperInvariant()} {route.Path} is not in /admin/openapi.json"));
        Assert.Equal(routes.Count, paths.Sum(path => path.Value!.AsObject().Count(entry => entry.Key != "parameters")));
        var parameters = paths.SelectMany(path => path.Value!.AsObject()).SelectMany(operation => operation.Value!["parameters"]?.AsArray() ?? []).ToList();
        Assert.NotEmpty(parameters);
        Assert.All(parameters, parameter => Assert.True(
            char.IsLower(parameter!["name"]!.GetValue<string>()[0]), $"parameter {parameter["name"]} is not named as the API reads it (camelCase)"));
    }

    [Fact]
    public async Task Every_guarded_route_requires_the_bearer_scheme_and_lists_the_refusals_its_policy_can_give()
    {
        var document = await DocumentAsync();
        var scheme = document["components"]!["securitySchemes"]![AdminOpenApi.SecurityScheme]!;
        Assert.Equal("http", scheme["type"]!.GetValue<string>());
        Assert.Equal("bearer", scheme["scheme"]!.GetValue<string>());

        var operationIds = new List<string>();
        foreach (var route in AdminRoutes())
        {
            var operation = document["paths"]![route.Path]![route.Method]!;
            var name = $"{route.Method.ToUpperInvariant()} {route.Path}";
            var policies = route.Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(data => data.Policy).ToList();
            var responses = operation["responses"]!.AsObject();

            Assert.True(policies.Count > 0, $"{name} is not guarded by a policy");
            Assert.Equal(
                [AdminOpenApi.SecurityScheme],
                operation["security"]!.AsArray().SelectMany(requirement => requirement!.AsObject().Select(entry => entry.Key)));
            Assert.True(responses.ContainsKey("401"), $"{name} does not list 401");
            Assert.Equal(policies.Contains(AdminPolicies.Operate), responses.ContainsKey("403"));
            Assert.Contains(responses, response => response.Key.StartsWith('2') && response.Value!["content"]?["application/json"]?["schema"] is not null);
            Assert.All(responses, response => Assert.False(string.IsNullOrWhiteSpace(response.Value!["description"]?.GetValue<string>()), $"{name} {response.Key} has no description"));
            Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()), $"{name} has no summary");
            operationIds.Add(operation["operationId"]!.GetValue<string>());
        }

        Assert.Equal(operationIds.Count, operationIds.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task The_document_is_valid_OpenAPI_and_is_served_without_a_token()
    {
        using var anonymous = fixture.Admin(token: null);
        using var answer = await anonymous.GetAsync(new Uri("admin/openapi.json", UriKind.Relative));
        answer.EnsureSuccessStatusCode();
        Assert.Equal("application/json", answer.Content.Headers.ContentType!.MediaType);

        await using var body = await answer.Content.ReadAsStreamAsync();
        var read = await Microsoft.OpenApi.OpenApiDocument.LoadAsync(body, "json");

        Assert.Empty(read.Diagnostic!.Errors);
        Assert.Equal("Bridge admin API", read.Document!.Info.Title);
        Assert.Equal(AdminRoutes().Count, read.Document.Paths.Sum(path => path.Value.Operations!.Count));
    }

    [Fact]
    public async Task What_the_document_says_a_dead_letter_and_an_effect_look_like_is_what_the_API_answers()
    {
        var key = Guid.NewGuid().ToString("D");
        var account = Random.Shared.Next(2_000_000, 9_000_000);
        await fixture.Sandbox.Control.SetFaultAsync(
            new FaultRule { Method = "POST", PathContains = $"/accounts/{account}/external_invoices", FailNext = 10_000, ErrorStatus = 429 },
            CancellationToken.None);
        await fixture.Erp.PublishJsonAsync(fixture.Queue(SendClosingDocumentConsumer.Queue), Document(key, revision: 1, accountId: account), Guid.NewGuid().ToString("D"));
        var announced = await fixture.Events.WaitForAsync<Bridge.Contracts.ErpMessageDeadLettered>(key);
        await fixture.Sandbox.Control.ClearFaultsAsync(CancellationToken.None);

        var document = await DocumentAsync();
        using var admin = fixture.Admin(DeadLetterFixture.OperatorToken);
        var letter = (await admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/dead-letters/{announced.DeadLetterId}", UriKind.Relative)))!;
        var page = (await admin.GetFromJsonAsync<JsonObject>(new Uri($"admin/dead-letters?key={key}", UriKind.Relative)))!;
        var effects = (await admin.GetFromJsonAsync<JsonObject>(new Uri("admin/effects?state=Applied&pageSize=1", UriKind.Relative)))!;
        var session = (await admin.GetFromJsonAsync<JsonObject>(new Uri("admin/me", UriKind.Relative)))!;

        AssertShape(document, "/admin/dead-letters/{id}", letter);
        AssertShape(document, "/admin/dead-letters", page);
        AssertShape(document, "/admin/effects", effects);
        AssertShape(document, "/admin/me", session);
        var summary = Resolve(document, Success(document, "/admin/dead-letters")["properties"]!["items"]!["items"]!);
        Assert.Equal(Properties(summary), page["items"]![0]!.AsObject().Select(entry => entry.Key).Order(StringComparer.Ordinal));
    }

    /// <summary>The answer's top-level properties are exactly the ones the document's 200 schema for <paramref name="path"/> declares.</summary>
    private static void AssertShape(JsonObject document, string path, JsonObject answer) =>
        Assert.Equal(Properties(Success(document, path)), answer.Select(entry => entry.Key).Order(StringComparer.Ordinal));

    private static JsonNode Success(JsonObject document, string path) =>
        Resolve(document, document["paths"]![path]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!);

    private static JsonNode Resolve(JsonObject document, JsonNode schema) =>
        schema["$ref"]?.GetValue<string>() is { } reference
            ? document["components"]!["schemas"]![reference["#/components/schemas/".Length..]]!
            : schema;

    private static List<string> Properties(JsonNode schema) =>
        [.. schema["properties"]!.AsObject().Select(entry => entry.Key).Order(StringComparer.Ordinal)];

    private async Task<JsonObject> DocumentAsync()
    {
        using var anonymous = fixture.Admin(token: null);
        return (await anonymous.GetFromJsonAsync<JsonObject>(new Uri("admin/openapi.json", UriKind.Relative)))!;
    }

    /// <summary>Every <c>/admin/…</c> route the host maps, but the page's static files and the document itself.</summary>
    private List<(string Path, string Method, RouteEndpoint Endpoint)> AdminRoutes() =>
        [.. fixture.Get<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.RoutePattern.RawText!.StartsWith("/admin/", StringComparison.Ordinal)
                && !endpoint.RoutePattern.RawText.StartsWith(AdminUi.BasePath, StringComparison.Ordinal)
                && endpoint.RoutePattern.RawText != AdminApi.OpenApiPath)
            .SelectMany(endpoint => endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods
                .Select(method => (Path: RouteConstraint().Replace(endpoint.RoutePattern.RawText!.TrimEnd('/'), "{$1}"), Method: method.ToLowerInvariant(), endpoint)))];

    [GeneratedRegex(@"\{(\w+):\w+\}")]
    private static partial Regex RouteConstraint();
}
