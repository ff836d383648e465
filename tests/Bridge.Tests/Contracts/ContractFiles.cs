namespace Bridge.Tests.Contracts;

/// <summary>
/// The contract files as they are in the repository, not the copies in the test output: the files under test
/// are the ones publishers read.
/// </summary>
internal static class ContractFiles
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    public static string ContractsDirectory => Path.Combine(Root.Value, "contracts");

    public static string SchemasDirectory => Path.Combine(ContractsDirectory, "schemas");

    public static string AsyncApiPath => Path.Combine(ContractsDirectory, "asyncapi.yaml");

    public static string SchemaPath(string messageName) => Path.Combine(SchemasDirectory, messageName + ".schema.json");

    public static IReadOnlyList<string> SchemaMessageNames() =>
        Directory.GetFiles(SchemasDirectory, "*.schema.json")
            .Select(path => Path.GetFileName(path)[..^".schema.json".Length])
            .Order(StringComparer.Ordinal)
            .ToList();

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Bridge.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Bridge.sln above {AppContext.BaseDirectory}: the contract tests read contracts/ from the repository.");
    }
}
