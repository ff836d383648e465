using System.Security.Claims;
using System.Text.Json;
using Bridge.Host.Admin;
using Bridge.Host.Idempotency;
using Bridge.Host.Messaging;
using Bridge.Host.Storage;
using MassTransit.Serialization;
using Microsoft.Extensions.Options;

namespace Bridge.Host.Ingress;

/// <summary>What the door answers when it took a message: where to ask for its status.</summary>
/// <param name="IdempotencyKey">The message's idempotency key.</param>
/// <param name="MessageType">The contract it was read as.</param>
/// <param name="Status">What became of it so far (<see cref="IngressStatus"/>): <c>accepted</c> for a message just queued.</param>
/// <param name="StatusUrl">Where to poll its status.</param>
public sealed record IngressReceipt(string IdempotencyKey, string MessageType, string Status, string StatusUrl);

/// <summary>A message's status, as <c>GET /api/messages/{idempotencyKey}</c> answers it.</summary>
/// <param name="IdempotencyKey">The message's idempotency key.</param>
/// <param name="MessageType">The contract it was read as.</param>
/// <param name="Status">One of <see cref="IngressStatus"/>.</param>
/// <param name="Description">What the status means for the sender, and what to do.</param>
/// <param name="SubmittedAt">When the door first received it.</param>
/// <param name="AcceptedAt">When the broker confirmed it; null if it never did (submit it again).</param>
/// <param name="Result">The result event Bridge published for it (its type and body), while the outbox keeps it.</param>
/// <param name="DeadLetter">The dead letter it is kept as, if any.</param>
public sealed record IngressMessageStatus(
    string IdempotencyKey,
    string MessageType,
    string Status,
    string Description,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? AcceptedAt,
    IngressResult? Result,
    IngressDeadLetterView? DeadLetter);

/// <summary>A result event: its contract name, its body, when it was written and whether it was published yet.</summary>
public sealed record IngressResult(string Type, JsonElement Event, DateTimeOffset WrittenAt, bool Published);

/// <summary>The dead letter a message is kept as: its id (for the operators' page), status and failure.</summary>
public sealed record IngressDeadLetterView(Guid Id, string Status, string Failure, DateTimeOffset LastFailedAt);

/// <summary>The statuses of a message sent through the door.</summary>
public static class IngressStatus
{
    /// <summary>The door recorded it but the broker never confirmed it: it was not answered 202; send it again.</summary>
    public const string Unconfirmed = "unconfirmed";

    /// <summary>On its input queue, not yet picked up.</summary>
    public const string Accepted = "accepted";

    /// <summary>Being handled (or retried, or replayed).</summary>
    public const string InProgress = "in-progress";

    /// <summary>Its effect happened; the success event is its result.</summary>
    public const string Applied = "applied";

    /// <summary>An older version than the one already applied: nothing written; the skip event is its result.</summary>
    public const string Skipped = "skipped";

    /// <summary>Refused for good (invalid, refused by ActivePlatform); the rejection event says why.</summary>
    public const string Rejected = "rejected";

    /// <summary>Kept for an operator after it could not be handled; it can be replayed once the cause is fixed.</summary>
    public const string DeadLettered = "dead-lettered";

    /// <summary>Dead-lettered, then discarded by an operator: it will not be applied unless restored.</summary>
    public const string Discarded = "discarded";

    /// <summary>Handled, with an outcome this version of the door does not know (none is written today).</summary>
    public const string Completed = "completed";

    /// <summary>Dead-lettered, then edited by an operator and sent again as a new message, whose result is shown.</summary>
    public const string Edited = "edited";

    /// <summary>
    /// Another message with another payload (published over AMQP) holds the key: this one is not applied and will not be.
    /// </summary>
    public const string Conflict = "conflict";
}

