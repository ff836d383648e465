using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;

namespace Bridge.Sandbox;

/// <summary>
/// A reseller's records that the API creates, changes and deletes, over a read-only seed: the seeded ones (as changed or
/// deleted) and the created ones. One lock; answers are snapshots.
/// </summary>
internal sealed class RecordStore(Func<int, IReadOnlyList<JsonObject>> seed, long firstId)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, JsonObject?> _changed = new(StringComparer.Ordinal);
    private readonly List<(int ResellerId, string Id)> _created = [];
    private long _lastId = firstId;

    public IReadOnlyList<JsonObject> Of(int resellerId)
    {
        lock (_gate)
        {
            return
            [
                .. seed(resellerId).Select(o => _changed.TryGetValue((string)o["id"]!, out var changed) ? changed : o).OfType<JsonObject>(),
                .. _created.Where(c => c.ResellerId == resellerId).Select(c => _changed[c.Id]).OfType<JsonObject>(),
            ];
        }
    }

    public JsonObject? Find(int resellerId, string id)
    {
        lock (_gate)
        {
            return Of(resellerId).FirstOrDefault(r => (string?)r["id"] == id)?.DeepClone().AsObject();
        }
    }

    /// <summary>Adds the record <paramref name="build"/> makes from a new id.</summary>
    public JsonObject Add(int resellerId, Func<string, JsonObject> build)
    {
        lock (_gate)
        {
            var id = (++_lastId).ToString(CultureInfo.InvariantCulture);
            var record = Writes.Materialized(build(id));
            _created.Add((resellerId, id));
            _changed[id] = record;
            return record.DeepClone().AsObject();
        }
    }

    /// <summary>Replaces the reseller's record with what <paramref name="change"/> makes of a copy; null when it has none such.</summary>
    public JsonObject? Change(int resellerId, string id, Func<JsonObject, JsonObject?> change, out JsonObject? refusedBy)
    {
        lock (_gate)
        {
            refusedBy = null;
            if (Find(resellerId, id) is not { } current)
            {
                return null;
            }

            if (change(current) is not { } changed)
            {
                refusedBy = current;
                return null;
            }

            _changed[id] = Writes.Materialized(changed);
            return changed.DeepClone().AsObject();
        }
    }

    /// <summary>Removes the reseller's record and returns it; null when it has none such (never had, or deleted already).</summary>
    public JsonObject? Remove(int resellerId, string id)
    {
        lock (_gate)
        {
            if (Find(resellerId, id) is not { } current)
            {
                return null;
            }

            _changed[id] = null;
            return current;
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _changed.Clear();
            _created.Clear();
        }
    }
}

