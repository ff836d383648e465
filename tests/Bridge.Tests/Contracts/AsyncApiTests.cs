using Bridge.Contracts;
using Xunit;

namespace Bridge.Tests.Contracts;

/// <summary>
/// contracts/asyncapi.yaml names every queue Bridge reads and every exchange it publishes to. These tests keep it
/// complete (one input queue and one error queue per command, one exchange per event), consistent (every $ref resolves,
/// every binding names its channel's address) and tied to the JSON Schemas and the C# records.
/// </summary>
public sealed class AsyncApiTests
{
    private const string PlainJson = "application/json";
    private const string MassTransitJson = "application/vnd.masstransit+json";

    private static readonly Lazy<Dictionary<string, object?>> Document = new(() =>
        (Dictionary<string, object?>)Plain(new YamlDotNet.Serialization.DeserializerBuilder().Build()
            .Deserialize<object>(File.ReadAllText(ContractFiles.AsyncApiPath)))!);

    /// <summary>YamlDotNet's untyped nodes as string-keyed mappings, lists and string scalars.</summary>
    private static object? Plain(object? node) => node switch
    {
        Dictionary<object, object?> mapping => mapping.ToDictionary(pair => (string)pair.Key, pair => Plain(pair.Value), StringComparer.Ordinal),
        List<object?> sequence => sequence.Select(Plain).ToList(),
        _ => node,
    };

    public static TheoryData<string> CommandNames() => [.. ContractCatalog.Commands.Select(type => type.Name)];

    public static TheoryData<string> EventNames() => [.. ContractCatalog.Events.Select(type => type.Name)];

    [Fact]
    public void It_is_an_AsyncAPI_3_document_for_an_AMQP_0_9_1_broker()
    {
        Assert.Equal("3.0.0", Text(Document.Value, "asyncapi"));
        var server = Assert.Single(Map(Document.Value, "servers").Values.Cast<Dictionary<string, object?>>());
        Assert.Equal("amqp", Text(server, "protocol"));
        Assert.Equal("0.9.1", Text(server, "protocolVersion"));
    }

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void Each_command_has_its_input_queue_accepting_plain_JSON_and_the_MassTransit_envelope(string commandName)
    {
        var queue = ContractCatalog.InputQueue(commandName);
        var channel = ChannelAt(queue);

        Assert.Equal("queue", Text(Binding(channel), "is"));
        var messages = ChannelMessages(channel);
        Assert.Equal([PlainJson, MassTransitJson], messages.Select(message => Text(message, "contentType")).Order(StringComparer.Ordinal));
        Assert.All(messages, message => Assert.Equal(commandName, Text(message, "name")));
        Assert.All(messages, message => Assert.Equal([$"./schemas/{commandName}.schema.json"], FileReferences(message["payload"]).Distinct()));
        Assert.Contains(Operations(), operation => Text(operation, "action") == "receive" && ReferencedChannel(operation) == channel);
    }

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void Each_command_queue_has_an_error_queue_carrying_the_same_message(string commandName)
    {
        var channel = ChannelAt(ContractCatalog.InputQueue(commandName) + "_error");

        Assert.Equal("queue", Text(Binding(channel), "is"));
        Assert.All(ChannelMessages(channel), message => Assert.Equal([$"./schemas/{commandName}.schema.json"], FileReferences(message["payload"]).Distinct()));
        Assert.Contains(Operations(), operation => Text(operation, "action") == "send" && ReferencedChannel(operation) == channel);
    }

    [Theory]
    [MemberData(nameof(EventNames))]
    public void Each_event_is_published_to_its_fanout_exchange_in_the_MassTransit_envelope(string eventName)
    {
        var exchange = $"Bridge.Contracts:{eventName}";
        var channel = ChannelAt(exchange);

        var binding = Binding(channel);
        Assert.Equal("routingKey", Text(binding, "is"));
        Assert.Equal("fanout", Text(Map(binding, "exchange"), "type"));
        var message = Assert.Single(ChannelMessages(channel));
        Assert.Equal(MassTransitJson, Text(message, "contentType"));
        Assert.Equal(eventName, Text(message, "name"));
        Assert.Equal([$"./schemas/{eventName}.schema.json"], FileReferences(message["payload"]).Distinct());
        Assert.Contains(Operations(), operation => Text(operation, "action") == "send" && ReferencedChannel(operation) == channel);
    }

