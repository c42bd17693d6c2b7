using System.Reflection;
using System.Runtime.CompilerServices;

// One version for every leaseq package: the workspace Cargo.toml's. Leaseq.Tests checks they agree.
[assembly: AssemblyTitle("Leaseq")]
[assembly: AssemblyDescription("A Redis-backed work queue with leases (.NET binding of the leaseq Rust core)")]
[assembly: AssemblyVersion("0.1.0.0")]
[assembly: AssemblyFileVersion("0.1.0.0")]
[assembly: AssemblyInformationalVersion("0.1.0")]
[assembly: InternalsVisibleTo("Leaseq.Tests")]
