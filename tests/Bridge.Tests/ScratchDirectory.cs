namespace Bridge.Tests;

/// <summary>
/// A temporary directory for one test (a SQLite file, a config), deleted when the test ends — so a suite run leaves nothing
/// behind in the machine's temp directory (hundreds of such directories had piled up there).
/// </summary>
public sealed class ScratchDirectory : IDisposable
{
    private ScratchDirectory(string path) => Path = path;

    public string Path { get; }

    public static ScratchDirectory Create(string prefix) => new(Directory.CreateTempSubdirectory(prefix).FullName);

    public void Dispose()
    {
        // Pooled SQLite connections keep their files open; closing them first lets the files go at once.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Something still writes there (a host that did not stop); the machine's temp clean-up takes it later.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
