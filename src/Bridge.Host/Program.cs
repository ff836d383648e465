using Bridge.Host.Admin;
using Bridge.Host.DeadLetters;
using Bridge.Host.Demo;
using Bridge.Host.Hosting;

if (args.Length > 0 && args[0] == "demo")
{
    return await DemoRunner.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "dead-letters")
{
    return await DeadLetterCli.RunAsync(args[1..], Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddBridge();

var app = builder.Build();
app.MapBridgeHealth();
app.MapBridgeAdmin();
await app.RunAsync();
return 0;
