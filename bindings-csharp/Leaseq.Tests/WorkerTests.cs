using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>The worker runtime (issue 9): the core's loop with a .NET handler.</summary>
    [TestFixture]
    public class WorkerTests : QueueTest
    {
        static readonly Func<Item, CancellationToken, Task> Succeed = (item, token) => Task.FromResult(true);

        /// <summary>Options for tests: no background cleans, a short shutdown.</summary>
        static WorkerOptions Options(int concurrency = 1)
        {
            return new WorkerOptions { Concurrency = concurrency, CleanEvery = null, ShutdownTimeout = TimeSpan.FromSeconds(5) };
        }

        WorkQueue WithOneAttempt()
        {
            return new WorkQueue(Connection, Prefix, new QueueOptions { MaxAttempts = 1 });
        }

        static void StopAndWait(Worker worker, Task run, int seconds = 15)
        {
            worker.Stop();
            Wait.For(run, seconds);
        }

        [Test]
        public void ConcurrencyLimitIsRespected()
        {
            const int concurrency = 4;
            int running = 0, peak = 0, done = 0;
            Queue.AddItems(Enumerable.Range(0, concurrency * 3).Select(i => new Item(Bytes("x"), "c" + i)));
            using (var worker = new Worker(Queue, async (item, token) =>
            {
                var now = Interlocked.Increment(ref running);
                int seen;
                while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen)
                {
                }
                await Task.Delay(200).ConfigureAwait(false);
                Interlocked.Decrement(ref running);
                Interlocked.Increment(ref done);
            }, Options(concurrency)))
            {
                var run = worker.RunAsync();
                Wait.Until(() => worker.Counters.Completed == concurrency * 3, 20000);
                StopAndWait(worker, run);
                Assert.AreEqual(concurrency, peak, "handlers ran in parallel up to the limit and never beyond");
                var counters = worker.Counters;
                Assert.AreEqual(concurrency * 3, counters.Leased);
                Assert.AreEqual(concurrency * 3, counters.Completed);
                Assert.AreEqual(0, counters.Failed);
                Assert.AreEqual(0, counters.InFlight);
            }
            Assert.AreEqual(0, Queue.QueueLength() + Queue.Processing());
        }

        [Test]
        public void ASlowJobIsRenewedPastSeveralLeasesWithoutASecondDelivery()
        {
            var lease = TimeSpan.FromMilliseconds(300);
            var deliveries = new ConcurrentQueue<string>();
            Func<Item, CancellationToken, Task> slow = async (item, token) =>
            {
                deliveries.Enqueue(item.Id);
                await Task.Delay(TimeSpan.FromMilliseconds(1200)).ConfigureAwait(false);
            };
            var options = Options();
            options.LeaseDuration = lease;
            // Two workers, each on a queue handle of its own (two sessions), as two processes would be.
            using (var otherQueue = new WorkQueue(Connection, Prefix))
            using (var first = new Worker(Queue, slow, options))
            using (var second = new Worker(otherQueue, slow, options))
            {
                var runs = new[] { first.RunAsync(), second.RunAsync() };
                Queue.AddItem(new Item(Bytes("slow"), "slow"));
                Wait.Until(() => first.Counters.Completed + second.Counters.Completed == 1, 10000);
                Thread.Sleep(400);
                StopAndWait(first, runs[0]);
                StopAndWait(second, runs[1]);
                CollectionAssert.AreEqual(new[] { "slow" }, deliveries.ToArray(), "delivered once");
                Assert.GreaterOrEqual(first.Counters.Renewed + second.Counters.Renewed, 3, "renewed every third of the lease");
                Assert.AreEqual(1, first.Counters.Leased + second.Counters.Leased);
            }
            Assert.AreEqual(0, Queue.QueueLength() + Queue.Processing() + Queue.DelayedLength());
        }

        [Test]
        public void AnExceptionFailsTheItemWithItsMessage()
        {
            var outcomes = new ConcurrentQueue<string>();
            var options = Options();
            options.After = (item, outcome) => outcomes.Enqueue(item.Id + " " + outcome);
            using (var queue = WithOneAttempt())
            using (var worker = new Worker(queue, (item, token) =>
            {
                switch (item.Id)
                {
                    case "throws":
                        throw new InvalidOperationException("thrown before any await");
                    case "faults":
                        return Task.Run(() => { throw new ArgumentException("faulted in the task"); });
                    case "null":
                        return null;
                    case "cancelled":
                        return Task.FromCanceled(new CancellationToken(true));
                    case "no message":
                        throw new MessagelessException();
                    default:
                        return Task.FromResult(0);
                }
            }, options))
            {
                foreach (var id in new[] { "throws", "faults", "null", "cancelled", "no message", "fine" })
                {
                    queue.AddItem(new Item(Bytes(id), id));
                }
                var run = worker.RunAsync();
                Wait.Until(() => queue.DeadLength() == 5 && worker.Counters.Completed == 1, 10000);
                StopAndWait(worker, run);
                var errors = queue.DeadItems(0, 10).ToDictionary(dead => dead.Item.Id, dead => dead.Error);
                Assert.AreEqual("thrown before any await", errors["throws"]);
                Assert.AreEqual("faulted in the task", errors["faults"]);
                Assert.AreEqual("the handler returned null instead of a Task", errors["null"]);
                Assert.AreEqual("the handler's task was cancelled", errors["cancelled"]);
                Assert.AreEqual(typeof(MessagelessException).FullName, errors["no message"]);
                var counters = worker.Counters;
                Assert.AreEqual(5, counters.Failed);
                Assert.AreEqual(0, counters.Retried, "one attempt each: buried, not retried");
                CollectionAssert.Contains(outcomes, "throws Failed(thrown before any await)");
                CollectionAssert.Contains(outcomes, "fine Completed(true)");
            }
        }

        sealed class MessagelessException : Exception
        {
            public override string Message
            {
                get { return ""; }
            }
        }

        [Test]
        public void AFailureIsRetriedAfterTheBackoff()
        {
            int calls = 0;
            using (var queue = new WorkQueue(Connection, Prefix, new QueueOptions { BackoffBase = TimeSpan.FromMilliseconds(20), BackoffMax = TimeSpan.FromMilliseconds(40) }))
            using (var worker = new Worker(queue, (item, token) =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    throw new Exception("flaky");
                }
                Assert.AreEqual(2, item.Attempts);
                return Task.FromResult(0);
            }, Options()))
            {
                queue.AddItem(new Item(Bytes("x"), "flaky"));
                var run = worker.RunAsync();
                Wait.Until(() => worker.Counters.Completed == 1, 10000);
                StopAndWait(worker, run);
                Assert.AreEqual(1, worker.Counters.Failed);
                Assert.AreEqual(1, worker.Counters.Retried);
            }
        }

        [Test]
        public void AJobTimeoutCancelsTheTokenAndFailsTheItem()
        {
            var cancelled = new ManualResetEventSlim();
            var options = Options();
            options.JobTimeout = TimeSpan.FromMilliseconds(200);
            using (var queue = WithOneAttempt())
            using (var worker = new Worker(queue, async (item, token) =>
            {
                // No lambda in here: mcs miscompiles a capturing lambda nested in an async lambda.
                try
                {
                    await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
                }
                finally
                {
                    if (token.IsCancellationRequested)
                    {
                        cancelled.Set();
                    }
                }
            }, options))
            {
                queue.AddItem(new Item(Bytes("x"), "stuck"));
                var clock = Stopwatch.StartNew();
                var run = worker.RunAsync();
                Wait.Until(() => queue.DeadLength() == 1, 10000);
                Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(5));
                Assert.IsTrue(cancelled.Wait(TimeSpan.FromSeconds(5)), "the handler's token was cancelled");
                StopAndWait(worker, run);
                var dead = queue.DeadItems(0, 1).Single();
                StringAssert.StartsWith("timed out after", dead.Error);
                Assert.AreEqual(1, worker.Counters.Failed);
            }
        }

        [Test]
        public void ShutdownReleasesUnfinishedItemsAtOnce()
        {
            var started = new CountdownEvent(2);
            var cancelled = new CountdownEvent(2);
            var outcomes = new ConcurrentQueue<JobOutcome>();
            var options = Options(2);
            options.ShutdownTimeout = TimeSpan.FromMilliseconds(100);
            options.After = (item, outcome) => outcomes.Enqueue(outcome);
            Queue.AddItem(new Item(Bytes("x"), "a"));
            Queue.AddItem(new Item(Bytes("x"), "b"));
            using (var worker = new Worker(Queue, async (item, token) =>
            {
                started.Signal();
                try
                {
                    await Task.Delay(Timeout.Infinite, token).ConfigureAwait(false);
                }
                finally
                {
                    cancelled.Signal();
                }
            }, options))
            {
                var run = worker.RunAsync();
                Assert.IsTrue(started.Wait(TimeSpan.FromSeconds(10)), "both items in flight");
                Assert.AreEqual(2, worker.Counters.InFlight);
                var clock = Stopwatch.StartNew();
                worker.Stop();
                Wait.For(run, 10);
                Assert.Less(clock.Elapsed, TimeSpan.FromSeconds(2), "released after the 0.1 s shutdown timeout, not after the 30 s lease");
                Assert.IsTrue(cancelled.Wait(TimeSpan.FromSeconds(5)), "the abandoned handlers' tokens were cancelled");
                Assert.AreEqual(2, outcomes.Count(outcome => outcome.Kind == JobOutcomeKind.Released), "hooks ran before RunAsync completed");
                Assert.AreEqual(0, worker.Counters.InFlight);
            }
            Assert.AreEqual(2, Queue.QueueLength(), "both back in the queue");
            Assert.AreEqual(0, Queue.Processing());
            Assert.AreEqual(1, Queue.Lease(LeaseTime, false).Attempts, "a released lease does not count as an attempt");
        }

        [Test]
        public void ShutdownLetsRunningHandlersFinishWithinTheTimeout()
        {
            var started = new ManualResetEventSlim();
            using (var worker = new Worker(Queue, async (item, token) =>
            {
                started.Set();
                await Task.Delay(300).ConfigureAwait(false);
            }, Options()))
            {
                Queue.AddItem(new Item(Bytes("x"), "a"));
                var run = worker.RunAsync();
                Assert.IsTrue(started.Wait(TimeSpan.FromSeconds(10)));
                StopAndWait(worker, run);
                Assert.AreEqual(1, worker.Counters.Completed);
            }
            Assert.AreEqual(0, Queue.QueueLength() + Queue.Processing());
        }

        [Test]
        public void CancellingTheTokenStopsTheRunGracefully()
        {
            var started = new ManualResetEventSlim();
            using (var cancel = new CancellationTokenSource())
            using (var worker = new Worker(Queue, async (item, token) =>
            {
                started.Set();
                await Task.Delay(200).ConfigureAwait(false);
            }, Options()))
            {
                Queue.AddItem(new Item(Bytes("x"), "a"));
                var run = worker.RunAsync(cancel.Token);
                Assert.IsTrue(started.Wait(TimeSpan.FromSeconds(10)));
                cancel.Cancel();
                Wait.For(run, 10);
                Assert.AreEqual(TaskStatus.RanToCompletion, run.Status, "a graceful stop, not a cancelled task");
                Assert.AreEqual(1, worker.Counters.Completed, "the running handler finished");
                // Stopped: a new item stays in the queue.
                Queue.AddItem(new Item(Bytes("x"), "b"));
                Thread.Sleep(300);
                Assert.AreEqual(1, Queue.QueueLength());
            }
            // An already cancelled token: the run starts and stops at once.
            using (var worker = new Worker(Queue, Succeed, Options()))
            {
                Wait.For(worker.RunAsync(new CancellationToken(true)), 10);
            }
        }

        [Test]
        public void AStopBeforeTheRunIsKeptAndAWorkerCanRunAgain()
        {
            // A stop right after RunAsync, before the core's run has started, is not lost.
            for (int i = 0; i < 20; i++)
            {
                using (var worker = new Worker(Queue, Succeed, Options()))
                {
                    var run = worker.RunAsync();
                    worker.Stop();
                    Wait.For(run, 10);
                }
            }
            Queue.AddItem(new Item(Bytes("x"), "first"));
            using (var worker = new Worker(Queue, Succeed, Options()))
            {
                // A stop before RunAsync is kept: the run returns at once, leasing nothing.
                worker.Stop();
                Wait.For(worker.RunAsync(), 10);
                Assert.AreEqual(0, worker.Counters.Leased);
                Assert.AreEqual(1, Queue.QueueLength());
                // Once a run has returned, the worker runs again, and again.
                for (int round = 1; round <= 2; round++)
                {
                    var run = worker.RunAsync();
                    Wait.Until(() => worker.Counters.Completed == round, 10000);
                    StopAndWait(worker, run);
                    Queue.AddItem(new Item(Bytes("x"), "next " + round));
                }
            }
            Assert.AreEqual(1, Queue.QueueLength(), "the item added after the last stop is still queued");
        }

        [Test]
        public void AWorkerRunsOnceAtATime()
        {
            using (var worker = new Worker(Queue, Succeed, Options()))
            {
                var run = worker.RunAsync();
                // The core refuses a second run while one is going.
                var error = Wait.Throws<LeaseqArgumentException>(worker.RunAsync());
                StringAssert.Contains("already running", error.Message);
                Queue.AddItem(new Item(Bytes("x"), "x"));
                Wait.Until(() => worker.Counters.Completed == 1, 10000);
                Assert.IsFalse(run.IsCompleted, "the refused second run did not disturb the first");
                StopAndWait(worker, run);
            }
        }

        [Test]
        public void HooksRunInOrderOffTheDispatcherThread()
        {
            var events = new ConcurrentQueue<string>();
            var threads = new ConcurrentQueue<Thread>();
            var options = Options();
            options.Before = item =>
            {
                threads.Enqueue(Thread.CurrentThread);
                Thread.Sleep(50);
                events.Enqueue("before " + item.Id);
                if (item.Id == "b")
                {
                    throw new InvalidOperationException("a hook that throws is reported, not fatal");
                }
            };
            options.After = (item, outcome) =>
            {
                threads.Enqueue(Thread.CurrentThread);
                events.Enqueue("after " + item.Id + " " + outcome);
            };
            using (var worker = new Worker(Queue, (item, token) =>
            {
                events.Enqueue("handle " + item.Id + " attempt " + item.Attempts);
                return Task.FromResult(0);
            }, options))
            {
                Queue.AddItem(new Item(Bytes("x"), "a"));
                Queue.AddItem(new Item(Bytes("x"), "b"));
                var run = worker.RunAsync();
                Wait.Until(() => worker.Counters.Completed == 2, 10000);
                StopAndWait(worker, run);
            }
            CollectionAssert.AreEqual(new[]
            {
                "before a", "handle a attempt 1", "after a Completed(true)",
                "before b", "handle b attempt 1", "after b Completed(true)",
            }, events.ToArray());
            Assert.IsFalse(threads.Contains(Calls.DispatcherThread), "user code never runs on the dispatcher thread");
        }

        [Test]
        public void OptionsAndArgumentsAreChecked()
        {
            Assert.Throws<ArgumentNullException>(() => new Worker(null, Succeed));
            Assert.Throws<ArgumentNullException>(() => new Worker(Queue, (Func<Item, CancellationToken, Task>)null));
            var refused = new Action<WorkerOptions>[]
            {
                o => o.Concurrency = 0,
                o => o.Concurrency = -1,
                o => o.LeaseDuration = TimeSpan.Zero,
                o => o.LeaseDuration = TimeSpan.FromDays(366),
                o => o.JobTimeout = TimeSpan.Zero,
                o => o.JobTimeout = TimeSpan.FromSeconds(-1),
                o => o.ShutdownTimeout = TimeSpan.FromSeconds(-1),
                o => o.CleanEvery = TimeSpan.Zero,
            };
            foreach (var change in refused)
            {
                var options = new WorkerOptions();
                change(options);
                Assert.Throws<LeaseqArgumentException>(() => new Worker(Queue, Succeed, options));
            }
            using (new Worker(Queue, Succeed))
            {
                // The defaults are accepted.
            }
        }

        [Test]
        public void ADisposedWorkerRefusesToRunAndDisposingStopsARun()
        {
            var worker = new Worker(Queue, Succeed, Options());
            var run = worker.RunAsync();
            worker.Dispose();
            Wait.For(run, 10);
            Wait.Throws<ObjectDisposedException>(worker.RunAsync());
            Assert.Throws<ObjectDisposedException>(() => worker.Stop());
            Assert.Throws<ObjectDisposedException>(() => { var ignored = worker.Counters; });
            worker.Dispose();
        }

        [Test]
        public void TheWorkerKeepsItsQueueAndCleansOnASchedule()
        {
            // A lease of a redis-work-queue client that died: only a clean returns it.
            Assert.AreEqual(":1", RawRedis.Command("RPUSH", Prefix + ":processing", "orphan"));
            Assert.AreEqual("+OK", RawRedis.Command("SET", Prefix + ":item:orphan", "x"));
            var done = new ManualResetEventSlim();
            var options = Options();
            options.CleanEvery = TimeSpan.FromMilliseconds(100);
            var worker = new Worker(Queue, (item, token) =>
            {
                done.Set();
                return Task.FromResult(0);
            }, options);
            Queue.Dispose();
            var run = worker.RunAsync();
            Assert.IsTrue(done.Wait(TimeSpan.FromSeconds(10)), "the light clean requeued the orphan and the worker ran it");
            StopAndWait(worker, run);
            worker.Dispose();
        }
    }
}
