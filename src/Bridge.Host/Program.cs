using Bridge.Host.Admin;
using Bridge.Host.DeadLetters;
using Bridge.Host.Demo;
using Bridge.Host.Effects;
using Bridge.Host.Hosting;

if (args.Length > 0 && args[0] == "demo")
{
    return await DemoRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "dead-letters")
{
    return await DeadLetterCli.RunAsync(args[1..], Console.Out, Console.Error);
}

if (args.Length > 0 && args[0] == "effects")
{
    return await EffectCli.RunAsync(args[1..], Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddBridge();

try
{
    var app = builder.Build();
    app.MapBridgeHealth();
    app.MapBridgeAdmin();
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

    return 2;
}
catch (Bridge.Host.Storage.DatabaseUnreachableException ex)
{
    await Console.Error.WriteLineAsync("Bridge cannot start: " + ex.Message);
    return 3;
}

return 0;
