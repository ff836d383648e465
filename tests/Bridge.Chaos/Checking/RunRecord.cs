using Bridge.Chaos.Model;
using Bridge.Chaos.Processes;
using Bridge.Chaos.Recording;
using Bridge.Sandbox;

namespace Bridge.Chaos.Checking;

/// <summary>What ActivePlatform (the sandbox) holds once the run is quiet.</summary>
public sealed record SandboxState(
    IReadOnlyList<SandboxExternalInvoice> Documents,
    IReadOnlyList<SandboxNotification> Notifications,
    IReadOnlyList<SandboxPayment> Payments,
    IReadOnlyList<SandboxPaymentCorrection> PaymentCorrections,
    IReadOnlyList<SandboxCorrection> Corrections,
    IReadOnlyList<SandboxCurrencyRate> CurrentRates,
    IReadOnlyList<SandboxInvoice> Invoices);

/// <summary>What is still in flight once the run is quiet; all of it should be empty.</summary>
public sealed record LeftOvers(
    long PendingOutbox,
    IReadOnlyList<LiveClaim> LiveClaims,
    IReadOnlyDictionary<string, uint> ReadyMessages);

/// <summary>
/// Everything the checks read: the plan, what was observed, and the final states; <see cref="DoorStatuses"/> is what the HTTP
/// door said, once the run was quiet, of each message it had answered 202, by key.
/// </summary>
public sealed record RunRecord(
    int Seed,
    ChaosPlan Plan,
    History History,
    IReadOnlyList<ObservedEvent> Events,
    IReadOnlyList<DeadLetterSummary> DeadLetters,
    IReadOnlyList<SandboxEffect> Effects,
    IReadOnlyList<SandboxCall> Calls,
    SandboxState Sandbox,
    LeftOvers LeftOvers,
    long UnreadableEvents,
    IReadOnlyDictionary<string, DoorStatusReading> DoorStatuses);
