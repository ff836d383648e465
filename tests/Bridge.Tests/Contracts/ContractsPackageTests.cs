using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Bridge.Contracts;

namespace Bridge.Tests.Contracts;

/// <summary>
/// The Bridge.Contracts package as ERP teams get it: <c>dotnet pack</c> runs once for this class (into a temporary folder),
/// then the package is opened, its .NET Standard 2.0 build is exercised against the net10.0 build Bridge runs, and a .NET
/// Standard library and a .NET 8 application are compiled against the package from a local source, offline (every other
/// package comes from the machine's NuGet cache, which the build of the repository filled) and run.
/// </summary>
public sealed class ContractsPackageTests(PackedContracts packed) : IClassFixture<PackedContracts>
{
    private static readonly string[] Builds = ["net10.0", "net8.0", "netstandard2.0"];

    [Fact]
    public void The_package_has_the_three_builds_with_their_docs_the_readme_the_metadata_and_symbols()
    {
        using var package = ZipFile.OpenRead(packed.Package);
        var entries = package.Entries.Select(entry => entry.FullName).ToHashSet(StringComparer.Ordinal);
        foreach (var build in Builds)
        {
            Assert.Contains($"lib/{build}/Bridge.Contracts.dll", entries);
            Assert.Contains($"lib/{build}/Bridge.Contracts.xml", entries);
        }

        Assert.Equal(Builds.Order(StringComparer.Ordinal), entries.Where(entry => entry.StartsWith("lib/", StringComparison.Ordinal)).Select(entry => entry.Split('/')[1]).Distinct().Order(StringComparer.Ordinal));

        using (var readme = new StreamReader(package.GetEntry("README.md")!.Open()))
        {
            Assert.Equal(File.ReadAllText(Path.Combine(ContractFiles.ContractsDirectory, "README.md")), readme.ReadToEnd());
        }

        var metadata = packed.Nuspec.Root!.Element(packed.Nuspec.Root.Name.Namespace + "metadata")!;
        string Text(string name) => metadata.Element(metadata.Name.Namespace + name)?.Value ?? throw new Xunit.Sdk.XunitException($"the nuspec has no <{name}>");
        Assert.Equal("Bridge.Contracts", Text("id"));
        Assert.Equal(packed.Version, Text("version"));
        Assert.Equal("README.md", Text("readme"));
        Assert.False(string.IsNullOrWhiteSpace(Text("authors")));
        Assert.Contains("BridgeQueues", Text("description"), StringComparison.Ordinal);
        Assert.Contains("erp", Text("tags").Split(' '));

        // Bridge's own build needs nothing; below .NET 10 System.Text.Json comes as a package (JsonStringEnumMemberName is 9.0+).
        var groups = metadata.Element(metadata.Name.Namespace + "dependencies")!.Elements()
            .ToDictionary(group => (string)group.Attribute("targetFramework")!, group => group.Elements().Select(dependency => (string)dependency.Attribute("id")!).ToList());
        Assert.Empty(groups["net10.0"]);
        Assert.Equal(["System.Text.Json"], groups["net8.0"]);
        Assert.Equal(["System.Text.Json"], groups[".NETStandard2.0"]);

        using var symbols = ZipFile.OpenRead(Path.ChangeExtension(packed.Package, ".snupkg"));
        Assert.All(Builds, build => Assert.NotNull(symbols.GetEntry($"lib/{build}/Bridge.Contracts.pdb")));
    }

