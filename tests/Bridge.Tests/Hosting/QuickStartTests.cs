using System.Reflection;
using Bridge.Demo;
using Bridge.Host.Cli;

namespace Bridge.Tests.Hosting;

/// <summary>
/// The README's first command, <c>dotnet run --project src/Bridge.Demo</c>: every flow through the real pipeline on the
/// embedded defaults, and the production host apart from the sandbox it runs against.
/// </summary>
public sealed class QuickStartTests
{
    [Fact]
    public async Task The_quick_start_runs_every_flow_and_exits_0()
    {
        var exit = await DemoRunner.RunAsync([]);

        Assert.Equal(0, exit);
    }

    [Fact]
    public void The_production_host_neither_references_nor_ships_the_sandbox()
    {
        var host = typeof(BridgeCli).Assembly;

        Assert.DoesNotContain(host.GetReferencedAssemblies(), name => name.Name == "Bridge.Sandbox");
        var project = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "Bridge.Host", "Bridge.Host.csproj"));
        Assert.DoesNotContain("Bridge.Sandbox", project, StringComparison.Ordinal);
        var dockerfile = File.ReadAllText(Path.Combine(RepositoryRoot(), "deploy", "Dockerfile"));
        Assert.DoesNotContain("Bridge.Sandbox", dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_production_command_line_has_no_demo()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var served = false;

        var exit = await BridgeCli.RunAsync(["demo"], output, error, serve: (_, _) =>
        {
            served = true;
            return Task.FromResult(0);
        });

        Assert.Equal(BridgeCli.BadUsage, exit);
        Assert.False(served);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Bridge.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Bridge.sln not found above " + AppContext.BaseDirectory);
    }
}