    [Fact]
    public void Every_queue_and_exchange_references_an_existing_schema_file_and_binds_its_own_address()
    {
        var channels = Map(Document.Value, "channels");
        Assert.NotEmpty(channels);

        foreach (var (id, node) in channels)
        {
            var channel = (Dictionary<string, object?>)node!;
            if (channel.TryGetValue("address", out var dynamic) && dynamic is null)
            {
                // An address known only at run time: the asker's reply queue, which an operation's reply must name.
                Assert.Contains(Operations(), operation => operation.TryGetValue("reply", out var reply) && reply is Dictionary<string, object?> r && ReferencedChannel(r) == channel);
                Assert.NotEmpty(ChannelMessages(channel).SelectMany(message => FileReferences(message["payload"])));
                continue;
            }

            var address = Text(channel, "address");
            var binding = Binding(channel);
            var boundName = Text(binding, "is") switch
            {
                "queue" => Text(Map(binding, "queue"), "name"),
                "routingKey" => Text(Map(binding, "exchange"), "name"),
                var other => throw new Xunit.Sdk.XunitException($"channel {id}: unknown amqp binding '{other}'"),
            };
            Assert.Equal(address, boundName);

            var files = ChannelMessages(channel).SelectMany(message => FileReferences(message["payload"])).ToList();
            Assert.True(files.Count > 0, $"channel {id} ({address}) references no schema file");
            Assert.All(files, file => Assert.True(File.Exists(Path.Combine(ContractFiles.ContractsDirectory, file)), $"channel {id} references missing {file}"));
        }
    }