    [Fact]
    public void The_netstandard2_build_writes_and_reads_every_sample_and_schema_example_as_the_net10_build_does()
    {
        var options = ContractSamples.MassTransitLike;
        var checkedDocuments = 0;
        foreach (var type in ContractCatalog.Messages)
        {
            var legacy = packed.NetStandard.GetType(type.FullName!, throwOnError: true)!;
            var documents = ContractSamples.For(type).Select(sample => JsonSerializer.Serialize(sample, type, options))
                .Concat((JsonNode.Parse(File.ReadAllText(ContractFiles.SchemaPath(type.Name)))!["examples"] as JsonArray ?? []).Select(example => example!.ToJsonString()));
            foreach (var document in documents)
            {
                var expected = JsonSerializer.SerializeToNode(JsonSerializer.Deserialize(document, type, options), type, options);
                var written = JsonSerializer.SerializeToNode(JsonSerializer.Deserialize(document, legacy, options), legacy, options);
                Assert.True(JsonNode.DeepEquals(expected, written), $"{type.Name}: {document}{Environment.NewLine}net10.0 writes {expected?.ToJsonString()}{Environment.NewLine}netstandard2.0 writes {written?.ToJsonString()}");
                checkedDocuments++;
            }
        }

        Assert.True(checkedDocuments > ContractCatalog.Messages.Count, $"only {checkedDocuments} documents were compared");

        // A date is YYYY-MM-DD and nothing else, in both builds.
        var sample = JsonSerializer.SerializeToNode(ContractSamples.For(typeof(SendClosingDocument))[0], options)!.AsObject();
        Assert.Equal("2026-11-01", (string?)sample["startDate"]);
        foreach (var notADate in new[] { "2026-11-01T00:00:00", "01.11.2026", "2026-11-1" })
        {
            sample["startDate"] = notADate;
            Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<SendClosingDocument>(sample.ToJsonString(), options));
            Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(sample.ToJsonString(), packed.NetStandard.GetType(typeof(SendClosingDocument).FullName!)!, options));
        }
    }

    [Fact]
    public void The_netstandard2_DateOnly_has_only_members_of_dotnets_DateOnly_and_the_other_builds_forward_to_it()
    {
        // A .NET Standard library compiled against the polyfill runs on .NET 8+ against the real type: every member it can call
        // must exist there with the same signature.
        // By name: the polyfill's DateOnly and .NET's are different types with the same name.
        static string Name(Type type) => type.IsGenericType
            ? $"{type.Namespace}.{type.Name}<{string.Join(", ", type.GetGenericArguments().Select(Name))}>"
            : type.FullName!;
        static string Signature(MemberInfo member) => member switch
        {
            ConstructorInfo constructor => $".ctor({string.Join(", ", constructor.GetParameters().Select(parameter => Name(parameter.ParameterType)))})",
            MethodInfo method => $"{(method.IsStatic ? "static " : "")}{Name(method.ReturnType)} {method.Name}({string.Join(", ", method.GetParameters().Select(parameter => Name(parameter.ParameterType)))})",
            _ => throw new InvalidOperationException(member.ToString()),
        };
        const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var polyfill = packed.NetStandard.GetType("System.DateOnly", throwOnError: true)!;
        Assert.NotSame(typeof(DateOnly), polyfill);
        var real = typeof(DateOnly).GetConstructors().Cast<MemberInfo>().Concat(typeof(DateOnly).GetMethods(Public)).Select(Signature).ToHashSet(StringComparer.Ordinal);
        var offered = polyfill.GetConstructors().Cast<MemberInfo>().Concat(polyfill.GetMethods(Public)).Select(Signature).ToList();
        Assert.Contains("static System.DateOnly FromDateTime(System.DateTime)", offered);
        Assert.All(offered, signature => Assert.Contains(signature, real));
        Assert.All(polyfill.GetInterfaces(), contract => Assert.Contains(Name(contract), typeof(DateOnly).GetInterfaces().Select(Name)));

        foreach (var build in new[] { "net10.0", "net8.0" })
        {
            Assert.Equal(["System.DateOnly", "System.Runtime.CompilerServices.IsExternalInit"], packed.ForwardedTypes(build));
        }

        Assert.Contains(typeof(IsExternalInit), typeof(IResultEvent).Assembly.GetForwardedTypes());
    }

    [Fact]
    public async Task A_netstandard2_library_and_a_dotnet8_app_compile_against_the_package_and_write_what_Bridge_reads()
    {
        var consumer = Directory.CreateDirectory(Path.Combine(packed.Work, "consumer")).FullName;
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(consumer, "packages")}" />
              </config>
              <packageSources>
                <clear />
                <add key="packed" value="{packed.Output}" />
              </packageSources>
              <fallbackPackageFolders>
                <clear />
                {string.Join(Environment.NewLine, packed.MachinePackageFolders.Select((folder, i) => $"""<add key="machine{i}" value="{folder}" />"""))}
              </fallbackPackageFolders>
            </configuration>
            """);
        Directory.CreateDirectory(Path.Combine(consumer, "Erp"));
        File.WriteAllText(Path.Combine(consumer, "Erp", "Erp.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>netstandard2.0</TargetFramework>
                <LangVersion>latest</LangVersion>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Bridge.Contracts" Version="{packed.Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Erp", "ErpPublisher.cs"), """
            using System;
            using Bridge.Contracts;

            namespace Erp;

            /// <summary>An ERP team's .NET Standard 2.0 library: compiled against the package's netstandard2.0 build.</summary>
            public static class ErpPublisher
            {
                public static string Queue { get; } = BridgeQueues.Name(BridgeQueues.SendClosingDocument);

                public static SendClosingDocument Document() => new()
                {
                    AccountId = 505,
                    Key = "0493e78a-e8ef-11e9-81b4-2a2ae2dbcce4",
                    Type = ClosingDocumentType.InvoiceVat,
                    Name = "Act 118",
                    Amount = new Money(123.45m, "EUR"),
                    StartDate = new DateOnly(2026, 11, 1),
                    EndDate = new DateOnly(2026, 11, 1).AddMonths(1).AddDays(-1),
                    File = new DocumentFile { ContentType = "application/pdf", ContentBase64 = "JVBERi0xLjQKJSVFT0YK" },
                    Revision = 1,
                };

                public static string Period(InvoiceApproved approved) => approved.BillingDate.ToString("o", null);
            }
            """);
        Directory.CreateDirectory(Path.Combine(consumer, "App"));
        File.WriteAllText(Path.Combine(consumer, "App", "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net8.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <UseAppHost>false</UseAppHost>
                <!-- Where only a newer runtime is installed (as on Bridge's machines), it runs there. -->
                <RollForward>Major</RollForward>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Bridge.Contracts" Version="{packed.Version}" />
                <ProjectReference Include="../Erp/Erp.csproj" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "App", "Program.cs"), """
            using System.Text.Json;
            using Bridge.Contracts;

            // Runs the package's net8.0 build, and with it the library compiled against the netstandard2.0 build.
            var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);
            Console.WriteLine(Erp.ErpPublisher.Queue);
            Console.WriteLine(JsonSerializer.Serialize(Erp.ErpPublisher.Document(), web));
            var approved = JsonSerializer.Deserialize<InvoiceApproved>(Console.In.ReadLine()!, web)!;
            Console.WriteLine(Erp.ErpPublisher.Period(approved));
            """);

        var build = await DotNet.RunAsync(consumer, null, "build", "App", "-c", "Release", "-m:1", "--disable-build-servers", "-nologo");
        Assert.True(build.ExitCode == 0, build.Output);

        var approved = new InvoiceApproved
        {
            Key = "INV-1", MessageId = "m", CorrelationId = "c", OccurredAt = DateTimeOffset.UnixEpoch, ResellerId = 1, InvoiceId = "42",
            BillingDate = new DateOnly(2026, 11, 1), AlreadyApplied = false,
        };
        var run = await DotNet.RunAsync(consumer, JsonSerializer.Serialize(approved, ContractSamples.Web), Path.Combine(consumer, "App", "bin", "Release", "net8.0", "App.dll"));
        Assert.True(run.ExitCode == 0, run.Output);

        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal("bridge.send-closing-document", lines[0]);
        var expected = new SendClosingDocument
        {
            AccountId = 505, Key = "0493e78a-e8ef-11e9-81b4-2a2ae2dbcce4", Type = ClosingDocumentType.InvoiceVat, Name = "Act 118",
            Amount = new Money(123.45m, "EUR"), StartDate = new DateOnly(2026, 11, 1), EndDate = new DateOnly(2026, 11, 30),
            File = new DocumentFile { ContentType = "application/pdf", ContentBase64 = "JVBERi0xLjQKJSVFT0YK" }, Revision = 1,
        };
        Assert.True(JsonNode.DeepEquals(JsonSerializer.SerializeToNode(expected, ContractSamples.Web), JsonNode.Parse(lines[1])), lines[1]);
        Assert.Equal(expected, JsonSerializer.Deserialize<SendClosingDocument>(lines[1], ContractSamples.Web));
        Assert.Equal("2026-11-01", lines[2]);
    }
}

/// <summary>The package, packed once for <see cref="ContractsPackageTests"/>, and what is read from it more than once.</summary>
public sealed class PackedContracts : IDisposable
{
    public PackedContracts()
    {
        Work = Directory.CreateTempSubdirectory("bridge-contracts-package-").FullName;
        Output = Path.Combine(Work, "packed");
        var project = Path.Combine(ContractFiles.ContractsDirectory, "Bridge.Contracts");
        var pack = DotNet.RunAsync(project, null, "pack", "-c", "Release", "-o", Output, "-m:1", "--disable-build-servers", "-nologo").GetAwaiter().GetResult();
        if (pack.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet pack failed ({pack.ExitCode}):{Environment.NewLine}{pack.Output}");
        }

        Package = Directory.GetFiles(Output, "Bridge.Contracts.*.nupkg").Single(path => !path.EndsWith(".snupkg", StringComparison.Ordinal));
        using (var package = ZipFile.OpenRead(Package))
        {
            using var nuspec = package.GetEntry("Bridge.Contracts.nuspec")!.Open();
            Nuspec = XDocument.Load(nuspec);
            package.ExtractToDirectory(Path.Combine(Work, "extracted"));
        }

        Version = Nuspec.Descendants(Nuspec.Root!.Name.Namespace + "version").Single().Value;
        NetStandard = new AssemblyLoadContext("Bridge.Contracts netstandard2.0")
            .LoadFromAssemblyPath(Path.Combine(Work, "extracted", "lib", "netstandard2.0", "Bridge.Contracts.dll"));

        // Where the pack's restore found System.Text.Json and the reference packs: the consumer takes them from there, offline.
        using var assets = JsonDocument.Parse(File.ReadAllText(Path.Combine(project, "obj", "project.assets.json")));
        MachinePackageFolders = [.. assets.RootElement.GetProperty("packageFolders").EnumerateObject().Select(folder => folder.Name)];
    }

    public string Work { get; }

    /// <summary>The folder the package was packed to: the consumer's only package source.</summary>
    public string Output { get; }

    public string Package { get; }

    public XDocument Nuspec { get; }

    public string Version { get; }

    /// <summary>The package's netstandard2.0 build, loaded beside the net10.0 build this test run references.</summary>
    public Assembly NetStandard { get; }

    public IReadOnlyList<string> MachinePackageFolders { get; }

    public IReadOnlyList<string> ForwardedTypes(string build)
    {
        using var pe = new PEReader(File.OpenRead(Path.Combine(Work, "extracted", "lib", build, "Bridge.Contracts.dll")));
        var metadata = pe.GetMetadataReader();
        return [.. metadata.ExportedTypes.Select(metadata.GetExportedType).Where(type => type.IsForwarder)
            .Select(type => $"{metadata.GetString(type.Namespace)}.{metadata.GetString(type.Name)}").Order(StringComparer.Ordinal)];
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Work, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is harmless.
        }
    }
}

/// <summary>Runs the .NET CLI with the environment of a fresh shell: without the MSBuild variables of the test run's own build.</summary>
internal static class DotNet
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, string? input, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(name => name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteLineAsync(input);
        }

        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not end within {Deadline}:{Environment.NewLine}{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
