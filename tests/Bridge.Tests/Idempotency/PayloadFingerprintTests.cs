using Bridge.Host.Idempotency;

namespace Bridge.Tests.Idempotency;

/// <summary>
/// The payload fingerprint decides whether a redelivered key is the same message or a conflict: it must survive a contract
/// gaining an optional field, still change with any value, and recognise fingerprints stored before it was versioned.
/// </summary>
public sealed class PayloadFingerprintTests
{
    /// <summary>
    /// What the unversioned fingerprint (before <c>v2:</c>) gave for <see cref="Before"/>: SHA-256 of
    /// <c>{"amount":40.00,"comment":null,"lines":[{"quantity":2,"sku":"A"},{"quantity":1,"sku":"B"}],"number":"002018","payer":{"name":"Acme","taxId":null}}</c>
    /// (keys sorted, nulls kept, the idempotency key left out). Pinned, not recomputed, so it stays the old algorithm's answer.
    /// </summary>
    private const string StoredBeforeTheUpgrade = "072a41cd1136801b14eaf0419179669db8496800e7b34b769ed246c727dd170f";

    private static readonly LineV1 Before = new()
    {
        IdempotencyKey = "k-1",
        Number = "002018",
        Amount = 40.00m,
        Comment = null,
        Payer = new PayerV1 { Name = "Acme", TaxId = null },
        Lines = [new ItemV1 { Sku = "A", Quantity = 2 }, new ItemV1 { Sku = "B", Quantity = 1 }],
    };

    /// <summary>The same message after its contract gained optional fields at every depth, all left out by the publisher.</summary>
    private static readonly LineV2 After = new()
    {
        IdempotencyKey = "k-1",
        Number = "002018",
        Amount = 40.00m,
        Comment = null,
        Purpose = null,
        Payer = new PayerV2 { Name = "Acme", TaxId = null, Kpp = null },
        Lines = [new ItemV2 { Sku = "A", Quantity = 2, Unit = null }, new ItemV2 { Sku = "B", Quantity = 1, Unit = null }],
    };

    [Fact]
    public void A_message_whose_contract_gained_optional_fields_left_null_keeps_its_fingerprint()
    {
        Assert.Equal(PayloadFingerprint.Of(Before).Value, PayloadFingerprint.Of(After).Value);
        Assert.True(PayloadFingerprint.Matches(PayloadFingerprint.Of(Before).Value, PayloadFingerprint.Of(After)));
    }

    [Fact]
    public void The_fingerprint_is_versioned()
    {
        Assert.Matches("^v2:[0-9a-f]{64}$", PayloadFingerprint.Of(Before).Value);
    }

    [Fact]
    public void A_changed_value_at_any_depth_changes_the_fingerprint()
    {
        var original = PayloadFingerprint.Of(After);
        LineV2[] changed =
        [
            After with { Amount = 40.01m },
            After with { Comment = "" },
            After with { Purpose = "rent" },
            After with { Payer = After.Payer with { Kpp = "7701" } },
            After with { Lines = [After.Lines[0] with { Unit = "pcs" }, After.Lines[1]] },
            After with { Lines = [After.Lines[1], After.Lines[0]] },
        ];

        foreach (var message in changed)
        {
            var fingerprint = PayloadFingerprint.Of(message);
            Assert.NotEqual(original.Value, fingerprint.Value);
            Assert.False(PayloadFingerprint.Matches(original.Value, fingerprint), message.ToString());
        }
    }

    [Fact]
    public void The_idempotency_key_itself_is_not_part_of_the_payload()
    {
        Assert.Equal(PayloadFingerprint.Of(Before).Value, PayloadFingerprint.Of(Before with { IdempotencyKey = "k-2" }).Value);
    }

    [Fact]
    public void A_fingerprint_stored_before_the_upgrade_still_matches_its_message_and_only_its_message()
    {
        Assert.True(PayloadFingerprint.Matches(StoredBeforeTheUpgrade, PayloadFingerprint.Of(Before)));
        Assert.False(PayloadFingerprint.Matches(StoredBeforeTheUpgrade, PayloadFingerprint.Of(Before with { Amount = 30.00m })));
        Assert.False(PayloadFingerprint.Matches(StoredBeforeTheUpgrade, PayloadFingerprint.Of(Before with { Comment = "" })));
    }

    [Fact]
    public void The_tests_stand_in_for_the_old_algorithm_gives_what_it_gave()
    {
        Assert.Equal(StoredBeforeTheUpgrade, UnversionedFingerprint.Of(Before));
    }

    [Theory]
    [InlineData("")]
    [InlineData("v3:072a41cd1136801b14eaf0419179669db8496800e7b34b769ed246c727dd170f")]
    [InlineData("v2:072a41cd1136801b14eaf0419179669db8496800e7b34b769ed246c727dd170f")]
    public void A_stored_fingerprint_of_another_form_or_value_does_not_match(string stored)
    {
        Assert.False(PayloadFingerprint.Matches(stored, PayloadFingerprint.Of(Before)));
    }

    private sealed record LineV1
    {
        public string? IdempotencyKey { get; init; }

        public required string Number { get; init; }

        public decimal Amount { get; init; }

        public string? Comment { get; init; }

        public required PayerV1 Payer { get; init; }

        public required List<ItemV1> Lines { get; init; }
    }

    private sealed record PayerV1
    {
        public required string Name { get; init; }

        public string? TaxId { get; init; }
    }

    private sealed record ItemV1
    {
        public required string Sku { get; init; }

        public int Quantity { get; init; }
    }

    private sealed record LineV2
    {
        public string? IdempotencyKey { get; init; }

        public required string Number { get; init; }

        public decimal Amount { get; init; }

        public string? Comment { get; init; }

        public string? Purpose { get; init; }

        public required PayerV2 Payer { get; init; }

        public required List<ItemV2> Lines { get; init; }
    }

    private sealed record PayerV2
    {
        public required string Name { get; init; }

        public string? TaxId { get; init; }

        public string? Kpp { get; init; }
    }

    private sealed record ItemV2
    {
        public required string Sku { get; init; }

        public int Quantity { get; init; }

        public string? Unit { get; init; }
    }

    [Fact]
    public void A_delete_stored_before_v2_still_matches_now_that_its_contract_has_a_version()
    {
        // helper-63: DeleteClosingDocument gained revision and modifiedAt after v2. The pre-v2 form kept nulls, so computed
        // over today's type it held "modifiedAt":null,"revision":null and no record stored before v2 matched any more.
        var stored = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes("""{"accountId":7,"key":"doc-1","resellerId":null}""")));
        var delete = new Bridge.Contracts.DeleteClosingDocument { AccountId = 7, Key = "doc-1" };

        Assert.True(PayloadFingerprint.Matches(stored, PayloadFingerprint.Of(delete)));
        Assert.False(PayloadFingerprint.Matches(stored, PayloadFingerprint.Of(delete with { Revision = 3 })));
    }
}
