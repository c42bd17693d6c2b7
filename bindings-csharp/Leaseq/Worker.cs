using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Leaseq.Native;

namespace Leaseq
{
    /// <summary>How an item's run ended, as the <see cref="WorkerOptions.After"/> hook sees it (the core's <c>JobOutcome</c> variants).</summary>
    public enum JobOutcomeKind
    {
        /// <summary>The handler succeeded and the item was completed (see <see cref="JobOutcome.Completed"/>).</summary>
        Completed,
        /// <summary>The handler failed (or timed out) with <see cref="JobOutcome.Error"/>; the item was retried or buried.</summary>
        Failed,
        /// <summary>The worker shut down before the handler finished: the item went back to the queue.</summary>
        Released,
        /// <summary>The lease was lost (a renew failed): another worker may have the item.</summary>
        LeaseLost,
    }

    /// <summary>How an item's run ended, as the <see cref="WorkerOptions.After"/> hook sees it.</summary>
    public sealed class JobOutcome
    {
        /// <summary>An outcome of <paramref name="kind"/>; <paramref name="completed"/> and <paramref name="error"/> as the properties say.</summary>
        public JobOutcome(JobOutcomeKind kind, bool completed = false, string error = null)
        {
            Kind = kind;
            Completed = completed;
            Error = error;
        }

        /// <summary>Completed, Failed, Released or LeaseLost.</summary>
        public JobOutcomeKind Kind { get; }

        /// <summary>For <see cref="JobOutcomeKind.Completed"/>: <c>true</c> if this worker's <c>complete</c> was the one that completed the item.</summary>
        public bool Completed { get; }

        /// <summary>For <see cref="JobOutcomeKind.Failed"/>: the error the item was failed with; <c>null</c> otherwise.</summary>
        public string Error { get; }

        /// <inheritdoc />
        public override string ToString() => Kind == JobOutcomeKind.Completed ? "Completed(" + (Completed ? "true" : "false") + ")"
            : Kind == JobOutcomeKind.Failed ? "Failed(" + Error + ")" : Kind.ToString();

        internal static unsafe JobOutcome From(LeaseqWorkerEvent* raw)
        {
            // The native outcomes are in JobOutcomeKind's order.
            var kind = (JobOutcomeKind)(raw->outcome - NativeMethods.LEASEQ_JOB_COMPLETED);
            return new JobOutcome(kind, raw->completed != 0, kind == JobOutcomeKind.Failed ? Interop.Decode(raw->error, raw->error_len) : null);
        }
    }

    /// <summary>What a worker has done so far (the core's <c>WorkerCounters</c>).</summary>
    public sealed class WorkerCounters
    {
        internal WorkerCounters(LeaseqWorkerCounters raw)
        {
            Leased = checked((long)raw.leased);
            Completed = checked((long)raw.completed);
            Failed = checked((long)raw.failed);
            Retried = checked((long)raw.retried);
            Renewed = checked((long)raw.renewed);
            InFlight = checked((long)raw.in_flight);
        }

        /// <summary>Items leased.</summary>
        public long Leased { get; }

        /// <summary>Items completed (handler succeeded and <c>complete</c> returned true).</summary>
        public long Completed { get; }

        /// <summary>Handler failures and timeouts.</summary>
        public long Failed { get; }

        /// <summary>Failures that were scheduled for a retry (the rest went to the dead letters).</summary>
        public long Retried { get; }

        /// <summary>Successful lease renewals (heartbeats).</summary>
        public long Renewed { get; }

        /// <summary>Items held now: the handler running, or the complete on its way.</summary>
        public long InFlight { get; }

        /// <inheritdoc />
        public override string ToString() => "WorkerCounters(Leased=" + Leased + ", Completed=" + Completed + ", Failed=" + Failed
            + ", Retried=" + Retried + ", Renewed=" + Renewed + ", InFlight=" + InFlight + ")";
    }

