using Bridge.Chaos;

// The seeded chaos suite (issue 7 §3). Run it with ./chaos.sh, which starts RabbitMQ and PostgreSQL and builds first.
// Exit codes: 0 no violation, 1 violations (each printed with its history), 2 the run itself could not be carried out.
ChaosOptions options;
try
{
    options = ChaosOptions.Parse(args);
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync($"chaos: {ex.Message}{Environment.NewLine}{ChaosOptions.Usage}");
    return args.Contains("--help") ? 0 : 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    if (options.PrintPlanOnly)
    {
        foreach (var line in await new ChaosRun(options).PlanAsync(cancel.Token))
        {
            Console.WriteLine(line);
        }

        return 0;
    }

    var result = await new ChaosRun(options).RunAsync(cancel.Token);
    const int Shown = 25;
    foreach (var violation in result.RenderedViolations.Take(Shown))
    {
        Console.WriteLine(violation);
    }

    if (result.RenderedViolations.Count > Shown)
    {
        Console.WriteLine($"… {result.RenderedViolations.Count - Shown} more in {result.ReportPath}");
    }

    Console.WriteLine($"report: {result.ReportPath}");
    Console.WriteLine(result.Summary);
    return result.Summary.Violations.Count == 0 ? 0 : 1;
}
catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or Bridge.Chaos.Processes.BridgeStartException)
{
    await Console.Error.WriteLineAsync($"chaos: the run could not be carried out: {ex}");
    Console.WriteLine($"chaos: seed={options.Seed} aborted: {ex.GetType().Name}: {ex.Message.Split(Environment.NewLine)[0]}");
    return 2;
}
