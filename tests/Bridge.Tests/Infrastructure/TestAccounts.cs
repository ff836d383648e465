using Bridge.Sandbox;

namespace Bridge.Tests.Infrastructure;

/// <summary>
/// The accounts tests may invent. The sandbox refuses a write naming an account its reseller does not own; by default
/// reseller 1 owns 1–99 999 and reseller r owns r×100 000 + 1 … r×100 000 + 99 999 (<see cref="SandboxAccountRange.Defaults"/>).
/// Tests draw fresh ids from wider ranges (600 000 + random, 9 700 000 + random, …) to stay apart across runs: every sandbox a
/// test starts is given <see cref="Ranges"/> through <see cref="WithTestAccounts"/>, so each id a test invents is an account
/// of reseller 1 there, and <see cref="Unknown"/> is nobody's.
/// </summary>
public static class TestAccounts
{
    /// <summary>No reseller's account, in any sandbox a test starts (nor in the default one).</summary>
    public const long Unknown = 999_999;

    /// <summary>Reseller 2's seeded account (2 is downstream of 1, so a token of 1 reaches it, but 1 does not own the account).</summary>
    public const long OfReseller2 = 200_167;

    /// <summary>
    /// Reseller 1 owns every id from 100 000 to 9 999 999 that the default ranges of the other resellers of the default tree
    /// (2, 3 and 10) do not take, except <see cref="Unknown"/>.
    /// </summary>
    public static readonly IReadOnlyList<SandboxAccountRange> Ranges =
    [
        new() { ResellerId = 1, From = 100_000, To = 199_999 },
        new() { ResellerId = 1, From = 400_000, To = Unknown - 1 },
        new() { ResellerId = 1, From = 1_100_000, To = 9_999_999 },
    ];

    /// <summary>Adds <see cref="Ranges"/> to the settings' accounts.</summary>
    public static SandboxSettings WithTestAccounts(this SandboxSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Accounts.AddRange(Ranges.Select(r => new SandboxAccountRange { ResellerId = r.ResellerId, From = r.From, To = r.To }));
        // Sandboxes of one test run publish to one broker, and some assertions find a payment's event by its number: each
        // sandbox numbers its payments from its own start (the seeded ones keep theirs), so the numbers never repeat across them.
        settings.FirstPaymentId = 10_000 + (Random.Shared.NextInt64(1, 90_000) * 1_000);
        return settings;
    }
}
