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

        internal static unsafe JobOutcome From(LeaseqWorkerEvent* raw)
        {
            switch (raw->outcome)
            {
                case NativeMethods.LEASEQ_JOB_COMPLETED:
                    return new JobOutcome(JobOutcomeKind.Completed, raw->completed != 0);
                case NativeMethods.LEASEQ_JOB_FAILED:
                    return new JobOutcome(JobOutcomeKind.Failed, false, Interop.Decode(raw->error, raw->error_len));
                case NativeMethods.LEASEQ_JOB_RELEASED:
                    return new JobOutcome(JobOutcomeKind.Released);
                default:
                    return new JobOutcome(JobOutcomeKind.LeaseLost);
            }
        }

        /// <inheritdoc />
        public override string ToString()
        {
            switch (Kind)
            {
                case JobOutcomeKind.Completed:
                    return "Completed(" + (Completed ? "true" : "false") + ")";
                case JobOutcomeKind.Failed:
                    return "Failed(" + Error + ")";
                default:
                    return Kind.ToString();
            }
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

        /// <summary>Items whose handler is running now.</summary>
        public long InFlight { get; }

        /// <inheritdoc />
        public override string ToString()
        {
            return "WorkerCounters(Leased=" + Leased + ", Completed=" + Completed + ", Failed=" + Failed + ", Retried=" + Retried
                + ", Renewed=" + Renewed + ", InFlight=" + InFlight + ")";
        }
    }

    /// <summary>
    /// Runs a handler (or, made with routes, a handler per <see cref="Item.TypeName"/>, routed by the core's
    /// <c>Router</c>) over a queue until stopped (the core's <c>Worker</c>): leases items (up to
    /// <see cref="WorkerOptions.Concurrency"/> at once), runs the handler on each, completes an item when the handler's
    /// task succeeds and calls <see cref="WorkQueue.Fail"/> with the exception's message when it throws, faults or times
    /// out. The lease of every running item is renewed before it expires (heartbeat), so a long job is never handed
    /// to a second worker. The loop, the heartbeats, the timeouts, the light cleans and the shutdown are the core's,
    /// the same in every language.
    /// </summary>
    /// <remarks>
    /// <para>The handler runs on the thread pool and holds no thread of the core while its task runs. Its
    /// <see cref="CancellationToken"/> is cancelled when the worker gives up on the item: its
    /// <see cref="WorkerOptions.JobTimeout"/> passed (the item is failed with a timeout), the worker stopped and its
    /// <see cref="WorkerOptions.ShutdownTimeout"/> passed (the item was released), or its lease was lost. A handler
    /// that ignores the token runs on, but its result no longer counts.</para>
    /// <para>The hooks run on the thread pool too, one at a time per worker and in the order the core calls them:
    /// an item's <see cref="WorkerOptions.Before"/> has returned before its handler starts. An exception a hook
    /// throws is written to standard error and otherwise ignored.</para>
    /// <para>As the process exits (<see cref="AppDomain.ProcessExit"/>), running workers are stopped and waited for
    /// (each up to its shutdown timeout), so their unfinished items go back to the queue at once.</para>
    /// </remarks>
    public sealed class Worker : IDisposable
    {
        // Native code keeps a pointer to this for the life of the process: never collected.
        static readonly unsafe NativeMethods.leaseq_worker_init_callback_delegate EventCallback = OnEvent;
        // Running workers by key: what the events find, and what keeps a running worker from being collected.
        static readonly ConcurrentDictionary<ulong, Worker> Running = new ConcurrentDictionary<ulong, Worker>();
        static readonly WaitCallback RunJob = state => ((Job)state).Run();
        static long lastKey;

        readonly WorkerHandle handle;
        readonly ulong key;
        // By route: the one handler, or the handler of each route name in the order given to the core.
        readonly Func<Item, CancellationToken, Task>[] handlers;
        readonly Action<Item> before;
        readonly Action<Item, JobOutcome> after;
        readonly TimeSpan shutdownTimeout;
        // Null without hooks: then each job goes straight to the thread pool.
        readonly Serial hooks;
        readonly ConcurrentDictionary<ulong, CancellationTokenSource> jobs = new ConcurrentDictionary<ulong, CancellationTokenSource>();
        Task run;
        int running;

        static unsafe Worker()
        {
            Calls.EnsureStarted();
            LeaseqError* error = null;
            Interop.Check(NativeMethods.leaseq_worker_init(EventCallback, &error), error);
            Calls.StopWorkers = StopAllForExit;
        }

        /// <summary>
        /// A worker for <paramref name="queue"/> that runs <paramref name="handler"/> on every item, with
        /// <paramref name="options"/> (<c>null</c>: the defaults). It does nothing until <see cref="RunAsync"/>.
        /// </summary>
        /// <param name="queue">The queue to work; the worker keeps its own reference to it (disposing the queue does not stop the worker).</param>
        /// <param name="handler">Runs one item: its task succeeding completes the item; an exception (thrown or in the task) fails it
        /// with the exception's message. The token is cancelled when the worker gives up on the item.</param>
        /// <param name="options">Concurrency, lease, timeouts, cleaning and hooks; read once, here.</param>
        /// <exception cref="ArgumentNullException"><paramref name="queue"/> or <paramref name="handler"/> is null.</exception>
        /// <exception cref="LeaseqArgumentException">The core refuses the options (a concurrency below 1, a lease duration
        /// that is not positive or over 365 days, a zero or negative timeout or clean interval).</exception>
        public Worker(WorkQueue queue, Func<Item, CancellationToken, Task> handler, WorkerOptions options = null)
            : this(queue, Routes.Single(handler), options)
        {
        }

        /// <summary>
        /// A worker for <paramref name="queue"/> that routes each item by its <see cref="Item.TypeName"/> (the string
        /// field <c>"type"</c> of its JSON data) to the handler of that name in <paramref name="routes"/>, with
        /// <paramref name="options"/> (<c>null</c>: the defaults). The routing is the core's <c>Router</c>: an item with
        /// no type, or of a type with no handler here, is failed with an error that says so and names the types this
        /// worker handles (<c>unknown item type "fax"; this worker handles: email, resize</c>), and retried like any
        /// failure, so a worker deployed later with that handler can still run it. It does nothing until
        /// <see cref="RunAsync"/>.
        /// </summary>
        /// <param name="queue">The queue to work; the worker keeps its own reference to it (disposing the queue does not stop the worker).</param>
        /// <param name="routes">A handler per type name, each as the single-handler constructor's <c>handler</c>; names match
        /// exactly (case-sensitive). Copied here: changing the dictionary later changes nothing.</param>
        /// <param name="options">Concurrency, lease, timeouts, cleaning and hooks; read once, here.</param>
        /// <exception cref="ArgumentNullException"><paramref name="queue"/> or <paramref name="routes"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="routes"/> is empty, or has a null name or a null handler.</exception>
        /// <exception cref="LeaseqArgumentException">The core refuses the options, or a name is not valid UTF-16.</exception>
        public Worker(WorkQueue queue, IDictionary<string, Func<Item, CancellationToken, Task>> routes, WorkerOptions options = null)
            : this(queue, Routes.From(routes), options)
        {
        }

        unsafe Worker(WorkQueue queue, Routes routes, WorkerOptions options)
        {
            if (queue == null)
            {
                throw new ArgumentNullException("queue");
            }
            options = options ?? new WorkerOptions();
            var raw = options.ToNative();
            key = (ulong)Interlocked.Increment(ref lastKey);
            LeaseqWorker* worker = null;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(queue.Handle))
            fixed (byte* names = routes.NameBytes)
            fixed (LeaseqStr* raws = routes.Raw(names))
            {
                code = NativeMethods.leaseq_worker_new((LeaseqQueue*)use.Pointer, key, raws, routes.Count, &raw, options.Before != null, options.After != null, &worker, &error);
            }
            Interop.Check(code, error);
            handle = new WorkerHandle((IntPtr)worker);
            handlers = routes.Handlers;
            before = options.Before;
            after = options.After;
            shutdownTimeout = options.ShutdownTimeout;
            if (before != null || after != null)
            {
                hooks = new Serial();
            }
        }

        /// <summary>The counters so far.</summary>
        public unsafe WorkerCounters Counters
        {
            get
            {
                LeaseqWorkerCounters counters;
                LeaseqError* error = null;
                uint code;
                using (var use = new HandleUse(handle))
                {
                    code = NativeMethods.leaseq_worker_counters((LeaseqWorker*)use.Pointer, &counters, &error);
                }
                Interop.Check(code, error);
                return new WorkerCounters(counters);
            }
        }

        /// <summary>
        /// Runs until <see cref="Stop"/> or until <paramref name="cancellationToken"/> is cancelled, which is the same
        /// graceful stop: the worker leases nothing more, lets running handlers finish within the shutdown timeout, and
        /// releases the rest back to the queue at once. The task completes (successfully, also after a cancellation)
        /// once that is done and every hook has run.
        ///
        /// Errors talking to Redis are retried after a short pause rather than ending the run. A stop asked for
        /// before <see cref="RunAsync"/> is kept (the run then returns at once); once a run's task has completed,
        /// the worker can run again.
        /// </summary>
        /// <exception cref="InvalidOperationException">The worker is running already (in the task).</exception>
        /// <exception cref="ObjectDisposedException">The worker was disposed (in the task).</exception>
        public unsafe Task RunAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            if (Interlocked.CompareExchange(ref running, 1, 0) != 0)
            {
                return Task.FromException(new InvalidOperationException("this worker is running already"));
            }
            Running[key] = this;
            // Never cancelled through the token: aborting the native run would strand the items in flight.
            var started = Calls.Start(Readers.Nothing, CancellationToken.None, (index, error) =>
            {
                using (var use = new HandleUse(handle))
                {
                    return NativeMethods.leaseq_worker_run_async((LeaseqWorker*)use.Pointer, index, error);
                }
            });
            var finished = Finish(started, cancellationToken);
            Volatile.Write(ref run, finished);
            return finished;
        }

        async Task Finish(Task started, CancellationToken cancellationToken)
        {
            try
            {
                using (cancellationToken.Register(state => ((Worker)state).StopQuietly(), this))
                {
                    await started.ConfigureAwait(false);
                }
            }
            finally
            {
                if (hooks != null)
                {
                    // The run's last events came through the dispatcher before its end did: wait for their hooks.
                    await hooks.Drained().ConfigureAwait(false);
                }
                Worker ignored;
                Running.TryRemove(key, out ignored);
                Volatile.Write(ref running, 0);
            }
        }

        /// <summary>
        /// Asks the worker to stop: it leases nothing more, lets running handlers finish within the shutdown timeout,
        /// and releases the rest. The task <see cref="RunAsync"/> returned completes once that is done. A stop before
        /// <see cref="RunAsync"/> is kept: the run then returns at once.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The worker was disposed.</exception>
        public unsafe void Stop()
        {
            using (var use = new HandleUse(handle))
            {
                NativeMethods.leaseq_worker_stop((LeaseqWorker*)use.Pointer);
            }
        }

        /// <summary>
        /// Stops the worker (as <see cref="Stop"/>: a run goes on until its handlers finish or are released) and frees
        /// its handle. A worker that is neither running nor disposed is freed by the finalizer.
        /// </summary>
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
            if (workers.Count == 0)
            {
                return;
            }
            foreach (var worker in workers)
            {
                worker.StopQuietly();
            }
            var runs = workers.Select(worker => Volatile.Read(ref worker.run)).Where(task => task != null).ToArray();
            var longest = workers.Max(worker => worker.shutdownTimeout);
            Task.WaitAny(new[] { Task.WhenAll(runs) }, longest + TimeSpan.FromSeconds(2));
        }

        // On the dispatcher thread: copy what the event says, hand the work to the thread pool, return.
        // Nothing may escape into native code.
        static unsafe void OnEvent(LeaseqWorkerEvent* raw)
        {
            var job = raw->job;
            var isJob = raw->kind == NativeMethods.LEASEQ_WORKER_HANDLE;
            try
            {
                Worker worker;
                if (!Running.TryGetValue(raw->worker, out worker))
                {
                    if (isJob)
                    {
                        Report(job, false, "the .NET worker for this item is not running");
                    }
                    return;
                }
                switch (raw->kind)
                {
                    case NativeMethods.LEASEQ_WORKER_HANDLE:
                        worker.Handle(job, raw->route, Interop.ItemFrom(raw->item));
                        break;
                    case NativeMethods.LEASEQ_WORKER_ABANDON:
                        worker.Abandon(job);
                        break;
                    case NativeMethods.LEASEQ_WORKER_BEFORE:
                        worker.Hook(Interop.ItemFrom(raw->item), null);
                        break;
                    case NativeMethods.LEASEQ_WORKER_AFTER:
                        worker.Hook(Interop.ItemFrom(raw->item), JobOutcome.From(raw));
                        break;
                }
            }
            catch (Exception exception)
            {
                if (isJob)
                {
                    try
                    {
                        Report(job, false, "the .NET worker could not start the handler: " + exception.Message);
                    }
                    catch (Exception)
                    {
                        // Nothing left to report to.
                    }
                }
            }
        }

        void Handle(ulong id, uint route, Item item)
        {
            if (route >= handlers.Length)
            {
                // Not reached: the core routes only to the routes this worker gave it.
                Report(id, false, "the .NET worker has no handler for route " + route);
                return;
            }
            // Registered here, on the dispatcher thread, before its ABANDON can come.
            var cancel = new CancellationTokenSource();
            jobs[id] = cancel;
            var job = new Job(this, id, handlers[route], item, cancel);
            if (hooks == null)
            {
                ThreadPool.UnsafeQueueUserWorkItem(RunJob, job);
            }
            else
            {
                // After the item's Before hook has run.
                hooks.Post(() => ThreadPool.UnsafeQueueUserWorkItem(RunJob, job));
            }
        }

        void Abandon(ulong id)
        {
            CancellationTokenSource cancel;
            if (jobs.TryRemove(id, out cancel))
            {
                // Token callbacks are user code: not on the dispatcher thread.
                ThreadPool.UnsafeQueueUserWorkItem(state =>
                {
                    try
                    {
                        ((CancellationTokenSource)state).Cancel();
                    }
                    catch (Exception exception)
                    {
                        Console.Error.WriteLine("leaseq: a worker handler's cancellation callback threw: " + exception);
                    }
                }, cancel);
            }
        }

        /// <summary>Runs the Before hook (<paramref name="outcome"/> null) or the After hook, in order, on the thread pool.</summary>
        void Hook(Item item, JobOutcome outcome)
        {
            if (hooks == null)
            {
                return;
            }
            hooks.Post(() =>
            {
                try
                {
                    if (outcome == null)
                    {
                        before?.Invoke(item);
                    }
                    else
                    {
                        after?.Invoke(item, outcome);
                    }
                }
                catch (Exception exception)
                {
                    Console.Error.WriteLine("leaseq: the worker's " + (outcome == null ? "Before" : "After") + " hook threw: " + exception);
                }
            });
        }

        /// <summary>Tells the core how job <paramref name="id"/> ended; false if it no longer waited for it.</summary>
        static unsafe bool Report(ulong id, bool ok, string message)
        {
            var bytes = ok ? new byte[0] : Interop.EncodeLeniently(message);
            fixed (byte* start = bytes)
            {
                return NativeMethods.leaseq_worker_job_done(id, ok, start, Interop.Length(bytes));
            }
        }

        /// <summary>The text <c>fail</c> records for an exception: its message (its type's name if it has none).</summary>
        static string MessageOf(Exception exception)
        {
            var aggregate = exception as AggregateException;
            if (aggregate != null && aggregate.InnerExceptions.Count == 1)
            {
                exception = aggregate.InnerExceptions[0];
            }
            return string.IsNullOrEmpty(exception.Message) ? exception.GetType().FullName : exception.Message;
        }

        /// <summary>One item handed to the handler.</summary>
        sealed class Job
        {
            static readonly Action<Task, object> Ended = (task, state) => ((Job)state).End(task);

            readonly Worker worker;
            readonly ulong id;
            readonly Func<Item, CancellationToken, Task> handler;
            readonly Item item;
            readonly CancellationTokenSource cancel;

            internal Job(Worker worker, ulong id, Func<Item, CancellationToken, Task> handler, Item item, CancellationTokenSource cancel)
            {
                this.worker = worker;
                this.id = id;
                this.handler = handler;
                this.item = item;
                this.cancel = cancel;
            }

            /// <summary>On the thread pool: starts the handler and reports when its task ends.</summary>
            internal void Run()
            {
                Task task;
                try
                {
                    task = handler(item, cancel.Token);
                }
                catch (Exception exception)
                {
                    Done(false, MessageOf(exception));
                    return;
                }
                if (task == null)
                {
                    Done(false, "the handler returned null instead of a Task");
                    return;
                }
                task.ContinueWith(Ended, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            void End(Task task)
            {
                if (task.IsFaulted)
                {
                    Done(false, MessageOf(task.Exception));
                }
                else if (task.IsCanceled)
                {
                    Done(false, "the handler's task was cancelled");
                }
                else
                {
                    Done(true, null);
                }
            }

            void Done(bool ok, string message)
            {
                CancellationTokenSource ignored;
                worker.jobs.TryRemove(id, out ignored);
                try
                {
                    Report(id, ok, message);
                }
                catch (Exception exception)
                {
                    Console.Error.WriteLine("leaseq: a worker could not report an item's end: " + exception);
                }
            }
        }
    }

    /// <summary>
    /// A worker's handlers and, with routes, their type names as UTF-8 for <c>leaseq_worker_new</c>, which builds the
    /// core's <c>Router</c> over them: route <c>i</c> is <c>Names[i]</c>, run by <c>Handlers[i]</c>.
    /// </summary>
    internal sealed class Routes
    {
        Routes(Func<Item, CancellationToken, Task>[] handlers, byte[][] names)
        {
            Handlers = handlers;
            Names = names;
            NameBytes = names.SelectMany(name => name).ToArray();
        }

        internal Func<Item, CancellationToken, Task>[] Handlers { get; }

        /// <summary>The type names (none without routes: the core then runs the one handler on every item).</summary>
        internal byte[][] Names { get; }

        /// <summary>The names, one after the other, to pin once.</summary>
        internal byte[] NameBytes { get; }

        internal UIntPtr Count
        {
            get { return (UIntPtr)(uint)Names.Length; }
        }

        internal static Routes Single(Func<Item, CancellationToken, Task> handler)
        {
            if (handler == null)
            {
                throw new ArgumentNullException("handler");
            }
            return new Routes(new[] { handler }, new byte[0][]);
        }

        internal static Routes From(IDictionary<string, Func<Item, CancellationToken, Task>> routes)
        {
            if (routes == null)
            {
                throw new ArgumentNullException("routes");
            }
            var handlers = new List<Func<Item, CancellationToken, Task>>();
            var names = new List<byte[]>();
            foreach (var route in routes)
            {
                if (route.Key == null)
                {
                    throw new ArgumentException("a type name in routes is null", "routes");
                }
                if (route.Value == null)
                {
                    throw new ArgumentException("the handler for type \"" + route.Key + "\" is null", "routes");
                }
                names.Add(Interop.Encode(route.Key, "the type name \"" + route.Key + "\""));
                handlers.Add(route.Value);
            }
            if (names.Count == 0)
            {
                throw new ArgumentException("routes is empty: give a handler for at least one type", "routes");
            }
            return new Routes(handlers.ToArray(), names.ToArray());
        }

        /// <summary>The native views of the names, pointing into <see cref="NameBytes"/> pinned at <paramref name="pinned"/>.</summary>
        internal unsafe LeaseqStr[] Raw(byte* pinned)
        {
            var raw = new LeaseqStr[Names.Length];
            var offset = 0;
            for (int i = 0; i < raw.Length; i++)
            {
                raw[i].bytes = pinned + offset;
                raw[i].len = Interop.Length(Names[i]);
                offset += Names[i].Length;
            }
            return raw;
        }
    }

    /// <summary>
    /// Runs actions one at a time, in the order posted, on the thread pool (a strand): a worker's hooks, and the
    /// start of each job after its Before hook.
    /// </summary>
    internal sealed class Serial
    {
        static readonly WaitCallback DrainCallback = state => ((Serial)state).Drain();
        readonly ConcurrentQueue<Action> actions = new ConcurrentQueue<Action>();
        int draining;

        internal void Post(Action action)
        {
            actions.Enqueue(action);
            if (Interlocked.CompareExchange(ref draining, 1, 0) == 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(DrainCallback, this);
            }
        }

        /// <summary>Completes once everything posted before it has run.</summary>
        internal Task Drained()
        {
            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            Post(() => done.TrySetResult(true));
            return done.Task;
        }

        void Drain()
        {
            while (true)
            {
                Action action;
                while (actions.TryDequeue(out action))
                {
                    // Every action posted catches its own exceptions.
                    action();
                }
                Volatile.Write(ref draining, 0);
                // Posted after the last TryDequeue but before the reset: that Post saw 1 and left it to us.
                if (actions.IsEmpty || Interlocked.CompareExchange(ref draining, 1, 0) != 0)
                {
                    return;
                }
            }
        }
    }
}
