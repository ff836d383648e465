using Xunit.Abstractions;
using Xunit.Sdk;

// Most of this suite's time is spent waiting: for a sender's window to pass, a late landing, a lease, a broker's answer. On
// two cores xUnit would run two collections at a time (one per core) and leave the machine mostly idle (a full run used
// about a fifth of a core for the tests themselves), so more run side by side. The pipeline and dead-letter collections, the
// longest by far, start first; the rest fill the other slots.
[assembly: CollectionBehavior(MaxParallelThreads = 10)]
[assembly: TestCollectionOrderer("Bridge.Tests.LongestFirstCollectionOrderer", "Bridge.Tests")]

namespace Bridge.Tests;

/// <summary>
/// Starts the collections known to be long (the pipeline's and the dead letters', each minutes of waiting) before the
/// others, so the run does not end with one of them alone; the rest keep xUnit's order.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        ArgumentNullException.ThrowIfNull(testCollections);
        return testCollections
            .Select((collection, index) => (collection, index))
            .OrderBy(entry => IsLong(entry.collection) ? 0 : 1)
            .ThenBy(entry => entry.index)
            .Select(entry => entry.collection);
    }

    private static bool IsLong(ITestCollection collection) =>
        collection.DisplayName.StartsWith("Pipeline ", StringComparison.Ordinal)
        || collection.DisplayName.StartsWith("Dead letters", StringComparison.Ordinal);
}
