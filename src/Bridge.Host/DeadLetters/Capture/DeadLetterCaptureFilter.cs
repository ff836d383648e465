using Bridge.Host.Messaging;
using MassTransit;
using MassTransit.Middleware;
using MassTransit.Transports;

namespace Bridge.Host.DeadLetters.Capture;

/// <summary>
/// Bridge's error pipe for an input queue, in place of MassTransit's default (generate the fault, move to <c>_error</c>):
/// generate the fault as before, then store the message as a dead letter. Only when the database cannot take it does the
/// message go to the <c>_error</c> queue; when neither works the exception escapes, the delivery is not acknowledged and
/// the broker delivers it again. Either way nothing is lost.
/// </summary>
public static class DeadLetterCaptureConfiguration
{
    /// <summary>Every failed delivery of the queue, whose consumer handles <paramref name="messageType"/>, becomes a dead letter.</summary>
    public static void UseDeadLetterCapture(this IReceiveEndpointConfigurator endpoint, string messageType, IRegistrationContext context)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(context);
        var capture = context.GetRequiredService<DeadLetterCapture>();
        context.GetRequiredService<DeadLetterInputQueues>().Add(InputQueues.NameOf(endpoint.InputAddress), messageType);
        endpoint.ConnectConsumerConfigurationObserver(new DeliveryAttemptsObserver());
        endpoint.ConfigureError(error =>
        {
            error.UseFilter(new GenerateFaultFilter());
            error.UseFilter(new DeadLetterCaptureFilter(capture, messageType));
        });

        // A message no consumer took (MassTransit would move it to <queue>_skipped, where nobody looks) is a dead letter too.
        endpoint.ConfigureDeadLetter(skipped => skipped.UseFilter(new SkippedMessageCaptureFilter(capture, messageType)));
    }
}

/// <summary>The dead-letter capture as the error pipe of every ERP input queue (<see cref="BridgeConsumerDefinition{TConsumer}"/> installs it).</summary>
public sealed class DeadLetterErrorPipe : IInputQueueErrorPipe
{
    public void Configure(IReceiveEndpointConfigurator endpoint, string messageType, IRegistrationContext context) =>
        endpoint.UseDeadLetterCapture(messageType, context);
}

public sealed class DeadLetterCaptureFilter(DeadLetterCapture capture, string messageType) : IFilter<ExceptionReceiveContext>
{
    public void Probe(ProbeContext context) => context.CreateFilterScope("deadLetterCapture");

    public async Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!await capture.TryCaptureAsync(context, messageType))
        {
            if (!context.TryGetPayload<IErrorTransport>(out var errorTransport))
            {
                throw new TransportException(context.InputAddress, "The message could not be stored as a dead letter and the endpoint has no error transport.");
            }

            await errorTransport.Send(context);
        }

        await next.Send(context);
    }
}

/// <summary>
/// Stores a skipped delivery as a dead letter (answered with <c>ErpMessageDeadLettered</c>, replayable, visible to operators).
/// Only when the database cannot take it does it go on to MassTransit's <c>_skipped</c> queue; nothing is dropped.
/// </summary>
public sealed class SkippedMessageCaptureFilter(DeadLetterCapture capture, string messageType) : IFilter<ReceiveContext>
{
    public void Probe(ProbeContext context) => context.CreateFilterScope("skippedMessageCapture");

    public async Task Send(ReceiveContext context, IPipe<ReceiveContext> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!await capture.TryCaptureSkippedAsync(context, messageType))
        {
            await next.Send(context);
        }
    }
}
