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
            var order = new[]
            {
                "AddItem", "AddUniqueItem", "AddItems", "Lease", "Renew", "Complete",
                "LightClean", "DeepClean", "QueueLength", "Processing",
            };
            var methods = typeof(WorkQueue).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);
            foreach (var name in order)
            {
                Assert.AreEqual(1, methods.Count(m => m.Name == name), name);
                var twin = methods.Single(m => m.Name == name + "Async");
                Assert.AreEqual("CancellationToken", twin.GetParameters().Last().ParameterType.Name, twin.Name);
                Assert.IsTrue(typeof(System.Threading.Tasks.Task).IsAssignableFrom(twin.ReturnType), twin.Name);
            }
            var source = File.ReadAllText(Path.Combine(Env.CsharpDir, "Leaseq", "WorkQueue.cs"));
            var positions = order.Select(name => source.IndexOf(" " + name + "(", StringComparison.Ordinal)).ToList();
            CollectionAssert.IsOrdered(positions, "WorkQueue.cs lists the operations in the core's order");
        }
    }
}
