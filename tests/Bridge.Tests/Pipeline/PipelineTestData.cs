namespace Bridge.Tests.Pipeline;

internal static class PipelineTestData
{
    private static readonly string Pdf = Convert.ToBase64String("%PDF-1.4\n%test\n%%EOF\n"u8.ToArray());

    /// <summary>
    /// Failed deliveries wait ten minutes (a test restarts Bridge to let them run); a lost answer reaches the handler (no
    /// HTTP-level retry) and a write in doubt may land for about 10 + 1 s after its send.
    /// </summary>
    public static Dictionary<string, string?> ParkedRetries => new()
    {
        ["Bridge:Messaging:RetryLimit"] = "1",
        ["Bridge:Messaging:RetryMinInterval"] = "00:10:00",
        ["Bridge:Messaging:RetryMaxInterval"] = "00:10:00",
        // A lost answer reaches the handler (no HTTP-level retry) and is waited for only briefly (15 s), yet a busy machine
        // does not time the first calls out.
        ["ActivePlatform:RetryCount"] = "0",
        ["ActivePlatform:AttemptTimeout"] = "00:00:05",
        ["ActivePlatform:TotalTimeout"] = "00:00:10",
        ["ActivePlatform:AsyncTaskPolling:Deadline"] = "00:00:01",
    };

    /// <summary>A <c>SendClosingDocument</c> as a 1C publisher writes it: plain JSON, camelCase.</summary>
    public static Dictionary<string, object?> Document(string key, long revision, long accountId = PipelineFixture.AccountId, decimal total = 100.50m) => new()
    {
        ["accountId"] = accountId,
        ["key"] = key,
        ["type"] = "act",
        ["name"] = $"Act {key[..8]} r{revision}",
        ["amount"] = new { total, currency = "EUR" },
        ["startDate"] = "2026-10-01",
        ["endDate"] = "2026-10-31",
        ["file"] = new { contentType = "application/pdf", contentBase64 = Pdf },
        ["revision"] = revision,
    };

    /// <summary>Polls a condition with a deadline, for state that no event announces (e.g. a message in an error queue).</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not become true in time.");
            }

            await Task.Delay(100);
        }
    }
}