/// <summary>
/// Managers (<c>POST managers</c>, <c>PATCH managers/{id}</c>), notes (<c>POST notes</c>, <c>DELETE notes/{id}</c>) and
/// free-access documents (<c>POST</c>, <c>PUT</c>, <c>DELETE free_access_documents[/{id}]</c>). Inferred throughout: bodies,
/// objects and errors — no page of these was read here. A manager's role is one of <c>manager_roles</c>' keys and its status
/// <c>active</c> or <c>blocked</c>; a note is text on an account; a free-access document is a named file (a data URI, as
/// closing documents carry theirs). Deletes answer 200 with the object, as the documented closing-document delete does.
/// </summary>
internal sealed class ResellerRecords
{
    private static readonly string[] ManagerWritable = ["name", "email", "role", "status"];
    private static readonly string[] ManagerStatuses = ["active", "blocked"];
    private static readonly string[] NoteWritable = ["account_id", "text"];
    private static readonly string[] DocumentWritable = ["name", "description", "file_name", "file"];
    private static readonly string[] DocumentMimeTypes = ["application/pdf", "application/msword", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"];

    public RecordStore Managers { get; } = new(DirectoryReads.Managers, 400_000);

    public RecordStore Notes { get; } = new(InferredReads.Notes, 700_000);

    public RecordStore FreeAccessDocuments { get; } = new(InferredReads.FreeAccessDocuments, 800_000);

    public void Reset()
    {
        Managers.Reset();
        Notes.Reset();
        FreeAccessDocuments.Reset();
    }

    public static void MapWrites(RouteGroupBuilder api)
    {
        api.MapPost("/managers", CreateManager);
        api.MapPatch("/managers/{manager_id}", UpdateManager);
        api.MapPost("/notes", CreateNote);
        api.MapDelete("/notes/{note_id}", ([FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "note_id")] string noteId, HttpContext context, ResellerRecords records, EffectLedger ledger) =>
            Delete(context, resellerId, noteId, records.Notes, ledger, EffectKinds.NoteDeleted));
        api.MapPost("/free_access_documents", CreateDocument);
        api.MapPut("/free_access_documents/{document_id}", ReplaceDocument);
        api.MapDelete("/free_access_documents/{document_id}", ([FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "document_id")] string documentId, HttpContext context, ResellerRecords records, EffectLedger ledger) =>
            Delete(context, resellerId, documentId, records.FreeAccessDocuments, ledger, EffectKinds.FreeAccessDocumentDeleted));
    }

    private static async Task<IResult> CreateManager(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, ResellerRecords records, EffectLedger ledger, SandboxClock clock)
    {
        var (attributes, error) = await Writes.AttributesAsync(context, "managers");
        if (attributes is null)
        {
            return error!;
        }

        if ((CheckManager(attributes, creating: true) ?? EmailTaken(records, resellerId, attributes, null)) is { } refused)
        {
            return refused;
        }

        var now = ApiJson.MillisecondTimestamp(clock.Now);
        var manager = records.Managers.Add(resellerId, id => new JsonObject
        {
            ["id"] = id,
            ["type"] = "managers",
            ["attributes"] = new JsonObject
            {
                ["created_at"] = now,
                ["updated_at"] = now,
                ["reseller_id"] = resellerId,
                ["name"] = ApiJson.Text(attributes["name"]),
                ["status"] = ApiJson.Text(attributes["status"]) ?? "active",
                ["email"] = ApiJson.Text(attributes["email"]),
                ["role"] = ApiJson.Text(attributes["role"]),
                ["custom_attributes"] = new JsonObject(),
            },
        });
        CallLog.SetKey(context, (string)manager["id"]!);
        ledger.Record(resellerId, EffectKinds.ManagerCreated, (string)manager["id"]!, ("email", ApiJson.Text(attributes["email"])), ("role", ApiJson.Text(attributes["role"])));
        return Writes.Created(manager);
    }

    private static async Task<IResult> UpdateManager(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "manager_id")] string managerId, ResellerRecords records, EffectLedger ledger, SandboxClock clock)
    {
        CallLog.SetKey(context, managerId);
        if (records.Managers.Find(resellerId, managerId) is null)
        {
            return Writes.Absent();
        }

        var (attributes, error) = await Writes.AttributesAsync(context, "managers");
        if (attributes is null)
        {
            return error!;
        }

        if ((CheckManager(attributes, creating: false) ?? EmailTaken(records, resellerId, attributes, managerId)) is { } refused)
        {
            return refused;
        }

        var updated = records.Managers.Change(resellerId, managerId, manager =>
        {
            var target = manager["attributes"]!.AsObject();
            foreach (var (field, value) in attributes)
            {
                target[field] = value?.DeepClone();
            }

            target["updated_at"] = ApiJson.MillisecondTimestamp(clock.Now);
            return manager;
        }, out _);
        if (updated is null)
        {
            return Writes.Absent();
        }

        ledger.Record(resellerId, EffectKinds.ManagerUpdated, managerId, ("members", string.Join(',', attributes.Select(a => a.Key))));
        return Writes.Ok(updated);
    }

    private static IResult? CheckManager(JsonObject attributes, bool creating)
    {
        if (Writes.Unpermitted(attributes, ManagerWritable) is { } unpermitted)
        {
            return Writes.Invalid($"{unpermitted} cannot be changed through the API");
        }

        if (attributes.Count == 0)
        {
            return Writes.Missing("data.attributes");
        }

        var errors = new List<string>();
        foreach (var (field, label) in new[] { ("name", "Name"), ("email", "Email"), ("role", "Role") })
        {
            if ((creating || attributes.ContainsKey(field)) && Writes.Text(attributes, field) is null)
            {
                errors.Add($"{label} can't be blank");
            }
        }

        if (Writes.Text(attributes, "email") is { } email && !email.Contains('@', StringComparison.Ordinal))
        {
            errors.Add("Email is invalid");
        }

        if (Writes.Text(attributes, "role") is { } role && !InferredReads.ManagerRoles().Any(r => (string?)r["attributes"]!["key"] == role))
        {
            errors.Add("Role is not included in the list");
        }

        if (attributes.ContainsKey("status") && !ManagerStatuses.Contains(ApiJson.Text(attributes["status"])))
        {
            errors.Add("Status is not included in the list");
        }

        return errors.Count > 0 ? Writes.Invalid(string.Join(", ", errors)) : null;
    }

    private static IResult? EmailTaken(ResellerRecords records, int resellerId, JsonObject attributes, string? self) =>
        Writes.Text(attributes, "email") is { } email
        && records.Managers.Of(resellerId).Any(m => (string?)m["id"] != self && string.Equals(ApiJson.Text(m["attributes"]!["email"]), email, StringComparison.OrdinalIgnoreCase))
            ? Writes.Invalid("Email has already been taken")
            : null;

    private static async Task<IResult> CreateNote(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, ResellerRecords records, EffectLedger ledger, SandboxClock clock)
    {
        var (attributes, error) = await Writes.AttributesAsync(context, "notes");
        if (attributes is null)
        {
            return error!;
        }

        if (Writes.Unpermitted(attributes, NoteWritable) is { } unpermitted)
        {
            return Writes.Invalid($"{unpermitted} cannot be changed through the API");
        }

        if (Writes.PositiveId(attributes["account_id"]) is not { } accountId)
        {
            return Writes.Missing("account_id");
        }

        if (Writes.Text(attributes, "text") is not { } text)
        {
            return Writes.Invalid("Text can't be blank");
        }

        var now = ApiJson.Timestamp(clock.Now);
        var note = records.Notes.Add(resellerId, id => new JsonObject
        {
            ["id"] = id,
            ["type"] = "notes",
            ["attributes"] = new JsonObject
            {
                ["created_at"] = now, ["updated_at"] = now, ["account_id"] = accountId, ["manager_id"] = PaymentStore.ManagerId, ["text"] = text,
            },
        });
        CallLog.SetKey(context, (string)note["id"]!);
        ledger.Record(resellerId, EffectKinds.NoteCreated, (string)note["id"]!, ("accountId", Writes.Id(accountId)));
        return Writes.Created(note);
    }

    private static async Task<IResult> CreateDocument(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, ResellerRecords records, EffectLedger ledger, SandboxClock clock)
    {
        var (attributes, error) = await Writes.AttributesAsync(context, "free_access_documents");
        if (attributes is null)
        {
            return error!;
        }

        if (CheckDocument(attributes) is { } refused)
        {
            return refused;
        }

        var now = ApiJson.Timestamp(clock.Now);
        var document = records.FreeAccessDocuments.Add(resellerId, id => new JsonObject
        {
            ["id"] = id,
            ["type"] = "free_access_documents",
            ["attributes"] = DocumentAttributes(attributes, now, now),
        });
        CallLog.SetKey(context, (string)document["id"]!);
        ledger.Record(resellerId, EffectKinds.FreeAccessDocumentCreated, (string)document["id"]!, ("name", ApiJson.Text(attributes["name"])));
        return Writes.Created(document);
    }

    /// <summary>PUT: a full replacement, every member required as on create (inferred from the verb).</summary>
    private static async Task<IResult> ReplaceDocument(HttpContext context, [FromRoute(Name = "reseller_id")] int resellerId, [FromRoute(Name = "document_id")] string documentId, ResellerRecords records, EffectLedger ledger, SandboxClock clock)
    {
        CallLog.SetKey(context, documentId);
        if (records.FreeAccessDocuments.Find(resellerId, documentId) is null)
        {
            return Writes.Absent();
        }

        var (attributes, error) = await Writes.AttributesAsync(context, "free_access_documents");
        if (attributes is null)
        {
            return error!;
        }

        if (CheckDocument(attributes) is { } refused)
        {
            return refused;
        }

        var replaced = records.FreeAccessDocuments.Change(resellerId, documentId, document =>
        {
            document["attributes"] = DocumentAttributes(attributes, ApiJson.Text(document["attributes"]!["created_at"])!, ApiJson.Timestamp(clock.Now));
            return document;
        }, out _);
        if (replaced is null)
        {
            return Writes.Absent();
        }

        ledger.Record(resellerId, EffectKinds.FreeAccessDocumentUpdated, documentId, ("name", ApiJson.Text(attributes["name"])));
        return Writes.Ok(replaced);
    }

    private static IResult? CheckDocument(JsonObject attributes)
    {
        if (Writes.Unpermitted(attributes, DocumentWritable) is { } unpermitted)
        {
            return Writes.Invalid($"{unpermitted} cannot be changed through the API");
        }

        var errors = new List<string>();
        foreach (var (field, label) in new[] { ("name", "Name"), ("file_name", "File name"), ("file", "File") })
        {
            if (Writes.Text(attributes, field) is null)
            {
                errors.Add($"{label} can't be blank");
            }
        }

        if (Writes.Text(attributes, "file") is { } file)
        {
            var comma = file.IndexOf(',', StringComparison.Ordinal);
            var semicolon = file.IndexOf(';', StringComparison.Ordinal);
            if (!file.StartsWith("data:", StringComparison.Ordinal) || comma < 0 || semicolon < 0 || semicolon > comma
                || !file.AsSpan(0, comma).EndsWith(";base64", StringComparison.Ordinal)
                || !DocumentMimeTypes.Contains(file[5..semicolon], StringComparer.OrdinalIgnoreCase)
                || !Convert.TryFromBase64String(file[(comma + 1)..], new byte[file.Length], out var bytes) || bytes == 0)
            {
                errors.Add("File must be a DOC, PDF or XLSX in base64 including its MIME type (data:<mime>;base64,<data>)");
            }
        }

        return errors.Count > 0 ? Writes.Invalid(string.Join(", ", errors)) : null;
    }

    // The file is kept out of the answer, as the documented closing-document answers leave it out of a delete.
    private static JsonObject DocumentAttributes(JsonObject attributes, string createdAt, string updatedAt) => new()
    {
        ["created_at"] = createdAt,
        ["updated_at"] = updatedAt,
        ["name"] = ApiJson.Text(attributes["name"]),
        ["description"] = ApiJson.Text(attributes["description"]) ?? "",
        ["file_name"] = ApiJson.Text(attributes["file_name"]),
    };

    private static IResult Delete(HttpContext context, int resellerId, string id, RecordStore store, EffectLedger ledger, string kind)
    {
        CallLog.SetKey(context, id);
        if (store.Remove(resellerId, id) is not { } removed)
        {
            return Writes.Absent();
        }

        ledger.Record(resellerId, kind, id);
        return Writes.Ok(removed);
    }
}