    /// <summary>
    /// Runs a handler (or a handler per <see cref="Item.TypeName"/>) over a queue until stopped: the core's <c>Worker</c>,
    /// whose loop, routing, heartbeats, timeouts, cleans and shutdown are the same in every language.
    /// </summary>
    /// <remarks>
    /// Handlers run on the thread pool; a handler's token is cancelled when the core gives up on its item (job timeout,
    /// shutdown timeout, lost lease), after which its result no longer counts. Hooks run on the thread pool one at a time,
    /// in the core's order (an item's <see cref="WorkerOptions.Before"/> returns before its handler starts); an exception a
    /// hook throws is written to standard error. At process exit running workers are stopped and waited for.
    /// </remarks>
    public sealed class Worker : IDisposable
    {
        // Native code keeps a pointer to this for the life of the process: never collected.
        static readonly unsafe NativeMethods.leaseq_worker_new_callback_delegate EventCallback = OnEvent;
        // Running workers by key: what the events find, and what keeps a running worker from being collected.
        static readonly ConcurrentDictionary<ulong, Worker> Running = new ConcurrentDictionary<ulong, Worker>();
        static long lastKey;

        readonly ulong key = (ulong)Interlocked.Increment(ref lastKey);
        readonly WorkerHandle handle;
        // Stays valid while a run holds a reference on the handle, which is when jobs report.
        readonly IntPtr native;
        readonly Func<Item, CancellationToken, Task>[] handlers;
        readonly Action<Item> before;
        readonly Action<Item, JobOutcome> after;
        readonly TimeSpan shutdownTimeout;
        // Jobs the core awaits, to cancel on ABANDON. Its lock keeps a report from racing the end of the run (RunAsync).
        readonly Dictionary<ulong, CancellationTokenSource> jobs = new Dictionary<ulong, CancellationTokenSource>();
        // The hooks, and each job's start after its Before hook, chained in order (on the dispatcher thread only).
        Task hooks = Task.CompletedTask;
        int runs;

        static Worker()
        {
            Calls.EnsureStarted();
            Calls.StopWorkers = StopAllForExit;
        }

        /// <summary>A worker that runs <paramref name="handler"/> on every item of <paramref name="queue"/>.</summary>
        /// <param name="queue">The queue to work (the worker keeps its own reference to it).</param>
        /// <param name="handler">Its task succeeding completes the item; an exception fails it with the exception's message.</param>
        /// <param name="options"><c>null</c>: the defaults; read once, here.</param>
        /// <exception cref="ArgumentNullException"><paramref name="queue"/> or <paramref name="handler"/> is null.</exception>
        /// <exception cref="LeaseqArgumentException">The core refuses the options.</exception>
        public Worker(WorkQueue queue, Func<Item, CancellationToken, Task> handler, WorkerOptions options = null)
            : this(queue, new[] { new KeyValuePair<string, Func<Item, CancellationToken, Task>>(null, handler ?? throw new ArgumentNullException("handler")) }, false, options)
        {
        }

        /// <summary>
        /// A worker that routes each item by its <see cref="Item.TypeName"/> to the handler of that name (the core's
        /// <c>Router</c>: an untyped item or one of an unknown type is failed, and retried like any failure).
        /// </summary>
        /// <param name="queue">The queue to work (the worker keeps its own reference to it).</param>
        /// <param name="routes">A handler per type name, each as the single-handler constructor's; copied here.</param>
        /// <param name="options"><c>null</c>: the defaults; read once, here.</param>
        /// <exception cref="ArgumentNullException"><paramref name="queue"/> or <paramref name="routes"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="routes"/> has a null name or a null handler.</exception>
        /// <exception cref="LeaseqArgumentException">The core refuses the routes (none, an empty name, a name given twice) or
        /// the options, or a name is not valid UTF-16.</exception>
        public Worker(WorkQueue queue, IDictionary<string, Func<Item, CancellationToken, Task>> routes, WorkerOptions options = null)
            // Enumerated, not copied: an IDictionary need not implement CopyTo.
            : this(queue, (routes ?? throw new ArgumentNullException("routes")).Select(route => route).ToArray(), true, options)
        {
        }

