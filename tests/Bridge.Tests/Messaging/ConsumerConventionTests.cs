using System.Text.RegularExpressions;
using Bridge.Contracts;
using Bridge.Host.Messaging;
using Bridge.Tests.Contracts;
using MassTransit;

namespace Bridge.Tests.Messaging;

/// <summary>
/// Consumers are registered by convention (<see cref="BridgeConsumers"/>), not from hand-kept lists: every ERP command has
/// exactly one consumer, on the queue the AsyncAPI document names for it, and nothing else is picked up. The queue names
/// have one source, <see cref="BridgeQueues"/> in the contracts package ERP teams reference: every consumer reads the
/// queue of its command's constant.
/// </summary>
public sealed partial class ConsumerConventionTests
{
    [Fact]
    public void Every_command_has_one_consumer_on_its_kebab_case_queue_from_BridgeQueues_and_nothing_else_is_a_consumer()
    {
        var consumed = BridgeConsumers.All.ToDictionary(
            consumer => consumer.Consumer.GetInterfaces()
                .Single(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>)).GetGenericArguments()[0],
            consumer => consumer.Queue);

        Assert.Equal(
            ContractCatalog.Commands.OrderBy(type => type.Name, StringComparer.Ordinal),
            consumed.Keys.OrderBy(type => type.Name, StringComparer.Ordinal));
        foreach (var (command, queue) in consumed)
        {
            Assert.Equal(UpperCase().Replace(command.Name, m => (m.Index == 0 ? "" : "-") + m.Value.ToLowerInvariant()), queue);
            Assert.True(ContractCatalog.QueueConstants.TryGetValue(command.Name, out var constant), $"BridgeQueues has no constant {command.Name}");
            Assert.Equal(constant, queue);
        }

        Assert.Equal(BridgeConsumers.All.Count, BridgeConsumers.All.Select(consumer => consumer.Queue).Distinct().Count());
    }

    [Fact]
    public void BridgeQueues_has_one_constant_per_command_and_names_the_queue_under_a_prefix_as_the_host_does()
    {
        Assert.Equal(
            ContractCatalog.Commands.Select(type => type.Name).Order(StringComparer.Ordinal),
            ContractCatalog.QueueConstants.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(ContractCatalog.QueueConstants.Count, ContractCatalog.QueueConstants.Values.Distinct(StringComparer.Ordinal).Count());

        var defaults = new MessagingOptions();
        Assert.Equal(BridgeQueues.DefaultPrefix, defaults.QueuePrefix);
        Assert.Equal("bridge.send-closing-document", BridgeQueues.Name(BridgeQueues.SendClosingDocument));
        Assert.Equal(defaults.QueueName(BridgeQueues.CancelPayment), BridgeQueues.Name(BridgeQueues.CancelPayment));
        Assert.Equal("erp-test.cancel-payment", new MessagingOptions { QueuePrefix = "erp-test" }.QueueName(BridgeQueues.CancelPayment));
        Assert.Equal("erp-test.cancel-payment", BridgeQueues.Name(BridgeQueues.CancelPayment, "erp-test"));
    }

    [Fact]
    public void Every_ERP_command_is_validated_by_the_pipeline_step_through_its_handlers_rules()
    {
        var host = typeof(BridgeConsumers).Assembly;
        var commands = host.GetTypes().Where(type => type is { IsClass: true, IsAbstract: false } && typeof(Bridge.Host.Idempotency.IErpCommand).IsAssignableFrom(type)).ToList();
        Assert.Equal(BridgeConsumers.All.Count, commands.Count);
        foreach (var command in commands)
        {
            var handler = Assert.Single(host.GetTypes(), type => type is { IsClass: true, IsAbstract: false }
                && type.GetInterfaces().Contains(typeof(Mediator.ICommandHandler<,>).MakeGenericType(command, typeof(Bridge.Host.Idempotency.HandlingOutcome))));
            Assert.Contains(typeof(Bridge.Host.Idempotency.IErpCommandRules<>).MakeGenericType(command), handler.GetInterfaces());
        }
    }

    [Fact]
    public void A_consumer_without_a_queue_constant_is_refused_by_name()
    {
        var error = Assert.Throws<InvalidOperationException>(() => BridgeConsumers.QueueOf(typeof(ConsumerConventionTests)));
        Assert.Contains(nameof(ConsumerConventionTests), error.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex("[A-Z]")]
    private static partial Regex UpperCase();
}
