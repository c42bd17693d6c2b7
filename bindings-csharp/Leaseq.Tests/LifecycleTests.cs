using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>The job lifecycle (issue 8), each operation synchronously and asynchronously: what the binding converts.</summary>
    [TestFixture]
    public class LifecycleTests : QueueTest
    {
        static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

        /// <summary>A second queue handle on this test's prefix (its own session), with <paramref name="options"/>.</summary>
        WorkQueue Other(QueueOptions options = null)
        {
            return new WorkQueue(Connection, Prefix, options);
        }

        WorkQueue WithOneAttempt()
        {
            return Other(new QueueOptions { MaxAttempts = 1 });
        }

        [Test]
        public unsafe void OptionsStartAtTheCoreDefaults()
        {
            var queue = new QueueOptions();
            Assert.AreEqual(25, queue.MaxAttempts);
            Assert.AreEqual(TimeSpan.FromSeconds(1), queue.BackoffBase);
            Assert.AreEqual(TimeSpan.FromHours(1), queue.BackoffMax);
            Assert.AreEqual(TimeSpan.Zero, queue.UniqueWindow);

            var worker = new WorkerOptions();
            Assert.AreEqual(1, worker.Concurrency);
            Assert.AreEqual(TimeSpan.FromSeconds(30), worker.LeaseDuration);
            Assert.IsNull(worker.JobTimeout);
            Assert.AreEqual(TimeSpan.FromSeconds(10), worker.ShutdownTimeout);
            Assert.AreEqual(TimeSpan.FromSeconds(5), worker.CleanEvery);
            Assert.IsNull(worker.Before);
            Assert.IsNull(worker.After);

            Assert.AreEqual((int)Native.NativeMethods.leaseq_max_priority(), AddOptions.MaxPriority);
            var add = new AddOptions();
            Assert.AreEqual(0, add.Priority);
            Assert.IsNull(add.Delay);
            Assert.IsNull(add.At);
        }

        [Test]
        public void QueueOptionsAreCheckedByTheCoreAndKeptAsACopy()
        {
            Assert.Throws<LeaseqArgumentException>(() => Other(new QueueOptions { MaxAttempts = 0 }));
            Assert.Throws<LeaseqArgumentException>(() => Other(new QueueOptions { MaxAttempts = -1 }));
            Assert.Throws<LeaseqArgumentException>(() => Other(new QueueOptions { BackoffBase = TimeSpan.FromSeconds(10), BackoffMax = TimeSpan.FromSeconds(1) }));
            Assert.Throws<LeaseqArgumentException>(() => Other(new QueueOptions { BackoffBase = TimeSpan.FromSeconds(-1) }));
            Assert.Throws<LeaseqArgumentException>(() => Other(new QueueOptions { UniqueWindow = TimeSpan.FromDays(366) }));
            Assert.Throws<ArgumentNullException>(() => new WorkQueue(Connection, null, new QueueOptions()));

            var options = new QueueOptions { MaxAttempts = 3 };
            using (var queue = Other(options))
            {
                options.MaxAttempts = 7;
                Assert.AreEqual(3, queue.Options.MaxAttempts, "the queue kept its own copy");
                queue.Options.MaxAttempts = 9;
                Assert.AreEqual(3, queue.Options.MaxAttempts, "Options hands out a copy");
            }
            Assert.AreEqual(25, Queue.Options.MaxAttempts, "the two-argument constructor takes the defaults");
        }

        [Test]
        public void AddItemWithPrioritiesLeasesStrictlyByLevel()
        {
            Queue.AddItem(new Item(Bytes("x"), "default"));
            Assert.IsTrue(Queue.AddItemWith(new Item(Bytes("x"), "nine"), new AddOptions { Priority = 9 }));
            Assert.IsTrue(Wait.For(Queue.AddItemWithAsync(new Item(Bytes("x"), "five"), new AddOptions { Priority = 5 })));
            Assert.IsTrue(Queue.AddItemWith(new Item(Bytes("x"), "nine again"), new AddOptions { Priority = AddOptions.MaxPriority }));
            Assert.IsTrue(Queue.AddItemWith(new Item(Bytes("x"), "zero"), new AddOptions()));
            Assert.IsFalse(Queue.AddItemWith(new Item(Bytes("y"), "five"), new AddOptions { Priority = 1 }), "the id exists");
            Assert.IsFalse(Wait.For(Queue.AddItemWithAsync(new Item(Bytes("y"), "five"), new AddOptions())));
            Assert.AreEqual(3, Queue.PrioritizedLength());
            Assert.AreEqual(3, Wait.For(Queue.PrioritizedLengthAsync()));
            Assert.AreEqual(2, Queue.QueueLength());
            var order = Enumerable.Range(0, 5).Select(_ => Queue.Lease(LeaseTime, false).Id).ToList();
            CollectionAssert.AreEqual(new[] { "nine", "nine again", "five", "default", "zero" }, order);
            Assert.AreEqual(0, Queue.PrioritizedLength());
        }

        [Test]
        public void AddItemWithADelayOrATimeWaitsUntilDue()
        {
            Assert.IsTrue(Queue.AddItemWith(new Item(Bytes("d"), "delayed"), new AddOptions { Delay = TimeSpan.FromMilliseconds(150) }));
            Assert.IsTrue(Wait.For(Queue.AddItemWithAsync(new Item(Bytes("d"), "later"), new AddOptions { Delay = TimeSpan.FromMilliseconds(250), Priority = 3 })));
            Assert.IsTrue(Queue.AddItemWith(new Item(Bytes("p"), "past"), new AddOptions { At = DateTimeOffset.UtcNow.AddDays(-1) }));
            Assert.AreEqual(2, Queue.DelayedLength());
            Assert.AreEqual(2, Wait.For(Queue.DelayedLengthAsync()));
            Assert.AreEqual("past", Queue.Lease(LeaseTime, false).Id, "a time in the past is due at once");
            Assert.IsNull(Queue.Lease(LeaseTime, false));
            // A blocking lease wakes when the first becomes due.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.AreEqual("delayed", Queue.Lease(LeaseTime, true, Slack).Id);
            Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(2));
            Assert.AreEqual("later", Wait.For(Queue.LeaseAsync(LeaseTime, true, Slack)).Id);
            Assert.AreEqual(0, Queue.DelayedLength());

            // A time in the future, on the Redis clock (the same machine here).
            Assert.IsTrue(Queue.AddItemWith(new Item(Bytes("f"), "future"), new AddOptions { At = DateTimeOffset.UtcNow.AddMilliseconds(300) }));
            Assert.IsNull(Queue.Lease(LeaseTime, false));
            Assert.AreEqual("future", Queue.Lease(LeaseTime, true, Slack).Id);
        }

        [Test]
        public void AddItemWithRefusesWhatTheCoreRefuses()
        {
            var item = new Item(Bytes("x"), "x");
            var refused = new[]
            {
                new AddOptions { Priority = AddOptions.MaxPriority + 1 },
                new AddOptions { Priority = -1 },
                new AddOptions { Priority = 300 },
                new AddOptions { Delay = TimeSpan.FromMilliseconds(10), At = DateTimeOffset.UtcNow },
                new AddOptions { Delay = TimeSpan.FromSeconds(-1) },
                new AddOptions { At = new DateTimeOffset(1969, 12, 31, 0, 0, 0, TimeSpan.Zero) },
            };
            foreach (var options in refused)
            {
                Assert.Throws<LeaseqArgumentException>(() => Queue.AddItemWith(item, options));
                Wait.Throws<LeaseqArgumentException>(Queue.AddItemWithAsync(item, options));
            }
            var error = Assert.Throws<LeaseqArgumentException>(() => Queue.AddItemWith(item, new AddOptions { Priority = 10 }));
            StringAssert.Contains("priority 10", error.Message);
            Assert.Throws<ArgumentNullException>(() => Queue.AddItemWith(item, null));
            Assert.Throws<ArgumentNullException>(() => Queue.AddItemWith(null, new AddOptions()));
            Wait.Throws<ArgumentNullException>(Queue.AddItemWithAsync(item, null));
            Wait.Throws<ArgumentNullException>(Queue.AddItemWithAsync(null, new AddOptions()));
            Assert.Throws<LeaseqArgumentException>(() => Queue.AddItemWith(new Item(Bytes("x"), ""), new AddOptions()));
            Assert.AreEqual(0, Queue.QueueLength() + Queue.PrioritizedLength() + Queue.DelayedLength(), "nothing was added");
        }

        [Test]
        public void FailSchedulesARetryThatComesBackWithItsAttemptCounted()
        {
            Queue.AddItem(new Item(Bytes("one"), "a"));
            Queue.AddItem(new Item(Bytes("two"), "b"));
            var a = Queue.Lease(LeaseTime, false);
            Assert.AreEqual(1, a.Attempts);
            var before = DateTimeOffset.UtcNow;
            var outcome = Queue.Fail(a, "boom", TimeSpan.FromMilliseconds(100));
            Assert.AreEqual(FailOutcomeKind.Retry, outcome.Kind);
            Assert.IsTrue(outcome.RetryAt.HasValue);
            Assert.That(outcome.RetryAt.Value, Is.InRange(before.AddMilliseconds(50), before.AddMilliseconds(100) + Slack));

            var b = Queue.Lease(LeaseTime, false);
            var async = Wait.For(Queue.FailAsync(b, "bang", TimeSpan.FromMilliseconds(100)));
            Assert.AreEqual(FailOutcomeKind.Retry, async.Kind);
            Assert.AreEqual(2, Queue.DelayedLength());
            Assert.IsNull(Queue.Lease(LeaseTime, false));
            Thread.Sleep(200);
            var again = new[] { Queue.Lease(LeaseTime, false), Wait.For(Queue.LeaseAsync(LeaseTime, false)) };
            CollectionAssert.AreEquivalent(new[] { "a", "b" }, again.Select(item => item.Id));
            Assert.IsTrue(again.All(item => item.Attempts == 2));
        }

        [Test]
        public void FailWithoutADelayUsesTheQueueBackoff()
        {
            using (var queue = Other(new QueueOptions { BackoffBase = TimeSpan.FromMinutes(10), BackoffMax = TimeSpan.FromMinutes(20) }))
            {
                queue.AddItem(new Item(Bytes("x"), "x"));
                var outcome = queue.Fail(queue.Lease(LeaseTime, false), "boom");
                Assert.AreEqual(FailOutcomeKind.Retry, outcome.Kind);
                Assert.Greater(outcome.RetryAt.Value, DateTimeOffset.UtcNow.AddMinutes(4), "about the 10 minute base, with jitter");
                Assert.AreEqual(1, queue.DelayedLength());
            }
        }

        [Test]
        public void FailOnTheLastAttemptBuriesTheItemWithItsError()
        {
            using (var queue = WithOneAttempt())
            {
                queue.AddItem(new Item(Bytes("one"), "a"));
                queue.AddItem(new Item(Bytes("two"), "b"));
                var before = DateTimeOffset.UtcNow.AddSeconds(-1);
                Assert.AreEqual(FailOutcomeKind.Dead, queue.Fail(queue.Lease(LeaseTime, false), "boom ✓").Kind);
                var async = Wait.For(queue.FailAsync(queue.Lease(LeaseTime, false), "bang"));
                Assert.AreEqual(FailOutcomeKind.Dead, async.Kind);
                Assert.IsNull(async.RetryAt);
                Assert.AreEqual(2, queue.DeadLength());
                Assert.AreEqual(2, Wait.For(queue.DeadLengthAsync()));
                Assert.AreEqual(0, queue.Processing());

                var page = queue.DeadItems(0, 10);
                Assert.AreEqual(2, page.Count);
                Assert.AreEqual("a", page[0].Item.Id);
                Assert.AreEqual("one", Text(page[0].Item.Data));
                Assert.AreEqual(1, page[0].Item.Attempts);
                Assert.AreEqual("boom ✓", page[0].Error);
                Assert.That(page[0].DiedAt, Is.InRange(before, DateTimeOffset.UtcNow + Slack));
                var second = Wait.For(queue.DeadItemsAsync(1, 5));
                Assert.AreEqual(1, second.Count);
                Assert.AreEqual("b", second[0].Item.Id);
                Assert.AreEqual("bang", second[0].Error);
                Assert.AreEqual(0, queue.DeadItems(2, 5).Count);
            }
        }

        [Test]
        public void FailWithoutTheLeaseIsLeaseLost()
        {
            Queue.AddItem(new Item(Bytes("x"), "a"));
            var item = Queue.Lease(LeaseTime, false);
            using (var other = Other())
            {
                var error = Assert.Throws<LeaseLostException>(() => other.Fail(item, "not mine"));
                Assert.AreEqual(ErrorKind.LeaseLost, error.Kind);
                Wait.Throws<LeaseLostException>(other.FailAsync(item, "not mine"));
            }
            Assert.AreEqual(1, Queue.Processing(), "nothing changed");
            // Never leased at all: not held by this session either.
            Queue.AddItem(new Item(Bytes("y"), "queued"));
            Assert.Throws<LeaseLostException>(() => Queue.Fail(new Item(Bytes(""), "queued"), "early"));
            Assert.AreEqual(1, Queue.QueueLength());
        }

        [Test]
        public void FailAfterCompleteIsGone()
        {
            Queue.AddItem(new Item(Bytes("x"), "a"));
            var item = Queue.Lease(LeaseTime, false);
            Assert.IsTrue(Queue.Complete(item));
            Assert.AreEqual(FailOutcomeKind.Gone, Queue.Fail(item, "late").Kind);
            var async = Wait.For(Queue.FailAsync(item, "late"));
            Assert.AreEqual(FailOutcomeKind.Gone, async.Kind);
            Assert.IsNull(async.RetryAt);
        }

        [Test]
        public void FailRefusesBadArguments()
        {
            Queue.AddItem(new Item(Bytes("x"), "a"));
            var item = Queue.Lease(LeaseTime, false);
            Assert.Throws<ArgumentNullException>(() => Queue.Fail(null, "e"));
            Assert.Throws<ArgumentNullException>(() => Queue.Fail(item, null));
            Assert.Throws<LeaseqArgumentException>(() => Queue.Fail(item, "e", TimeSpan.FromSeconds(-1)));
            Assert.Throws<LeaseqArgumentException>(() => Queue.Fail(item, "bad\ud800"));
            Assert.Throws<LeaseqArgumentException>(() => Queue.Fail(new Item(Bytes(""), ""), "e"));
            Wait.Throws<ArgumentNullException>(Queue.FailAsync(null, "e"));
            Wait.Throws<ArgumentNullException>(Queue.FailAsync(item, null));
            Wait.Throws<LeaseqArgumentException>(Queue.FailAsync(item, "e", TimeSpan.FromSeconds(-1)));
            Assert.AreEqual(1, Queue.Processing(), "still leased");
        }

        [Test]
        public void ReleaseGivesTheItemBackFirstWithoutCountingTheAttempt()
        {
            Queue.AddItem(new Item(Bytes("one"), "a"));
            Queue.AddItem(new Item(Bytes("two"), "b"));
            var a = Queue.Lease(LeaseTime, false);
            using (var other = Other())
            {
                Assert.IsFalse(other.Release(a), "another session's lease");
                Assert.IsFalse(Wait.For(other.ReleaseAsync(a)));
            }
            Assert.IsTrue(Queue.Release(a));
            Assert.IsFalse(Queue.Release(a), "no longer held");
            var again = Queue.Lease(LeaseTime, false);
            Assert.AreEqual("a", again.Id, "first in line");
            Assert.AreEqual(1, again.Attempts, "the released lease did not count");
            Assert.IsTrue(Wait.For(Queue.ReleaseAsync(again)));
            Assert.IsFalse(Wait.For(Queue.ReleaseAsync(again)));
            Assert.AreEqual(2, Queue.QueueLength());
            Assert.Throws<ArgumentNullException>(() => Queue.Release(null));
            Wait.Throws<ArgumentNullException>(Queue.ReleaseAsync(null));
        }

        [Test]
        public void DeadItemsRefusesBadPages()
        {
            foreach (var page in new[] { new[] { 0L, 0L }, new[] { 0L, 1001L }, new[] { 0L, -1L }, new[] { -1L, 10L } })
            {
                Assert.Throws<LeaseqArgumentException>(() => Queue.DeadItems(page[0], page[1]), page[0] + ", " + page[1]);
                Wait.Throws<LeaseqArgumentException>(Queue.DeadItemsAsync(page[0], page[1]));
            }
            Assert.AreEqual(0, Queue.DeadItems(0, 1000).Count);
            Assert.AreEqual(0, Wait.For(Queue.DeadItemsAsync(1000000, 1)).Count, "past the end: an empty page");
        }

        void Bury(WorkQueue queue, params string[] ids)
        {
            foreach (var id in ids)
            {
                queue.AddItem(new Item(Bytes("data " + id), id));
            }
            foreach (var id in ids)
            {
                Assert.AreEqual(FailOutcomeKind.Dead, queue.Fail(queue.Lease(LeaseTime, false), "died " + id).Kind);
            }
        }

        [Test]
        public void RequeueDeadGivesFreshAttemptsAndCountsOnlyDeadIds()
        {
            using (var queue = WithOneAttempt())
            {
                Bury(queue, "a", "b", "c");
                Assert.AreEqual(1, queue.RequeueDead(new[] { "a", "nope" }));
                Assert.AreEqual(2, Wait.For(queue.RequeueDeadAsync(new List<string> { "b", "c", "a" })));
                Assert.AreEqual(0, queue.RequeueDead(new string[0]));
                Assert.AreEqual(0, Wait.For(queue.RequeueDeadAsync(Enumerable.Empty<string>())));
                Assert.AreEqual(0, queue.DeadLength());
                var again = Enumerable.Range(0, 3).Select(_ => queue.Lease(LeaseTime, false)).ToList();
                CollectionAssert.AreEquivalent(new[] { "a", "b", "c" }, again.Select(item => item.Id));
                Assert.IsTrue(again.All(item => item.Attempts == 1));
            }
        }

        [Test]
        public void PurgeDeadDeletesForGood()
        {
            using (var queue = WithOneAttempt())
            {
                Bury(queue, "a", "b");
                Assert.AreEqual(1, queue.PurgeDead(new[] { "a" }));
                Assert.AreEqual(0, queue.PurgeDead(new[] { "a" }));
                Assert.AreEqual(1, Wait.For(queue.PurgeDeadAsync(new[] { "b", "nope" })));
                Assert.AreEqual(0, queue.DeadLength());
                Assert.AreEqual(0, queue.QueueLength() + queue.Processing());
                Assert.AreEqual("0", RawRedis.Command("EXISTS", Prefix + ":item:a").TrimStart(':'));
            }
        }

        [Test]
        public void IdListsRefuseNullsAndIdsWithoutUtf8()
        {
            Assert.Throws<ArgumentNullException>(() => Queue.RequeueDead(null));
            Assert.Throws<ArgumentNullException>(() => Queue.PurgeDead(new[] { "a", null }));
            Wait.Throws<ArgumentNullException>(Queue.RequeueDeadAsync(new string[] { null }));
            Wait.Throws<ArgumentNullException>(Queue.PurgeDeadAsync(null));
            Assert.Throws<LeaseqArgumentException>(() => Queue.PurgeDead(new[] { "bad\ud800" }));
            Wait.Throws<LeaseqArgumentException>(Queue.RequeueDeadAsync(new[] { "bad\ud800" }));
        }

        [Test]
        public void RequeueAllAndPurgeAllWorkInBulk()
        {
            using (var queue = WithOneAttempt())
            {
                Bury(queue, "a", "b", "c");
                Assert.AreEqual(3, queue.RequeueAllDead());
                Assert.AreEqual(3, queue.QueueLength());
                Bury(queue, "a", "b", "c");
                Assert.AreEqual(3, Wait.For(queue.RequeueAllDeadAsync()));
                Bury(queue, "a", "b", "c");
                Assert.AreEqual(3, queue.PurgeAllDead());
                Assert.AreEqual(0, queue.PurgeAllDead());
                queue.AddItem(new Item(Bytes("x"), "d"));
                Assert.AreEqual(FailOutcomeKind.Dead, queue.Fail(queue.Lease(LeaseTime, false), "x").Kind);
                Assert.AreEqual(1, Wait.For(queue.PurgeAllDeadAsync()));
                Assert.AreEqual(0, Wait.For(queue.RequeueAllDeadAsync()));
                Assert.AreEqual(0, queue.DeadLength() + queue.QueueLength() + queue.Processing());
            }
        }

        [Test]
        public void PauseStopsLeasesButNotAddsAndResumeWakesABlockedLease()
        {
            Assert.IsFalse(Queue.IsPaused());
            Queue.Pause();
            Assert.IsTrue(Queue.IsPaused());
            Assert.IsTrue(Wait.For(Queue.IsPausedAsync()));
            Assert.IsTrue(Queue.AddItem(new Item(Bytes("x"), "a")));
            Assert.IsNull(Queue.Lease(LeaseTime, false));
            var waiting = Queue.LeaseAsync(LeaseTime, true, Slack);
            Thread.Sleep(200);
            Assert.IsFalse(waiting.IsCompleted, "a paused queue leases nothing");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.IsTrue(Queue.Resume());
            Assert.AreEqual("a", Wait.For(waiting).Id);
            Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(2), "resume wakes the wait");
            Assert.IsFalse(Queue.Resume(), "was not paused");

            Wait.For(Queue.PauseAsync());
            Assert.IsTrue(Queue.IsPaused());
            Assert.IsTrue(Wait.For(Queue.ResumeAsync()));
            Assert.IsFalse(Wait.For(Queue.ResumeAsync()));
            Assert.IsFalse(Wait.For(Queue.IsPausedAsync()));
        }

        [Test]
        public void AUniqueWindowRefusesARecentlyCompletedId()
        {
            using (var queue = Other(new QueueOptions { UniqueWindow = TimeSpan.FromMinutes(1) }))
            {
                queue.AddItem(new Item(Bytes("x"), "a"));
                Assert.IsTrue(queue.Complete(queue.Lease(LeaseTime, false)));
                Assert.IsFalse(queue.AddItem(new Item(Bytes("again"), "a")));
                Assert.IsFalse(Wait.For(queue.AddItemWithAsync(new Item(Bytes("again"), "a"), new AddOptions { Priority = 2 })));
                Assert.AreEqual(1, queue.AddItems(new[] { new Item(Bytes("again"), "a"), new Item(Bytes("b"), "b") }));
            }
        }

        [Test]
        public void LifecycleErrorsKeepTheirKindAfterTheConnectionCloses()
        {
            Connection.Close();
            Assert.Throws<LeaseqConnectionException>(() => Queue.DeadLength());
            Wait.Throws<LeaseqConnectionException>(Queue.PauseAsync());
            Wait.Throws<LeaseqConnectionException>(Queue.DeadItemsAsync(0, 10));
            Assert.Throws<LeaseqConnectionException>(() => Queue.RequeueAllDead());
        }
    }
}
