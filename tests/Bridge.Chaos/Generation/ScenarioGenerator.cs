using Bridge.Chaos.Model;

namespace Bridge.Chaos.Generation;

/// <summary>One story about one natural key (a document, a payment, a rate reseller…): the messages an ERP sends about it.</summary>
/// Every random choice is drawn when the scenario is planned; <see cref="Emit"/> only writes the messages down (with the ids
/// the seeded world got), so the number of publications is known from the start.
public interface IScenario
{
    /// <summary>How many publications <see cref="Emit"/> will give.</summary>
    int Size { get; }

    /// <summary>The scenario's publications in the order it wants them sent (duplicates included); called once the world is seeded.</summary>
    IReadOnlyList<Publication> Emit(GenerationContext context);
}

/// <summary>A kind of scenario: how often it is drawn, and how one is planned (declaring what it needs in the world).</summary>
public abstract class ScenarioFamily
{
    public abstract Flow Flow { get; }

    /// <summary>Relative share of the stream.</summary>
    public abstract double Weight { get; }

    public abstract IScenario Plan(GenerationContext context);
}

/// <summary>
/// The seeded, reproducible stream of ERP messages. <see cref="Plan"/> draws the scenarios (and with them the payments and
/// invoices the world needs); once the world is seeded, <see cref="Emit"/> writes the messages and interleaves the scenarios:
/// a few at a time, so that messages about one key arrive close together (and race), while the stream moves on.
/// The same seed and options always give the same plan.
/// </summary>
public sealed class ScenarioGenerator
{
    private const int ConcurrentScenarios = 6;

    private readonly GenerationContext _context;
    private readonly List<IScenario> _scenarios = [];

    private ScenarioGenerator(GenerationContext context) => _context = context;

    public WorldSpec World => _context.World;

    public static IReadOnlyList<ScenarioFamily> Families() =>
    [
        new ClosingDocumentScenarios(),
        new NotificationScenarios(),
        new StatementLineScenarios(),
        new PaymentStatusScenarios(),
        new TopUpScenarios(),
        new CurrencyRateScenarios(),
        new CorrectionScenarios(),
        new InvoiceScenarios(),
        new BadInputScenarios(),
        new ControlKeyScenarios(),
    ];

    public static ScenarioGenerator Plan(int seed, int messages, IReadOnlySet<Flow> excluded)
    {
        var generator = new ScenarioGenerator(new GenerationContext(seed));
        var families = Families().Where(f => !excluded.Contains(f.Flow)).ToList();
        if (families.Count == 0)
        {
            throw new ArgumentException("Every flow is excluded: nothing to generate.", nameof(excluded));
        }

        var totalWeight = families.Sum(f => f.Weight);
        var planned = 0;
        while (planned < messages)
        {
            var family = Draw(families, totalWeight, generator._context.Random);
            var scenario = family.Plan(generator._context);
            generator._scenarios.Add(scenario);
            planned += scenario.Size;
        }

        return generator;
    }

    public ChaosPlan Emit()
    {
        var streams = _scenarios.Select(s => new Queue<Publication>(s.Emit(_context))).Where(q => q.Count > 0).ToList();
        var stream = new List<Publication>();
        var active = new List<Queue<Publication>>();
        var next = 0;
        while (next < streams.Count || active.Count > 0)
        {
            while (active.Count < ConcurrentScenarios && next < streams.Count)
            {
                active.Add(streams[next++]);
            }

            var picked = active[_context.Random.Next(active.Count)];
            stream.Add(picked.Dequeue());
            if (picked.Count == 0)
            {
                active.Remove(picked);
            }
        }

        var messages = stream.Select(p => p.Message).Distinct().OrderBy(m => m.Ordinal).ToList();
        return new ChaosPlan(messages, stream);
    }

    private static ScenarioFamily Draw(List<ScenarioFamily> families, double totalWeight, Random random)
    {
        var x = random.NextDouble() * totalWeight;
        foreach (var family in families)
        {
            x -= family.Weight;
            if (x < 0)
            {
                return family;
            }
        }

        return families[^1];
    }
}

/// <summary>A scenario given as its size and a function writing it down.</summary>
internal sealed class Scenario(int size, Func<GenerationContext, IEnumerable<Publication>> emit) : IScenario
{
    public int Size { get; } = size;

    public IReadOnlyList<Publication> Emit(GenerationContext context)
    {
        var publications = emit(context).ToList();
        return publications.Count == Size
            ? publications
            : throw new InvalidOperationException($"A scenario planned {Size} publications and wrote {publications.Count}.");
    }
}
