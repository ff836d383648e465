using System.Net;
using System.Text.Json.Nodes;
using Bridge.Sandbox;

namespace Bridge.Tests.Sandbox;

/// <summary>
/// Every endpoint of api-coverage.txt (the 76 of the public v3 table, copied here: tests do not read outside the
/// repository) is routed by the sandbox — answered by an endpoint of its own, never by the catch-all 404 "Not Found" — and
/// COVERAGE.md counts 76 of 76.
/// </summary>
public sealed class CoverageTests
{
    private static readonly (string Method, string Path)[] Table =
    [
        ("GET", "resellers/1/child_resellers"), ("GET", "customer_store/resellers"), ("GET", "resellers/1"), ("GET", "customer_store/resellers/1"),
        ("POST", "resellers/1/accounts"), ("PATCH", "resellers/1/accounts/523"), ("GET", "resellers/1/accounts"), ("GET", "resellers/1/accounts/523"),
        ("GET", "resellers/1/user_authentication/token"), ("GET", "resellers/1/account_attributes"),
        ("GET", "customer_store/resellers/1/product_categories"), ("GET", "customer_store/resellers/1/products"), ("GET", "customer_store/resellers/1/products/575"),
        ("GET", "resellers/1/plans"), ("GET", "resellers/1/plans/804"), ("GET", "resellers/1/plans/804/switchable_plans"),
        ("GET", "resellers/1/plans/804/order_attributes"), ("POST", "resellers/1/plans/804/order_attributes_validation"),
        ("GET", "resellers/1/orders"), ("GET", "resellers/1/orders/510001"), ("POST", "resellers/1/sales_order"), ("POST", "resellers/1/switch_order"),
        ("POST", "resellers/1/change_order"), ("POST", "resellers/1/renewal_order"), ("POST", "resellers/1/prolong_order"),
        ("POST", "resellers/1/orders/510001/cancel_operation"),
        ("GET", "resellers/1/subscriptions"), ("GET", "resellers/1/subscriptions/3010001"), ("POST", "resellers/1/subscriptions/3010001/stop_operation"),
        ("POST", "resellers/1/subscriptions/3010001/activate_operation"), ("PATCH", "resellers/1/subscriptions/3010001"),
        ("POST", "resellers/1/subscriptions/3010001/delete_operation"),
        ("GET", "resellers/1/charges"), ("GET", "resellers/1/charges/1"), ("PATCH", "vendor/subscriptions/3010001/close_charges"),
        ("POST", "resellers/1/corrections"), ("PATCH", "resellers/1/corrections/1"), ("GET", "resellers/1/invoices"), ("GET", "resellers/1/invoices/1"),
        ("POST", "resellers/1/accounts/523/approve_invoices"), ("POST", "resellers/1/accounts/523/complete_invoices"), ("POST", "resellers/1/invoices/1/approve"),
        ("POST", "resellers/1/invoices/1/complete"), ("POST", "resellers/1/invoices/1/revoke"),
        ("POST", "resellers/1/accounts/523/external_invoices"), ("GET", "resellers/1/accounts/523/external_invoices?filter[key]=k"),
        ("PATCH", "resellers/1/accounts/523/external_invoices/1"), ("DELETE", "resellers/1/accounts/523/external_invoices/1"),
        ("POST", "resellers/1/notifications/external_invoices"),
        ("POST", "resellers/1/managers"), ("PATCH", "resellers/1/managers/50"), ("GET", "resellers/1/managers"), ("GET", "resellers/1/managers/50"),
        ("GET", "resellers/1/manager_roles"),
        ("POST", "resellers/1/payments"), ("GET", "resellers/1/payments"), ("GET", "resellers/1/payments/3001"), ("DELETE", "resellers/1/payments/1"),
        ("PATCH", "resellers/1/payments/1"), ("PATCH", "resellers/1/payments/2"), ("POST", "resellers/1/payments/002016"),
        ("POST", "resellers/1/free_access_documents"), ("PUT", "resellers/1/free_access_documents/80101"), ("GET", "resellers/1/free_access_documents"),
        ("DELETE", "resellers/1/free_access_documents/1"),
        ("GET", "resellers/1/async_tasks/1"), ("GET", "resellers/1/currency_rates"), ("PATCH", "resellers/1/currency_rates"),
        ("POST", "resellers/1/notes"), ("GET", "resellers/1/notes"), ("GET", "resellers/1/notes/70101"), ("DELETE", "resellers/1/notes/1"),
        ("GET", "resellers/1/reseller_analytics"), ("GET", "analytics_daily_drafts"), ("GET", "analytics_daily"), ("GET", "analytics_monthly"),
    ];

    [Fact]
    public async Task Every_endpoint_of_the_v3_table_is_answered_by_an_endpoint_of_the_sandbox()
    {
        Assert.Equal(76, Table.Length);
        await using var sandbox = await SandboxServer.StartAsync(CancellationToken.None);
        using var api = sandbox.CreateClient();
        api.DefaultRequestHeaders.Accept.ParseAdd("application/vnd.api+json");

        var unrouted = new List<string>();
        foreach (var (method, path) in Table)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri("api/v3/" + path, UriKind.Relative));
            if (method != "GET" && method != "DELETE")
            {
                request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/vnd.api+json");
            }

            using var answer = await api.SendAsync(request);
            var title = (string?)JsonNode.Parse(await answer.Content.ReadAsStringAsync())?["errors"]?["title"];
            if (answer.StatusCode is HttpStatusCode.MethodNotAllowed || (answer.StatusCode == HttpStatusCode.NotFound && title == "Not Found"))
            {
                unrouted.Add($"{method} {path}: {(int)answer.StatusCode} {title}");
            }
        }

        Assert.Empty(unrouted);
    }

    [Fact]
    public void Coverage_md_counts_every_endpoint_of_the_table_as_covered()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "COVERAGE.md"));
        var rows = text.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && char.IsDigit(l[2])).ToList();
        var endpoints = rows.Sum(r => r.Split('|')[1].Trim() is var n && n.Contains('–', StringComparison.Ordinal)
            ? int.Parse(n.Split('–')[1]) - int.Parse(n.Split('–')[0]) + 1
            : 1);

        Assert.Equal(76, endpoints);
        Assert.All(rows, r => Assert.StartsWith("both", r.Split('|')[4].Trim(), StringComparison.Ordinal));
        Assert.Contains("**Covered: 76 / 76**", text, StringComparison.Ordinal);
    }
}
