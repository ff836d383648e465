using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Bridge.Sandbox;

/// <summary>Starts the sandbox inside the calling process (the Host's demo, tests, benchmarks).</summary>
public static class SandboxServer
{
    /// <summary>
    /// Starts a sandbox on http://127.0.0.1 and <see cref="SandboxSettings.ListenPort"/> (0: a free port).
    /// Configuration files and environment variables of the process are ignored; <paramref name="settings"/>
    /// (with its defaults filled in) is all there is. Logging is off.
    /// </summary>
    public static async Task<RunningSandbox> StartAsync(SandboxSettings settings, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.WithDefaults();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SandboxServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // The host process's appsettings (a Kestrel section, urls) must not reconfigure the sandbox.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, settings.ListenPort));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddSandbox(settings);

        var app = builder.Build();
        app.MapSandbox();
        try
        {
            await app.StartAsync(ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
                .Addresses.First();
            return new RunningSandbox(app, new Uri(address.TrimEnd('/') + "/"), settings);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a sandbox with the default settings (token <see cref="SandboxSettings.DefaultToken"/>).</summary>
    public static Task<RunningSandbox> StartAsync(CancellationToken ct) => StartAsync(new SandboxSettings(), ct);
}

/// <summary>A started sandbox; disposing stops it.</summary>
public sealed class RunningSandbox : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _controlHttp;

    internal RunningSandbox(WebApplication app, Uri baseAddress, SandboxSettings settings)
    {
        _app = app;
        BaseAddress = baseAddress;
        Settings = settings;
        _controlHttp = new HttpClient { BaseAddress = baseAddress };
        Control = new SandboxControlClient(_controlHttp);
    }

    /// <summary>e.g. http://127.0.0.1:41234/ — the ActivePlatform base URL to give a client.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The settings it runs with, defaults filled in.</summary>
    public SandboxSettings Settings { get; }

    /// <summary>The control API (<c>/_sandbox/</c>) over HTTP.</summary>
    public SandboxControlClient Control { get; }

    /// <summary>A plain HttpClient at <see cref="BaseAddress"/> sending <c>X-Api-Token</c> (none when null).</summary>
    public HttpClient CreateClient(string? apiToken = SandboxSettings.DefaultToken)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (apiToken is not null)
        {
            client.DefaultRequestHeaders.Add(Auth.TokenHeader, apiToken);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        _controlHttp.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

/// <summary>Timestamps in the configured offset (the docs' examples are mostly +0300).</summary>
internal sealed class SandboxClock(TimeSpan offset)
{
    public DateTimeOffset Now => TimeProvider.System.GetUtcNow().ToOffset(offset);
}

/// <summary>Service registration and the request pipeline, shared by Program.cs and <see cref="SandboxServer"/>.</summary>
internal static class SandboxApp
{
    private const string JsonApiMediaType = "application/vnd.api+json";

    public const string ApiPrefix = "/api/v3/resellers";

    public static bool IsApiPath(PathString path) => path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    public static IServiceCollection AddSandbox(this IServiceCollection services, SandboxSettings settings)
    {
        var directory = new ResellerDirectory(settings.Resellers);
        services.AddSingleton(settings);
        services.AddSingleton(directory);
        services.AddSingleton(new TokenRegistry(settings.Tokens, settings.OutOfScopeStatus));
        services.AddSingleton(new AsyncModeState(settings.Async));
        services.AddSingleton(new FaultInjector(settings.Faults, settings.RandomSeed));
        var catalog = Catalog.Seed(directory, settings.SubscriptionsPerReseller);
        services.AddSingleton(catalog);
        services.AddSingleton(new AccountDirectory(catalog, directory, settings.Accounts));
        services.AddSingleton(new SandboxClock(TimeSpan.FromMinutes(settings.UtcOffsetMinutes)));
        services.AddSingleton<ClosingDocumentStore>();
        services.AddSingleton<AsyncTaskStore>();
        services.AddSingleton<CallLog>();
        services.AddSingleton<LateLandings>();
        services.AddSingleton<EffectLedger>();
        services.AddSingleton<PaymentStore>();
        services.AddSingleton<CurrencyRateStore>();
        services.AddSingleton<CorrectionStore>();
        services.AddSingleton<InvoiceStore>();
        services.AddSandboxReads(settings);
        services.AddSandboxOperations();
        return services;
    }

    /// <summary>Answers 411 to an API request whose body comes without a length (see <see cref="SandboxSettings.RefuseChunkedBodies"/>).</summary>
    private static Task RefuseChunkedBodies(HttpContext context, RequestDelegate next) =>
        SandboxApp.IsApiPath(context.Request.Path)
            && context.Request.ContentLength is null
            && context.Request.Headers.TransferEncoding.Count > 0
            && context.RequestServices.GetRequiredService<SandboxSettings>().RefuseChunkedBodies
                ? ApiJson.Error(StatusCodes.Status411LengthRequired, "Length Required").ExecuteAsync(context)
                : next(context);

    /// <summary>
    /// Answers 406 to an API request that does not accept JSON:API and 415 to a body of another type (see
    /// <see cref="SandboxSettings.RequireJsonApiMediaTypes"/>). A bodiless request's <c>Content-Type</c> is not judged.
    /// </summary>
    private static Task RequireJsonApiMediaTypes(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (!SandboxApp.IsApiPath(request.Path) || !context.RequestServices.GetRequiredService<SandboxSettings>().RequireJsonApiMediaTypes)
        {
            return next(context);
        }

        var headers = request.GetTypedHeaders();
        if (!headers.Accept.Any(accepted => accepted.MediaType.Equals(JsonApiMediaType, StringComparison.OrdinalIgnoreCase)))
        {
            return ApiJson.Error(StatusCodes.Status406NotAcceptable, "Not Acceptable").ExecuteAsync(context);
        }

        var hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
        return hasBody && headers.ContentType?.MediaType.Equals(JsonApiMediaType, StringComparison.OrdinalIgnoreCase) != true
            ? ApiJson.Error(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type").ExecuteAsync(context)
            : next(context);
    }

    public static void MapSandbox(this WebApplication app)
    {
        // Call log outermost, so faulted calls are logged with the status they were answered.
        app.Use(CallLog.Middleware);
        app.Use(RefuseChunkedBodies);
        app.Use(RequireJsonApiMediaTypes);
        app.Use(FaultInjector.Middleware);

        var api = app.MapGroup(ApiPrefix + "/{reseller_id:int}").AddEndpointFilter(Auth.RequireToken);
        ExternalInvoiceEndpoints.Map(api);
        AsyncTaskStore.Map(api);
        Catalog.Map(api);
        PaymentEndpoints.Map(api);
        CorrectionEndpoints.Map(api);
        InvoiceEndpoints.Map(api);
        ReadEndpoints.Map(api, app);
        OperationEndpoints.Map(api, app);
        app.MapFallback("/api/{**path}", () => ApiJson.Error(StatusCodes.Status404NotFound, "Not Found"));

        ControlApi.Map(app);
        CurrencyRateEndpoints.Map(api);
        CurrencyRateEndpoints.MapControl(app);
    }
}
