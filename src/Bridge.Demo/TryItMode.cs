using System.Net;
using System.Security.Cryptography;
using Bridge.Host;
using Bridge.Host.Hosting;
using Bridge.Sandbox;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace Bridge.Demo;

/// <summary>A running try-it session: where Bridge and the sandbox listen, and the two secrets it made up for this run.</summary>
public sealed class TryItSession(WebApplication bridge, RunningSandbox sandbox, DirectoryInfo workDirectory, string erpKey, string operatorToken) : IAsyncDisposable
{
    public Uri BridgeAddress { get; } = new(bridge.Urls.Single().TrimEnd('/') + "/");

    public Uri SandboxAddress => sandbox.BaseAddress;

    public RunningSandbox Sandbox => sandbox;

    public WebApplication Bridge => bridge;

    /// <summary>The ERP key of the one door client, <c>try-erp</c>; made up for this run.</summary>
    public string ErpKey => erpKey;

    /// <summary>The operator token of <c>you</c> (role Operator); made up for this run.</summary>
    public string OperatorToken => operatorToken;

    public string DatabasePath => Path.Combine(workDirectory.FullName, "bridge.db");

    public async ValueTask DisposeAsync()
    {
        await bridge.StopAsync(CancellationToken.None);
        await bridge.DisposeAsync();
        await sandbox.DisposeAsync();
        try
        {
            workDirectory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment; the temp directory is left behind, nothing else.
        }
    }
}

/// <summary>
/// <c>bridge-demo try</c>: Bridge as a service on embedded defaults — the in-memory transport, a SQLite file, the sandbox in
/// process — with the HTTP door and the operators' page open, so a newcomer can send a message with <c>curl</c>, poll its
/// status, break the sandbox to make a dead letter and replay it from the page, without RabbitMQ. It runs until Ctrl+C.
/// </summary>
public static class TryItMode
{
    public const int DefaultPort = 5080;

    public static async Task<TryItSession> StartAsync(int port, string[] args, CancellationToken cancellationToken)
    {
        var workDirectory = Directory.CreateTempSubdirectory("bridge-try-");
        var sandbox = await SandboxServer.StartAsync(new SandboxSettings(), cancellationToken);
        var erpKey = Secret("erp");
        var operatorToken = Secret("op");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bridge:Messaging:Transport"] = "InMemory",

            // A fault made on purpose becomes a dead letter in about a second, rather than after minutes of retries.
            ["Bridge:Messaging:RetryLimit"] = "2",
            ["Bridge:Messaging:RetryMinInterval"] = "00:00:00.200",
            ["Bridge:Messaging:RetryMaxInterval"] = "00:00:00.500",
            ["Bridge:Storage:Provider"] = "Sqlite",
            ["Bridge:Storage:ConnectionString"] = $"Data Source={Path.Combine(workDirectory.FullName, "bridge.db")}",
            ["Bridge:Outbox:PollInterval"] = "00:00:01",
            ["Bridge:Admin:Tokens:0:Name"] = "you",
            ["Bridge:Admin:Tokens:0:Token"] = operatorToken,
            ["Bridge:Admin:Tokens:0:Role"] = "Operator",
            ["Bridge:DeadLetters:AllowEditAndReplay"] = "true",
            ["Bridge:Ingress:Clients:0:Name"] = "try-erp",
            ["Bridge:Ingress:Clients:0:Key"] = erpKey,
            ["ActivePlatform:BaseUrl"] = sandbox.BaseAddress.ToString(),
            ["ActivePlatform:ApiToken"] = SandboxSettings.DefaultToken,
            ["ActivePlatform:ResellerId"] = "1",
            ["ActivePlatform:RetryBaseDelay"] = "00:00:00.050",

            // A fault on one path is a broken message to dead-letter, not an ActivePlatform outage to wait out.
            ["ActivePlatform:CircuitBreakerMinimumThroughput"] = "100000",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Bridge"] = "Warning",
        });
        builder.AddBridge();
        var app = builder.Build();
        app.MapBridgeEndpoints();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            await sandbox.DisposeAsync();
            throw;
        }

        return new TryItSession(app, sandbox, workDirectory, erpKey, operatorToken);
    }

    public static async Task<int> RunAsync(int port, string[] args)
    {
        TryItSession started;
        try
        {
            started = await StartAsync(port, args, CancellationToken.None);
        }
        catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await Console.Error.WriteLineAsync($"Port {port} is in use: pass another one, e.g. 'try --port {port + 10}'.");
            return 2;
        }

        await using var session = started;
        Console.WriteLine(Instructions(session));

        // Ctrl+C and SIGTERM stop the host (its console lifetime), which ends this wait.
        await Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(session.Bridge);
        Console.WriteLine("Stopping.");
        return 0;
    }

    /// <summary>What to type: the sign-in, a message in, its status, a fault, the replay.</summary>
    public static string Instructions(TryItSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var bridge = session.BridgeAddress.ToString().TrimEnd('/');
        var sandbox = session.SandboxAddress.ToString().TrimEnd('/');
        return $$"""
            Bridge try-it mode: the in-memory transport, SQLite ({{session.DatabasePath}}) and the sandbox in process.
            Nothing here is kept after Ctrl+C; the key and the token below are made up for this run.

              Operators' page   {{bridge}}/admin/        sign in with the token  {{session.OperatorToken}}
              HTTP door         {{bridge}}/api/messages   ERP key (Bearer)        {{session.ErpKey}}
              Sandbox           {{sandbox}}

            1. Send a top-up payment (answered 202 once it is queued):
               curl -i -X POST {{bridge}}/api/messages/RegisterPayment \
                 -H 'Authorization: Bearer {{session.ErpKey}}' -H 'Idempotency-Key: topup-1' \
                 -H 'Content-Type: application/json' \
                 -d '{"key":"topup-1","accountId":523,"total":199.99,"comment":"top-up payment"}'

            2. Poll its status (accepted, in-progress, applied, rejected, dead-lettered), with the result event:
               curl -s {{bridge}}/api/messages/topup-1 -H 'Authorization: Bearer {{session.ErpKey}}'

            3. Break the sandbox: from now on it refuses every payment creation as if Bridge's API token had been revoked (401).
               curl -X PUT {{sandbox}}/_sandbox/faults -H 'Content-Type: application/json' \
                 -d '[{"method":"POST","pathContains":"/payments","failNext":100000,"errorStatus":401}]'
               Send another top-up (Idempotency-Key and key topup-2): after its retries it is dead-lettered, and its status
               says so. (A 503 would not do: ActivePlatform may have created the payment before failing, so Bridge looks
               for it for two minutes before it concludes anything.)

            4. Mend it, and replay the dead letter from the operators' page (or: curl -X DELETE {{sandbox}}/_sandbox/faults):
               curl -X DELETE {{sandbox}}/_sandbox/faults
               then open {{bridge}}/admin/, pick the dead letter, Replay — and poll topup-2 until it is applied.

            Ctrl+C stops everything.
            """;
    }

    private static string Secret(string prefix) => $"try-{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
}
