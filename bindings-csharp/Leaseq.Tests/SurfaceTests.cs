using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>The generated and hand-kept surfaces agree with what they describe.</summary>
    [TestFixture]
    public class SurfaceTests
    {
        [Test]
        public void EveryExportedSymbolIsInTheGeneratedBindings()
        {
            var exported = ExportedSymbols();
            Assert.Greater(exported.Count, 20, "nm found the exports");
            var generated = File.ReadAllText(Path.Combine(Env.CsharpDir, "Leaseq", "NativeMethods.g.cs"));
            var declared = new HashSet<string>(
                Regex.Matches(generated, "EntryPoint = \"(leaseq_[a-z_]+)\"").Cast<Match>().Select(m => m.Groups[1].Value));
            var compiled = new HashSet<string>(
                typeof(Native.NativeMethods)
                    .GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
                    .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
                    .Select(m => m.Name));
            foreach (var symbol in exported)
            {
                Assert.IsTrue(declared.Contains(symbol), symbol + " is exported but csbindgen did not generate it");
                Assert.IsTrue(compiled.Contains(symbol), symbol + " is not in the compiled NativeMethods");
            }
            foreach (var entryPoint in declared)
            {
                Assert.IsTrue(exported.Contains(entryPoint), entryPoint + " is declared but not exported");
            }
        }

        [Test]
        public void EveryNativeStructIsBlittable()
        {
            // .NET Core refuses a pointer to a struct that is not (a bool field, say), where Mono lets it
            // pass; pinning refuses such a struct on Mono too, so this test catches it here.
            var structs = typeof(Native.NativeMethods).Assembly.GetTypes()
                .Where(type => type.Namespace == "Leaseq.Native" && type.IsValueType && !type.IsEnum)
                .ToList();
            Assert.Greater(structs.Count, 10);
            foreach (var type in structs)
            {
                var pinned = System.Runtime.InteropServices.GCHandle.Alloc(Activator.CreateInstance(type), System.Runtime.InteropServices.GCHandleType.Pinned);
                pinned.Free();
                Assert.IsFalse(type.GetFields().Any(field => field.FieldType == typeof(bool)), type.Name + " has a bool field");
            }
        }

        static HashSet<string> ExportedSymbols()
        {
            var nm = new ProcessStartInfo("nm", "-D --defined-only \"" + Env.NativeLibrary + "\"")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using (var process = Process.Start(nm))
            {
                var output = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                Assert.AreEqual(0, process.ExitCode, "nm failed");
                return new HashSet<string>(
                    output.Split('\n')
                        .Select(line => line.Trim().Split(' ').Last())
                        .Where(name => name.StartsWith("leaseq_", StringComparison.Ordinal)));
            }
        }

        [Test]
        public void TheCsprojCompilesEverySourceFile()
        {
            var csproj = XDocument.Load(Path.Combine(Env.CsharpDir, "Leaseq", "Leaseq.csproj"));
            var project = csproj.Root;
            Assert.AreEqual("Microsoft.NET.Sdk", (string)project.Attribute("Sdk"));
            var properties = project.Elements("PropertyGroup").Elements().ToDictionary(e => e.Name.LocalName, e => e.Value);
            Assert.AreEqual("netstandard2.0", properties["TargetFramework"]);
            Assert.AreEqual("7.2", properties["LangVersion"], "the language mcs compiles here");
            Assert.AreEqual("true", properties["AllowUnsafeBlocks"]);
            // The SDK's default glob (**/*.cs) is what keeps the csproj in step with the sources:
            // nothing may switch it off or take files out of it (test.sh compiles the same glob with mcs).
            Assert.IsFalse(properties.ContainsKey("EnableDefaultCompileItems"), "the default glob must stay on");
            Assert.IsFalse(project.Descendants("Compile").Any(e => e.Attribute("Remove") != null), "no source is removed");
            var sources = Directory.GetFiles(Path.Combine(Env.CsharpDir, "Leaseq"), "*.cs", SearchOption.AllDirectories)
                .Where(path => !path.Contains("/bin/") && !path.Contains("/obj/"))
                .ToList();
            Assert.Contains(Path.Combine(Env.CsharpDir, "Leaseq", "NativeMethods.g.cs"), sources);
        }

        [Test]
        public void EveryPackageHasTheWorkspaceVersion()
        {
            var cargo = File.ReadAllText(Path.Combine(Env.CsharpDir, "..", "Cargo.toml"));
            var version = Regex.Match(cargo, @"\[workspace\.package\][^\[]*?version\s*=\s*""([^""]+)""").Groups[1].Value;
            Assert.IsNotEmpty(version);
            var nuspec = XDocument.Load(Path.Combine(Env.CsharpDir, "Leaseq.nuspec"));
            Assert.AreEqual(version, nuspec.Descendants().First(e => e.Name.LocalName == "version").Value, "Leaseq.nuspec");
            var csproj = XDocument.Load(Path.Combine(Env.CsharpDir, "Leaseq", "Leaseq.csproj"));
            Assert.AreEqual(version, csproj.Descendants("Version").First().Value, "Leaseq.csproj");
            var assembly = typeof(WorkQueue).Assembly;
            var informational = (AssemblyInformationalVersionAttribute)Attribute.GetCustomAttribute(
                assembly, typeof(AssemblyInformationalVersionAttribute));
            Assert.AreEqual(version, informational.InformationalVersion, "AssemblyInfo.cs");
            Assert.AreEqual(new Version(version + ".0"), assembly.GetName().Version);
        }

        [Test]
        public void OperationsComeInTheCoreOrderWithAnAsyncTwin()
        {
            // The core's operations, in its order: the blocking WorkQueue's methods (one per operation).
            var core = File.ReadAllText(Path.Combine(Env.CsharpDir, "..", "core", "src", "blocking.rs"));
            var queueImpl = core.Substring(core.IndexOf("impl WorkQueue {", StringComparison.Ordinal));
            var order = Regex.Matches(queueImpl, @"pub fn ([a-z_]+)\(").Cast<Match>()
                .Select(m => m.Groups[1].Value)
                .Where(name => name != "new" && name != "with_options" && name != "as_async")
                .Select(PascalCase)
                .ToList();
            Assert.Greater(order.Count, 20, "read the core's operations");
            CollectionAssert.IsSubsetOf(new[] { "AddItemWith", "Fail", "DeadItems", "IsPaused", "QueueLength", "DeadLength" }, order);
            var methods = typeof(WorkQueue).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);
            foreach (var name in order)
            {
                Assert.AreEqual(1, methods.Count(m => m.Name == name), name);
                var twin = methods.Single(m => m.Name == name + "Async");
                Assert.AreEqual("CancellationToken", twin.GetParameters().Last().ParameterType.Name, twin.Name);
                Assert.IsTrue(twin.GetParameters().Last().IsOptional, twin.Name);
                Assert.IsTrue(typeof(System.Threading.Tasks.Task).IsAssignableFrom(twin.ReturnType), twin.Name);
                CollectionAssert.AreEqual(
                    methods.Single(m => m.Name == name).GetParameters().Select(p => p.ParameterType),
                    twin.GetParameters().Take(twin.GetParameters().Length - 1).Select(p => p.ParameterType),
                    twin.Name + " takes what " + name + " takes");
            }
            var source = File.ReadAllText(Path.Combine(Env.CsharpDir, "Leaseq", "WorkQueue.cs"));
            var positions = order.Select(name => source.IndexOf(" " + name + "(", StringComparison.Ordinal)).ToList();
            CollectionAssert.DoesNotContain(positions, -1);
            CollectionAssert.IsOrdered(positions, "WorkQueue.cs lists the operations in the core's order");
        }

        /// <summary>The core's snake_case name in .NET's PascalCase (<c>queue_len</c> is <c>QueueLength</c>).</summary>
        static string PascalCase(string snake)
        {
            return string.Concat(snake.Split('_').Select(word => word == "len" ? "Length" : char.ToUpperInvariant(word[0]) + word.Substring(1)));
        }

        [Test]
        public void TheWorkerHasTheCoreSurface()
        {
            var worker = typeof(Worker);
            Assert.IsNotNull(worker.GetConstructor(new[] { typeof(WorkQueue), typeof(Func<Item, System.Threading.CancellationToken, System.Threading.Tasks.Task>), typeof(WorkerOptions) }));
            // Routing by item type (the core's Router): a handler per type name, and the type the core reads.
            Assert.IsNotNull(worker.GetConstructor(new[] { typeof(WorkQueue), typeof(IDictionary<string, Func<Item, System.Threading.CancellationToken, System.Threading.Tasks.Task>>), typeof(WorkerOptions) }));
            Assert.AreEqual(typeof(string), typeof(Item).GetProperty("TypeName").PropertyType);
            Assert.IsNotNull(worker.GetMethod("RunAsync", new[] { typeof(System.Threading.CancellationToken) }));
            Assert.IsNotNull(worker.GetMethod("Stop", Type.EmptyTypes));
            Assert.AreEqual(typeof(WorkerCounters), worker.GetProperty("Counters").PropertyType);
            Assert.IsTrue(typeof(IDisposable).IsAssignableFrom(worker));
            var counters = typeof(WorkerCounters).GetProperties().Select(p => p.Name).OrderBy(n => n).ToList();
            CollectionAssert.AreEqual(new[] { "Completed", "Failed", "InFlight", "Leased", "Renewed", "Retried" }, counters);
            CollectionAssert.AreEqual(new[] { "Completed", "Failed", "Released", "LeaseLost" }, Enum.GetNames(typeof(JobOutcomeKind)));
            CollectionAssert.AreEqual(new[] { "Retry", "Dead", "Gone" }, Enum.GetNames(typeof(FailOutcomeKind)));
        }
    }
}