        unsafe Worker(WorkQueue queue, KeyValuePair<string, Func<Item, CancellationToken, Task>>[] routes, bool byType, WorkerOptions options)
        {
            if (queue == null)
            {
                throw new ArgumentNullException("queue");
            }
            var bad = byType ? Array.FindIndex(routes, route => route.Key == null || route.Value == null) : -1;
            if (bad >= 0)
            {
                var name = routes[bad].Key;
                throw new ArgumentException(name == null ? "a type name in routes is null" : "the handler for type \"" + name + "\" is null", "routes");
            }
            options = options ?? new WorkerOptions();
            var raw = options.ToNative();
            LeaseqWorker* worker = null;
            LeaseqError* error = null;
            uint code;
            var names = byType ? routes.Select(route => route.Key) : new string[0];
            using (var args = new QueueArgs(fill => fill.Ids(names, "routes", "a type name")))
            using (var use = new HandleUse(queue.Handle))
            {
                code = NativeMethods.leaseq_worker_new((LeaseqQueue*)use.Pointer, key, EventCallback, byType, args.Raw.ids, args.Raw.count,
                    &raw, options.Before != null, options.After != null, &worker, &error);
            }
            Interop.Check(code, error);
            handle = new WorkerHandle((IntPtr)worker);
            native = (IntPtr)worker;
            handlers = routes.Select(route => route.Value).ToArray();
            before = options.Before;
            after = options.After;
            shutdownTimeout = options.ShutdownTimeout;
        }

        /// <summary>The counters so far.</summary>
        public unsafe WorkerCounters Counters
        {
            get
            {
                LeaseqWorkerCounters counters;
                LeaseqError* error = null;
                using (var use = new HandleUse(handle))
                {
                    Interop.Check(NativeMethods.leaseq_worker_counters((LeaseqWorker*)use.Pointer, &counters, &error), error);
                }
                return new WorkerCounters(counters);
            }
        }

        /// <summary>
        /// Runs until <see cref="Stop"/> or until <paramref name="cancellationToken"/> is cancelled (the same graceful stop);
        /// the task completes, successfully, once running handlers have finished or been released and every hook has run.
        /// </summary>
        /// <exception cref="LeaseqArgumentException">The worker is running already (in the task).</exception>
        /// <exception cref="ObjectDisposedException">The worker was disposed (in the task).</exception>
        public async Task RunAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            // The run's reference keeps the native worker alive for its jobs' reports, even through a Dispose.
            var use = new HandleUse(handle);
            lock (Running)
            {
                if (runs++ == 0)
                {
                    Running[key] = this;
                }
            }
            try
            {
                using (cancellationToken.Register(state => ((Worker)state).StopQuietly(), this))
                {
                    // Never cancelled through the token: aborting the native run would strand the items in flight.
                    await StartRun().ConfigureAwait(false);
                }
            }
            finally
            {
                // The run's last events came through the dispatcher before its end did: wait for their hooks.
                await Volatile.Read(ref hooks).ConfigureAwait(false);
                // Every job was reported or abandoned before the run ended, so none reports after this.
                lock (jobs)
                {
                    use.Dispose();
                }
                lock (Running)
                {
                    if (--runs == 0)
                    {
                        Running.TryRemove(key, out _);
                    }
                }
            }
        }

        unsafe Task StartRun() => Calls.Start(Readers.Nothing, CancellationToken.None,
            (index, error) => NativeMethods.leaseq_worker_run_async((LeaseqWorker*)native, index, error));

        /// <summary>Asks the worker to stop (see <see cref="RunAsync"/>); a stop before the run is kept.</summary>
        /// <exception cref="ObjectDisposedException">The worker was disposed.</exception>
        public unsafe void Stop()
        {
            using (var use = new HandleUse(handle))
            {
                NativeMethods.leaseq_worker_stop((LeaseqWorker*)use.Pointer);
            }
        }

        /// <summary>Stops the worker (as <see cref="Stop"/>) and frees its handle.</summary>
        public void Dispose()
        {
            StopQuietly();
            handle.Dispose();
        }

        void StopQuietly()
        {
            try
            {
                Stop();
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile: its run (if any) was stopped then.
            }
        }

