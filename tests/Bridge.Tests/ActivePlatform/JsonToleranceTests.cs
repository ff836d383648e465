using System.Text.Json;
using Bridge.ActivePlatform;
using Bridge.ActivePlatform.Json;
using Bridge.ActivePlatform.Models;
using Xunit;

namespace Bridge.Tests.ActivePlatform;

public sealed class JsonToleranceTests
{
    private static JsonApiDocument<ExternalInvoice> Invoices(string json) =>
        JsonSerializer.Deserialize(json, ActivePlatformJsonContext.Default.JsonApiDocumentExternalInvoice)!;

    private static ExternalInvoice Invoice(string attributes, string id = "\"11\"") =>
        Assert.Single(Invoices("{\"data\":{\"id\":" + id + ",\"type\":\"external_invoices\",\"attributes\":{" + attributes + "}}}").Items);

    [Theory]
    [InlineData("\"2162\"")]
    [InlineData("2162")]
    public void Ids_read_as_strings_or_numbers(string id) =>
        Assert.Equal("2162", Invoice("\"key\":\"k\"", id).Id);

    [Theory]
    [InlineData("\"123.45\"", "123.45")]
    [InlineData("123.45", "123.45")]
    [InlineData("\"-0.5\"", "-0.5")]
    [InlineData("\"0.0\"", "0")]
    public void Money_reads_as_decimal_from_string_or_number(string total, string expected) =>
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), Invoice($$"""
            "amount":{"total":{{total}},"currency":"EUR"}
            """).Attributes.Amount!.Total);

    [Fact]
    public void Money_keeps_decimal_precision_a_double_would_lose() =>
        Assert.Equal(12345678901234.01m, Invoice("""
            "amount":{"total":"12345678901234.01","currency":"RUB"}
            """).Attributes.Amount!.Total);

    [Theory]
    [InlineData("2019-11-01T06:37:31.737051+0300", 2019, 11, 1, 6, 37, 31, 7370510, 3)]
    [InlineData("2022-08-29T10:30:35.541209+0000", 2022, 8, 29, 10, 30, 35, 5412090, 0)]
    [InlineData("2024-10-04T16:23:46.198+03:00", 2024, 10, 4, 16, 23, 46, 1980000, 3)]
    [InlineData("2024-10-04T16:23:46Z", 2024, 10, 4, 16, 23, 46, 0, 0)]
    public void Both_timestamp_styles_read_with_their_offset(string text, int y, int mo, int d, int h, int mi, int s, int fractionTicks, int offsetHours)
    {
        var expected = new DateTimeOffset(y, mo, d, h, mi, s, TimeSpan.FromHours(offsetHours)).AddTicks(fractionTicks);

        var actual = Invoice($"\"created_at\":\"{text}\"").Attributes.CreatedAt;

        Assert.Equal(expected, actual);
        Assert.Equal(expected.Offset, actual!.Value.Offset);
    }

    [Fact]
    public void Dates_read_as_DateOnly()
    {
        var attributes = Invoice("\"start_date\":\"2019-11-01\",\"end_date\":\"2019-11-30\"").Attributes;

        Assert.Equal(new DateOnly(2019, 11, 1), attributes.StartDate);
        Assert.Equal(new DateOnly(2019, 11, 30), attributes.EndDate);
    }

    [Theory]
    [InlineData("""{"data":{"id":"1","type":"external_invoices","attributes":{"key":"a"}}}""", 1)]
    [InlineData("""{"data":[{"id":"1","type":"external_invoices","attributes":{"key":"a"}},{"id":"2","type":"external_invoices"}]}""", 2)]
    [InlineData("""{"data":[]}""", 0)]
    [InlineData("""{"data":null}""", 0)]
    [InlineData("""{}""", 0)]
    public void Data_reads_as_object_array_or_null(string json, int count) =>
        Assert.Equal(count, Invoices(json).Items.Count);

    [Theory]
    [InlineData("true", true)]
    [InlineData("\"true\"", true)]
    [InlineData("\"false\"", false)]
    [InlineData("\"1\"", true)]
    [InlineData("0", false)]
    public void Booleans_read_from_strings(string value, bool expected)
    {
        var json = """{"data":{"id":"5","type":"async_tasks","attributes":{"status":"completed","results":{"valid":""" + value + "}}}}";

        var task = Assert.Single(JsonSerializer.Deserialize(json, ActivePlatformJsonContext.Default.JsonApiDocumentAsyncTask)!.Items);

        Assert.Equal(expected, task.Attributes.Results!.Valid);
        Assert.Equal(AsyncTaskState.Completed, task.State);
    }

    [Fact]
    public void A_non_boolean_string_is_rejected_rather_than_guessed() =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(
            """{"data":{"id":"5","type":"async_tasks","attributes":{"results":{"valid":"maybe"}}}}""",
            ActivePlatformJsonContext.Default.JsonApiDocumentAsyncTask));

    [Fact]
    public void A_write_answer_is_read_by_its_type()
    {
        const string json = """{"data":{"type":"async_tasks","id":"9b68427b-52d5-4c01-9b77-eb1b70517414","attributes":{"status":"pending"}}}""";

        var resource = Assert.Single(JsonSerializer.Deserialize(json, ActivePlatformJsonContext.Default.JsonApiDocumentJsonApiResource)!.Items);

        var task = Assert.IsType<AsyncTask>(resource);
        Assert.Equal("9b68427b-52d5-4c01-9b77-eb1b70517414", task.Id);
        Assert.Equal(AsyncTaskState.Pending, task.State);
    }

    [Fact]
    public void Documented_delete_answer_reads_completely()
    {
        const string json = """
            {"data":{"id":"277","type":"external_invoices","attributes":{
              "created_at":"2022-08-29T10:30:35.541209+0000","updated_at":"2022-08-29T11:04:44.315677+0000",
              "type":"invoice","key":"0493e78a-e8ef-11e9-81b4-2a2ae2dbcce4","name":"Invoice ext",
              "start_date":"2019-11-01","end_date":"2019-11-30","amount":{"currency":"EUR","total":"123.45"}}}}
            """;

        var document = Invoices(json);

        Assert.Empty(ExtensionDataInspector.Uncaptured(document));
        var invoice = Assert.Single(document.Items);
        Assert.Equal("277", invoice.Id);
        Assert.Equal("invoice", invoice.Attributes.Type);
        Assert.Equal(123.45m, invoice.Attributes.Amount!.Total);
        Assert.Equal("EUR", invoice.Attributes.Amount.Currency);
        Assert.Equal(new DateTimeOffset(2022, 8, 29, 11, 4, 44, TimeSpan.Zero).AddTicks(3156770), invoice.Attributes.UpdatedAt);
    }

    [Fact]
    public void Errors_read_as_the_documented_object()
    {
        var errors = ActivePlatformErrorParser.Parse("""{"errors":{"title":"param is missing or the value is empty: account_ids","status":"422"}}""");

        var error = Assert.Single(errors);
        Assert.Equal("param is missing or the value is empty: account_ids", error.Title);
        Assert.Equal("422", error.Status);
        Assert.Null(error.Code);
    }

    [Fact]
    public void Errors_read_as_an_array_with_codes_and_numeric_status()
    {
        var errors = ActivePlatformErrorParser.Parse("""{"errors":[{"title":"Required parameters are not provided","status":400,"code":"INVOICE-0001"},{"title":"second","detail":"more"}]}""");

        Assert.Equal(2, errors.Count);
        Assert.Equal(("Required parameters are not provided", "400", "INVOICE-0001"), (errors[0].Title, errors[0].Status, errors[0].Code));
        Assert.Equal("more", errors[1].Detail);
    }

    [Theory]
    [InlineData("""{"errors":{"key":["has already been taken"],"name":["can't be blank"]}}""", "key: has already been taken; name: can't be blank")]
    [InlineData("""{"error":"Unauthorized"}""", "Unauthorized")]
    [InlineData("""{"errors":"boom"}""", "boom")]
    public void Rails_style_errors_become_a_title(string body, string title) =>
        Assert.Equal(title, Assert.Single(ActivePlatformErrorParser.Parse(body)).Title);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("<html><body>502 Bad Gateway</body></html>")]
    [InlineData("null")]
    [InlineData("[1,2]")]
    [InlineData("{\"errors\":")]
    [InlineData("{\"data\":null}")]
    public void Garbage_or_empty_error_bodies_yield_no_errors(string? body) =>
        Assert.Empty(ActivePlatformErrorParser.Parse(body));

    [Theory]
    [InlineData(123.45, "123.45")]
    [InlineData(100, "100.00")]
    [InlineData(-5, "-5.00")]
    [InlineData(0, "0.00")]
    [InlineData(1.2345, "1.2345")]
    public void Money_is_written_as_an_invariant_string(double total, string expected) =>
        Assert.Equal(expected, MoneyWrite.Format((decimal)total));

    [Fact]
    public void Write_body_in_both_envelopes_carries_a_data_uri_and_string_money()
    {
        var attributes = ExternalInvoiceWriteAttributes.From(SampleWrite());

        var wrapped = JsonSerializer.Serialize(
            new DataAttributesEnvelope<ExternalInvoiceWriteAttributes> { Data = new() { Attributes = attributes } },
            ActivePlatformJsonContext.Default.DataAttributesEnvelopeExternalInvoiceWriteAttributes);
        var flat = JsonSerializer.Serialize(attributes, ActivePlatformJsonContext.Default.ExternalInvoiceWriteAttributes);

        const string expected = """{"key":"0493e78a-e8ef-11e9-81b4-2a2ae2dbcce4","type":"invoice_vat","name":"Счёт-фактура 17","amount":{"total":"1234.50","currency":"RUB"},"start_date":"2019-11-01","end_date":"2019-11-30","file":"data:application/pdf;base64,JVBERi0xLjQK"}""";
        Assert.Equal(expected, Normalize(flat));
        Assert.Equal("{\"data\":{\"attributes\":" + expected + "}}", Normalize(wrapped));
    }

    internal static ClosingDocumentWrite SampleWrite() => new()
    {
        Key = "0493e78a-e8ef-11e9-81b4-2a2ae2dbcce4",
        Type = ExternalInvoiceType.InvoiceVat,
        Name = "Счёт-фактура 17",
        Total = 1234.5m,
        Currency = "RUB",
        StartDate = new DateOnly(2019, 11, 1),
        EndDate = new DateOnly(2019, 11, 30),
        FileContentType = "application/pdf",
        FileContentBase64 = "JVBERi0xLjQK",
    };

    // Re-serialize with relaxed escaping so the assertion reads like the wire text.
    private static string Normalize(string json) =>
        JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
