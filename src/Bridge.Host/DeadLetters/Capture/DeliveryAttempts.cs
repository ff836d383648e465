using MassTransit;

namespace Bridge.Host.DeadLetters.Capture;

/// <summary>
/// How many times one delivery reached its consumer, retries included: kept on the receive context, so the error pipe can
/// record it. MassTransit's own retry count does not reach the error pipe when retries are configured per message type.
/// </summary>
public sealed class DeliveryAttempts
{
    private int count;

    public int Count => Volatile.Read(ref count);

    public void Increment() => Interlocked.Increment(ref count);
}

/// <summary>Adds the attempt counter to every consumer of the endpoint, inside its retry filters, so each try is counted.</summary>
internal sealed class DeliveryAttemptsObserver : IConsumerConfigurationObserver
{
    public void ConsumerConfigured<TConsumer>(IConsumerConfigurator<TConsumer> configurator)
        where TConsumer : class
    {
    }

    public void ConsumerMessageConfigured<TConsumer, TMessage>(IConsumerMessageConfigurator<TConsumer, TMessage> configurator)
        where TConsumer : class
        where TMessage : class
        => configurator.UseFilter(new CountAttemptFilter<ConsumerConsumeContext<TConsumer, TMessage>>());

    private sealed class CountAttemptFilter<TContext> : IFilter<TContext>
        where TContext : class, ConsumeContext
    {
        public Task Send(TContext context, IPipe<TContext> next)
        {
            context.ReceiveContext.GetOrAddPayload(() => new DeliveryAttempts()).Increment();
            return next.Send(context);
        }

        public void Probe(ProbeContext context) => context.CreateFilterScope("countDeliveryAttempt");
    }
}
