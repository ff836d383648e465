using System.Text.Json;
using System.Text.Json.Nodes;
using NJsonSchema;
using Xunit;

namespace Bridge.Tests.Contracts;

/// <summary>
/// The JSON Schemas in contracts/schemas are hand-written documentation for non-.NET publishers and subscribers;
/// these tests keep them and the C# records of Bridge.Contracts saying the same thing, in both directions.
/// </summary>
public sealed class SchemaAgreementTests
{
    public static TheoryData<string> MessageNames() => [.. ContractCatalog.Messages.Select(type => type.Name)];

    public static TheoryData<string> SchemaFileNames() => [.. ContractFiles.SchemaMessageNames()];

    [Fact]
    public void The_contracts_assembly_declares_the_closing_document_commands_and_events()
    {
        // A subset: every flow adds its own messages, and each flow's set is checked here.
        Assert.Subset(
            ContractCatalog.Commands.Select(type => type.Name).ToHashSet(StringComparer.Ordinal),
            new HashSet<string>(["DeleteClosingDocument", "NotifyClosingDocuments", "SendClosingDocument", "CreateCorrection", "ApproveCorrection", "DeclineCorrection", "ApproveInvoice", "CompleteInvoice", "RevokeInvoiceApproval"], StringComparer.Ordinal));
        Assert.Subset(
            ContractCatalog.Events.Select(type => type.Name).ToHashSet(StringComparer.Ordinal),
            new HashSet<string>(["ClosingDocumentDeleted", "ClosingDocumentRejected", "ClosingDocumentSent", "ClosingDocumentSkipped", "ClosingDocumentsNotified", "CorrectionCreated", "CorrectionApproved", "CorrectionDeclined", "CorrectionRejected", "InvoiceApproved", "InvoiceCompleted", "InvoiceApprovalRevoked", "InvoiceRejected", "ErpMessageDeadLettered"], StringComparer.Ordinal));
    }

    [Fact]
    public void Every_command_and_event_has_a_schema_file_and_every_schema_file_a_record()
    {
        var recordNames = ContractCatalog.Messages.Select(type => type.Name).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(recordNames, ContractFiles.SchemaMessageNames());
    }

    [Fact]
    public void Every_other_contract_record_is_part_of_some_message()
    {
        // A record that is neither a command, an event nor used by one is most likely a command that forgot IdempotencyKey.
        var used = ContractCatalog.Messages
            .SelectMany(AllPropertyTypes)
            .ToHashSet();

        Assert.All(ContractCatalog.ValueRecords, record => Assert.Contains(record, used));
    }

