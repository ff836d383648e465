using Bridge.Host;
using Bridge.Host.Admin;
using Bridge.Host.Cli;
using Bridge.Host.Hosting;
using Bridge.Host.Storage;

// bridge [serve] | migrate | dead-letters … | effects … — see BridgeCli for the commands and their exit codes.
return await BridgeCli.RunAsync(args, Console.Out, Console.Error, serve: ServeAsync);

static async Task<int> ServeAsync(string[] configurationArgs, CancellationToken cancellationToken)
{
    var builder = WebApplication.CreateBuilder(configurationArgs);
    builder.AddBridge();

    try
    {
        var app = builder.Build();
        app.MapBridgeEndpoints();
        await app.RunAsync();
    }
    catch (Exception ex) when (StartupFailure.TryDescribe(ex, out var problems))
    {
        // Settings are checked at start: name every missing or invalid one, without a stack trace.
        await Console.Error.WriteLineAsync("Bridge cannot start; fix these settings:");
        foreach (var problem in problems)
        {
            await Console.Error.WriteLineAsync("  - " + problem);
        }

        return BridgeCli.BadUsage;
    }
    catch (Exception ex) when (ex is DatabaseUnreachableException or SchemaBehindException)
    {
        await Console.Error.WriteLineAsync("Bridge cannot start: " + ex.Message);
        return BridgeCli.DatabaseNotReady;
    }

    return BridgeCli.Done;
}
