using System.Net;
using System.Net.Http.Headers;
using Bridge.ActivePlatform.Api;
using Bridge.ActivePlatform.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Refit;

namespace Microsoft.Extensions.DependencyInjection;

public static class ActivePlatformServiceCollectionExtensions
{
    /// <summary>The name of the one <see cref="HttpClient"/> all ActivePlatform APIs share (one circuit breaker for the installation).</summary>
    public const string HttpClientName = "ActivePlatform";

    /// <summary>Binds <see cref="Bridge.ActivePlatform.ActivePlatformOptions"/> from <paramref name="section"/> (normally <c>ActivePlatform</c>) and validates it at start.</summary>
    public static IServiceCollection AddActivePlatformClient(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var path = section is IConfigurationSection s ? s.Path : Bridge.ActivePlatform.ActivePlatformOptions.SectionName;
        services.AddOptions<Bridge.ActivePlatform.ActivePlatformOptions>().Bind(section);
        return services.AddActivePlatformClientCore(path);
    }

    public static IServiceCollection AddActivePlatformClient(this IServiceCollection services, Action<Bridge.ActivePlatform.ActivePlatformOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<Bridge.ActivePlatform.ActivePlatformOptions>().Configure(configure);
        return services.AddActivePlatformClientCore(Bridge.ActivePlatform.ActivePlatformOptions.SectionName);
    }

    private static IServiceCollection AddActivePlatformClientCore(this IServiceCollection services, string sectionPath)
    {
        ArgumentNullException.ThrowIfNull(services);

        // A second call must not stack a second resilience pipeline (retries would multiply) on the named client.
        if (services.Any(d => d.ServiceType == typeof(RegistrationMarker)))
        {
            return services;
        }

        services.AddSingleton<RegistrationMarker>();
        services.AddOptions<Bridge.ActivePlatform.ActivePlatformOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Bridge.ActivePlatform.ActivePlatformOptions>>(
            new Bridge.ActivePlatform.ActivePlatformOptionsValidator(sectionPath)));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddTransient<Bridge.ActivePlatform.ApiTokenHandler>();

        var http = services.AddHttpClient(HttpClientName)
            .ConfigureHttpClient((sp, client) =>
            {
                var options = sp.GetRequiredService<IOptions<Bridge.ActivePlatform.ActivePlatformOptions>>().Value;
                client.BaseAddress = options.BaseUrl;

                // The resilience pipeline owns timeouts (per attempt and in total).
                client.Timeout = Timeout.InfiniteTimeSpan;
                client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Bridge", "1.0"));
            })
            .RedactLoggedHeaders([Bridge.ActivePlatform.ApiTokenHandler.HeaderName]);

        // Outside the resilience handler: stamps when the call began, for the send deadline below.
        services.TryAddTransient<Bridge.ActivePlatform.CallStartHandler>();
        services.TryAddTransient<Bridge.ActivePlatform.SendDeadlineHandler>();
        http.AddHttpMessageHandler<Bridge.ActivePlatform.CallStartHandler>();

        http.AddResilienceHandler("activeplatform", ConfigureResilience);

        // Inside the resilience handler: every attempt passes through it.
        http.AddHttpMessageHandler<Bridge.ActivePlatform.ApiTokenHandler>();

        // Every attempt, retries included, waits for its turn under the installation's rate limit (off unless configured).
        services.TryAddSingleton<Bridge.ActivePlatform.IActivePlatformRateShare, Bridge.ActivePlatform.SingleInstanceRateShare>();
        services.TryAddSingleton<Bridge.ActivePlatform.ActivePlatformRateLimiter>();
        services.TryAddTransient<Bridge.ActivePlatform.ActivePlatformRateLimitHandler>();
        http.AddHttpMessageHandler<Bridge.ActivePlatform.ActivePlatformRateLimitHandler>();

        // Innermost, after the rate limiter's wait: no attempt leaves after the call's total timeout (SendDeadline).
        http.AddHttpMessageHandler<Bridge.ActivePlatform.SendDeadlineHandler>();

        // Generated clients over the one named HttpClient configured above: no reflection, one pipeline for all four APIs.
        var context = ActivePlatformJsonContext.Default;
        services.AddRefitGeneratedClient<IClosingDocumentsApi>(context, RefitSettingsFor, HttpClientName);
        services.AddRefitGeneratedClient<IAsyncTasksApi>(context, RefitSettingsFor, HttpClientName);
        services.AddRefitGeneratedClient<IChildResellerAccountsApi>(context, RefitSettingsFor, HttpClientName);
        services.AddRefitGeneratedClient<ISubscriptionsApi>(context, RefitSettingsFor, HttpClientName);
        Bridge.ActivePlatform.Payments.PaymentsRegistration.AddPayments(services, HttpClientName);
        Bridge.ActivePlatform.Queries.QueriesRegistration.AddQueries(services, HttpClientName);
        Bridge.ActivePlatform.Operations.OperationsRegistration.AddOperations(services, HttpClientName);

