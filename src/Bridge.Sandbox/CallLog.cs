using System.Diagnostics;
using System.Globalization;

namespace Bridge.Sandbox;

/// <summary>One API call the sandbox received (control-API calls are not logged).</summary>
/// <param name="Query">The query string, URL-decoded, with its leading '?' (empty when none).</param>
/// <param name="Status">The status answered; 499 when the client gave up before an answer.</param>
/// <param name="ExternalInvoiceKey">The closing document's key, on POST/PATCH/DELETE of external_invoices; the payment
/// number or id on payment calls; the account ids (comma-separated) on a notification.</param>
/// <param name="Fault">The injected fault, if any: latency | hang | throttle | error.</param>
public sealed record SandboxCall(
    long Sequence,
    DateTimeOffset Timestamp,
    string Method,
    string Path,
    string Query,
    int Status,
    string? ExternalInvoiceKey,
    string? Fault,
    double DurationMs);

/// <summary>Every API call received, so tests can count effects (e.g. POSTs per key).</summary>
internal sealed class CallLog
{
    public const int ClientClosedRequest = 499;

    private const string KeyItem = "sandbox.key";
    private const string FaultItem = "sandbox.fault";

    private readonly Lock _gate = new();
    private readonly List<SandboxCall> _calls = [];
    private long _sequence;

    public static void SetKey(HttpContext context, string key) => context.Items[KeyItem] = key;

    public static void SetFault(HttpContext context, string fault) => context.Items[FaultItem] = fault;

    public IReadOnlyList<SandboxCall> Query(string? method, string? pathContains, string? key)
    {
        lock (_gate)
        {
            return
            [
                .. _calls.Where(c =>
                    (string.IsNullOrEmpty(method) || string.Equals(c.Method, method, StringComparison.OrdinalIgnoreCase))
                    && (string.IsNullOrEmpty(pathContains) || c.Path.Contains(pathContains, StringComparison.OrdinalIgnoreCase))
                    && (string.IsNullOrEmpty(key) || string.Equals(c.ExternalInvoiceKey, key, StringComparison.Ordinal))),
            ];
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _calls.Clear();
        }
    }

    private void Add(SandboxCall call)
    {
        lock (_gate)
        {
            _calls.Add(call with { Sequence = ++_sequence });
        }
    }

    /// <summary>Outermost middleware: logs the call after it was answered, whatever answered it.</summary>
    public static async Task Middleware(HttpContext context, RequestDelegate next)
    {
        if (!SandboxApp.IsApiPath(context.Request.Path))
        {
            await next(context);
            return;
        }

        var log = context.RequestServices.GetRequiredService<CallLog>();
        var clock = context.RequestServices.GetRequiredService<SandboxClock>();
        var received = clock.Now;
        var started = Stopwatch.GetTimestamp();

        // The key is read here, before faults can answer, so a faulted write still counts for its key.
        if (IsDocumentWrite(context.Request))
        {
            var (ok, body) = await ApiJson.ReadBodyAsync(context);
            if (ok && ApiJson.Text(ApiJson.Attributes(body)?["key"]) is { } key)
            {
                SetKey(context, key);
            }
        }

        else if (HttpMethods.IsDelete(context.Request.Method) && DocumentKeyOf(context) is { } deletedKey)
        {
            // Looked up before the call runs: afterwards the document is gone.
            SetKey(context, deletedKey);
        }

        var status = 0;
        try
        {
            await next(context);
            status = context.Response.StatusCode;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client gave up (a hang, or its own timeout); nobody is left to answer.
            status = ClientClosedRequest;
        }
        finally
        {
            if (status == 0)
            {
                status = StatusCodes.Status500InternalServerError;
            }

            var query = context.Request.QueryString.HasValue ? Uri.UnescapeDataString(context.Request.QueryString.Value!) : "";
            log.Add(new SandboxCall(0, received, context.Request.Method, context.Request.Path.Value ?? "", query, status,
                context.Items[KeyItem] as string, context.Items[FaultItem] as string,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds));
        }
    }

    /// <summary>The key of the document a DELETE names: /api/v3/resellers/{r}/accounts/{a}/external_invoices/{id}.</summary>
    private static string? DocumentKeyOf(HttpContext context)
    {
        var segments = (context.Request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is not ["api", "v3", "resellers", var reseller, "accounts", var account, "external_invoices", var id]
            || !int.TryParse(reseller, CultureInfo.InvariantCulture, out var resellerId)
            || !int.TryParse(account, CultureInfo.InvariantCulture, out var accountId)
            || !long.TryParse(id, CultureInfo.InvariantCulture, out var documentId))
        {
            return null;
        }

        return context.RequestServices.GetRequiredService<ClosingDocumentStore>().Find(resellerId, accountId, documentId)?.Fields.Key;
    }

    private static bool IsDocumentWrite(HttpRequest request) =>
        (HttpMethods.IsPost(request.Method) || HttpMethods.IsPatch(request.Method))
        && request.Path.Value is { } path
        && path.Contains("/accounts/", StringComparison.Ordinal)
        && path.Contains("/external_invoices", StringComparison.Ordinal);
}
