using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.RegularExpressions;

namespace Bridge.Tests.Architecture;

/// <summary>
/// Which namespace of an assembly uses which, read from the compiled assembly and, for what compilation erases, from the
/// sources. An edge A → B means some type declared in A (nested and compiler-generated types count as their outermost
/// declaring type) uses a type declared in B.
/// <para>
/// From the metadata (System.Reflection.Metadata) it sees every type of the assembly named in: base types, interfaces,
/// generic constraints, the signatures of fields, methods, properties and events, custom attributes (their constructor's
/// type and the types named in their arguments, e.g. <c>typeof(X)</c>), and method bodies: every type, method and field
/// token of the IL (calls, <c>new</c>, casts, <c>typeof</c>, field access, generic instantiations such as
/// <c>AddSingleton&lt;IDeadLetterStore, SqlDeadLetterStore&gt;()</c>) and the locals' types. That is whatever the compiler
/// bound, however it was written: with a using, fully qualified, or partly qualified (<c>Hosting.BridgeTelemetry</c>).
/// </para>
/// <para>
/// From the sources (<c>*.cs</c> under the project directory) it adds what the compiler leaves out of the IL: each file's
/// <c>using Bridge.Host…;</c> directives (also <c>using static</c> and aliases; a directive counts even if unused), and the
/// constants of the assembly read by name (<c>InputQueues.ErrorQueueSuffix</c>, which compiles to the literal),
/// matched as <c>Type.Constant</c> (optionally qualified) where the file can see the type's namespace.
/// </para>
/// <para>
/// It misses: <c>nameof(…)</c> and <c>&lt;see cref="…"/&gt;</c> (names only, no use), a constant read by its bare name through
/// <c>using static</c>, and types of other assemblies (only this assembly's namespaces are nodes).
/// </para>
/// </summary>
internal sealed partial class NamespaceGraph
{
    private const int MaxEvidence = 3;

    private readonly Dictionary<string, Dictionary<string, List<string>>> edges;

    private NamespaceGraph(IEnumerable<string> nodes, Dictionary<string, Dictionary<string, List<string>>> edges)
    {
        Nodes = nodes.ToImmutableSortedSet(StringComparer.Ordinal);
        this.edges = edges;
    }

    public ImmutableSortedSet<string> Nodes { get; }

    /// <summary>Namespaces <paramref name="from"/> uses.</summary>
    public IEnumerable<string> Uses(string from) =>
        edges.TryGetValue(from, out var to) ? to.Keys.Order(StringComparer.Ordinal) : [];

    /// <summary>A few of the uses behind the edge <paramref name="from"/> → <paramref name="to"/>, e.g. <c>Admin.AdminApi → DeadLetters.DeadLetterAdminApi</c>.</summary>
    public IReadOnlyList<string> Evidence(string from, string to) =>
        edges.TryGetValue(from, out var all) && all.TryGetValue(to, out var evidence) ? evidence : [];

    /// <summary>
    /// The namespaces of <paramref name="assembly"/> whose name starts with <paramref name="prefix"/>, with their uses of each
    /// other; <paramref name="sourceDirectory"/> holds the assembly's sources.
    /// </summary>
    public static NamespaceGraph Read(Assembly assembly, string sourceDirectory, string prefix)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        bool Included(string ns) => ns == prefix || ns.StartsWith(prefix + ".", StringComparison.Ordinal);

        var builder = new Builder();
        using (var pe = new PEReader(File.OpenRead(assembly.Location)))
        {
            var reader = pe.GetMetadataReader();
            var scanner = new MetadataScanner(pe, reader);
            foreach (var handle in reader.TypeDefinitions)
            {
                var owner = Outermost(reader, handle);
                var from = reader.GetString(reader.GetTypeDefinition(owner).Namespace);
                if (!Included(from))
                {
                    continue;
                }

                builder.Node(from);
                foreach (var used in scanner.Uses(handle))
                {
                    var usedOwner = Outermost(reader, used);
                    var to = reader.GetString(reader.GetTypeDefinition(usedOwner).Namespace);
                    if (Included(to))
                    {
                        builder.Edge(from, to, $"{Name(reader, owner)} → {Name(reader, used)}");
                    }
                }
            }
        }

