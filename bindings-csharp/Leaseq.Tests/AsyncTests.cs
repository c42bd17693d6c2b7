using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Leaseq.Tests
{
    /// <summary>The callback path: cancellation, completion without parked threads, where continuations run.</summary>
    [TestFixture]
    public class AsyncTests : QueueTest
    {
        [Test]
        public void CancellingABlockingLeaseLosesNothing()
        {
            using (var cancel = new CancellationTokenSource())
            {
                var waiting = Queue.LeaseAsync(LeaseTime, true, null, cancel.Token);
                Thread.Sleep(300);
                Assert.IsFalse(waiting.IsCompleted, "waits for an item");
                cancel.Cancel();
                Assert.Throws<TaskCanceledException>(() => Wait.For(waiting, 5));
                Assert.IsTrue(waiting.IsCanceled);
            }
            // The cancelled wait took nothing: the next item goes to the next lease.
            Queue.AddItem(new Item(Bytes("after"), "after"));
            Assert.AreEqual(1, Queue.QueueLength());
            Assert.AreEqual(0, Queue.Processing());
            var item = Queue.Lease(LeaseTime, false);
            Assert.AreEqual("after", item.Id);
            Assert.IsTrue(Queue.Complete(item));
            Assert.AreEqual(0, Calls.PendingCount);
        }

        [Test]
        public void CancelAfterStopsAWaitWithNoTimeout()
        {
            using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
            {
                var waiting = Queue.LeaseAsync(LeaseTime, true, null, cancel.Token);
                Assert.Throws<TaskCanceledException>(() => Wait.For(waiting, 5));
                Assert.AreEqual(cancel.Token, GetToken(waiting));
            }
            Queue.AddItem(new Item(Bytes("x")));
            Assert.IsNotNull(Wait.For(Queue.LeaseAsync(LeaseTime, true, TimeSpan.FromSeconds(5))));
        }

        [Test]
        public void ManyCancelledWaitsLeaveEveryItem()
        {
            using (var cancel = new CancellationTokenSource())
            {
                var waits = Enumerable.Range(0, 20).Select(_ => Queue.LeaseAsync(LeaseTime, true, null, cancel.Token)).ToArray();
                Thread.Sleep(200);
                cancel.Cancel();
                foreach (var waiting in waits)
                {
                    Assert.Throws<TaskCanceledException>(() => Wait.For(waiting, 5));
                }
            }
            Queue.AddItems(Enumerable.Range(0, 5).Select(i => new Item(Bytes("i" + i))));
            Assert.AreEqual(5, Queue.QueueLength());
            Assert.AreEqual(0, Queue.Processing());
        }

        [Test]
        public void AnAlreadyCancelledTokenStartsNothing()
        {
            Queue.AddItem(new Item(Bytes("x")));
            var cancelled = new CancellationToken(true);
            Assert.IsTrue(Queue.LeaseAsync(LeaseTime, false, null, cancelled).IsCanceled);
            Assert.IsTrue(Queue.AddItemAsync(new Item(Bytes("y")), cancelled).IsCanceled);
            Assert.AreEqual(1, Queue.QueueLength());
        }

        [Test]
        public void CancellingAfterCompletionKeepsTheResult()
        {
            Queue.AddItem(new Item(Bytes("x"), "kept"));
            using (var cancel = new CancellationTokenSource())
            {
                var leasing = Queue.LeaseAsync(LeaseTime, true, null, cancel.Token);
                var item = Wait.For(leasing);
                cancel.Cancel();
                Assert.AreEqual("kept", item.Id);
                Assert.IsTrue(leasing.Status == TaskStatus.RanToCompletion);
            }
        }

        [Test]
        public void WaitingLeasesHoldNoThreadPoolThread()
        {
            int workersBefore, ioBefore;
            ThreadPool.GetAvailableThreads(out workersBefore, out ioBefore);
            var waits = Enumerable.Range(0, 32).Select(_ => Queue.LeaseAsync(LeaseTime, true, TimeSpan.FromSeconds(20))).ToArray();
            Thread.Sleep(300);
            int workersDuring, ioDuring;
            ThreadPool.GetAvailableThreads(out workersDuring, out ioDuring);
            Assert.Greater(workersDuring, workersBefore - 8, "32 waiting leases must not take 32 pool threads");
            Assert.IsTrue(waits.All(w => !w.IsCompleted));

            Queue.AddItems(Enumerable.Range(0, 32).Select(i => new Item(Bytes("w" + i), "w" + i)));
            var ids = waits.Select(w => Wait.For(w, 10).Id).ToList();
            Assert.AreEqual(32, ids.Distinct().Count(), "each wait got its own item");
            Wait.Until(() => Calls.PendingCount == 0);
        }

        [Test]
        public void ContinuationsRunOffTheCallbackThread()
        {
            Queue.AddItem(new Item(Bytes("x")));
            // Executed synchronously by whoever completes the task: that must not be the dispatcher
            // (which would then wait for user code) nor a native runtime thread (where a synchronous
            // call is refused).
            var continuation = Queue.LeaseAsync(LeaseTime, false).ContinueWith(
                leased =>
                {
                    Assert.AreNotSame(Calls.DispatcherThread, Thread.CurrentThread);
                    return Queue.Complete(leased.Result);
                },
                TaskContinuationOptions.ExecuteSynchronously);
            Assert.IsTrue(Wait.For(continuation));
        }

        [Test]
        public void ManyConcurrentOperationsEachCompleteOnce()
        {
            var adds = Enumerable.Range(0, 500).Select(i => Queue.AddItemAsync(new Item(Bytes("n" + i), "n" + i))).ToArray();
            Assert.IsTrue(adds.All(a => Wait.For(a)));
            var leases = Enumerable.Range(0, 500).Select(_ => Queue.LeaseAsync(LeaseTime, false)).ToArray();
            var items = leases.Select(l => Wait.For(l)).ToArray();
            Assert.AreEqual(500, items.Select(i => i.Id).Distinct().Count());
            var completes = items.Select(i => Queue.CompleteAsync(i)).ToArray();
            Assert.IsTrue(completes.All(c => Wait.For(c)));
            Assert.AreEqual(0, Queue.Processing());
            Wait.Until(() => Calls.PendingCount == 0);
        }

        static CancellationToken GetToken(Task task)
        {
            try
            {
                task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException cancelled)
            {
                return cancelled.CancellationToken;
            }
            return CancellationToken.None;
        }
    }
}