    [Fact]
    public void Every_channel_is_a_queue_or_exchange_of_some_contract_and_every_schema_file_is_used()
    {
        var expected = ContractCatalog.Commands.SelectMany(type => new[] { ContractCatalog.InputQueue(type.Name), ContractCatalog.InputQueue(type.Name) + "_error" })
            .Concat(ContractCatalog.Events.Select(type => $"Bridge.Contracts:{type.Name}"))
            .Append(BridgeQueues.Name(BridgeQueues.Queries))
            .Order(StringComparer.Ordinal);
        var channels = Map(Document.Value, "channels").Values.Cast<Dictionary<string, object?>>().ToList();

        Assert.Equal(expected, channels.Where(channel => channel["address"] is not null).Select(channel => Text(channel, "address")).Order(StringComparer.Ordinal));

        var referenced = channels.SelectMany(ChannelMessages).SelectMany(message => FileReferences(message["payload"])).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(
            ContractFiles.SchemaMessageNames().Select(name => $"./schemas/{name}.schema.json").Order(StringComparer.Ordinal),
            referenced.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_query_queue_takes_the_query_in_both_forms_and_answers_to_reply_to_with_either_answer()
    {
        var channel = ChannelAt(BridgeQueues.Name(BridgeQueues.Queries));

        Assert.Equal("queue", Text(Binding(channel), "is"));
        var messages = ChannelMessages(channel);
        Assert.Equal([PlainJson, MassTransitJson], messages.Select(message => Text(message, "contentType")).Order(StringComparer.Ordinal));
        Assert.All(messages, message => Assert.Equal(["./schemas/QueryActivePlatform.schema.json"], FileReferences(message["payload"]).Distinct()));

        var receive = Assert.Single(Operations(), operation => Text(operation, "action") == "receive" && ReferencedChannel(operation) == channel);
        var reply = Map(receive, "reply");
        Assert.Equal("$message.header#/reply_to", Text(Map(reply, "address"), "location"));
        Assert.Equal(
            ["./schemas/QueryAnswered.schema.json", "./schemas/QueryFailed.schema.json"],
            ChannelMessages(ReferencedChannel(reply)).SelectMany(message => FileReferences(message["payload"])).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_reference_in_the_document_resolves()
    {
        var unresolved = References(Document.Value)
            .Where(reference => reference.StartsWith('#') ? ResolvePointer(reference) is null : !File.Exists(Path.Combine(ContractFiles.ContractsDirectory, reference)))
            .ToList();

        Assert.Empty(unresolved);
        Assert.Contains(References(Document.Value), reference => reference.StartsWith("#/components/", StringComparison.Ordinal));
    }

    [Fact]
    public void Plain_JSON_messages_document_the_AMQP_message_id_and_correlation_id()
    {
        var properties = Map(Map(Map(Map(Document.Value, "components"), "schemas"), "AmqpProperties"), "properties");

        Assert.Contains("message_id", properties.Keys);
        Assert.Contains("correlation_id", properties.Keys);
        Assert.Contains("content_type", properties.Keys);
    }

    private static Dictionary<string, object?> ChannelAt(string address)
    {
        var matches = Map(Document.Value, "channels").Values.Cast<Dictionary<string, object?>>()
            .Where(channel => channel["address"] is not null && Text(channel, "address") == address)
            .ToList();
        Assert.True(matches.Count == 1, $"asyncapi.yaml should have exactly one channel at '{address}', has {matches.Count}");
        return matches[0];
    }

    private static Dictionary<string, object?> Binding(Dictionary<string, object?> channel) => Map(Map(channel, "bindings"), "amqp");

    private static List<Dictionary<string, object?>> ChannelMessages(Dictionary<string, object?> channel) =>
        Map(channel, "messages").Values.Select(Dereference).ToList();

    private static List<Dictionary<string, object?>> Operations() =>
        Map(Document.Value, "operations").Values.Cast<Dictionary<string, object?>>().ToList();

    private static Dictionary<string, object?> ReferencedChannel(Dictionary<string, object?> operation) => Dereference(operation["channel"]);

    /// <summary>Follows a {$ref: '#/...'} node to what it points at; any other mapping is returned as it is.</summary>
    private static Dictionary<string, object?> Dereference(object? node)
    {
        var map = Assert.IsType<Dictionary<string, object?>>(node);
        while (map.TryGetValue("$ref", out var reference) && reference is string pointer && pointer.StartsWith('#'))
        {
            map = ResolvePointer(pointer) as Dictionary<string, object?>
                ?? throw new Xunit.Sdk.XunitException($"asyncapi.yaml: $ref '{pointer}' does not resolve to a mapping");
        }

        return map;
    }

    private static object? ResolvePointer(string pointer)
    {
        object? node = Document.Value;
        foreach (var segment in pointer.TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries).Select(segment => segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)))
        {
            if (node is not Dictionary<string, object?> map || !map.TryGetValue(segment, out node))
            {
                return null;
            }
        }

        return node;
    }

    /// <summary>Relative file references (the JSON Schemas) anywhere under a node.</summary>
    private static IEnumerable<string> FileReferences(object? node) => References(node).Where(reference => !reference.StartsWith('#'));

    private static IEnumerable<string> References(object? node) => node switch
    {
        Dictionary<string, object?> map => map.SelectMany(pair => pair.Key == "$ref" && pair.Value is string reference ? [reference] : References(pair.Value)),
        List<object?> list => list.SelectMany(References),
        _ => [],
    };

    private static Dictionary<string, object?> Map(Dictionary<string, object?> node, string key) =>
        node.TryGetValue(key, out var value) && value is Dictionary<string, object?> map
            ? map
            : throw new Xunit.Sdk.XunitException($"asyncapi.yaml: expected a mapping at '{key}'");

    private static string Text(Dictionary<string, object?> node, string key) =>
        node.TryGetValue(key, out var value) && value is string text
            ? text
            : throw new Xunit.Sdk.XunitException($"asyncapi.yaml: expected text at '{key}'");
}
