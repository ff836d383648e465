using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.Host.Messaging;
using MassTransit;

namespace Bridge.Host.Queries;

/// <summary>
/// Sends a query's answer back to whoever asked, by the way they asked:
/// <list type="bullet">
/// <item>MassTransit's request client (the envelope's <c>responseAddress</c>, or the <c>MT-Response-Address</c> header):
/// <see cref="ConsumeContext.RespondAsync{T}(T)"/>, in MassTransit's envelope, with the request id the client waits for.</item>
/// <item>Any other AMQP client: the plain JSON answer published to the default exchange with the request's <c>reply_to</c>
/// as routing key and its <c>correlation_id</c> (any string) copied. MassTransit 8.5 does not do this: a raw JSON
/// message's <c>ResponseAddress</c> comes from the <c>MT-Response-Address</c> header only
/// (<c>RawMessageContext.ResponseAddress</c>), the AMQP <c>reply_to</c> is used only when that address is MassTransit's
/// own <c>amq.rabbitmq.reply-to</c> (<c>RabbitMqReceiveContext.GetSendEndpointProvider</c>), and a
/// <c>RespondAsync</c> without a response address publishes the answer to every subscriber of its type
/// (<c>ConsumeContextEndpointExtensions.GetEndpoint</c>). So the properties are read from
/// <see cref="RabbitMqBasicConsumeContext.Properties"/> and the answer is published with RabbitMQ's own client
/// (<see cref="IQueueTransport"/>): declaring nothing, so a server-named exclusive queue or a direct reply-to
/// (<c>amq.rabbitmq.reply-to</c>) works as well as a named one.</item>
/// </list>
/// An answer that cannot be delivered (the asker's queue is gone, the broker refused it) is logged and dropped: the asker
/// has stopped waiting or will ask again, and a query kept unacknowledged to retry its answer would be read again for nobody.
/// </summary>
public sealed class QueryReplies(IQueueTransport transport, ILogger<QueryReplies> logger)
{
    /// <summary>The plain JSON of answers to non-MassTransit askers: camelCase, enums by their wire names, nulls left out.</summary>
    public static JsonSerializerOptions PlainJson { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Answers the request <paramref name="receive"/> carried; <paramref name="consume"/> when it was read as a message.</summary>
    /// <returns>Whether the answer was sent.</returns>
    public async Task<bool> AnswerAsync<TAnswer>(ReceiveContext receive, ConsumeContext? consume, TAnswer answer, CancellationToken cancellationToken)
        where TAnswer : class
    {
        ArgumentNullException.ThrowIfNull(receive);
        ArgumentNullException.ThrowIfNull(answer);
        try
        {
            if (consume?.ResponseAddress is not null)
            {
                await consume.RespondAsync(answer);
                return true;
            }

            if (receive.TryGetPayload<RabbitMqBasicConsumeContext>(out var amqp) && !string.IsNullOrWhiteSpace(amqp.Properties.ReplyTo))
            {
                await transport.SendAsync(
                    new OutgoingMessage(
                        amqp.Properties.ReplyTo,
                        JsonSerializer.SerializeToUtf8Bytes(answer, PlainJson),
                        NewId.NextGuid().ToString(),
                        amqp.Properties.CorrelationId,
                        "application/json",
                        new Dictionary<string, string?>(StringComparer.Ordinal) { ["type"] = typeof(TAnswer).Name },
                        new Dictionary<string, string?>(StringComparer.Ordinal)),
                    cancellationToken);
                return true;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "The answer to a query could not be sent ({AnswerType}); the query is acknowledged unanswered.", typeof(TAnswer).Name);
            return false;
        }

        // Nobody said where to answer. Such a delivery is acknowledged all the same: left on the queue or moved to an error
        // queue it would strand there (nothing replays a read), and the asker, who cannot be told, can only time out.
        logger.LogWarning(
            "A query arrived with no reply address (neither MassTransit's response address nor the AMQP reply_to): acknowledged unanswered ({AnswerType}).",
            typeof(TAnswer).Name);
        return false;
    }
}
