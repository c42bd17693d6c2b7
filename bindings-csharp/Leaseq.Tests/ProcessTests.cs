using System;
using System.Diagnostics;
using System.IO;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>A worker in a process of its own: how that process ends.</summary>
    [TestFixture]
    public class ProcessTests : QueueTest
    {
        static string childExe;

        /// <summary>programs/WorkerChild.cs, compiled once beside Leaseq.dll.</summary>
        static string ChildExe()
        {
            if (childExe != null)
            {
                return childExe;
            }
            var outDir = Path.GetDirectoryName(typeof(ProcessTests).Assembly.Location);
            var exe = Path.Combine(outDir, "WorkerChild.exe");
            var source = Path.Combine(Env.CsharpDir, "Leaseq.Tests", "programs", "WorkerChild.cs");
            var mcs = Run("mcs", "-langversion:7.2 -nologo -r:\"" + Path.Combine(outDir, "Leaseq.dll") + "\" -r:Mono.Posix -out:\"" + exe + "\" \"" + source + "\"");
            mcs.WaitForExit();
            Assert.AreEqual(0, mcs.ExitCode, "mcs: " + mcs.StandardOutput.ReadToEnd() + mcs.StandardError.ReadToEnd());
            return childExe = exe;
        }

        static Process Run(string file, string arguments)
        {
            var start = new ProcessStartInfo(file, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetDirectoryName(typeof(ProcessTests).Assembly.Location),
            };
            return Process.Start(start);
        }

        /// <summary>Starts the child on this test's queue with one item, and waits until its handler runs.</summary>
        Process StartChild(string mode)
        {
            Queue.AddItem(new Item(Bytes("x"), "in-flight"));
            var child = Run("mono", ChildExe() + " " + Env.RedisUrl + " " + Prefix + " " + mode);
            var line = child.StandardOutput.ReadLine();
            if (line != "in flight")
            {
                child.Kill();
                Assert.Fail("the child said " + (line ?? "nothing") + ": " + child.StandardError.ReadToEnd());
            }
            Assert.AreEqual(1, Queue.Processing());
            return child;
        }

        void AssertEndsAndReleases(Process child, Stopwatch clock)
        {
            if (!child.WaitForExit(15000))
            {
                child.Kill();
                Assert.Fail("the child did not exit within 15 s");
            }
            Assert.AreEqual(0, child.ExitCode, child.StandardError.ReadToEnd());
            Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(10));
            Assert.AreEqual(1, Queue.QueueLength(), "the item in flight went back to the queue at once");
            Assert.AreEqual(0, Queue.Processing());
        }

        [Test]
        public void AProcessExitsCleanlyWithAWorkerStillRunning()
        {
            var child = StartChild("exit");
            AssertEndsAndReleases(child, Stopwatch.StartNew());
        }

        [Test]
        public void SigtermWiredToStopShutsDownGracefully()
        {
            var child = StartChild("sigterm");
            var clock = Stopwatch.StartNew();
            Run("kill", "-TERM " + child.Id).WaitForExit();
            AssertEndsAndReleases(child, clock);
            Assert.AreEqual("stopped", child.StandardOutput.ReadLine());
        }
    }
}
