using Bridge.Sandbox;

// Standalone: dotnet run --project src/Bridge.Sandbox -- --urls http://127.0.0.1:5080
// Settings come from the "Sandbox" section (appsettings.json, or env such as Sandbox__Async__Mode=All).
var builder = WebApplication.CreateBuilder(args);
var settings = (builder.Configuration.GetSection("Sandbox").Get<SandboxSettings>() ?? new SandboxSettings()).WithDefaults();
builder.Services.AddSandbox(settings);

var app = builder.Build();
app.MapSandbox();
await app.RunAsync();
