#if !NETSTANDARD2_0
using System.Runtime.CompilerServices;

// What the netstandard2.0 build defines itself, because .NET Standard has none, the net8.0 and net10.0 builds forward to the
// platform's. A .NET Standard library compiled against the netstandard2.0 build refers to these types as Bridge.Contracts's;
// when it runs on .NET 8 or later it gets this build, and without the forwards it would fail with MissingMethodException:
// - DateOnly, the type of every date property;
// - IsExternalInit (PolySharp's there), which is part of the signature of every init accessor.
[assembly: TypeForwardedTo(typeof(DateOnly))]
[assembly: TypeForwardedTo(typeof(IsExternalInit))]
#endif
