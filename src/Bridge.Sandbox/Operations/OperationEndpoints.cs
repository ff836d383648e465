namespace Bridge.Sandbox;

/// <summary>
/// The endpoints of the v3 table beyond the ERP flows and their reads (issue 10 §3): account, subscription, order, manager,
/// note and free-access-document writes, order attributes validation, the Customer Store, analytics, user authentication and
/// the vendor's close_charges. Which of their parts are documented and which inferred: COVERAGE.md.
/// </summary>
internal static class OperationEndpoints
{
    public static IServiceCollection AddSandboxOperations(this IServiceCollection services)
    {
        services.AddSingleton<ResellerRecords>();
        services.AddSingleton<VendorCharges>();
        return services;
    }

    public static void Map(RouteGroupBuilder api, WebApplication app)
    {
        Catalog.MapWrites(api);
        OrderStore.MapWrites(api);
        ResellerRecords.MapWrites(api);
        OrderAttributesValidation.Map(api);
        UserAuthentication.Map(api);
        OutsideResellerScope.MapScoped(api);
        OutsideResellerScope.Map(app);
        VendorCharges.Map(app);

        // POST /_sandbox/reset puts every store of these writes back to its seed.
        Writes.OnReset(app, services =>
        {
            services.GetRequiredService<Catalog>().ResetWrites();
            services.GetRequiredService<OrderStore>().ResetWrites();
            services.GetRequiredService<ResellerRecords>().Reset();
            services.GetRequiredService<VendorCharges>().Reset();
        });
    }
}
