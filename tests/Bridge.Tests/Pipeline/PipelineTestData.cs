namespace Bridge.Tests.Pipeline;

internal static class PipelineTestData
{
    private static readonly string Pdf = Convert.ToBase64String("%PDF-1.4\n%test\n%%EOF\n"u8.ToArray());

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
