namespace Bridge.Chaos.Checking;

/// <summary>Runs every check over the run and returns what broke, most fundamental first.</summary>
public static class InvariantChecker
{
    public static IReadOnlyList<IFlowCheck> Checks() =>
    [
        new OutcomeChecks(),
        new ClosingDocumentChecks(),
        new NotificationChecks(),
        new StatementLineChecks(),
        new PaymentStatusChecks(),
        new TopUpChecks(),
        new CurrencyRateChecks(),
        new CorrectionChecks(),
        new InvoiceChecks(),
        new DoorChecks(),
        new LeftOverChecks(),
    ];

    public static IReadOnlyList<Violation> Check(MessageIndex index) =>
        [.. Checks().SelectMany(check => check.Check(index))];
}
