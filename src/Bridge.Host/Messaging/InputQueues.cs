using MassTransit;

namespace Bridge.Host.Messaging;

/// <summary>
/// The names of an ERP input queue as the broker knows them, and what happens on it to a delivery that failed for good.
/// </summary>
public static class InputQueues
{
    /// <summary>Where MassTransit moves a failed message (and a quorum queue dead-letters one): <c>&lt;queue&gt;_error</c>.</summary>
    public const string ErrorQueueSuffix = "_error";

    /// <summary>The queue is the input address's last path segment (<c>rabbitmq://host/vhost/bridge.send-closing-document</c>).</summary>
    public static string NameOf(Uri inputAddress)
    {
        ArgumentNullException.ThrowIfNull(inputAddress);
        var path = inputAddress.AbsolutePath.TrimEnd('/');
        return Uri.UnescapeDataString(path[(path.LastIndexOf('/') + 1)..]);
    }
}

/// <summary>
/// The error pipe of every ERP input queue: what is done with a delivery that failed for good (retries exhausted, or a body
/// that cannot be read). <see cref="BridgeConsumerDefinition{TConsumer}"/> installs it last on each queue; Bridge's is the
/// dead-letter capture, registered with the dead letters (<c>AddBridgeDeadLetters</c>), so messaging needs one without
/// knowing which.
/// </summary>
public interface IInputQueueErrorPipe
{
    /// <summary>Sets up the error pipe of <paramref name="endpoint"/>, whose consumer handles <paramref name="messageType"/>.</summary>
    void Configure(IReceiveEndpointConfigurator endpoint, string messageType, IRegistrationContext context);
}
