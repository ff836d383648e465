using Bridge.Host.Admin;
using Bridge.Host.Demo;
using Bridge.Host.Hosting;

if (args.Length > 0 && args[0] == "demo")
{
    return await DemoRunner.RunAsync(args[1..]);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddBridge();

var app = builder.Build();
app.MapBridgeHealth();
app.MapBridgeAdmin();
await app.RunAsync();
return 0;
