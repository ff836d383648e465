using Bridge.Sandbox;

namespace Bridge.Chaos.Model;

/// <summary>A payment the run needs in ActivePlatform before its messages can name it; resolved once seeded.</summary>
public sealed class PaymentSpec
{
    public required decimal Total { get; init; }

    public string Status { get; init; } = "waiting_for_payment";

    public long AccountId { get; init; } = 523;

    /// <summary>What the sandbox made of it (id, number); set by <see cref="WorldSeeder"/>.</summary>
    public SandboxPayment? Seeded { get; set; }

    public SandboxPayment Payment => Seeded ?? throw new InvalidOperationException("The payment was not seeded yet.");
}

/// <summary>A postpaid invoice (closed, unapproved, its payment waiting) the run needs in ActivePlatform.</summary>
public sealed class InvoiceSpec
{
    public required long AccountId { get; init; }

    public required DateOnly BillingDate { get; init; }

    public required decimal Total { get; init; }

    public SandboxInvoice? Seeded { get; set; }

    public SandboxInvoice Invoice => Seeded ?? throw new InvalidOperationException("The invoice was not seeded yet.");
}

/// <summary>Everything the generated messages refer to that must exist in ActivePlatform first.</summary>
public sealed class WorldSpec
{
    private readonly List<PaymentSpec> _payments = [];
    private readonly List<InvoiceSpec> _invoices = [];

    public IReadOnlyList<PaymentSpec> Payments => _payments;

    public IReadOnlyList<InvoiceSpec> Invoices => _invoices;

    public PaymentSpec AddPayment(PaymentSpec payment)
    {
        _payments.Add(payment);
        return payment;
    }

    public InvoiceSpec AddInvoice(InvoiceSpec invoice)
    {
        _invoices.Add(invoice);
        return invoice;
    }
}

/// <summary>Puts the world into a fresh sandbox, in order, so the ids it gets are the same on every run of a seed.</summary>
public static class WorldSeeder
{
    public static async Task SeedAsync(WorldSpec world, SandboxControlClient control, CancellationToken ct)
    {
        foreach (var payment in world.Payments)
        {
            payment.Seeded = await control.AddPaymentAsync(
                new SandboxPaymentSeed { AccountId = payment.AccountId, Total = payment.Total, Status = payment.Status }, ct);
        }

        foreach (var invoice in world.Invoices)
        {
            invoice.Seeded = await control.SeedInvoiceAsync(
                new SandboxInvoiceSeed { AccountId = invoice.AccountId, BillingDate = invoice.BillingDate, Total = invoice.Total }, ct);
        }
    }
}
