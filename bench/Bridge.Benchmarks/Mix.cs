using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Bridge.Contracts;
using Bridge.Sandbox;

namespace Bridge.Benchmarks;

/// <summary>One ERP flow of the mix: its message type, input queue, share of the messages (per mille) and the event that means it succeeded.</summary>
public sealed record MixFlow(string Flow, string Queue, int PerMille, string Expects);

/// <summary>
/// A month-end mix of every ERP flow (issue 8: "closing documents and a mix of all flows"), each message on its own input
/// queue. Every message is built to succeed: what it acts on is put into the scenario's fresh sandbox first, through the
/// control API (<c>/_sandbox/payments</c>, <c>/_sandbox/invoices</c>) or through ActivePlatform's own API where the
/// sandbox has no seed for it (an approved invoice, a correction awaiting approval, a closing document to delete) — before
/// Bridge starts, and those calls are not counted as Bridge's.
/// </summary>
public static class Mix
{
    /// <summary>
    /// The shares, per mille, of what a finance team's ERPs send at month end: mostly the month's closing documents (55 %)
    /// and money — bank statement lines completing payments (18 %), top-ups (8 %), a few cancellations (1 %) — then the
    /// ERP-managed postpaid invoices (approvals 5 %, completions 4 %, a revoke 0.5 %), corrections (created 3 %, approved
    /// 2.5 %, declined 0.5 %), and the odd currency-rate batch (1 %), document deletion (1 %) and notification run (0.5 %).
    /// </summary>
    public static readonly IReadOnlyList<MixFlow> Flows =
    [
        new(nameof(SendClosingDocument), BridgeQueues.SendClosingDocument, 550, nameof(ClosingDocumentSent)),
        new(nameof(CompletePayment), BridgeQueues.CompletePayment, 180, nameof(PaymentCompleted)),
        new(nameof(RegisterPayment), BridgeQueues.RegisterPayment, 80, nameof(PaymentRegistered)),
        new(nameof(ApproveInvoice), BridgeQueues.ApproveInvoice, 50, nameof(InvoiceApproved)),
        new(nameof(CompleteInvoice), BridgeQueues.CompleteInvoice, 40, nameof(InvoiceCompleted)),
        new(nameof(CreateCorrection), BridgeQueues.CreateCorrection, 30, nameof(CorrectionCreated)),
        new(nameof(ApproveCorrection), BridgeQueues.ApproveCorrection, 25, nameof(CorrectionApproved)),
        new(nameof(CancelPayment), BridgeQueues.CancelPayment, 10, nameof(PaymentCancelled)),
        new(nameof(UpdateCurrencyRates), BridgeQueues.UpdateCurrencyRates, 10, nameof(CurrencyRatesUpdated)),
        new(nameof(DeleteClosingDocument), BridgeQueues.DeleteClosingDocument, 10, nameof(ClosingDocumentDeleted)),
        new(nameof(DeclineCorrection), BridgeQueues.DeclineCorrection, 5, nameof(CorrectionDeclined)),
        new(nameof(RevokeInvoiceApproval), BridgeQueues.RevokeInvoiceApproval, 5, nameof(InvoiceApprovalRevoked)),
        new(nameof(NotifyClosingDocuments), BridgeQueues.NotifyClosingDocuments, 5, nameof(ClosingDocumentsNotified)),
    ];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly DateOnly MonthStart = new(2026, 10, 1);
    private static readonly DateOnly MonthEnd = new(2026, 10, 31);
    private static readonly DateTimeOffset RatesEffectiveAt = new(2026, 10, 31, 9, 0, 0, TimeSpan.FromHours(3));
    private static readonly long[] DocumentAccounts = [7001, 7002, 7003, 7004];

    /// <summary>The sandbox's currencies (ISO codes it knows): rate batches use pairs of these.</summary>
    private static readonly string[] Currencies =
    [
        "RUB", "USD", "EUR", "BYN", "UAH", "GEL", "AMD", "UZS", "AZN", "VND", "BRL", "KZT", "GBP", "CNY", "JPY", "CHF",
        "PLN", "TRY", "INR", "MYR", "CAD", "AUD", "SEK", "NOK", "DKK", "CZK", "HUF", "AED", "KGS", "TJS", "MDL", "SGD",
    ];

