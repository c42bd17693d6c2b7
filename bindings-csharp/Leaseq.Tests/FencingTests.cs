using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>
    /// Fencing tokens (<see cref="Item.Fence"/>, <see cref="QueueOptions.Fencing"/>) and the queue options that came
    /// with them (issues 13 and 16), synchronously and asynchronously: what the binding converts. What fencing does
    /// is the core's (and the conformance cases').
    /// </summary>
    [TestFixture]
    public class FencingTests : QueueTest
    {
        WorkQueue With(QueueOptions options)
        {
            return new WorkQueue(Connection, Prefix, options);
        }

        Item LeaseOne(WorkQueue queue, TimeSpan lease)
        {
            var item = queue.Lease(lease, false);
            Assert.IsNotNull(item, "an item was there to lease");
            return item;
        }

        [Test]
        public void TheNewOptionsStartAtTheCoreDefaultsAndRoundTrip()
        {
            var defaults = new QueueOptions();
            Assert.AreEqual(TimeSpan.FromSeconds(1), defaults.CleanGrace);
            Assert.AreEqual(0, defaults.WaitReplicas);
            Assert.AreEqual(TimeSpan.FromSeconds(1), defaults.WaitTimeout);
            Assert.IsFalse(defaults.Fencing);

            var options = new QueueOptions
            {
                CleanGrace = TimeSpan.FromMilliseconds(2500),
                WaitReplicas = 2,
                WaitTimeout = TimeSpan.FromMilliseconds(250),
                Fencing = true,
            };
            using (var queue = With(options))
            {
                options.Fencing = false;
                var kept = queue.Options;
                Assert.AreEqual(TimeSpan.FromMilliseconds(2500), kept.CleanGrace);
                Assert.AreEqual(2, kept.WaitReplicas);
                Assert.AreEqual(TimeSpan.FromMilliseconds(250), kept.WaitTimeout);
                Assert.IsTrue(kept.Fencing, "the queue kept its own copy");
            }
            using (With(new QueueOptions { CleanGrace = TimeSpan.Zero, WaitTimeout = TimeSpan.Zero }))
            {
            }
        }

        [Test]
        public void TheNewOptionsAreChecked()
        {
            var bad = new[]
            {
                Tuple.Create(new QueueOptions { CleanGrace = TimeSpan.FromSeconds(-1) }, "clean_grace"),
                Tuple.Create(new QueueOptions { CleanGrace = TimeSpan.FromDays(366) }, "clean_grace"),
                Tuple.Create(new QueueOptions { WaitReplicas = -1 }, "wait_replicas"),
                Tuple.Create(new QueueOptions { WaitTimeout = TimeSpan.FromSeconds(-0.5) }, "wait_timeout"),
                Tuple.Create(new QueueOptions { WaitReplicas = 1, WaitTimeout = TimeSpan.Zero }, "wait_timeout"),
            };
            foreach (var entry in bad)
            {
                var err = Assert.Throws<LeaseqArgumentException>(() => With(entry.Item1));
                StringAssert.Contains(entry.Item2, err.Message);
            }
        }

        [Test]
        public void WaitReplicasWithoutReplicasWritesThenTimesOut()
        {
            using (var queue = With(new QueueOptions { WaitReplicas = 1, WaitTimeout = TimeSpan.FromMilliseconds(100) }))
            {
                var clock = Stopwatch.StartNew();
                var err = Assert.Throws<LeaseqTimeoutException>(() => queue.AddItem(new Item(Bytes("x"), "a")));
                StringAssert.Contains("replicas", err.Message);
                Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(2));
                Wait.Throws<LeaseqTimeoutException>(queue.AddItemAsync(new Item(Bytes("y"), "b")));
                Assert.AreEqual(2, queue.QueueLength(), "written on the master");
            }
        }

        [Test]
        public void LeasedItemsCarryGrowingFences()
        {
            Assert.AreEqual(0, new Item(Bytes("x")).Fence, "an item that was not leased");
            Queue.AddItems(new[] { new Item(Bytes("1"), "a"), new Item(Bytes("2"), "b") });
            var first = LeaseOne(Queue, LeaseTime);
            var second = Wait.For(Queue.LeaseAsync(LeaseTime, false));
            Assert.Greater(first.Fence, 0);
            Assert.Greater(second.Fence, first.Fence, "a later delivery of another item");
            Queue.Fail(first, "boom", TimeSpan.Zero);
            var retried = Wait.For(Queue.LeaseAsync(LeaseTime, false));
            Assert.AreEqual("a", retried.Id);
            Assert.Greater(retried.Fence, second.Fence, "a later delivery of the same item");
        }

        /// <summary>Item "a" leased, its lease expired and reclaimed, and leased again: both deliveries.</summary>
        Tuple<Item, Item> Superseded(WorkQueue queue)
        {
            queue.AddItem(new Item(Bytes("x"), "a"));
            var first = LeaseOne(queue, TimeSpan.FromMilliseconds(50));
            Thread.Sleep(100);
            Assert.AreEqual(1, queue.LightClean().Requeued);
            var second = LeaseOne(queue, LeaseTime);
            Assert.AreEqual("a", second.Id);
            Assert.Greater(second.Fence, first.Fence);
            return Tuple.Create(first, second);
        }

        [Test]
        public void WithFencingASupersededDeliveryIsLeaseLostAndChangesNothing()
        {
            using (var queue = With(new QueueOptions { Fencing = true }))
            {
                var deliveries = Superseded(queue);
                var first = deliveries.Item1;
                Assert.Throws<LeaseLostException>(() => queue.Renew(first, LeaseTime));
                Assert.Throws<LeaseLostException>(() => queue.Fail(first, "late"));
                Assert.Throws<LeaseLostException>(() => queue.Release(first));
                Assert.Throws<LeaseLostException>(() => queue.Complete(first));
                Wait.Throws<LeaseLostException>(queue.RenewAsync(first, LeaseTime));
                Wait.Throws<LeaseLostException>(queue.FailAsync(first, "late"));
                Wait.Throws<LeaseLostException>(queue.ReleaseAsync(first));
                Wait.Throws<LeaseLostException>(queue.CompleteAsync(first));
                Assert.AreEqual(1, queue.Processing(), "nothing changed");
                // An item made from the id alone has fence 0, which is not checked.
                Assert.IsTrue(queue.Renew(new Item(new byte[0], "a"), LeaseTime));
                Assert.IsTrue(Wait.For(queue.CompleteAsync(deliveries.Item2)));
            }
        }

        [Test]
        public void WithoutFencingASupersededDeliveryStillCompletes()
        {
            var deliveries = Superseded(Queue);
            Assert.IsTrue(Queue.Complete(deliveries.Item1), "the default: fences are carried, not checked");
        }

        [Test]
        public void AWorkersHandlerGetsTheFence()
        {
            long fence = -1;
            Queue.AddItem(new Item(Bytes("x"), "w"));
            using (var worker = new Worker(Queue, (item, token) =>
            {
                Interlocked.Exchange(ref fence, item.Fence);
                return Task.FromResult(0);
            }))
            {
                var run = worker.RunAsync();
                Wait.Until(() => worker.Counters.Completed == 1, 10000);
                worker.Stop();
                Wait.For(run);
            }
            Assert.Greater(Interlocked.Read(ref fence), 0);
        }
    }
}
