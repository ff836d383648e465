using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bridge.Contracts;
using RabbitMQ.Client;

namespace Bridge.Benchmarks;

/// <summary>
/// One preloaded ERP message: its AMQP message id (Bridge's idempotency key, echoed by the result event), its body, the message
/// type (<paramref name="Flow"/>), the input queue it goes to without the prefix (<paramref name="Queue"/>, a
/// <see cref="BridgeQueues"/> constant) and the result event that means it succeeded (<paramref name="Expects"/>).
/// </summary>
public sealed record BenchMessage(string MessageId, byte[] Body, string Flow, string Queue, string Expects);

/// <summary>
/// The month-end load of issue 8: new closing documents (acts), each its own key at revision 1, with a ~3 KB PDF, so a body
/// of about 4.3 KB of plain JSON as a 1C ERP publishes it (camelCase, enums as strings, absent fields left out).
/// </summary>
public static class Workload
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>3 072 bytes of a plausible PDF: 4 096 characters of base64.</summary>
    public static readonly string PdfBase64 = Convert.ToBase64String(PdfBytes(3072));

    public static IReadOnlyList<BenchMessage> ClosingDocuments(string runTag, int count) =>
        [.. Enumerable.Range(1, count).Select(n =>
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"bench-{runTag}-{n:D7}");
            return new BenchMessage("msg-" + key, JsonSerializer.SerializeToUtf8Bytes(NewDocument(key, n), Json), nameof(SendClosingDocument), BridgeQueues.SendClosingDocument, nameof(ClosingDocumentSent));
        })];

    /// <summary>The <paramref name="n"/>th new closing document of a run: an act for October 2026 on one of four accounts, revision 1.</summary>
    public static SendClosingDocument NewDocument(string key, int n) => new()
    {
        AccountId = 7001 + (n % 4),
        Key = key,
        Type = ClosingDocumentType.Act,
        Name = string.Create(CultureInfo.InvariantCulture, $"Act {n} for October 2026"),
        Amount = new Money(1000m + (n % 1000) + 0.25m, "EUR"),
        StartDate = new DateOnly(2026, 10, 1),
        EndDate = new DateOnly(2026, 10, 31),
        File = new DocumentFile { ContentType = "application/pdf", ContentBase64 = PdfBase64, FileName = "act.pdf" },
        Revision = 1,
    };

    /// <summary>
    /// Publishes every message, in order, to its own input queue <c>{queuePrefix}.{message.Queue}</c> (each declared durable
    /// first, as MassTransit declares it) as the ERP does: default exchange, persistent, its message id, with publisher confirms
    /// (a window of confirms in flight). Returns when each was published, by message id.
    /// </summary>
    public static async Task<Dictionary<string, DateTimeOffset>> PreloadAsync(IConnection connection, string queuePrefix, IReadOnlyList<BenchMessage> messages, CancellationToken ct)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        foreach (var queue in messages.Select(m => m.Queue).Distinct(StringComparer.Ordinal))
        {
            await channel.QueueDeclareAsync(QueueName(queuePrefix, queue), durable: true, exclusive: false, autoDelete: false, cancellationToken: ct);
        }

        var published = new Dictionary<string, DateTimeOffset>(messages.Count, StringComparer.Ordinal);
        const int Window = 200;
        var pending = new List<ValueTask>(Window);
        foreach (var message in messages)
        {
            var properties = new BasicProperties { ContentType = "application/json", MessageId = message.MessageId, Persistent = true };
            published[message.MessageId] = DateTimeOffset.UtcNow;
            pending.Add(channel.BasicPublishAsync(string.Empty, QueueName(queuePrefix, message.Queue), mandatory: false, properties, message.Body, ct));
            if (pending.Count == Window)
            {
                await DrainAsync(pending);
            }
        }

        await DrainAsync(pending);
        return published;
    }

    /// <summary>An input queue's full name, as Bridge names it (<see cref="BridgeQueues.Name"/>).</summary>
    public static string QueueName(string queuePrefix, string queue) => BridgeQueues.Name(queue, queuePrefix);

    private static async Task DrainAsync(List<ValueTask> pending)
    {
        foreach (var publish in pending)
        {
            await publish;
        }

        pending.Clear();
    }

    private static byte[] PdfBytes(int size)
    {
        var bytes = new byte[size];
        var header = "%PDF-1.4\n%bench closing document\n"u8;
        header.CopyTo(bytes);
        var random = new Random(8);
        for (var i = header.Length; i < size - 6; i++)
        {
            bytes[i] = (byte)random.Next(32, 127);
        }

        "%%EOF\n"u8.CopyTo(bytes.AsSpan(size - 6));
        return bytes;
    }
}
