using Bridge.ActivePlatform;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace Bridge.Tests.ActivePlatform;

public sealed class OptionsValidationTests
{
    private static IHost Host(Dictionary<string, string?> settings, string section = "ActivePlatform")
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddActivePlatformClient(builder.Configuration.GetSection(section));
        return builder.Build();
    }

    [Fact]
    public async Task A_missing_url_and_token_stop_the_start_naming_both_settings()
    {
        using var host = Host(new() { ["ActivePlatform:ResellerId"] = "1" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("ActivePlatform:BaseUrl", error.Message, StringComparison.Ordinal);
        Assert.Contains("ActivePlatform:ApiToken", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ActivePlatform:ResellerId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_message_names_the_section_the_options_were_bound_from()
    {
        using var host = Host(new() { ["Integrations:ActivePlatform:BaseUrl"] = "https://billing.example.com", ["Integrations:ActivePlatform:ResellerId"] = "1" }, "Integrations:ActivePlatform");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Integrations:ActivePlatform:ApiToken", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("BaseUrl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_setting_binds_from_configuration_and_a_valid_host_starts()
    {
        using var host = Host(new()
        {
            ["ActivePlatform:BaseUrl"] = "https://billing.example.com/",
            ["ActivePlatform:ApiToken"] = "secret",
            ["ActivePlatform:ResellerId"] = "42",
            ["ActivePlatform:ClosingDocumentEnvelope"] = "Flat",
            ["ActivePlatform:AttemptTimeout"] = "00:00:10",
            ["ActivePlatform:TotalTimeout"] = "00:01:00",
            ["ActivePlatform:RetryCount"] = "1",
            ["ActivePlatform:AsyncTaskPolling:InitialDelay"] = "00:00:02",
            ["ActivePlatform:AsyncTaskPolling:MaxDelay"] = "00:00:20",
            ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:02:00",
        });

        await host.StartAsync();
        var options = host.Services.GetRequiredService<IOptions<ActivePlatformOptions>>().Value;
        await host.StopAsync();

        Assert.Equal(new Uri("https://billing.example.com/"), options.BaseUrl);
        Assert.Equal(42, options.ResellerId);
        Assert.Equal(ClosingDocumentEnvelope.Flat, options.ClosingDocumentEnvelope);
        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout);
        Assert.Equal(1, options.RetryCount);
        Assert.Equal(TimeSpan.FromSeconds(2), options.AsyncTaskPolling.InitialDelay);
        Assert.Equal(TimeSpan.FromMinutes(2), options.AsyncTaskPolling.Deadline);
        Assert.NotNull(host.Services.GetRequiredService<IActivePlatformClient>());
        Assert.NotNull(host.Services.GetRequiredService<ActivePlatformAsyncTaskPoller>());
    }

    [Fact]
    public void Defaults_are_a_data_attributes_envelope_and_three_retries()
    {
        var options = new ActivePlatformOptions();

        Assert.Equal(ClosingDocumentEnvelope.DataAttributes, options.ClosingDocumentEnvelope);
        Assert.Equal(3, options.RetryCount);
    }

    [Theory]
    [InlineData("ftp://billing.example.com", "ActivePlatform:BaseUrl must be an absolute http or https URL")]
    [InlineData("relative/path", "ActivePlatform:BaseUrl must be an absolute http or https URL")]
    public void A_url_that_is_not_absolute_http_is_refused(string url, string message)
    {
        var options = new ActivePlatformOptions { BaseUrl = new Uri(url, UriKind.RelativeOrAbsolute), ApiToken = "t", ResellerId = 1 };

        var result = new ActivePlatformOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Polling_and_retry_settings_are_checked()
    {
        var options = new ActivePlatformOptions
        {
            BaseUrl = new Uri("https://x.example"),
            ApiToken = "t",
            ResellerId = 1,
            RetryCount = -1,
            AsyncTaskPolling = new AsyncTaskPollingOptions { BackoffFactor = 0.5, JitterRatio = 1.5 },
        };

        var result = new ActivePlatformOptionsValidator().Validate(null, options);

        Assert.Contains("ActivePlatform:RetryCount", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("ActivePlatform:AsyncTaskPolling:BackoffFactor", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("ActivePlatform:AsyncTaskPolling:JitterRatio", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_standalone_factory_refuses_invalid_options_at_once()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            ActivePlatformClientFactory.Create(new ActivePlatformOptions { BaseUrl = new Uri("http://127.0.0.1:9/"), ResellerId = 1 }));

        Assert.Contains("ActivePlatform:ApiToken", error.Message, StringComparison.Ordinal);
    }
}
