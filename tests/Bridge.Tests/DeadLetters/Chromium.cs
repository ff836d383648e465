using Microsoft.Playwright;

namespace Bridge.Tests.DeadLetters;

/// <summary>
/// Headless Chromium for the web page's tests: Debian's <c>chromium</c> package, driven by Playwright's Node driver (shipped
/// inside the Microsoft.Playwright package). Playwright's own browser downloads are never used: the executable is
/// <c>BRIDGE_TEST_CHROMIUM</c> when set, otherwise <c>/usr/bin/chromium</c>.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public static string ExecutablePath { get; } =
        Environment.GetEnvironmentVariable("BRIDGE_TEST_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Why the browser tests cannot run here, or null when they can.</summary>
    public static string? UnavailableReason { get; } = File.Exists(ExecutablePath)
        ? null
        : $"Chromium is not installed at {ExecutablePath}: install Debian's chromium package (./test.sh does when it can) or set BRIDGE_TEST_CHROMIUM.";

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (UnavailableReason is not null)
        {
            return;
        }

        // Generous for CI's shared cores; a passing assertion returns as soon as the page gets there.
        Assertions.SetDefaultExpectTimeout(20_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Playwright gives every launch a fresh, temporary --user-data-dir of its own (and refuses one here).
            // --no-sandbox: Chromium's sandbox cannot start as root, which CI and this machine are.
            Args =
            [
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        });
    }

    /// <summary>A fresh browser context (its own sessionStorage) with one page whose relative URLs resolve against <paramref name="baseAddress"/>.</summary>
    public async Task<BrowserPage> OpenAsync(Uri baseAddress)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1360, Height = 900 },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        var result = new BrowserPage(context, page);
        page.Console += (_, message) => result.Record("console " + message.Type + ": " + message.Text);
        page.PageError += (_, error) => result.Record("page error: " + error);
        page.Request += (_, request) => result.RecordRequest(request.Url);
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                result.Record($"response {response.Status}: {response.Request.Method} {response.Url}");
            }
        };
        return result;
    }

    public async Task DisposeAsync()
    {
        if (_playwright is null)
        {
            return;
        }

        await Browser.CloseAsync();
        _playwright.Dispose();
    }
}

/// <summary>One page in its own context, with what the browser said while it ran (console, script errors, requests).</summary>
public sealed class BrowserPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    private readonly List<string> _messages = [];
    private readonly List<string> _requests = [];

    public IPage Page { get; } = page;

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    internal void Record(string message)
    {
        lock (_messages)
        {
            _messages.Add(message);
        }
    }

    internal void RecordRequest(string url)
    {
        lock (_requests)
        {
            _requests.Add(url);
        }
    }

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}

/// <summary>A test that needs Chromium: reported as skipped, with the reason, where Chromium is not installed.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (ChromiumFixture.UnavailableReason is { } reason)
        {
            Skip = reason;
        }
    }
}
