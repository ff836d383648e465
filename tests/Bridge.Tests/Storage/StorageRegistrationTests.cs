using Bridge.Host.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace Bridge.Tests.Storage;

public sealed class StorageRegistrationTests
{
    [Fact]
    public async Task Missing_connection_string_for_a_server_database_fails_start_naming_the_setting()
    {
        using var host = BuildHost(new() { ["Bridge:Storage:Provider"] = "PostgreSql" });

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Bridge:Storage:ConnectionString", failure.Message);
    }

    [Fact]
    public async Task Empty_connection_string_fails_start_even_for_sqlite()
    {
        using var host = BuildHost(new() { ["Bridge:Storage:Provider"] = "Sqlite", ["Bridge:Storage:ConnectionString"] = " " });

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Bridge:Storage:ConnectionString", failure.Message);
    }

    [Fact]
    public async Task Malformed_connection_string_fails_start_without_revealing_its_password()
    {
        using var host = BuildHost(new()
        {
            ["Bridge:Storage:Provider"] = "SqlServer",
            ["Bridge:Storage:ConnectionString"] = "Server=db;Password='hunter2-secret;User Id=bridge",
        });

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Bridge:Storage:ConnectionString", failure.Message);
        Assert.DoesNotContain("hunter2", failure.ToString());
    }

    [Fact]
    public async Task Host_start_migrates_the_configured_database_and_the_stores_use_it()
    {
        var directory = Directory.CreateTempSubdirectory("bridge-storage-di-").FullName;
        try
        {
            using (var host = BuildHost(new()
            {
                ["Bridge:Storage:Provider"] = "Sqlite",
                ["Bridge:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "bridge.db")}",
            }))
            {
                await host.StartAsync();
                var idempotency = host.Services.GetRequiredService<IIdempotencyStore>();
                var outbox = host.Services.GetRequiredService<IOutboxStore>();

                var begun = await idempotency.BeginAsync("msg-1", "CreateClosingDocument", "fp", null, CancellationToken.None);

                Assert.True(begun.IsNew);
                Assert.Equal(0, await outbox.CountPendingAsync(CancellationToken.None));
                Assert.Same(host.Services.GetRequiredService<IBridgeDatabase>(), host.Services.GetRequiredService<BridgeDatabase>());
                await host.StopAsync();
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Database_does_not_show_its_connection_string()
    {
        using var database = new BridgeDatabase(new StorageOptions
        {
            Provider = SqlDialect.PostgreSql,
            ConnectionString = "Host=db;Username=bridge;Password=hunter2-secret",
        });

        Assert.DoesNotContain("hunter2", database.ToString());
    }

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        builder.Services.AddBridgeStorage(builder.Configuration);
        return builder.Build();
    }
}
