using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>Every operation, synchronous and asynchronous: what the binding converts.</summary>
    [TestFixture]
    public class OperationsTests : QueueTest
    {
        [Test]
        public void AddItemAddsOnceAndReportsDuplicates()
        {
            var item = new Item(Bytes("a"), "id-1");
            Assert.IsTrue(Queue.AddItem(item));
            Assert.IsFalse(Queue.AddItem(new Item(Bytes("other"), "id-1")));
            Assert.IsTrue(Wait.For(Queue.AddItemAsync(new Item(Bytes("b"), "id-2"))));
            Assert.IsFalse(Wait.For(Queue.AddItemAsync(new Item(Bytes("b"), "id-2"))));
            Assert.AreEqual(2, Queue.QueueLength());
        }

        [Test]
        public void AddUniqueItemReplacesAndRequeues()
        {
            Queue.AddUniqueItem(new Item(Bytes("first"), "u"));
            Wait.For(Queue.AddUniqueItemAsync(new Item(Bytes("second"), "u")));
            Assert.AreEqual(2, Queue.QueueLength(), "queued again");
            var leased = Queue.Lease(LeaseTime, false);
            Assert.AreEqual("u", leased.Id);
            Assert.AreEqual("second", Text(leased.Data));
        }

        [Test]
        public void AddItemsCountsWhatWasAdded()
        {
            Queue.AddItem(new Item(Bytes("x"), "dup"));
            var batch = new[] { new Item(Bytes("1")), new Item(Bytes("2")), new Item(Bytes("3"), "dup") };
            Assert.AreEqual(2, Queue.AddItems(batch));
            Assert.AreEqual(0, Queue.AddItems(new Item[0]));
            Assert.AreEqual(2, Wait.For(Queue.AddItemsAsync(new[] { new Item(Bytes("4")), new Item(Bytes("5")) })));
            Assert.AreEqual(0, Wait.For(Queue.AddItemsAsync(Enumerable.Empty<Item>())));
            Assert.AreEqual(5, Queue.QueueLength());
        }

        [Test]
        public void LeaseReturnsTheItemOrNull()
        {
            Assert.IsNull(Queue.Lease(LeaseTime, false));
            Assert.IsNull(Wait.For(Queue.LeaseAsync(LeaseTime, false)));
            var data = new byte[] { 0, 1, 2, 0, 255 };
            Queue.AddItem(new Item(data, "bin"));
            Queue.AddItem(new Item(new byte[0], "empty"));
            var first = Queue.Lease(LeaseTime, false);
            Assert.AreEqual("bin", first.Id);
            CollectionAssert.AreEqual(data, first.Data);
            var second = Wait.For(Queue.LeaseAsync(LeaseTime, false));
            Assert.AreEqual("empty", second.Id);
            Assert.AreEqual(0, second.Data.Length);
            Assert.AreEqual(0, Queue.QueueLength());
            Assert.AreEqual(2, Queue.Processing());
            Assert.AreEqual(2, Wait.For(Queue.ProcessingAsync()));
            Assert.AreEqual(0, Wait.For(Queue.QueueLengthAsync()));
        }

        [Test]
        public void LeaseManyLeasesInOrderInOneCall()
        {
            CollectionAssert.IsEmpty(Queue.LeaseMany(LeaseTime, 10, false));
            CollectionAssert.IsEmpty(Wait.For(Queue.LeaseManyAsync(LeaseTime, 10, true, TimeSpan.FromMilliseconds(50))));
            Queue.AddItems(new[] { new Item(Bytes("1"), "m1"), new Item(Bytes("2"), "m2"), new Item(Bytes("3"), "m3"), new Item(Bytes("4"), "m4") });
            var leased = Queue.LeaseMany(LeaseTime, 3);
            CollectionAssert.AreEqual(new[] { "m1", "m2", "m3" }, leased.Select(item => item.Id));
            Assert.AreEqual("3", Text(leased[2].Data));
            Assert.IsTrue(leased.All(item => item.Attempts == 1 && item.Fence > 0));
            CollectionAssert.AreEqual(new[] { "m4" }, Wait.For(Queue.LeaseManyAsync(LeaseTime, 1000, false)).Select(item => item.Id));
            foreach (var count in new[] { 0, -1, 1001 })
            {
                Assert.Throws<LeaseqArgumentException>(() => Queue.LeaseMany(LeaseTime, count, false), "count " + count);
                Wait.Throws<LeaseqArgumentException>(Queue.LeaseManyAsync(LeaseTime, count, false));
            }
        }

        [Test]
        public void CompleteManyIsTrueExactlyOncePerItem()
        {
            Queue.AddItems(new[] { new Item(Bytes("1"), "c1"), new Item(Bytes("2"), "c2") });
            var leased = Queue.LeaseMany(LeaseTime, 2, false);
            CollectionAssert.AreEqual(new[] { true, true }, Queue.CompleteMany(leased));
            CollectionAssert.AreEqual(new[] { false, false }, Queue.CompleteMany(leased));
            CollectionAssert.AreEqual(new[] { false, false }, Wait.For(Queue.CompleteManyAsync(leased)));
            Assert.AreEqual(0, Queue.Processing());
            Assert.Throws<LeaseqArgumentException>(() => Queue.CompleteMany(new Item[0]));
            Assert.Throws<ArgumentNullException>(() => Queue.CompleteMany(null));
            Wait.Throws<LeaseqArgumentException>(Queue.CompleteManyAsync(Enumerable.Repeat(leased[0], 1001).ToList()));
        }

        [Test]
        public void CompleteAndLeaseCompletesThenLeasesTheNext()
        {
            Queue.AddItems(new[] { new Item(Bytes("1"), "n1"), new Item(Bytes("2"), "n2"), new Item(Bytes("3"), "n3") });
            var first = Queue.Lease(LeaseTime, false);
            var next = Queue.CompleteAndLease(first, LeaseTime, 1);
            Assert.IsTrue(next.Completed);
            CollectionAssert.AreEqual(new[] { "n2" }, next.Leased.Select(item => item.Id));
            var last = Wait.For(Queue.CompleteAndLeaseAsync(next.Leased[0], LeaseTime, 10));
            Assert.IsTrue(last.Completed);
            CollectionAssert.AreEqual(new[] { "n3" }, last.Leased.Select(item => item.Id));
            var again = Queue.CompleteAndLease(first, LeaseTime, 5);
            Assert.IsFalse(again.Completed, "completed once");
            CollectionAssert.IsEmpty(again.Leased);
            Assert.Throws<LeaseqArgumentException>(() => Queue.CompleteAndLease(last.Leased[0], LeaseTime, 0));
        }

        [Test]
        public void LeasesCountAttempts()
        {
            var added = new Item(Bytes("x"), "again");
            Assert.AreEqual(0, added.Attempts, "not from a lease");
            Queue.AddItem(added);
            Assert.AreEqual(1, Queue.Lease(TimeSpan.FromMilliseconds(50), false).Attempts);
            Thread.Sleep(150);
            // The lease expired: the next lease reclaims it and counts a second attempt.
            Assert.AreEqual(2, Wait.For(Queue.LeaseAsync(LeaseTime, false)).Attempts);
        }

        [Test]
        public void BlockingLeaseTimesOutWithNull()
        {
            var clock = Stopwatch.StartNew();
            Assert.IsNull(Queue.Lease(LeaseTime, true, TimeSpan.FromMilliseconds(200)));
            Assert.GreaterOrEqual(clock.ElapsedMilliseconds, 150);
            clock.Restart();
            Assert.IsNull(Wait.For(Queue.LeaseAsync(LeaseTime, true, TimeSpan.FromMilliseconds(200))));
            Assert.GreaterOrEqual(clock.ElapsedMilliseconds, 150);
        }

        [Test]
        public void BlockingLeaseWakesWhenAnItemArrives()
        {
            var waiting = Queue.LeaseAsync(LeaseTime, true, TimeSpan.FromSeconds(20));
            Thread.Sleep(200);
            Assert.IsFalse(waiting.IsCompleted);
            Queue.AddItem(new Item(Bytes("late"), "late"));
            Assert.AreEqual("late", Wait.For(waiting, 10).Id);

            using (var otherQueue = new WorkQueue(Connection, Prefix))
            {
                var adder = new Thread(() =>
                {
                    Thread.Sleep(200);
                    otherQueue.AddItem(new Item(Bytes("later"), "later"));
                });
                adder.Start();
                Assert.AreEqual("later", Queue.Lease(LeaseTime, true, TimeSpan.FromSeconds(20)).Id);
                adder.Join();
            }
        }

        [Test]
        public void RenewHoldsOnlyWhileLeased()
        {
            Queue.AddItem(new Item(Bytes("r"), "r"));
            var item = Queue.Lease(LeaseTime, false);
            Assert.IsTrue(Queue.Renew(item, TimeSpan.FromMinutes(5)));
            Assert.IsTrue(Wait.For(Queue.RenewAsync(item, TimeSpan.FromMinutes(5))));
            using (var otherSession = new WorkQueue(Connection, Prefix))
            {
                Assert.IsFalse(otherSession.Renew(item, LeaseTime), "another session does not hold it");
            }
            Assert.IsTrue(Queue.Complete(item));
            Assert.IsFalse(Queue.Renew(item, LeaseTime));
            Assert.IsFalse(Wait.For(Queue.RenewAsync(item, LeaseTime)));
        }

        [Test]
        public void CompleteIsTrueExactlyOnce()
        {
            Queue.AddItems(new[] { new Item(Bytes("1"), "c1"), new Item(Bytes("2"), "c2") });
            var first = Queue.Lease(LeaseTime, false);
            var second = Queue.Lease(LeaseTime, false);
            Assert.IsTrue(Queue.Complete(first));
            Assert.IsFalse(Queue.Complete(first));
            Assert.IsTrue(Wait.For(Queue.CompleteAsync(second)));
            Assert.IsFalse(Wait.For(Queue.CompleteAsync(second)));
            Assert.AreEqual(0, Queue.Processing());
            Assert.AreEqual(0, Queue.QueueLength());
        }

        [Test]
        public void LightCleanRequeuesExpiredLeases()
        {
            Queue.AddItems(new[] { new Item(Bytes("1")), new Item(Bytes("2")) });
            Queue.Lease(TimeSpan.FromMilliseconds(50), false);
            Thread.Sleep(150);
            var report = Queue.LightClean();
            Assert.AreEqual(1, report.Requeued);
            Assert.AreEqual(0, report.Dropped);
            Assert.AreEqual(0, report.Dead);
            Queue.Lease(TimeSpan.FromMilliseconds(50), false);
            Thread.Sleep(150);
            Assert.AreEqual(1, Wait.For(Queue.LightCleanAsync()).Requeued);
            Assert.AreEqual(2, Queue.QueueLength());
            Assert.AreEqual(0, Queue.Processing());
        }

        [Test]
        public void DeepCleanRequeuesOrphans()
        {
            // An item in no list, as a crashed client of an older generation leaves one.
            Assert.AreEqual("+OK", RawRedis.Command("SET", Prefix + ":item:orphan-1", "lost"));
            var report = Queue.DeepClean();
            Assert.AreEqual(1, report.Requeued);
            Assert.AreEqual("+OK", RawRedis.Command("SET", Prefix + ":item:orphan-2", "lost"));
            Assert.AreEqual(1, Wait.For(Queue.DeepCleanAsync()).Requeued);
            Assert.AreEqual(2, Queue.QueueLength());
            Assert.AreEqual("lost", Text(Queue.Lease(LeaseTime, false).Data));
        }

        [Test]
        public void IdsAndDataKeepEveryCharacter()
        {
            var id = "élan/✓ 日本 🎉";
            var item = Item.FromJson("{\"name\": \"snow ☃\", \"n\": [1, 2]}", id);
            Queue.AddItem(item);
            var leased = Queue.Lease(LeaseTime, false);
            Assert.AreEqual(id, leased.Id);
            Assert.AreEqual("{\"name\": \"snow ☃\", \"n\": [1, 2]}", leased.Json());
            Assert.IsTrue(Queue.Complete(leased));
        }

        [Test]
        public void NewItemsGetRandomUuids()
        {
            var first = new Item(Bytes("x"));
            var second = new Item(Bytes("x"));
            Assert.AreNotEqual(first.Id, second.Id);
            Guid parsed;
            Assert.IsTrue(Guid.TryParseExact(first.Id, "D", out parsed), first.Id);
            Assert.AreEqual('4', first.Id[14], "a version 4 UUID");
            Assert.AreEqual(first.Id.ToLowerInvariant(), first.Id);
        }

        [Test]
        public void ConnectionsOpenAsynchronouslyAndShareQueues()
        {
            using (var connection = Wait.For(Connection.OpenAsync(Env.RedisUrl)))
            {
                var one = new WorkQueue(connection, Prefix);
                var two = new WorkQueue(connection, Prefix);
                one.AddItem(new Item(Bytes("shared")));
                one.Dispose();
                Assert.AreEqual(1, two.QueueLength(), "disposing a queue leaves the connection open");
                Assert.AreEqual(Prefix, two.Name);
                two.Dispose();
            }
        }
    }
}
