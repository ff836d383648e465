using System.Net;
using Bridge.Tests.DeadLetters;
using Microsoft.AspNetCore.Builder;

namespace Bridge.Tests.Deploy;

/// <summary>
/// The Deployment's probes, asked of a real Bridge over HTTP: while its database cannot be reached, the readiness path
/// answers 503 (the pod leaves the Service, and counts as disrupted for the PodDisruptionBudget) and the liveness and
/// startup path still answers 200 (the kubelet never restarts a pod for a dependency outage; Bridge reconnects by itself).
/// </summary>
public sealed class ProbeEndpointTests
{
    [Fact]
    public async Task A_database_outage_fails_the_readiness_probe_and_never_the_liveness_probe()
    {
        var container = KubernetesManifestTests.BaseBridgeContainer();
        var live = container.LivenessProbe.HttpGet.Path;
        var ready = container.ReadinessProbe.HttpGet.Path;
        var startup = container.StartupProbe.HttpGet.Path;

        // SQLite in a directory of its own, without pooling: once the directory is gone, no connection can be opened.
        var directory = Directory.CreateTempSubdirectory("bridge-probes-");
        await using var app = await DeadLetterFixture.StartBridgeAsync(new Dictionary<string, string?>
        {
            ["Bridge:Messaging:Transport"] = "InMemory",
            ["Bridge:Storage:Provider"] = "Sqlite",
            ["Bridge:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory.FullName, "bridge.db")};Pooling=False",
            ["ActivePlatform:BaseUrl"] = "http://127.0.0.1:9/",
            ["ActivePlatform:ApiToken"] = "probe-test-token",
            ["ActivePlatform:ResellerId"] = "1",
        });
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(live)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(ready)).StatusCode);

        directory.Delete(recursive: true);

        var readiness = await http.GetAsync(ready);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readiness.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(live)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(startup)).StatusCode);
    }
}
