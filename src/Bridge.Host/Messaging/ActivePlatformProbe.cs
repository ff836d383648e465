using System.Globalization;
using Bridge.ActivePlatform;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Messaging;

/// <summary>What one probe found: ActivePlatform answered (any answer but 408, 429 and 5xx), or why it counts as down.</summary>
public sealed record ProbeResult(bool IsUp, string Detail);

/// <summary>Asks ActivePlatform whether it answers at all; used to confirm an outage and to see its end.</summary>
public interface IActivePlatformProbe
{
    Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One read of the reseller's currency rates (<c>GET …/currency_rates</c>, cheap and without effect), through its own
/// <see cref="HttpClient"/>: not the ActivePlatform client's, whose retries and circuit breaker would answer for it, and
/// whose total timeout is far longer than a probe should wait. Any answer but 408, 429 and 5xx means ActivePlatform is up —
/// a 401 or 403 too: it answers, and what it answers is the messages' business, not the probe's.
/// </summary>
public sealed class ActivePlatformProbe(IHttpClientFactory httpClientFactory, IOptionsMonitor<ActivePlatformOptions> activePlatform, IOptionsMonitor<OutageOptions> outage)
    : IActivePlatformProbe
{
    public const string HttpClientName = "ActivePlatformProbe";

    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(outage.CurrentValue.ProbeTimeout);
        var path = string.Create(CultureInfo.InvariantCulture, $"api/v3/resellers/{activePlatform.CurrentValue.ResellerId}/currency_rates");
        try
        {
            using var client = httpClientFactory.CreateClient(HttpClientName);
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            return new ProbeResult(
                !ActivePlatformFailureClassification.IsTransientStatus(status),
                string.Create(CultureInfo.InvariantCulture, $"GET {path} answered {status}"));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(false, string.Create(CultureInfo.InvariantCulture, $"GET {path} had no answer within {outage.CurrentValue.ProbeTimeout}"));
        }
        catch (HttpRequestException ex)
        {
            // The error kind only: the message may quote more of the request than a log should hold.
            return new ProbeResult(false, $"GET {path} failed: {ex.HttpRequestError}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever else fails counts as no answer: a probe that throws would leave consumption paused for good.
            return new ProbeResult(false, $"GET {path} failed: {ex.GetType().Name}");
        }
    }
}