        services.TryAddSingleton<Bridge.ActivePlatform.ResellerReach>();
        services.TryAddTransient<Bridge.ActivePlatform.IActivePlatformClient, Bridge.ActivePlatform.ActivePlatformClient>();
        services.AddMetrics();
        services.TryAddSingleton<Bridge.ActivePlatform.ActivePlatformMetrics>();
        services.TryAddTransient<Bridge.ActivePlatform.ActivePlatformAsyncTaskPoller>();
        services.AddActivePlatformCurrencyRates();

        // Corrections: own facade over the shared error translation of ActivePlatformClient.
        services.AddRefitGeneratedClient<Bridge.ActivePlatform.Corrections.ICorrectionsApi>(context, RefitSettingsFor, HttpClientName);
        services.TryAddTransient<Bridge.ActivePlatform.ActivePlatformClient>();
        services.TryAddTransient<Bridge.ActivePlatform.Corrections.ICorrectionsClient, Bridge.ActivePlatform.Corrections.CorrectionsClient>();

        // Invoices with external management: own facade, same shared error translation.
        services.AddRefitGeneratedClient<Bridge.ActivePlatform.Invoices.IInvoicesApi>(context, RefitSettingsFor, HttpClientName);
        services.TryAddTransient<Bridge.ActivePlatform.Invoices.IInvoicesClient, Bridge.ActivePlatform.Invoices.InvoicesClient>();
        return services;
    }

    private static RefitSettings RefitSettingsFor(IServiceProvider services) => Bridge.ActivePlatform.ActivePlatformRefit.Settings(ActivePlatformJsonContext.Default);

    /// <summary>
    /// Total timeout → retry → circuit breaker → attempt timeout (outermost first).
    /// <para>
    /// Retries and non-idempotent writes: GET, PATCH (a full replacement here) and DELETE are retried on every transient
    /// outcome. A POST is retried only when it surely had no effect — a connection that never opened, or a 429. A POST that
    /// timed out or got a 5xx may have created the closing document (or sent the notifications), and a blind HTTP retry
    /// would create a duplicate or be refused as a duplicate key (a 422 that would wrongly reject the message). Such a POST
    /// surfaces as a transient <see cref="Bridge.ActivePlatform.ActivePlatformTransientException"/>: the message is redelivered, and the
    /// pipeline's idempotency layer looks the document up by its ERP key before writing again, then PATCHes what exists.
    /// That lookup — not an HTTP retry — is what makes repeating a closing-document write safe.
    /// </para>
    /// </summary>
    private static void ConfigureResilience(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ResilienceHandlerContext context)
    {
        var options = context.ServiceProvider.GetRequiredService<IOptions<Bridge.ActivePlatform.ActivePlatformOptions>>().Value;

        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Name = "total", Timeout = options.TotalTimeout });

        if (options.RetryCount > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.RetryCount,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.TotalTimeout,
                ShouldRetryAfterHeader = true,
                ShouldHandle = args =>
                {
                    var request = args.Context.GetRequestMessage();
                    Bridge.ActivePlatform.AttemptOutcomes.Record(args.Outcome, request);
                    return ValueTask.FromResult(ShouldRetry(args.Outcome, request?.Method));
                },
            });
        }

        // The breaker's own judgement of a failure, except that a 429 Bridge answered itself (its rate limit, nothing sent)
        // says nothing about ActivePlatform's health.
        var transient = new HttpCircuitBreakerStrategyOptions().ShouldHandle;
        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            ShouldHandle = async args =>
                args.Outcome.Result?.Headers.Contains(Bridge.ActivePlatform.ActivePlatformRateLimitHandler.LocalHeader) != true
                && await transient(args),
            FailureRatio = options.CircuitBreakerFailureRatio,
            MinimumThroughput = options.CircuitBreakerMinimumThroughput,
            SamplingDuration = options.CircuitBreakerSamplingDuration,
            BreakDuration = options.CircuitBreakerBreakDuration,
        });

        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Name = "attempt", Timeout = options.AttemptTimeout });
    }

    /// <summary>Whether the HTTP layer may repeat a request after <paramref name="outcome"/>; see <see cref="ConfigureResilience"/>.</summary>
    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, HttpMethod? method)
    {
        if (!HttpClientResiliencePredicates.IsTransient(outcome) || outcome.Exception is Bridge.ActivePlatform.AttemptNotSentException)
        {
            return false;
        }

        if (method != HttpMethod.Post)
        {
            return true;
        }

        if (outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests })
        {
            return true;
        }

        // The connection never opened, so the server never saw the request.
        return outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };
    }

    private sealed class RegistrationMarker;
}
