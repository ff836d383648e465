using MassTransit;

namespace Bridge.Host.Queries;

public static class QueryRegistration
{
    /// <summary>The reading of queries, shared by the HTTP gateway and the query queue, and the queue's answers.</summary>
    public static IHostApplicationBuilder AddBridgeQueries(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<QueryOptions>()
            .Bind(builder.Configuration.GetSection(QueryOptions.Section))
            .Validate(
                o => o.AnswerWithin >= TimeSpan.FromSeconds(1) && o.AnswerWithin <= TimeSpan.FromMinutes(10),
                $"{QueryOptions.Section}:AnswerWithin must be between 1 second and 10 minutes")
            .Validate(
                o => o.CacheFor >= TimeSpan.Zero && o.CacheFor <= QueryOptions.MaxCacheFor,
                $"{QueryOptions.Section}:CacheFor must be between 0 (off) and 10 minutes")
            .ValidateOnStart();
        builder.Services.AddSingleton<QueryCache>();
        // Transient like the ActivePlatform clients it reads through (their handlers are the HttpClientFactory's to rotate).
        builder.Services.AddTransient<QueryReader>();
        builder.Services.AddSingleton<QueryReplies>();
        return builder;
    }

    /// <summary>The query queue's consumer, on its own receive endpoint (<see cref="QueryConsumerDefinition"/>).</summary>
    public static void AddBridgeQueryConsumer(this IBusRegistrationConfigurator bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddConsumer<QueryConsumer, QueryConsumerDefinition>();
    }
}
