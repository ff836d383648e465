using Microsoft.Extensions.Options;

namespace Bridge.Host.Hosting;

public static class StartupFailure
{
    /// <summary>The failed option validations inside <paramref name="exception"/> (alone or aggregated), if that is what it is.</summary>
    public static bool TryDescribe(Exception exception, out IReadOnlyList<string> problems)
    {
        var failures = exception switch
        {
            OptionsValidationException single => single.Failures,
            AggregateException aggregate when aggregate.InnerExceptions.All(e => e is OptionsValidationException) =>
                aggregate.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures),
            _ => null,
        };
        problems = failures?.Distinct().ToList() ?? [];
        return problems.Count > 0;
    }
}
