using System.Reflection;

namespace Bridge.Tests.Architecture;

/// <summary>
/// Bridge.Host's folders (one namespace each: <c>Bridge.Host.X</c>, with <c>Bridge.Host.X.Y…</c> counted as X; the
/// composition root <c>Bridge.Host</c> beside Program.cs is a node of its own) must not use each other in a circle, so that
/// each can be read, changed and tested with only what is below it in mind; inside DeadLetters, the rooms
/// (<c>Bridge.Host.DeadLetters.Store</c>, <c>.Capture</c>, …, and the shared <c>Bridge.Host.DeadLetters</c>) neither.
/// Dependencies are read as <see cref="NamespaceGraph"/> says: every type the compiled assembly's metadata and IL name
/// (signatures, base types, attributes, method bodies), plus the sources' <c>using Bridge.Host…</c> directives and
/// constants read by name, which compilation erases. Not seen: <c>nameof</c>, <c>cref</c>s, a constant read through
/// <c>using static</c> by its bare name.
/// </summary>
public sealed class NamespaceCycleTests
{
    private const string Host = "Bridge.Host";
    private const string DeadLetters = "Bridge.Host.DeadLetters";

    /// <summary>
    /// The cycles among the folders that are still there, each a set of folders that use each other in a circle. This list may
    /// only shrink: a new cycle fails the test, and so does one that is gone until it is taken off the list.
    /// </summary>
    /// <remarks>
    /// The one left: Storage registers the effect journal (Storage → Effects) that Effects builds on Storage; Idempotency
    /// and Effects use each other (the executor records effects, effects name idempotency's options); Messaging registers
    /// the Features' consumers, which use Messaging's IncomingMessage (as Outbox and Idempotency do, which Messaging uses);
    /// all of them use Hosting's helpers, and InstanceRegistry in Hosting uses Storage. Untangling it is a change of its own.
    /// </remarks>
    private static readonly string[][] KnownCycles =
    [
        ["Effects", "Features", "Hosting", "Idempotency", "Messaging", "Outbox", "Storage"],
    ];

    private static readonly Lazy<NamespaceGraph> Namespaces = new(() =>
        NamespaceGraph.Read(typeof(Bridge.Host.Cli.BridgeCli).Assembly, Path.Combine(RepositoryRoot(), "src", Host), Host));

    [Fact]
    public void DeadLetters_is_in_no_cycle_of_the_folders()
    {
        var folders = Namespaces.Value.Collapse(Folder);
        var cycles = folders.Cycles().Where(cycle => cycle.Contains(DeadLetters)).ToList();

        Assert.True(cycles.Count == 0, string.Join("\n", cycles.Select(folders.Describe)));
    }

    [Fact]
    public void The_dead_letter_rooms_use_each_other_in_one_direction_only()
    {
        var rooms = Namespaces.Value.Collapse(ns => ns == DeadLetters || ns.StartsWith(DeadLetters + ".", StringComparison.Ordinal) ? Room(ns) : null);

        Assert.Equal(
            ["", "Api", "Capture", "Registration", "Replay", "Retention", "Store"],
            rooms.Nodes.Select(node => node == DeadLetters ? "" : node[(DeadLetters.Length + 1)..]).Order(StringComparer.Ordinal));
        var cycles = rooms.Cycles();
        Assert.True(cycles.Count == 0, string.Join("\n", cycles.Select(rooms.Describe)));
    }

    [Fact]
    public void The_folders_have_no_cycles_but_the_known_ones()
    {
        var folders = Namespaces.Value.Collapse(Folder);
        var cycles = folders.Cycles();

        Assert.True(
            cycles.Select(Key).Order(StringComparer.Ordinal).SequenceEqual(KnownCycles.Select(cycle => Key([.. cycle.Select(folder => Host + "." + folder)])).Order(StringComparer.Ordinal)),
            "The cycles among the folders are not the known ones (the list in NamespaceCycleTests.KnownCycles may only shrink):\n"
            + string.Join("\n", cycles.Select(folders.Describe)));

        static string Key(IReadOnlyList<string> cycle) => string.Join(", ", cycle.Order(StringComparer.Ordinal));
    }

    /// <summary>The graph is not empty for a wrong reason: it sees uses written with a using, partly qualified, and of a constant.</summary>
    [Fact]
    public void The_graph_sees_the_uses_it_is_meant_to_see()
    {
        var folders = Namespaces.Value.Collapse(Folder);

        Assert.Contains(Host + ".Storage", folders.Uses(DeadLetters));
        Assert.Contains(Host + ".Hosting", folders.Uses(Host + ".Messaging"));
        Assert.Contains(folders.Evidence(Host + ".Messaging", Host + ".Hosting"), use => use.Contains("(a constant)", StringComparison.Ordinal));
    }

    private static string Folder(string ns) => ns == Host ? ns : Host + "." + ns[(Host.Length + 1)..].Split('.')[0];

    private static string Room(string ns) => ns == DeadLetters ? ns : DeadLetters + "." + ns[(DeadLetters.Length + 1)..].Split('.')[0];

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Bridge.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Bridge.sln above {AppContext.BaseDirectory}: the architecture tests read src/ from the repository.");
    }
}