        /// <summary>At process exit: stops every running worker and waits for their runs, each up to its shutdown timeout.</summary>
        static void StopAllForExit()
        {
            var workers = Running.Values.ToList();
            workers.ForEach(worker => worker.StopQuietly());
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2) + workers.Select(worker => worker.shutdownTimeout).DefaultIfEmpty().Max();
            while (!Running.IsEmpty && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
            }
        }

        // On the dispatcher thread: copy what the event says, hand user code to the thread pool, return.
        // Nothing may escape into native code.
        static unsafe void OnEvent(LeaseqWorkerEvent* raw)
        {
            Worker worker;
            if (!Running.TryGetValue(raw->worker, out worker))
            {
                return; // Not reached: a worker is running for as long as the core sends its events.
            }
            var job = raw->job;
            try
            {
                var item = raw->item == null ? null : Interop.ItemFrom(raw->item);
                switch (raw->kind)
                {
                    case NativeMethods.LEASEQ_WORKER_HANDLE:
                        var cancel = new CancellationTokenSource();
                        lock (worker.jobs)
                        {
                            worker.jobs[job] = cancel;
                        }
                        var route = raw->route;
                        WaitCallback start = _ => worker.RunJob(job, route, item, cancel.Token);
                        if (worker.before == null)
                        {
                            ThreadPool.UnsafeQueueUserWorkItem(start, null);
                        }
                        else
                        {
                            worker.Then("a job's start", () => ThreadPool.UnsafeQueueUserWorkItem(start, null));
                        }
                        break;
                    case NativeMethods.LEASEQ_WORKER_ABANDON:
                        lock (worker.jobs)
                        {
                            if (worker.jobs.TryGetValue(job, out cancel) && worker.jobs.Remove(job))
                            {
                                // Token callbacks are user code: not on the dispatcher thread.
                                Task.Run(() => Quietly("a worker handler's cancellation callback", cancel.Cancel));
                            }
                        }
                        break;
                    case NativeMethods.LEASEQ_WORKER_BEFORE:
                        worker.Then("the worker's Before hook", () => worker.before(item));
                        break;
                    case NativeMethods.LEASEQ_WORKER_AFTER:
                        var outcome = JobOutcome.From(raw);
                        worker.Then("the worker's After hook", () => worker.after(item, outcome));
                        break;
                }
            }
            catch (Exception exception)
            {
                worker.Report(job, "the .NET worker could not start the handler: " + exception.Message);
            }
        }

        /// <summary>Runs <paramref name="action"/> on the thread pool after everything chained before it.</summary>
        void Then(string what, Action action)
        {
            hooks = hooks.ContinueWith(_ => Quietly(what, action), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        static void Quietly(string what, Action action)
        {
            try
            {
                action();
            }
            catch (Exception exception)
            {
                Console.Error.WriteLine("leaseq: " + what + " threw: " + exception);
            }
        }

        /// <summary>On the thread pool: runs the handler and reports how its task ended.</summary>
        async Task RunJob(ulong job, uint route, Item item, CancellationToken token)
        {
            Task task = null;
            string error = null;
            try
            {
                task = handlers[route](item, token);
                await (task ?? Task.FromException(new InvalidOperationException("the handler returned null instead of a Task"))).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                error = task != null && task.IsCanceled ? "the handler's task was cancelled" : MessageOf(task != null && task.IsFaulted ? task.Exception : exception);
            }
            Report(job, error);
        }

        /// <summary>Tells the core how <paramref name="job"/> ended (<paramref name="error"/> null: it succeeded), if it still awaits it.</summary>
        unsafe void Report(ulong job, string error)
        {
            var bytes = Interop.EncodeLeniently(error ?? "");
            lock (jobs)
            {
                if (jobs.Remove(job))
                {
                    fixed (byte* start = bytes)
                    {
                        NativeMethods.leaseq_worker_job_done((LeaseqWorker*)native, job, error == null, start, Interop.Length(bytes));
                    }
                }
            }
        }

        /// <summary>The text <c>fail</c> records for an exception: its message (its type's name if it has none).</summary>
        static string MessageOf(Exception exception)
        {
            var aggregate = exception as AggregateException;
            exception = aggregate != null && aggregate.InnerExceptions.Count == 1 ? aggregate.InnerExceptions[0] : exception;
            return string.IsNullOrEmpty(exception.Message) ? exception.GetType().FullName : exception.Message;
        }
    }
}
