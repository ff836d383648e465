using System.ComponentModel.DataAnnotations;

namespace Bridge.Host.Features.ClosingDocuments;

public sealed class ClosingDocumentOptions
{
    public const string Section = "Bridge:ClosingDocuments";

    /// <summary>Largest file accepted, decoded. ActivePlatform's own limit is set per installation.</summary>
    [Range(1, 100 * 1024 * 1024)]
    public long MaxFileBytes { get; set; } = 20 * 1024 * 1024;
}
