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

/// <summary>Brings the schema up to date before the service starts consuming; safe when several instances start at once.</summary>
internal sealed class StorageMigrationService(IBridgeDatabase database) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => database.MigrateAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