    /// <summary>
    /// How many of <paramref name="count"/> messages each flow gets: its share, rounded by largest remainder (exact at 2 000,
    /// where every share is a whole number); with at least as many messages as flows, every flow has at least one (taken from
    /// the largest), so a 20-message smoke still sends every flow once.
    /// </summary>
    public static IReadOnlyDictionary<string, int> Allocate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var total = Flows.Sum(f => f.PerMille);
        var exact = Flows.Select(f => (Flow: f.Flow, Value: (double)count * f.PerMille / total)).ToList();
        var counts = exact.ToDictionary(e => e.Flow, e => (int)Math.Floor(e.Value), StringComparer.Ordinal);
        var left = count - counts.Values.Sum();
        foreach (var (flow, _) in exact.OrderByDescending(e => e.Value - Math.Floor(e.Value)).ThenBy(e => Rank(e.Flow)).Take(left))
        {
            counts[flow]++;
        }

        if (count >= Flows.Count)
        {
            foreach (var flow in Flows.Where(f => counts[f.Flow] == 0))
            {
                counts[counts.MaxBy(c => c.Value).Key]--;
                counts[flow.Flow] = 1;
            }
        }

        return counts;
    }

    /// <summary>Where <paramref name="flow"/> stands in <see cref="Flows"/> (larger shares first), for printing flows in a fixed order.</summary>
    public static int Rank(string flow) => Flows.Select(f => f.Flow).ToList().IndexOf(flow) is var i and >= 0 ? i : int.MaxValue;

    /// <summary>
    /// Puts what every message acts on into <paramref name="sandbox"/> and builds the messages, interleaved in a fixed
    /// pseudo-random order (each flow's messages spread over the preload, as several ERPs publish at once).
    /// </summary>
    public static async Task<IReadOnlyList<BenchMessage>> PrepareAsync(RunningSandbox sandbox, string runTag, int count, CancellationToken ct)
    {
        var counts = Allocate(count);
        using var api = sandbox.CreateClient();
        api.DefaultRequestHeaders.Accept.ParseAdd("application/vnd.api+json");
        var control = sandbox.Control;
        var messages = new List<BenchMessage>(count);
        string Key(string flow, int n) => string.Create(CultureInfo.InvariantCulture, $"bench-{runTag}-{flow}-{n:D7}");
        void Add(MixFlow flow, string key, object message) =>
            messages.Add(new BenchMessage("msg-" + key, JsonSerializer.SerializeToUtf8Bytes(message, message.GetType(), Json), flow.Flow, flow.Queue, flow.Expects));

        foreach (var flow in Flows)
        {
            for (var n = 1; n <= counts[flow.Flow]; n++)
            {
                switch (flow.Flow)
                {
                    case nameof(SendClosingDocument):
                    {
                        // The closing documents of the closing-documents scenarios: new acts with a 3 KB PDF.
                        var key = Key("doc", n);
                        Add(flow, key, Workload.NewDocument(key, n));
                        break;
                    }

                    case nameof(CompletePayment):
                    {
                        // A payment waiting for its money; most bank statement lines pay it in full, every 7th pays part of it.
                        // Every 10th is completed from the account's balance and every 10th by ActivePlatform's payment id instead.
                        var total = 100m + (n % 400) + 0.50m;
                        // Numbered for this run: a number the sandbox makes up (003006) is one every sandbox makes up, and the
                        // event's key is the number — a listener on the same broker could not tell them apart.
                        var payment = await control.AddPaymentAsync(new SandboxPaymentSeed
                        {
                            AccountId = DocumentAccounts[n % 4],
                            Total = total,
                            Number = string.Create(CultureInfo.InvariantCulture, $"B{runTag}{n:D6}"),
                        }, ct);
                        var key = Key("pay", n);
                        Add(flow, key, (n % 10) switch
                        {
                            0 => new CompletePayment { Mode = PaymentCompletionMode.FromBalance, PaymentId = payment.Id },
                            5 => new CompletePayment { Mode = PaymentCompletionMode.ById, PaymentId = payment.Id, PaymentMethodId = 2 },
                            _ => new CompletePayment
                            {
                                Mode = PaymentCompletionMode.ByPaymentNumber,
                                PaymentNumber = payment.Number,
                                PaymentMethodId = 2,
                                Amount = n % 7 == 0 ? total - 50m : total,
                                CurrencyCode = payment.Currency,
                                ExternalTransactionId = string.Create(CultureInfo.InvariantCulture, $"BS-{runTag}-{n:D7}"),
                            },
                        });
                        break;
                    }

                    case nameof(RegisterPayment):
                    {
                        var key = Key("topup", n);
                        Add(flow, key, new RegisterPayment
                        {
                            Key = key,
                            AccountId = DocumentAccounts[n % 4],
                            Total = 50m + (n % 200) + 0.99m,
                            Comment = "top-up payment",
                            Purpose = "prepay payment",
                        });
                        break;
                    }

                    case nameof(CancelPayment):
                    {
                        var payment = await control.AddPaymentAsync(new SandboxPaymentSeed { AccountId = DocumentAccounts[n % 4], Total = 75m + n }, ct);
                        Add(flow, Key("cancel", n), new CancelPayment { PaymentId = payment.Id });
                        break;
                    }

                    case nameof(ApproveInvoice):
                    {
                        // A closed, unapproved postpaid invoice, the only one of its account in October: approved by account.
                        var invoice = await SeedInvoiceAsync(control, 400_000 + n, n, ct);
                        var documentId = Key("inv", n);
                        Add(flow, documentId, new ApproveInvoice
                        {
                            DocumentId = documentId,
                            BillingDate = MonthStart,
                            AccountId = invoice.AccountId,
                            ExternalAmount = new Money(decimal.Parse(invoice.Total, CultureInfo.InvariantCulture) + 2.45m, "EUR"),
                            DueDate = new DateOnly(2026, 11, 15),
                        });
                        break;
                    }

                    case nameof(CompleteInvoice):
                    case nameof(RevokeInvoiceApproval):
                    {
                        // An invoice the ERP approved earlier in the month (approved here through ActivePlatform's API), now
                        // paid (completed) or withdrawn (its approval revoked), by invoice id.
                        var complete = flow.Flow == nameof(CompleteInvoice);
                        var invoice = await SeedInvoiceAsync(control, (complete ? 500_000 : 600_000) + n, n, ct);
                        var documentId = Key(complete ? "paid" : "revoke", n);
                        await PostAsync(api, $"api/v3/resellers/1/invoices/{invoice.Id}/approve", new JsonObject
                        {
                            ["document_id"] = documentId,
                            ["billing_date"] = "2026-10-01",
                        }, ct);
                        Add(flow, documentId, complete
                            ? new CompleteInvoice { DocumentId = documentId, BillingDate = MonthStart, InvoiceId = invoice.Id }
                            : new RevokeInvoiceApproval { DocumentId = documentId, BillingDate = MonthStart, InvoiceId = invoice.Id });
                        break;
                    }

                    case nameof(CreateCorrection):
                    {
                        // Every other one goes into the account's October invoice.
                        var key = Key("corr", n);
                        var included = n % 2 == 0;
                        Add(flow, key, new CreateCorrection
                        {
                            Key = key,
                            AccountId = DocumentAccounts[n % 4],
                            IncludedInvoice = included,
                            SubscriptionId = included ? 3010001 : null,
                            PeriodFrom = included ? MonthStart : null,
                            PeriodTo = included ? MonthEnd : null,
                            Total = n % 3 == 0 ? -(10m + (n % 90)) : 10m + (n % 90) + 0.25m,
                            Comment = "month-end adjustment " + key,
                        });
                        break;
                    }

                    case nameof(ApproveCorrection):
                    case nameof(DeclineCorrection):
                    {
                        // A correction a manager entered, awaiting approval: the ERP approves or declines it by ActivePlatform's id.
                        var approve = flow.Flow == nameof(ApproveCorrection);
                        var key = Key(approve ? "approve" : "decline", n);
                        var created = await PostAsync(api, "api/v3/resellers/1/corrections", new JsonObject
                        {
                            ["data"] = new JsonObject
                            {
                                ["type"] = "corrections",
                                ["attributes"] = new JsonObject
                                {
                                    ["account_id"] = DocumentAccounts[n % 4],
                                    ["included_invoice"] = false,
                                    ["total"] = (20m + (n % 50)).ToString("0.00", CultureInfo.InvariantCulture),
                                    ["comment"] = key,
                                },
                            },
                        }, ct);
                        var correctionId = created?["data"]?["id"]?.GetValue<string>() ?? throw new InvalidOperationException("the sandbox created a correction without an id");
                        Add(flow, key, approve
                            ? new ApproveCorrection { Key = key, CorrectionId = correctionId }
                            : new DeclineCorrection { Key = key, CorrectionId = correctionId });
                        break;
                    }

                    case nameof(UpdateCurrencyRates):
                    {
                        var key = Key("rates", n);
                        Add(flow, key, RateBatch(key, n - 1));
                        break;
                    }

                    case nameof(DeleteClosingDocument):
                    {
                        // A document sent earlier (put into ActivePlatform directly), withdrawn by the ERP.
                        var key = Key("withdrawn", n);
                        var account = DocumentAccounts[n % 4];
                        await PostAsync(api, $"api/v3/resellers/1/accounts/{account}/external_invoices", new JsonObject
                        {
                            ["key"] = key,
                            ["type"] = "act",
                            ["name"] = string.Create(CultureInfo.InvariantCulture, $"Act {n} for September 2026"),
                            ["amount"] = new JsonObject { ["total"] = "500.00", ["currency"] = "EUR" },
                            ["start_date"] = "2026-09-01",
                            ["end_date"] = "2026-09-30",
                            ["file"] = "data:application/pdf;base64," + Workload.PdfBase64,
                        }, ct);
                        Add(flow, key, new DeleteClosingDocument { AccountId = account, Key = key });
                        break;
                    }

                    case nameof(NotifyClosingDocuments):
                    {
                        var key = Key("notify", n);
                        Add(flow, key, new NotifyClosingDocuments { Key = key, AccountIds = DocumentAccounts, StartDate = MonthStart, EndDate = MonthEnd });
                        break;
                    }

                    default:
                        throw new InvalidOperationException($"the mix has no messages for {flow.Flow}");
                }
            }
        }

        // A fixed shuffle: every flow's messages spread over the preload, the same order in every run.
        var random = new Random(8);
        for (var i = messages.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (messages[i], messages[j]) = (messages[j], messages[i]);
        }

        return messages;
    }

    /// <summary>
    /// Batch <paramref name="index"/>: two currency pairs no other batch of the run names (32 currencies give 992 ordered
    /// pairs, so 496 batches), so no batch can be skipped as older than another whichever Bridge applies first. Beyond that
    /// the pairs come round again a day later: a later batch of a pair is then ~50 000 messages behind the earlier one.
    /// </summary>
    private static UpdateCurrencyRates RateBatch(string key, int index)
    {
        var pairs = Currencies.Length * (Currencies.Length - 1);
        var rates = new List<CurrencyRate>(2);
        for (var p = 2 * index; p < (2 * index) + 2; p++)
        {
            var pair = p % pairs;
            var baseCurrency = Currencies[pair / (Currencies.Length - 1)];
            var foreign = Currencies.Where(c => c != baseCurrency).ElementAt(pair % (Currencies.Length - 1));
            rates.Add(new CurrencyRate { BaseCurrency = baseCurrency, ForeignCurrency = foreign, Quantity = 1, Rate = 0.5m + (pair % 97 * 1.25m) });
        }

        return new UpdateCurrencyRates { Key = key, EffectiveAt = RatesEffectiveAt.AddDays(2 * index / pairs), Rates = rates };
    }

    private static Task<SandboxInvoice> SeedInvoiceAsync(SandboxControlClient control, long accountId, int n, CancellationToken ct) =>
        control.SeedInvoiceAsync(new SandboxInvoiceSeed { AccountId = accountId, BillingDate = MonthStart, Total = 900m + (n % 100) + 0.65m }, ct);

    /// <summary>A write to ActivePlatform's API as Bridge sends it (JSON:API media types, a body with its length); throws unless it succeeded.</summary>
    private static async Task<JsonNode?> PostAsync(HttpClient api, string path, JsonObject body, CancellationToken ct)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/vnd.api+json");
        using var response = await api.PostAsync(new Uri(path, UriKind.Relative), content, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return response.IsSuccessStatusCode
            ? JsonNode.Parse(text)
            : throw new InvalidOperationException($"setting up the mix: the sandbox answered POST {path} with {(int)response.StatusCode}: {text}");
    }
}
