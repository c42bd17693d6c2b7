using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>Native and managed memory over many calls, and handles released by the finalizer.</summary>
    [TestFixture]
    public class ResourceTests : QueueTest
    {
        const int Calls = 100000;
        const int WarmUp = 10000;
        // Generous bounds: a leak of one item, error or handle per call would be several MB here.
        const long MaxNativeGrowthKb = 4096;
        const long MaxManagedGrowthBytes = 1024 * 1024;

        [Test]
        public void SyncLeaseAndCompleteDoNotGrowMemory()
        {
            Measure("sync", () =>
            {
                var item = Queue.Lease(LeaseTime, false);
                Assert.IsTrue(Queue.Complete(item));
            });
        }

        [Test]
        public void AsyncLeaseAndCompleteDoNotGrowMemory()
        {
            Measure("async", () =>
            {
                var item = Queue.LeaseAsync(LeaseTime, false).GetAwaiter().GetResult();
                Assert.IsTrue(Queue.CompleteAsync(item).GetAwaiter().GetResult());
            });
        }

        [Test]
        public void ErrorsDoNotGrowMemory()
        {
            // Errors allocate a native message each: they must be freed too.
            var empty = new Item(new byte[0], "");
            Action fail = () =>
            {
                try
                {
                    Queue.Complete(empty);
                    Assert.Fail("expected an argument error");
                }
                catch (LeaseqArgumentException)
                {
                }
                Wait.Throws<LeaseqArgumentException>(Queue.CompleteAsync(empty));
            };
            for (int i = 0; i < 2000; i++)
            {
                fail();
            }
            long rssBefore = RssKb();
            for (int i = 0; i < 20000; i++)
            {
                fail();
            }
            long growth = RssKb() - rssBefore;
            Console.WriteLine("memory (errors, 20,000 sync + async failures): native RSS {0:+#;-#;+0} KB", growth);
            Assert.Less(growth, MaxNativeGrowthKb);
        }

        [Test]
        public void WorkerJobsDoNotGrowMemory()
        {
            // Each job is a native oneshot and job number, a CancellationTokenSource, a continuation and
            // an event through the dispatcher: all must be gone once the job is.
            const int Jobs = 40000;
            const int WarmUpJobs = 10000;
            for (int batch = 0; batch < Jobs / 5000; batch++)
            {
                Queue.AddItems(Enumerable.Range(0, 5000).Select(i => new Item(new byte[64])));
            }
            var options = new WorkerOptions { Concurrency = 8, CleanEvery = null };
            using (var worker = new Worker(Queue, (item, token) => Task.FromResult(0), options))
            {
                var run = worker.RunAsync();
                Wait.Until(() => worker.Counters.Completed >= WarmUpJobs, 120000);
                long rssBefore = RssKb();
                long managedBefore = GC.GetTotalMemory(true);
                var clock = Stopwatch.StartNew();
                long startCount = worker.Counters.Completed;
                Wait.Until(() => worker.Counters.Completed == Jobs, 240000);
                clock.Stop();
                worker.Stop();
                Wait.For(run);
                long growth = RssKb() - rssBefore;
                long managedGrowth = GC.GetTotalMemory(true) - managedBefore;
                Console.WriteLine(
                    "memory (worker, {0:N0} jobs after {1:N0} warm-up, concurrency 8, {2:N0} jobs/s): native RSS {3:+#;-#;+0} KB, managed {4:+#;-#;+0} B",
                    Jobs - startCount, startCount, (Jobs - startCount) / clock.Elapsed.TotalSeconds, growth, managedGrowth);
                Assert.AreEqual(Jobs, worker.Counters.Completed);
                Assert.Less(growth, MaxNativeGrowthKb, "native memory grew");
                Assert.Less(managedGrowth, MaxManagedGrowthBytes, "managed memory grew");
            }
            Assert.AreEqual(0, Queue.QueueLength() + Queue.Processing());
            Wait.Until(() => Leaseq.Calls.PendingCount == 0);
        }

        void Measure(string label, Action leaseAndComplete)
        {
            for (int batch = 0; batch < Calls / 5000; batch++)
            {
                Queue.AddItems(Enumerable.Range(0, 5000).Select(i => new Item(new byte[64])));
            }
            for (int i = 0; i < WarmUp; i++)
            {
                leaseAndComplete();
            }
            // RSS every 10,000 calls: a leak shows as a steady climb, noise as a wobble.
            var rss = new List<long> { RssKb() };
            long managedBefore = GC.GetTotalMemory(true);
            var clock = Stopwatch.StartNew();
            for (int i = WarmUp; i < Calls; i++)
            {
                leaseAndComplete();
                if ((i + 1) % 10000 == 0)
                {
                    rss.Add(RssKb());
                }
            }
            clock.Stop();
            long managedAfter = GC.GetTotalMemory(true);
            long growth = rss.Last() - rss.First();
            long secondHalf = rss.Last() - rss[rss.Count / 2];
            Console.WriteLine(
                "memory ({0}, {1:N0} lease+complete after {2:N0} warm-up, {3:N0}/s): native RSS {4:+#;-#;+0} KB " +
                "(last half {5:+#;-#;+0} KB; every 10,000 calls: {6} KB), managed {7:N0} -> {8:N0} B ({9:+#;-#;+0} B)",
                label, Calls - WarmUp, WarmUp, (Calls - WarmUp) / clock.Elapsed.TotalSeconds, growth, secondHalf,
                string.Join(" ", rss.Select(kb => kb.ToString("N0"))), managedBefore, managedAfter, managedAfter - managedBefore);
            Assert.AreEqual(0, Queue.QueueLength());
            Assert.AreEqual(0, Queue.Processing());
            Assert.Less(growth, MaxNativeGrowthKb, "native memory grew");
            Assert.Less(secondHalf, MaxNativeGrowthKb / 2, "native memory kept growing");
            Assert.Less(managedAfter - managedBefore, MaxManagedGrowthBytes, "managed memory grew");
        }

        static long RssKb()
        {
            foreach (var line in File.ReadAllLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Substring(6).Trim().Split(' ')[0]);
                }
            }
            throw new InvalidOperationException("no VmRSS in /proc/self/status");
        }

        [Test]
        public void FinalizersReleaseForgottenHandles()
        {
            var forgotten = Forget(Prefix, 50);
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Assert.IsTrue(forgotten.All(reference => !reference.IsAlive), "every forgotten handle was finalized");
            // The finalizer thread freed native handles while the process went on: it still works.
            using (var connection = Connection.Open(Env.RedisUrl))
            using (var queue = new WorkQueue(connection, Prefix))
            {
                Assert.AreEqual(50 * 2, queue.QueueLength());
            }
        }

        [Test]
        public void AQueueOutlivesItsFinalizedConnection()
        {
            var queue = QueueWithForgottenConnection(Prefix);
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            // The native queue holds the connection too: freeing the .NET connection handle does not close it.
            Assert.IsTrue(queue.AddItem(new Item(new byte[] { 1 })));
            Assert.AreEqual(1, queue.QueueLength());
            queue.Dispose();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static WeakReference[] Forget(string prefix, int count)
        {
            var references = new WeakReference[count * 2];
            for (int i = 0; i < count; i++)
            {
                var connection = i % 2 == 0 ? Connection.Open(Env.RedisUrl) : Wait.For(Connection.OpenAsync(Env.RedisUrl));
                var queue = new WorkQueue(connection, prefix);
                queue.AddItem(new Item(new byte[] { 1 }));
                Wait.For(queue.AddItemAsync(new Item(new byte[] { 2 })));
                references[2 * i] = new WeakReference(connection.Handle);
                references[2 * i + 1] = new WeakReference(queue.Handle);
            }
            return references;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static WorkQueue QueueWithForgottenConnection(string prefix)
        {
            return new WorkQueue(Connection.Open(Env.RedisUrl), prefix + ":outlives");
        }
    }
}