    [Theory]
    [MemberData(nameof(SchemaFileNames))]
    public void Schema_file_is_draft_07_with_its_urn_id_and_title(string messageName)
    {
        var schema = ReadSchemaJson(messageName);

        Assert.Equal("http://json-schema.org/draft-07/schema#", schema["$schema"]?.GetValue<string>());
        Assert.Equal($"urn:bridge:contracts:{messageName}", schema["$id"]?.GetValue<string>());
        Assert.Equal(messageName, schema["title"]?.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(schema["description"]?.GetValue<string>()));
        // Tolerant readers on both sides: unknown properties are ignored, never rejected.
        Assert.True(schema["additionalProperties"]?.GetValue<bool>());
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void Schema_properties_required_list_and_types_match_the_record(string messageName)
    {
        var problems = SchemaShape.Compare(ContractCatalog.Message(messageName), ReadSchemaJson(messageName));

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Theory]
    [MemberData(nameof(SchemaFileNames))]
    public void Every_schema_property_is_described(string messageName)
    {
        var schema = ReadSchemaJson(messageName);
        var undescribed = DescribedObjects(schema)
            .SelectMany(pair => (pair.Schema["properties"] as JsonObject ?? []).Where(property => property.Value?["description"] is null).Select(property => $"{pair.Path}.{property.Key}"))
            .ToList();

        Assert.Empty(undescribed);
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public async Task Serialized_samples_of_the_record_validate_against_the_schema(string messageName)
    {
        var type = ContractCatalog.Message(messageName);
        var schema = await LoadSchemaAsync(messageName);
        var samples = ContractSamples.For(type);
        Assert.NotEmpty(samples);

        foreach (var sample in samples)
        {
            foreach (var options in new[] { ContractSamples.Web, ContractSamples.MassTransitLike })
            {
                var json = JsonSerializer.Serialize(sample, type, options);
                var errors = schema.Validate(json);
                Assert.True(errors.Count == 0, $"{json}{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SchemaFileNames))]
    public async Task Schema_examples_validate_and_read_into_the_record_without_losing_a_field(string messageName)
    {
        var type = ContractCatalog.Message(messageName);
        var schema = await LoadSchemaAsync(messageName);
        var examples = ReadSchemaJson(messageName)["examples"] as JsonArray;
        Assert.NotNull(examples);
        Assert.NotEmpty(examples);

        foreach (var example in examples.Select(node => node!.ToJsonString()))
        {
            Assert.Empty(schema.Validate(example));

            var record = JsonSerializer.Deserialize(example, type, ContractSamples.MassTransitLike);
            var written = JsonSerializer.SerializeToNode(record, type, ContractSamples.MassTransitLike);
            Assert.True(
                JsonNode.DeepEquals(WithoutNulls(JsonNode.Parse(example)), WithoutNulls(written)),
                $"example {example}{Environment.NewLine}read and written again as {written?.ToJsonString()}");
        }
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public async Task A_document_missing_any_required_property_is_invalid(string messageName)
    {
        var type = ContractCatalog.Message(messageName);
        var schema = await LoadSchemaAsync(messageName);
        var valid = SampleNode(type);

        foreach (var name in ContractCatalog.RequiredJsonNames(type))
        {
            var document = valid.DeepClone().AsObject();
            Assert.True(document.Remove(name), $"the sample has no {name}");

            Assert.NotEmpty(schema.Validate(document.ToJsonString()));
        }
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public async Task A_document_with_an_unknown_enum_value_is_invalid(string messageName)
    {
        var type = ContractCatalog.Message(messageName);
        var schema = await LoadSchemaAsync(messageName);
        var valid = SampleNode(type);
        var enumProperties = ContractCatalog.SerializedProperties(type).Where(property => (Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType).IsEnum).ToList();

        foreach (var property in enumProperties)
        {
            var document = valid.DeepClone().AsObject();
            document[ContractCatalog.JsonName(property)] = "not_a_" + property.Name;

            Assert.NotEmpty(schema.Validate(document.ToJsonString()));
        }
    }

    [Theory]
    [InlineData("amount", """{"total":"123.45","currency":"EUR"}""")]
    [InlineData("amount", """{"total":123.45,"currency":"eur"}""")]
    [InlineData("type", "\"Act\"")]
    [InlineData("startDate", "\"30.11.2026\"")]
    [InlineData("endDate", "\"2026-11-30T00:00:00Z\"")]
    [InlineData("modifiedAt", "\"yesterday\"")]
    [InlineData("accountId", "\"505\"")]
    [InlineData("accountId", "0")]
    [InlineData("key", "\"\"")]
    [InlineData("file", """{"contentType":"image/png","contentBase64":"iVBORw0KGgo="}""")]
    [InlineData("file", """{"contentType":"application/pdf"}""")]
    [InlineData("idempotencyKey", "\"\"")]
    public async Task SendClosingDocument_with_a_malformed_field_is_invalid(string property, string value)
    {
        var schema = await LoadSchemaAsync("SendClosingDocument");
        var document = SampleNode(typeof(Bridge.Contracts.SendClosingDocument)).DeepClone().AsObject();
        document[property] = JsonNode.Parse(value);

        Assert.NotEmpty(schema.Validate(document.ToJsonString()));
    }

    [Fact]
    public async Task SendClosingDocument_needs_a_revision_or_a_modification_time()
    {
        var schema = await LoadSchemaAsync("SendClosingDocument");
        var document = SampleNode(typeof(Bridge.Contracts.SendClosingDocument)).DeepClone().AsObject();

        document["revision"] = null;
        document["modifiedAt"] = "2026-11-30T18:05:00+03:00";
        Assert.Empty(schema.Validate(document.ToJsonString()));

        document["modifiedAt"] = null;
        Assert.NotEmpty(schema.Validate(document.ToJsonString()));

        document.Remove("modifiedAt");
        document["revision"] = 4;
        Assert.Empty(schema.Validate(document.ToJsonString()));
    }

    [Fact]
    public async Task NotifyClosingDocuments_with_no_accounts_is_invalid()
    {
        var schema = await LoadSchemaAsync("NotifyClosingDocuments");
        var document = SampleNode(typeof(Bridge.Contracts.NotifyClosingDocuments)).DeepClone().AsObject();
        document["accountIds"] = new JsonArray();

        Assert.NotEmpty(schema.Validate(document.ToJsonString()));
    }

    [Fact]
    public async Task Unknown_properties_are_tolerated_so_publishers_can_add_their_own()
    {
        var schema = await LoadSchemaAsync("SendClosingDocument");
        var document = SampleNode(typeof(Bridge.Contracts.SendClosingDocument)).DeepClone().AsObject();
        document["erpDocumentNumber"] = "A-118";

        Assert.Empty(schema.Validate(document.ToJsonString()));
    }

    private static JsonObject ReadSchemaJson(string messageName) =>
        JsonNode.Parse(File.ReadAllText(ContractFiles.SchemaPath(messageName)))!.AsObject();

    private static Task<JsonSchema> LoadSchemaAsync(string messageName) =>
        JsonSchema.FromFileAsync(ContractFiles.SchemaPath(messageName), CancellationToken.None);

    /// <summary>The first (fullest) sample, as Bridge's publishers write it.</summary>
    private static JsonObject SampleNode(Type type) =>
        JsonSerializer.SerializeToNode(ContractSamples.For(type)[0], type, ContractSamples.Web)!.AsObject();

    private static IEnumerable<Type> AllPropertyTypes(Type type) =>
        ContractCatalog.SerializedProperties(type)
            .Select(property => Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType)
            .SelectMany(propertyType => propertyType.IsGenericType ? [propertyType, .. propertyType.GetGenericArguments()] : new[] { propertyType })
            .Where(ContractCatalog.IsContractRecord)
            .SelectMany(record => AllPropertyTypes(record).Prepend(record));

    private static IEnumerable<(string Path, JsonObject Schema)> DescribedObjects(JsonObject schema)
    {
        yield return ("", schema);
        foreach (var (name, definition) in schema["definitions"] as JsonObject ?? [])
        {
            yield return ($"#/definitions/{name}", definition!.AsObject());
        }
    }

    private static JsonNode? WithoutNulls(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Where(pair => pair.Value is null).Select(pair => pair.Key).ToList())
                {
                    obj.Remove(name);
                }

                foreach (var pair in obj.ToList())
                {
                    WithoutNulls(pair.Value);
                }

                return obj;
            case JsonArray array:
                foreach (var item in array)
                {
                    WithoutNulls(item);
                }

                return array;
            default:
                return node;
        }
    }
}