        ScanSources(assembly, sourceDirectory, builder, Included);
        return builder.Build();
    }

    /// <summary>
    /// This graph with every namespace replaced by <paramref name="node"/>'s answer (null: left out), e.g. each namespace by
    /// its top-level folder; edges inside one node disappear.
    /// </summary>
    public NamespaceGraph Collapse(Func<string, string?> node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var builder = new Builder();
        foreach (var ns in Nodes)
        {
            if (node(ns) is { } n)
            {
                builder.Node(n);
            }
        }

        foreach (var (from, targets) in edges)
        {
            foreach (var (to, evidence) in targets)
            {
                if (node(from) is { } f && node(to) is { } t)
                {
                    foreach (var item in evidence)
                    {
                        builder.Edge(f, t, item);
                    }
                }
            }
        }

        return builder.Build();
    }

    /// <summary>The strongly connected components of more than one node: every set of namespaces that use each other in a circle.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        // Tarjan's algorithm.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var components = new List<IReadOnlyList<string>>();
        var next = 0;

        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in Uses(v))
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                {
                    low[v] = Math.Min(low[v], index[w]);
                }
            }

            if (low[v] == index[v])
            {
                var component = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    onStack.Remove(w);
                    component.Add(w);
                }
                while (w != v);

                if (component.Count > 1)
                {
                    components.Add(component.Order(StringComparer.Ordinal).ToList());
                }
            }
        }

        foreach (var node in Nodes)
        {
            if (!index.ContainsKey(node))
            {
                Visit(node);
            }
        }

        return components.OrderBy(component => component[0], StringComparer.Ordinal).ToList();
    }

    /// <summary>A cycle with the uses behind each of its edges, for an assertion message.</summary>
    public string Describe(IReadOnlyList<string> cycle)
    {
        ArgumentNullException.ThrowIfNull(cycle);
        var text = new StringBuilder($"cycle among {string.Join(", ", cycle)}:");
        foreach (var from in cycle)
        {
            foreach (var to in Uses(from).Where(cycle.Contains))
            {
                text.Append(CultureInfo.InvariantCulture, $"\n  {from} → {to}: {string.Join("; ", Evidence(from, to))}");
            }
        }

        return text.ToString();
    }

    private static TypeDefinitionHandle Outermost(MetadataReader reader, TypeDefinitionHandle handle)
    {
        while (reader.GetTypeDefinition(handle).GetDeclaringType() is { IsNil: false } declaring)
        {
            handle = declaring;
        }

        return handle;
    }

    private static string Name(MetadataReader reader, TypeDefinitionHandle handle)
    {
        var type = reader.GetTypeDefinition(handle);
        var name = reader.GetString(type.Name);
        return type.GetDeclaringType() is { IsNil: false } declaring
            ? Name(reader, declaring) + "." + name
            : reader.GetString(type.Namespace) is { Length: > 0 } ns ? ns + "." + name : name;
    }

    private static void ScanSources(Assembly assembly, string sourceDirectory, Builder builder, Func<string, bool> included)
    {
        var namespaces = builder.Nodes.ToHashSet(StringComparer.Ordinal);

        // Constants compile to their value: Type.Constant in the source is the only trace of the use.
        var constants = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes().Where(type => type.Namespace is { } ns && included(ns)))
        {
            var outermost = type;
            while (outermost.DeclaringType is { } declaring)
            {
                outermost = declaring;
            }

            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly).Where(field => field.IsLiteral))
            {
                var key = StripArity(type.Name) + "." + field.Name;
                if (!constants.TryGetValue(key, out var owners))
                {
                    constants[key] = owners = [];
                }

                owners.Add(outermost.Namespace!);
            }
        }

        foreach (var file in Directory.EnumerateFiles(sourceDirectory, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            var text = File.ReadAllText(file);
            if (FileNamespace().Match(text) is not { Success: true } declared || !included(declared.Groups[1].Value))
            {
                continue;
            }

            var from = declared.Groups[1].Value;
            var relative = Path.GetRelativePath(sourceDirectory, file).Replace('\\', '/');
            var visible = new HashSet<string>(StringComparer.Ordinal) { from };
            for (var ns = from; ns.LastIndexOf('.') is var dot and > 0; ns = ns[..dot])
            {
                visible.Add(ns[..dot]);
            }

            foreach (Match directive in UsingDirective().Matches(text))
            {
                // using N; using static N.Type; using Alias = N.Type;: the longest prefix that is a namespace.
                var target = directive.Groups["name"].Value;
                while (!namespaces.Contains(target) && target.LastIndexOf('.') is var dot and > 0)
                {
                    target = target[..dot];
                }

                if (namespaces.Contains(target) && included(target))
                {
                    visible.Add(target);
                    if (target != from)
                    {
                        builder.Edge(from, target, $"{relative}: {directive.Value.Trim()}");
                    }
                }
            }

            var code = string.Join('\n', text.Split('\n').Where(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal)));
            foreach (Match chain in DottedName().Matches(code))
            {
                // Every Type.Constant pair of a dotted name; what precedes the pair qualifies it.
                var parts = chain.Value.Split('.');
                for (var i = 0; i + 1 < parts.Length; i++)
                {
                    if (!constants.TryGetValue(parts[i] + "." + parts[i + 1], out var owners))
                    {
                        continue;
                    }

                    var qualifier = i == 0 ? null : string.Join('.', parts[..i]);
                    foreach (var owner in owners.Distinct())
                    {
                        var seen = qualifier is null
                            ? visible.Contains(owner)
                            : owner == qualifier || owner.EndsWith("." + qualifier, StringComparison.Ordinal);
                        if (seen && owner != from)
                        {
                            builder.Edge(from, owner, $"{relative}: {chain.Value} (a constant)");
                        }
                    }
                }
            }
        }
    }

    private static string StripArity(string name) => name.IndexOf('`', StringComparison.Ordinal) is var tick and >= 0 ? name[..tick] : name;

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)\s*[;{]", RegexOptions.Multiline)]
    private static partial Regex FileNamespace();

    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?(?<name>[\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")]
    private static partial Regex DottedName();

    private sealed class Builder
    {
        private readonly HashSet<string> nodes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Dictionary<string, List<string>>> edges = new(StringComparer.Ordinal);

        public IEnumerable<string> Nodes => nodes;

        public void Node(string name) => nodes.Add(name);

        public void Edge(string from, string to, string evidence)
        {
            if (from == to)
            {
                return;
            }

            nodes.Add(from);
            nodes.Add(to);
            if (!edges.TryGetValue(from, out var targets))
            {
                edges[from] = targets = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            }

            if (!targets.TryGetValue(to, out var list))
            {
                targets[to] = list = [];
            }

            if (list.Count < MaxEvidence && !list.Contains(evidence))
            {
                list.Add(evidence);
            }
        }

        public NamespaceGraph Build() => new(nodes, edges);
    }

    /// <summary>Every type definition of the assembly one type definition uses, read from its metadata and IL.</summary>
    private sealed class MetadataScanner : ISignatureTypeProvider<int, object?>
    {
        private static readonly OpCode[] OneByte = new OpCode[0x100];
        private static readonly OpCode[] TwoByte = new OpCode[0x100];

        private readonly PEReader pe;
        private readonly MetadataReader reader;
        private readonly Dictionary<string, TypeDefinitionHandle> byFullName;
        private HashSet<TypeDefinitionHandle> sink = [];

        public MetadataScanner(PEReader pe, MetadataReader reader)
        {
            this.pe = pe;
            this.reader = reader;
            byFullName = IndexByFullName(reader);
        }

        static MetadataScanner()
        {
            foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                var code = (OpCode)field.GetValue(null)!;
                var value = (ushort)code.Value;
                if (value < 0x100)
                {
                    OneByte[value] = code;
                }
                else if ((value & 0xff00) == 0xfe00)
                {
                    TwoByte[value & 0xff] = code;
                }
            }
        }

        public HashSet<TypeDefinitionHandle> Uses(TypeDefinitionHandle handle)
        {
            sink = [];
            var type = reader.GetTypeDefinition(handle);
            Entity(type.BaseType);
            foreach (var implementation in type.GetInterfaceImplementations())
            {
                Entity(reader.GetInterfaceImplementation(implementation).Interface);
            }

            GenericParameters(type.GetGenericParameters());
            Attributes(type.GetCustomAttributes());
            foreach (var fieldHandle in type.GetFields())
            {
                var field = reader.GetFieldDefinition(fieldHandle);
                field.DecodeSignature(this, null);
                Attributes(field.GetCustomAttributes());
            }

            foreach (var propertyHandle in type.GetProperties())
            {
                var property = reader.GetPropertyDefinition(propertyHandle);
                property.DecodeSignature(this, null);
                Attributes(property.GetCustomAttributes());
            }

            foreach (var eventHandle in type.GetEvents())
            {
                var @event = reader.GetEventDefinition(eventHandle);
                Entity(@event.Type);
                Attributes(@event.GetCustomAttributes());
            }

            foreach (var methodHandle in type.GetMethods())
            {
                var method = reader.GetMethodDefinition(methodHandle);
                method.DecodeSignature(this, null);
                GenericParameters(method.GetGenericParameters());
                Attributes(method.GetCustomAttributes());
                foreach (var parameter in method.GetParameters())
                {
                    Attributes(reader.GetParameter(parameter).GetCustomAttributes());
                }

                if (method.RelativeVirtualAddress != 0)
                {
                    Body(pe.GetMethodBody(method.RelativeVirtualAddress));
                }
            }

            return sink;
        }

        private void GenericParameters(GenericParameterHandleCollection parameters)
        {
            foreach (var parameter in parameters)
            {
                foreach (var constraint in reader.GetGenericParameter(parameter).GetConstraints())
                {
                    Entity(reader.GetGenericParameterConstraint(constraint).Type);
                }
            }
        }

        private void Attributes(CustomAttributeHandleCollection attributes)
        {
            foreach (var handle in attributes)
            {
                var attribute = reader.GetCustomAttribute(handle);
                Entity(attribute.Constructor);

                // typeof(X) in an attribute's arguments is stored as X's assembly-qualified name.
                var blob = Encoding.UTF8.GetString(reader.GetBlobBytes(attribute.Value));
                foreach (Match name in SerializedTypeName().Matches(blob))
                {
                    if (byFullName.TryGetValue(name.Value, out var type))
                    {
                        sink.Add(type);
                    }
                }
            }
        }

        private void Body(MethodBodyBlock body)
        {
            if (!body.LocalSignature.IsNil)
            {
                reader.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(this, null);
            }

            var il = body.GetILReader();
            while (il.RemainingBytes > 0)
            {
                var first = il.ReadByte();
                var code = first == 0xfe ? TwoByte[il.ReadByte()] : OneByte[first];
                switch (code.OperandType)
                {
                    case OperandType.InlineNone:
                        break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                        il.Offset += 1;
                        break;
                    case OperandType.InlineVar:
                        il.Offset += 2;
                        break;
                    case OperandType.InlineI8 or OperandType.InlineR:
                        il.Offset += 8;
                        break;
                    case OperandType.InlineSwitch:
                        // The count first, then the targets: `il.Offset += 4 * il.ReadInt32()` reads Offset before the count moves
                        // it and lands four bytes short, misreading what follows every switch (until one landed on a bad token).
                        var targets = il.ReadInt32();
                        il.Offset += 4 * targets;
                        break;
                    case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType or OperandType.InlineSig:
                        Entity(MetadataTokens.EntityHandle(il.ReadInt32()));
                        break;
                    default:
                        // InlineBrTarget, InlineI, ShortInlineR, InlineString.
                        il.Offset += 4;
                        break;
                }
            }
        }

        private void Entity(EntityHandle handle)
        {
            if (handle.IsNil)
            {
                return;
            }

            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    sink.Add((TypeDefinitionHandle)handle);
                    break;
                case HandleKind.TypeSpecification:
                    reader.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null);
                    break;
                case HandleKind.MethodDefinition:
                    sink.Add(reader.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.FieldDefinition:
                    sink.Add(reader.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.MemberReference:
                    var member = reader.GetMemberReference((MemberReferenceHandle)handle);
                    Entity(member.Parent);
                    if (member.GetKind() == MemberReferenceKind.Method)
                    {
                        member.DecodeMethodSignature(this, null);
                    }
                    else
                    {
                        member.DecodeFieldSignature(this, null);
                    }

                    break;
                case HandleKind.MethodSpecification:
                    var specification = reader.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Entity(specification.Method);
                    specification.DecodeSignature(this, null);
                    break;
                case HandleKind.StandaloneSignature:
                    var signature = reader.GetStandaloneSignature((StandaloneSignatureHandle)handle);
                    if (signature.GetKind() == StandaloneSignatureKind.Method)
                    {
                        signature.DecodeMethodSignature(this, null);
                    }

                    break;
                default:
                    // TypeReference (another assembly's type), ModuleReference.
                    break;
            }
        }

        private static Dictionary<string, TypeDefinitionHandle> IndexByFullName(MetadataReader reader)
        {
            var index = new Dictionary<string, TypeDefinitionHandle>(StringComparer.Ordinal);
            foreach (var handle in reader.TypeDefinitions)
            {
                index[SerializedName(reader, handle)] = handle;
            }

            return index;
        }

        private static string SerializedName(MetadataReader reader, TypeDefinitionHandle handle)
        {
            var type = reader.GetTypeDefinition(handle);
            var name = reader.GetString(type.Name);
            return type.GetDeclaringType() is { IsNil: false } declaring
                ? SerializedName(reader, declaring) + "+" + name
                : reader.GetString(type.Namespace) is { Length: > 0 } ns ? ns + "." + name : name;
        }

        public int GetTypeFromDefinition(MetadataReader metadata, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            sink.Add(handle);
            return 0;
        }

        public int GetTypeFromReference(MetadataReader metadata, TypeReferenceHandle handle, byte rawTypeKind) => 0;

        public int GetTypeFromSpecification(MetadataReader metadata, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            metadata.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public int GetPrimitiveType(PrimitiveTypeCode typeCode) => 0;

        public int GetSZArrayType(int elementType) => 0;

        public int GetArrayType(int elementType, ArrayShape shape) => 0;

        public int GetByReferenceType(int elementType) => 0;

        public int GetPointerType(int elementType) => 0;

        public int GetPinnedType(int elementType) => 0;

        public int GetGenericInstantiation(int genericType, ImmutableArray<int> typeArguments) => 0;

        public int GetGenericMethodParameter(object? genericContext, int index) => 0;

        public int GetGenericTypeParameter(object? genericContext, int index) => 0;

        public int GetFunctionPointerType(MethodSignature<int> signature) => 0;

        public int GetModifiedType(int modifier, int unmodifiedType, bool isRequired) => 0;
    }

    [GeneratedRegex(@"[A-Za-z_][\w.+`]*")]
    private static partial Regex SerializedTypeName();
}