/// <summary>
/// The HTTP door for ERPs without AMQP: <c>POST /api/messages/{messageType}</c> validates the body against the message's JSON
/// Schema and puts it on the same input queue as an AMQP publisher would, answering 202 only after the broker confirmed it;
/// <c>GET /api/messages/{idempotencyKey}</c> says what became of it. Every route needs an ERP key (<see cref="IngressOptions"/>).
/// </summary>
public static partial class IngressApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The door's OpenAPI document, generated from its endpoints and served without a key.</summary>
    public const string OpenApiPath = "/api/openapi/messages.json";

    /// <summary>The door's OpenAPI document name (the admin API's is <see cref="Admin.AdminOpenApi.DocumentName"/>).</summary>
    public const string OpenApiDocument = "messages";

    public const string CorrelationIdHeader = "X-Correlation-Id";

    /// <summary>The header naming the ERP client that sent a message through the door; operators see it on a dead letter.</summary>
    public const string ClientHeader = "bridge-ingress-client";

    /// <summary>The longest key in UTF-8 bytes: it is sent as the AMQP <c>message_id</c>, a short string.</summary>
    public const int MaxKeyBytes = 255;

    /// <summary>How long the door waits for the broker's confirm before it answers 503.</summary>
    public static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(30);

    public static IHostApplicationBuilder AddBridgeIngress(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<IngressOptions>().Bind(builder.Configuration.GetSection(IngressOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IngressOptions>, IngressOptionsValidator>();
        builder.Services.AddSingleton<IngressStore>();
        builder.Services.AddSingleton<IngressStatusReader>();
        builder.Services.AddHostedService<IngressRetention>();
        builder.Services.AddAuthentication()
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, IngressKeyAuthenticationHandler>(IngressKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddOpenApi(OpenApiDocument, options =>
        {
            options.ShouldInclude = description => description.RelativePath is { } path
                && (path.StartsWith("api/messages", StringComparison.Ordinal) || path.StartsWith("api/queries", StringComparison.Ordinal));
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new Microsoft.OpenApi.OpenApiInfo
                {
                    Title = "Bridge HTTP door",
                    Version = "1.0.0",
                    Description = "ERPs without AMQP send Bridge's commands here and poll what became of them. Every route needs "
                        + "`Authorization: Bearer <key>` with the ERP's key from `Bridge:Ingress:Clients`. See contracts/README.md, \"HTTP\".",
                };
                document.Components ??= new Microsoft.OpenApi.OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>(StringComparer.Ordinal);
                document.Components.SecuritySchemes["bearer"] = new Microsoft.OpenApi.OpenApiSecurityScheme
                {
                    Type = Microsoft.OpenApi.SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "An ERP key from `Bridge:Ingress:Clients`.",
                };
                document.Security = [new Microsoft.OpenApi.OpenApiSecurityRequirement { [new Microsoft.OpenApi.OpenApiSecuritySchemeReference("bearer", document)] = [] }];
                return Task.CompletedTask;
            });
        });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(IngressKeyAuthenticationHandler.Policy, policy => policy
                .AddAuthenticationSchemes(IngressKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser());
        return builder;
    }

    public static WebApplication MapBridgeIngress(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The description is public, as the admin API's is: it holds no data.
        app.MapOpenApi("/api/openapi/{documentName}.json");
        var group = app.MapGroup("/api/messages")
            .RequireAuthorization(IngressKeyAuthenticationHandler.Policy)
            .WithTags("Messages")
            .Refuses(StatusCodes.Status401Unauthorized, "No ERP key, or one that is not configured.")
            .AddEndpointFilter(DatabaseUnavailable);

        // One route per message, so the description gives each its own body; the queue's name is an alias of each. An unknown
        // name is answered 404 with the list of known ones.
        foreach (var type in IngressCatalog.All)
        {
            var name = type.Name;
            group.MapPost("/" + name, (HttpContext http, CancellationToken cancellationToken) => SubmitAsync(name, http, cancellationToken))
                .Describe(
                    "send" + name,
                    $"Send a {name} (the body exactly as it would be published to `{type.Queue}`).",
                    $"Validated against `contracts/schemas/{name}.schema.json`. 202 only once the broker confirmed the message; the same request "
                    + "sent again (same `Idempotency-Key`, same body) is never a second effect. The queue's name "
                    + $"(`POST /api/messages/{type.Queue}`) is the same route.")
                .Accepts(type.Contract, "application/json")
                .Answers<IngressReceipt>(StatusCodes.Status202Accepted, "Queued (or sent before: `status` says what became of it). `Location` is the status URL.")
                .Refuses(StatusCodes.Status400BadRequest, "Not JSON, no usable key, or a body the schema refuses (`errors` names every problem). Nothing was sent.")
                .Refuses(StatusCodes.Status409Conflict, "The key was used before for another message. Nothing was sent.")
                .Refuses(StatusCodes.Status413PayloadTooLarge, "The body is over Bridge:Ingress:MaxBodyBytes.")
                .Refuses(StatusCodes.Status415UnsupportedMediaType, "Not JSON.")
                .Refuses(StatusCodes.Status503ServiceUnavailable, "The broker did not confirm the message: send the same request again.");
            group.MapPost("/" + type.Queue, (HttpContext http, CancellationToken cancellationToken) => SubmitAsync(name, http, cancellationToken))
                .ExcludeFromDescription();
        }

        group.MapPost("/{messageType}", (string messageType, HttpContext http, CancellationToken cancellationToken) => SubmitAsync(messageType, http, cancellationToken))
            .ExcludeFromDescription();
        group.MapGet("/{idempotencyKey}", StatusAsync)
            .Describe("getMessageStatus", "What became of a message this ERP sent through the door, with its result event.")
            .Answers<IngressMessageStatus>(StatusCodes.Status200OK, "OK")
            .Refuses(StatusCodes.Status404NotFound, "No message with this key was sent by this ERP (or it is past retention).");
        return app;
    }

    /// <summary>
    /// Bridge's database not answering is a 503 the ERP retries, not a bare 500. Every statement that can fail so runs before
    /// the publish (the one after it, the confirmation marker, is caught where it runs), so nothing was sent.
    /// </summary>
    private static async ValueTask<object?> DatabaseUnavailable(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (System.Data.Common.DbException ex)
        {
            var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IngressApi));
            LogDatabaseUnavailable(logger, context.HttpContext.Request.Method, ex.GetType().Name);
            context.HttpContext.Response.Headers.RetryAfter = "5";
            return Problem(StatusCodes.Status503ServiceUnavailable, "Bridge's database is not answering",
                HttpMethods.IsPost(context.HttpContext.Request.Method)
                    ? "Nothing was sent. Send the same request again (same Idempotency-Key) later: a second copy is never a second effect."
                    : "The status cannot be read now; ask again later.");
        }
    }

    private static async Task<IResult> SubmitAsync(string messageType, HttpContext http, CancellationToken cancellationToken)
    {
        var services = http.RequestServices;
        var submissions = services.GetRequiredService<IngressStore>();
        var records = services.GetRequiredService<IIdempotencyStore>();
        var reader = services.GetRequiredService<IngressStatusReader>();
        var transport = services.GetRequiredService<IQueueTransport>();
        var messaging = services.GetRequiredService<IOptions<MessagingOptions>>();
        var options = services.GetRequiredService<IOptions<IngressOptions>>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(IngressApi));
        var client = Client(http);
        if (IngressCatalog.Find(messageType) is not { } type)
        {
            return Problem(StatusCodes.Status404NotFound, "No such message type",
                $"'{messageType}' is not a message Bridge takes. Known: {string.Join(", ", IngressCatalog.All.Select(t => t.Name))}.");
        }

        var (body, readProblem) = await ReadBodyAsync(http.Request, options.Value.MaxBodyBytes, cancellationToken);
        if (readProblem is not null)
        {
            return readProblem;
        }

        using var document = ParseObject(body!.Value, out var parseProblem);
        if (document is null)
        {
            return parseProblem!;
        }

        var (key, keyProblem) = IdempotencyKeyOf(http.Request, document.RootElement);
        if (keyProblem is not null)
        {
            return keyProblem;
        }

        var problems = IngressCatalog.Validate(type, document.RootElement);
        if (problems.Count > 0)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: $"The body is not a valid {type.Name}",
                detail: $"{problems.Count} problem(s) against contracts/schemas/{type.Name}.schema.json; nothing was sent.",
                extensions: new Dictionary<string, object?> { ["errors"] = problems });
        }

        // The fingerprint the consumer will compute: the body read into the contract as the bus reads it.
        PayloadFingerprint fingerprint;
        try
        {
            var typed = document.RootElement.Deserialize(type.Contract, SystemTextJsonMessageSerializer.Options);
            fingerprint = PayloadFingerprint.Of(typed);
        }
        catch (JsonException ex)
        {
            return Problem(StatusCodes.Status400BadRequest, $"The body cannot be read as a {type.Name}", $"At {ex.Path ?? "/"}: a value of the wrong type or out of range; nothing was sent.");
        }

        // A key the message path has already used for another payload (or another message type) is refused here, as the
        // consumer would refuse it — also when this very request was answered 202 before another payload took the key: the
        // key is that payload's now, and the ERP needs a new one (the status says conflict).
        if (await records.FindAsync(key!, cancellationToken) is { } record
            && (!string.Equals(record.MessageType, type.Name, StringComparison.Ordinal) || !PayloadFingerprint.Matches(record.Fingerprint, fingerprint)))
        {
            return KeyConflict(key!, $"was already used by a {record.MessageType} with a different payload");
        }

        var (submission, isNew) = await submissions.RecordAsync(key!, type.Name, fingerprint, client, cancellationToken);
        if (!isNew)
        {
            if (!string.Equals(submission.Client, client, StringComparison.Ordinal))
            {
                // Which ERP holds the key is not said: keys are not a way to learn about other clients.
                return KeyConflict(key!, "was already used for another message");
            }

            if (!string.Equals(submission.MessageType, type.Name, StringComparison.Ordinal) || !PayloadFingerprint.Matches(submission.Fingerprint, fingerprint))
            {
                return KeyConflict(key!, $"was already used by a {submission.MessageType} with a different payload");
            }
        }

        var statusUrl = StatusUrl(key!);
        var status = IngressStatus.Accepted;
        if (!isNew)
        {
            // Sent before: sent again only while nothing has decided it and no operator holds it (never confirmed, still
            // queued, or lost since); otherwise the answer is what became of it.
            var lookup = await reader.ReadAsync(submission, cancellationToken);
            if (!lookup.MayPublishAgain)
            {
                return Results.Accepted(statusUrl, new IngressReceipt(key!, type.Name, lookup.Status.Status, statusUrl));
            }

            status = lookup.Status.Status is IngressStatus.Unconfirmed ? IngressStatus.Accepted : lookup.Status.Status;
        }

        var headers = new Dictionary<string, string?> { [ClientHeader] = client };
        if (http.Request.Headers.TryGetValue("traceparent", out var traceParent))
        {
            headers["traceparent"] = traceParent.ToString();
        }

        var outgoing = new OutgoingMessage(
            messaging.Value.QueueName(type.Queue),
            body!.Value,
            key,
            CorrelationOf(http.Request),
            "application/json",
            new Dictionary<string, string?> { ["app_id"] = "bridge-http-door" },
            headers);
        try
        {
            // A broker that blocks publishers (a memory or disk alarm) holds the confirm: bounded, then answered 503.
            using var confirmWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            confirmWait.CancelAfter(ConfirmTimeout);
            await transport.SendAsync(outgoing, confirmWait.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The exception's type only: a broker's message can hold its address.
            LogNotSent(logger, type.Name, client, ex.GetType().Name);
            http.Response.Headers.RetryAfter = "5";
            return Problem(StatusCodes.Status503ServiceUnavailable, "The message may not be queued",
                "The broker did not confirm it, so it may or may not be on its queue. Send the same request again (same Idempotency-Key) later: a second copy is never a second effect.");
        }

        if (submission.ConfirmedAt is null)
        {
            try
            {
                await submissions.ConfirmAsync(key!, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The broker has it: it is accepted, whatever the marker says. Its status shows once it is handled.
                LogConfirmNotRecorded(logger, type.Name, ex.GetType().Name);
            }
        }

        LogAccepted(logger, type.Name, client);
        return Results.Accepted(statusUrl, new IngressReceipt(key!, type.Name, status, statusUrl));
    }

    private static async Task<IResult> StatusAsync(
        string idempotencyKey,
        HttpContext http,
        IngressStore submissions,
        IngressStatusReader reader,
        CancellationToken cancellationToken)
    {
        // A key with a '/' comes as %2F, which routing leaves encoded in the route value: read the key from the raw path.
        var key = KeyFromRawTarget(http) ?? idempotencyKey;

        // Only the client that sent a message sees it: another client's key is "not found", as an unknown one is.
        if (await submissions.FindAsync(key, cancellationToken) is not { } submission
            || !string.Equals(submission.Client, Client(http), StringComparison.Ordinal))
        {
            return Problem(StatusCodes.Status404NotFound, "No such message",
                "No message with this Idempotency-Key was sent through the door by this client (or it is older than Bridge:Idempotency:RetainRecordsFor).");
        }

        return Results.Ok((await reader.ReadAsync(submission, cancellationToken)).Status);
    }

    private static string? KeyFromRawTarget(HttpContext http)
    {
        var raw = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        const string Prefix = "/api/messages/";
        if (raw is null || !raw.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var encoded = raw[Prefix.Length..];
        var query = encoded.IndexOf('?', StringComparison.Ordinal);
        return Uri.UnescapeDataString(query < 0 ? encoded : encoded[..query]);
    }

    /// <summary>
    /// A record of another payload means the key is another message's; otherwise a completed record decides (its outcome is
    /// final), else a dead letter of this message that an operator holds, else the record in progress, else whether the
    /// broker ever confirmed the message. <paramref name="deadLetter"/> must be this message's (<see cref="IngressStatusReader.IsOf"/>).
    /// </summary>
    public static (string Status, string Description) Decide(IngressSubmission submission, IdempotencyRecord? record, IngressDeadLetter? deadLetter)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (record is not null
            && (!string.Equals(record.MessageType, submission.MessageType, StringComparison.Ordinal)
                || !string.Equals(record.Fingerprint, submission.Fingerprint, StringComparison.Ordinal)))
        {
            return (IngressStatus.Conflict,
                $"Another message with this Idempotency-Key (a {record.MessageType} with another payload, published over AMQP) was handled first: this one is not applied and will not be. Send it under a new key.");
        }

        if (record is { State: IdempotencyState.Completed })
        {
            return record.Outcome switch
            {
                nameof(HandlingOutcome.Applied) => (IngressStatus.Applied, "Applied in ActivePlatform; the result is the success event."),
                nameof(HandlingOutcome.Skipped) => (IngressStatus.Skipped, "Older than what was already applied: nothing was written; the result says so."),
                nameof(HandlingOutcome.Rejected) => (IngressStatus.Rejected, "Refused for good; the result's rejection says why. Fix the message and send it under a new Idempotency-Key."),

                // Never written today; named as stored rather than guessed.
                _ => (IngressStatus.Completed, $"Handled, with the outcome '{record.Outcome}'; the result event says what happened."),
            };
        }

        if (IngressStatusReader.EditedAs(deadLetter) is { } edited)
        {
            return (IngressStatus.Edited,
                $"Dead-lettered, then edited by an operator and sent again as message {edited}: the result (when there is one) is that message's. Do not send it again.");
        }

        switch (deadLetter?.Status)
        {
            case "Pending":
                return (IngressStatus.DeadLettered, "Kept for an operator after it could not be handled; it is replayed once the cause is fixed. Do not send it again.");
            case "Replaying":
                return (IngressStatus.InProgress, "Being replayed by an operator.");
            case "Discarded":
                return (IngressStatus.Discarded, "Dead-lettered, then discarded by an operator: it will not be applied unless they restore it.");
        }

        if (record is not null)
        {
            return (IngressStatus.InProgress,
                "Being handled (ActivePlatform calls, retries or an async task). Poll again; if it stays in progress for long, send the same request again: a second copy is harmless.");
        }

        return submission.ConfirmedAt is null
            ? (IngressStatus.Unconfirmed, "The door never recorded the broker's confirmation of this message: send the same request again.")
            : (IngressStatus.Accepted, "On its input queue, not yet picked up. Poll again; if it stays accepted for long, send the same request again: a second copy is harmless.");
    }

    private static string Client(HttpContext http) =>
        http.User.Identity is { IsAuthenticated: true, AuthenticationType: IngressKeyAuthenticationHandler.SchemeName, Name: { } name }
            ? name
            : throw new InvalidOperationException("The door's endpoint ran without authentication.");

    private static string StatusUrl(string key) => "/api/messages/" + Uri.EscapeDataString(key);

    private static string? CorrelationOf(HttpRequest request) =>
        request.Headers.TryGetValue(CorrelationIdHeader, out var value) && value.ToString() is { Length: > 0 and <= 255 } text ? text : null;

    private static async Task<(ReadOnlyMemory<byte>? Body, IResult? Problem)> ReadBodyAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentType is { } contentType && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            && !contentType.Contains("+json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "JSON only", "Send the message as 'Content-Type: application/json' (UTF-8)."));
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return (null, TooLarge(maxBytes));
            }

            buffer.Write(chunk, 0, read);
        }

        return (buffer.ToArray(), null);
    }

    private static JsonDocument? ParseObject(ReadOnlyMemory<byte> body, out IResult? problem)
    {
        problem = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            problem = Problem(StatusCodes.Status400BadRequest, "The body is not JSON", $"Line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}: not valid JSON (UTF-8); nothing was sent.");
            return null;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            problem = Problem(StatusCodes.Status400BadRequest, "The body is not a JSON object", "A message is one JSON object; nothing was sent.");
            return null;
        }

        string? ambiguous;
        try
        {
            ambiguous = AmbiguousMember(document.RootElement);
        }
        catch (InvalidOperationException)
        {
            // JsonDocument accepts an escaped unpaired surrogate ("\ud800"), which has no string form.
            document.Dispose();
            problem = Problem(StatusCodes.Status400BadRequest, "The body is not JSON", "A member name holds an unpaired surrogate escape (\\uD800–\\uDFFF alone): not valid text; nothing was sent.");
            return null;
        }

        if (ambiguous is not null)
        {
            document.Dispose();
            problem = Problem(StatusCodes.Status400BadRequest, "Two members of one object share a name",
                $"At {ambiguous}: the name appears twice, or in two spellings that differ only in case. The schema tells them apart, "
                + "Bridge's reader does not (it would take the last); send each member once. Nothing was sent.");
            return null;
        }

        return document;
    }

    /// <summary>
    /// The path of the first member whose name repeats in its object, compared without case: the schema matches names as
    /// written while the consumer reads them case-insensitively and keeps the last, so <c>{"documentId":"A","DOCUMENTID":"B"}</c>
    /// would be validated as A and applied as B.
    /// </summary>
    private static string? AmbiguousMember(JsonElement root)
    {
        // The path is built only for the member reported: built for every member, each would copy its ancestors' names,
        // quadratic in a body with a long-named parent of many members.
        var path = new List<string>();
        return AmbiguousMember(root, path) ? "/" + string.Join('/', path) : null;
    }

    private static bool AmbiguousMember(JsonElement element, List<string> path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                foreach (var member in element.EnumerateObject())
                {
                    path.Add(member.Name);
                    if (!seen.Add(member.Name) || AmbiguousMember(member.Value, path))
                    {
                        return true;
                    }

                    path.RemoveAt(path.Count - 1);
                }

                return false;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    path.Add((index++).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    if (AmbiguousMember(item, path))
                    {
                        return true;
                    }

                    path.RemoveAt(path.Count - 1);
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// The header's key, or the body's <c>idempotencyKey</c> (which the consumer reads first): either, or both when they agree.
    /// </summary>
    private static (string? Key, IResult? Problem) IdempotencyKeyOf(HttpRequest request, JsonElement body)
    {
        var header = request.Headers.TryGetValue(IdempotencyKeyHeader, out var values) ? values.ToString().Trim() : "";
        string? inBody = null;
        foreach (var property in body.EnumerateObject())
        {
            if (string.Equals(property.Name, "idempotencyKey", StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.String)
            {
                inBody = property.Value.GetString()?.Trim();
            }
        }

        if (header.Length > 0 && inBody is { Length: > 0 } && !string.Equals(header, inBody, StringComparison.Ordinal))
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "Two different idempotency keys",
                "The Idempotency-Key header and the body's idempotencyKey differ; send one, or the same in both."));
        }

        var key = header.Length > 0 ? header : inBody;
        if (string.IsNullOrEmpty(key))
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "An Idempotency-Key is required",
                "Send the ERP's own key of this message as the Idempotency-Key header: the same key sent again is the same message, never a second effect."));
        }

        // The key travels as the AMQP message_id, a short string of at most 255 bytes.
        if (!IdempotencyKeys.IsStorable(key) || System.Text.Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, "The Idempotency-Key cannot be used",
                $"At most {IdempotencyKeys.MaxLength} characters and {MaxKeyBytes} bytes in UTF-8, with no control characters or unpaired surrogates."));
        }

        return (key, null);
    }

    private static IResult KeyConflict(string key, string what) =>
        Problem(StatusCodes.Status409Conflict, "Idempotency-Key already used",
            $"The Idempotency-Key '{key}' {what}; this message was not sent. A new message needs a new key.");

    private static IResult TooLarge(long maxBytes) =>
        Problem(StatusCodes.Status413PayloadTooLarge, "The body is too large", $"At most {maxBytes} bytes ({IngressOptions.Section}:MaxBodyBytes).");

    private static IResult Problem(int status, string title, string detail) => Results.Problem(statusCode: status, title: title, detail: detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The HTTP door could not reach Bridge's database ({Method}): {ExceptionType}; answered 503")]
    private static partial void LogDatabaseUnavailable(ILogger logger, string method, string exceptionType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Accepted a {MessageType} from {Client} through the HTTP door")]
    private static partial void LogAccepted(ILogger logger, string messageType, string client);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {MessageType} from {Client} was not queued: the broker did not confirm it ({Exception}); answered 503")]
    private static partial void LogNotSent(ILogger logger, string messageType, string client, string exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {MessageType} was queued but its confirmation could not be recorded ({Exception}); its status shows once it is handled")]
    private static partial void LogConfirmNotRecorded(ILogger logger, string messageType, string exception);
}

/// <summary>
/// Deletes door submissions older than the idempotency records' retention (<c>Bridge:Idempotency:RetainRecordsFor</c>): a
/// submission is written before its record and purged by the same age, so no status is left without the record that decides
/// it (a confirmed submission whose record was purged would read "accepted" forever).
/// </summary>
internal sealed partial class IngressRetention(
    IngressStore submissions,
    IOptions<IdempotencyOptions> options,
    TimeProvider clock,
    ILogger<IngressRetention> logger) : Hosting.PeriodicMaintenance(clock, logger)
{
    protected override TimeSpan Tick => TimeSpan.FromHours(1);

    protected override TimeSpan PurgeEvery => TimeSpan.Zero;

    protected override string What => "HTTP-door submission";

    protected override async Task PurgeOnceAsync(CancellationToken cancellationToken)
    {
        var purged = await submissions.PurgeAsync(Clock.GetUtcNow() - options.Value.RetainRecordsFor, cancellationToken);
        LogPurged(logger, purged);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Purged {Count} HTTP-door submissions past retention")]
    private static partial void LogPurged(ILogger logger, int count);
}
