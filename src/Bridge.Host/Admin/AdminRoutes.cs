namespace Bridge.Host.Admin;

/// <summary>
/// A feature's routes under <c>/admin</c>, behind the read policy (actions require <see cref="AdminPolicies.Operate"/>
/// themselves): registered by the feature with <see cref="AdminRouteRegistration.AddAdminRoutes"/> and mapped by
/// <see cref="AdminApi.MapBridgeAdmin"/>, so the admin API knows its authentication and its page but not the features.
/// </summary>
public sealed class AdminRoutes(Action<RouteGroupBuilder> map)
{
    public void MapTo(RouteGroupBuilder admin) => map(admin);
}

/// <summary>What the admin page needs to know of the features: set by them (the dead letters set <see cref="EditAndReplay"/>).</summary>
public sealed class AdminPageFeatures
{
    /// <summary>Whether operators may edit a dead letter's body and replay it, so the page can hide the editor when not.</summary>
    public bool EditAndReplay { get; set; }
}

public static class AdminRouteRegistration
{
    /// <summary>Routes <paramref name="map"/> adds to the <c>/admin</c> group when the admin API is mapped.</summary>
    public static IServiceCollection AddAdminRoutes(this IServiceCollection services, Action<RouteGroupBuilder> map)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(map);
        return services.AddSingleton(new AdminRoutes(map));
    }
}
