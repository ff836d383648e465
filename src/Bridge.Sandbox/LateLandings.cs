namespace Bridge.Sandbox;

/// <summary>
/// Calls answered already and carried out later (<see cref="FaultRule.LandLateNext"/>, <see cref="FaultRule.LandLateRate"/>):
/// what a client sees when a gateway gives up on a request the platform goes on to apply. The call is copied — method,
/// path, query, headers and body — and, after its delay, sent again to the sandbox over the address it arrived on with
/// <see cref="Header"/>, which the fault middleware lets through untouched; so it is carried out by the same endpoints,
/// logged and recorded in the effect ledger at the moment it lands; one answered with an async task is run to its end (the
/// landing polls it, as the platform would run it unpolled). A reset drops what has not landed yet, and so does the sandbox
/// stopping: those calls are never carried out. A landing already on its way when the reset comes may still arrive after it.
/// </summary>
internal sealed class LateLandings(IHostApplicationLifetime lifetime, ILogger<LateLandings> logger) : IDisposable
{
    public const string Header = "X-Sandbox-Late-Landing";

    private static readonly HashSet<string> NotCopied = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding", "Expect", "Upgrade", "TE", "Trailer", Header,
    };

    private readonly HttpClient _client = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    private readonly Lock _gate = new();
    private CancellationTokenSource _generation = new();
    private TaskCompletionSource _now = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pending;

    /// <summary>Calls answered and not yet carried out (nor dropped).</summary>
    public int Pending => Volatile.Read(ref _pending);

    public static bool IsLanding(HttpRequest request) => request.Headers.ContainsKey(Header);

    /// <summary>Copies the call now (its body is read to the end) and carries it out after <paramref name="delay"/>.</summary>
    public async Task DeferAsync(HttpContext context, TimeSpan delay)
    {
        var request = context.Request;
        var body = new MemoryStream();
        if (request.Body.CanSeek)
        {
            request.Body.Position = 0;
        }

        await request.Body.CopyToAsync(body, context.RequestAborted);
        // To the address the call arrived on (not its Host header, which may name a port mapping outside a container).
        var local = context.Connection.LocalIpAddress ?? System.Net.IPAddress.Loopback;
        var address = new UriBuilder(request.Scheme, local.IsIPv4MappedToIPv6 ? local.MapToIPv4().ToString() : local.ToString(), context.Connection.LocalPort).Uri;
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(address, $"{request.PathBase}{request.Path}{request.QueryString}"));
        if (body.Length > 0)
        {
            message.Content = new ByteArrayContent(body.ToArray());
        }

        foreach (var (name, values) in request.Headers)
        {
            if (!NotCopied.Contains(name) && !message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        message.Headers.TryAddWithoutValidation(Header, "1");

        CancellationToken dropped;
        Task now;
        lock (_gate)
        {
            dropped = _generation.Token;
            now = _now.Task;
            _pending++;
        }

        _ = Task.Run(() => LandAsync(message, delay, now, dropped));
    }

    /// <summary>Carries out every call still waiting, without waiting for its delay; returns how many there were.</summary>
    public int LandNow()
    {
        lock (_gate)
        {
            var landing = _pending;
            _now.TrySetResult();
            _now = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return landing;
        }
    }

    /// <summary>
    /// A landed call answered with an async task: ActivePlatform runs the task whether anyone polls it or not, but in the
    /// sandbox a task takes effect on the poll that completes it, so the landing polls it to its end on the platform's behalf.
    /// </summary>
    private async Task RunTaskAsync(HttpRequestMessage landed, HttpResponseMessage accepted, CancellationToken cancellationToken)
    {
        var body = System.Text.Json.Nodes.JsonNode.Parse(await accepted.Content.ReadAsStringAsync(cancellationToken));
        var path = landed.RequestUri!.AbsolutePath;
        var reseller = System.Text.RegularExpressions.Regex.Match(path, "^/api/v3/resellers/([0-9]+)/");
        if (body?["data"]?["type"]?.ToString() != "async_tasks" || body["data"]?["id"]?.ToString() is not { } task || !reseller.Success)
        {
            return;
        }

        for (var poll = 0; poll < 1000; poll++)
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, new Uri(landed.RequestUri, $"/api/v3/resellers/{reseller.Groups[1].Value}/async_tasks/{task}"));
            foreach (var (name, values) in landed.Headers)
            {
                get.Headers.TryAddWithoutValidation(name, values);
            }

            using var polled = await _client.SendAsync(get, cancellationToken);
            var status = System.Text.Json.Nodes.JsonNode.Parse(await polled.Content.ReadAsStringAsync(cancellationToken))?["data"]?["attributes"]?["status"]?.ToString();
            if (!polled.IsSuccessStatusCode || status is "completed" or "failed")
            {
                return;
            }
        }
    }

    /// <summary>Drops every call that has not landed yet.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            // Cancelled, not disposed: a landing that is just starting may still link to its token.
            _generation.Cancel();
            _generation = new CancellationTokenSource();
        }
    }

    public void Dispose()
    {
        Reset();
        _client.Dispose();
    }

    private async Task LandAsync(HttpRequestMessage message, TimeSpan delay, Task now, CancellationToken dropped)
    {
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(dropped, lifetime.ApplicationStopping);
            using (var waited = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
            {
                var delayed = FaultInjector.AtLeastAsync(delay, waited.Token);
                await Task.WhenAny(delayed, now); // the delay ends early when the landing is dropped or the sandbox stops
                await waited.CancelAsync();
                await delayed.ContinueWith(_ => { }, TaskScheduler.Default);
            }

            stop.Token.ThrowIfCancellationRequested();
            using var response = await _client.SendAsync(message, stop.Token);
            logger.LogDebug("{Method} {Path} landed late with {Status}", message.Method, message.RequestUri?.AbsolutePath, (int)response.StatusCode);
            if (response.StatusCode == System.Net.HttpStatusCode.Accepted)
            {
                await RunTaskAsync(message, response, stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Reset or stopping: the call is never carried out.
        }
        catch (HttpRequestException e)
        {
            logger.LogWarning("{Method} {Path} could not land late: {Error}", message.Method, message.RequestUri?.AbsolutePath, e.Message);
        }
        finally
        {
            message.Dispose();
            lock (_gate)
            {
                _pending--;
            }
        }
    }
}
