using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Bridge.Benchmarks;

/// <summary>What the broker allows on this machine, in the same run.</summary>
/// <param name="CpuMsPerMessage">The machine's CPU per message while the relay ran (its preload left out): the relay itself is <c>Bench</c>.</param>
public sealed record RelayResult(int Messages, int Prefetch, int Concurrency, double MessagesPerSecond, double Seconds, CpuByProcess? CpuMsPerMessage = null);

/// <summary>
/// The floor Bridge is compared with: RabbitMQ.Client alone doing the broker work Bridge must do per message — consume a
/// persistent message, publish one persistent message with a publisher confirm, then acknowledge — with the same bodies,
/// the same prefetch and the same number of messages handled at once. No database, no HTTP, no serialization. As Bridge has
/// one input queue per message type, each with its own prefetch and concurrency limit, the relay has one input queue (and
/// one consumer with that prefetch and concurrency) per queue the scenario's messages go to: one for closing documents, one
/// per flow for the mix.
/// </summary>
public static class RawRelay
{
    public static async Task<RelayResult> RunAsync(IConnection connection, string runTag, IReadOnlyList<BenchMessage> messages, int prefetch, int concurrency, TimeSpan timeout, CancellationToken ct)
    {
        var inputPrefix = $"bench{runTag}.relay-in";
        var output = $"bench{runTag}.relay-out";
        await Workload.PreloadAsync(connection, inputPrefix, messages, ct);
        await using var publish = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        await publish.QueueDeclareAsync(output, durable: true, exclusive: false, autoDelete: false, cancellationToken: ct);

        var machine = MachineCpu.Start([]);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var acked = 0;
        long first = 0;
        long last = 0;
        var inputs = messages.Select(m => Workload.QueueName(inputPrefix, m.Queue)).Distinct(StringComparer.Ordinal).ToList();
        var consumers = new List<(IChannel Channel, string Tag)>();
        CpuByProcess? cpu = null;
        try
        {
            foreach (var input in inputs)
            {
                var consume = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: (ushort)concurrency), ct);
                await consume.BasicQosAsync(0, (ushort)prefetch, false, ct);
                var consumer = new AsyncEventingBasicConsumer(consume);
                consumer.ReceivedAsync += async (_, delivery) =>
                {
                    var properties = new BasicProperties { ContentType = "application/json", MessageId = delivery.BasicProperties.MessageId, Persistent = true };
                    await publish.BasicPublishAsync(string.Empty, output, mandatory: false, properties, delivery.Body, ct);
                    await consume.BasicAckAsync(delivery.DeliveryTag, multiple: false, ct);
                    var now = Stopwatch.GetTimestamp();
                    Interlocked.CompareExchange(ref first, now, 0);
                    Interlocked.Exchange(ref last, now);
                    if (Interlocked.Increment(ref acked) == messages.Count)
                    {
                        done.TrySetResult();
                    }
                };
                consumers.Add((consume, await consume.BasicConsumeAsync(input, autoAck: false, consumer, ct)));
            }

            await done.Task.WaitAsync(timeout, ct);
            cpu = machine.PerMessage(messages.Count);
        }
        finally
        {
            foreach (var (consume, tag) in consumers)
            {
                await consume.BasicCancelAsync(tag, cancellationToken: CancellationToken.None);
                await consume.DisposeAsync();
            }

            foreach (var input in inputs)
            {
                await publish.QueueDeleteAsync(input, cancellationToken: CancellationToken.None);
            }

            await publish.QueueDeleteAsync(output, cancellationToken: CancellationToken.None);
        }

        var seconds = Stopwatch.GetElapsedTime(Interlocked.Read(ref first), Interlocked.Read(ref last)).TotalSeconds;
        return new RelayResult(messages.Count, prefetch, concurrency, Rate(messages.Count, seconds), seconds, cpu);
    }

    /// <summary>Messages per second between the first and the last completion (n completions span n − 1 intervals).</summary>
    public static double Rate(int count, double seconds) => seconds > 0 ? (count - 1) / seconds : 0;
}
