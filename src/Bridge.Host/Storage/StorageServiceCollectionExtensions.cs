using System.Data.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="StorageOptions"/> from <c>Bridge:Storage</c> (validated when the host starts), registers
    /// <see cref="IBridgeDatabase"/> and the three stores as singletons, and a hosted service that migrates the
    /// database during start, before hosted services registered after this call start.
    /// </summary>
    public static IServiceCollection AddBridgeStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        var section = configuration.GetSection(StorageOptions.Section);
        services.AddOptions<StorageOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>>(
            new StorageOptionsValidator(connectionStringConfigured: section[nameof(StorageOptions.ConnectionString)] is not null));

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(provider => new BridgeDatabase(
            provider.GetRequiredService<IOptions<StorageOptions>>().Value,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<BridgeDatabase>>()));
        services.AddSingleton<IBridgeDatabase>(provider => provider.GetRequiredService<BridgeDatabase>());
        services.AddSingleton<IIdempotencyStore, SqlIdempotencyStore>();
        services.AddSingleton<IDocumentStateStore, SqlDocumentStateStore>();
        services.AddSingleton<IOutboxStore, SqlOutboxStore>();
        services.AddSingleton<Bridge.Host.Effects.IEffectJournal, Bridge.Host.Effects.SqlEffectJournal>();
        services.AddSingleton<ICompletionStore, SqlCompletionStore>();
        services.AddHostedService<StorageMigrationService>();
        return services;
    }
}

/// <summary>
/// Fails start-up on a missing or malformed connection string, naming the setting but never echoing its value
/// (it may hold a password). SQLite may rely on the default file; the server dialects need one configured.
/// </summary>
internal sealed class StorageOptionsValidator(bool connectionStringConfigured) : IValidateOptions<StorageOptions>
{
    private const string Key = StorageOptions.Section + ":" + nameof(StorageOptions.ConnectionString);

    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        if (!Enum.IsDefined(options.Provider))
        {
            return ValidateOptionsResult.Fail($"{StorageOptions.Section}:Provider must be one of {string.Join(", ", Enum.GetNames<SqlDialect>())}.");
        }

        if (string.IsNullOrWhiteSpace(options.ConnectionString)
            || (!connectionStringConfigured && options.Provider != SqlDialect.Sqlite))
        {
            return ValidateOptionsResult.Fail($"{Key} is required (provider {options.Provider}).");
        }

        if (options.StartupWait < TimeSpan.Zero)
        {
            return ValidateOptionsResult.Fail($"{StorageOptions.Section}:StartupWait must not be negative.");
        }

        if (options.PurgeBatchSize is < 1 or > StorageOptions.MaxPurgeBatchSize)
        {
            return ValidateOptionsResult.Fail($"{StorageOptions.Section}:PurgeBatchSize must be between 1 and {StorageOptions.MaxPurgeBatchSize}.");
        }

        try
        {
            _ = new DbConnectionStringBuilder { ConnectionString = options.ConnectionString };
        }
        catch (ArgumentException)
        {
            // The parser's message can quote part of the string, so it is not passed on.
            return ValidateOptionsResult.Fail($"{Key} is not a well-formed connection string.");
        }

        return ValidateOptionsResult.Success;
    }
}

/// <summary>
/// Before the service starts consuming: brings the schema up to date (<see cref="StorageOptions.MigrateOnStart"/>, safe when
/// several instances start at once) or, with that off, checks that no migration is pending. A database that cannot be
/// reached yet is waited for (<see cref="StorageOptions.StartupWait"/>), then start-up fails with
/// <see cref="DatabaseUnreachableException"/>, which names the provider and never the connection string.
/// </summary>
internal sealed partial class StorageMigrationService(
    IBridgeDatabase database,
    IOptions<StorageOptions> options,
    TimeProvider clock,
    ILogger<StorageMigrationService> logger) : IHostedService
{
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(5);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MigrateOnStart)
        {
            await MigrateAsync(cancellationToken);
            return;
        }

        var runner = new MigrationRunner(database, clock, logger);
        var pending = await WhenReachableAsync(runner.PendingAsync, cancellationToken);
        if (pending.Count > 0)
        {
            throw new SchemaBehindException(database.Dialect, pending);
        }
    }

    /// <summary>Applies every pending migration once the database can be reached; returns the ones applied.</summary>
    public Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken) =>
        WhenReachableAsync(new MigrationRunner(database, clock, logger).RunAsync, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<T> WhenReachableAsync<T>(Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var wait = options.Value.StartupWait;
        var started = clock.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await work(cancellationToken);
                if (attempt > 1)
                {
                    LogReached(logger, database.Dialect, attempt);
                }

                return result;
            }
            catch (Exception ex) when (IsUnreachable(ex) && !cancellationToken.IsCancellationRequested)
            {
                var waited = clock.GetElapsedTime(started);
                if (waited >= wait)
                {
                    throw new DatabaseUnreachableException(database.Dialect, waited, ex);
                }

                // The connection string is not in the exception's message (Npgsql, SqlClient and SQLite name the host at most).
                LogWaiting(logger, database.Dialect, attempt, wait - waited, ex.Message);
                await Task.Delay(pause < wait - waited ? pause : wait - waited, clock, cancellationToken);
                pause = pause * 2 < MaxPause ? pause * 2 : MaxPause;
            }
        }
    }

    /// <summary>A failure to reach the server (refused, timed out, name not resolved), as opposed to a failing migration.</summary>
    internal static bool IsUnreachable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException or TimeoutException)
            {
                return true;
            }
        }

        // Npgsql marks connection failures transient; a migration's SQL error is not.
        return exception is DbException { IsTransient: true };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Provider} database cannot be reached yet (attempt {Attempt}; giving up in {Remaining}): {Reason}")]
    private static partial void LogWaiting(ILogger logger, SqlDialect provider, int attempt, TimeSpan remaining, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Provider} database was reached on attempt {Attempt}")]
    private static partial void LogReached(ILogger logger, SqlDialect provider, int attempt);
}

/// <summary><c>bridge migrate</c>: the configured database's migrations, applied from the command line.</summary>
public static class StorageMigrations
{
    /// <summary>Reads configuration as the service does (appsettings, environment, <paramref name="args"/>) and migrates.</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(string[] args, CancellationToken cancellationToken)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Services.AddBridgeStorage(builder.Configuration);
        builder.Services.AddSingleton<StorageMigrationService>();
        using var host = builder.Build();
        // Validates Bridge:Storage as a start would (an invalid setting is named, its value never).
        _ = host.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
        return await host.Services.GetRequiredService<StorageMigrationService>().MigrateAsync(cancellationToken);
    }
}

/// <summary>Start-up gave up on a database it could not reach within <see cref="StorageOptions.StartupWait"/>.</summary>
public sealed class DatabaseUnreachableException(SqlDialect provider, TimeSpan waited, Exception inner)
    : Exception($"The {provider} database could not be reached for {waited.TotalSeconds:0} s ({StorageOptions.Section}:StartupWait): {inner.Message}", inner)
{
    public SqlDialect Provider { get; } = provider;
}

/// <summary>Start-up with <see cref="StorageOptions.MigrateOnStart"/> off found migrations not applied yet.</summary>
public sealed class SchemaBehindException(SqlDialect provider, IReadOnlyList<string> pending)
    : Exception($"The {provider} database's schema is behind this version of Bridge ({pending.Count} migration(s) pending: {string.Join(", ", pending)}) "
        + $"and {StorageOptions.Section}:MigrateOnStart is false: run 'bridge migrate' first.")
{
    public IReadOnlyList<string> Pending { get; } = pending;
}
