using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Leaseq.Native;

namespace Leaseq
{
    /// <summary>Reads an operation's result out of the native value (borrowed: copy what is kept).</summary>
    internal unsafe delegate T Reader<T>(LeaseqValue* value);

    /// <summary>Starts one native <c>…_async</c> call with a callback index.</summary>
    internal unsafe delegate uint Starter(ulong index, LeaseqError** error);

    /// <summary>
    /// The async half of the binding (valkey-glide's C# pattern): each operation gets a callback index
    /// mapped to a <see cref="TaskCompletionSource{T}"/>; the native side runs the operation on the core's
    /// runtime and calls <see cref="OnSuccess"/> or <see cref="OnFailure"/> once for that index. No .NET
    /// thread waits for an operation.
    ///
    /// The callbacks run on one background thread of ours, inside <c>leaseq_dispatch</c>, rather than on
    /// the runtime's threads: Mono (before 6.12) would otherwise wait at exit for those foreign threads,
    /// which never end. At exit, <c>leaseq_dispatch_stop</c> lets ours end. Each callback copies its result and completes the task; continuations run on the
    /// thread pool, never on that thread.
    /// </summary>
    internal static unsafe class Calls
    {
        // Native code keeps pointers to these for the life of the process: never collected.
        static readonly NativeMethods.leaseq_init_success_delegate SuccessCallback = OnSuccess;
        static readonly NativeMethods.leaseq_init_failure_delegate FailureCallback = OnFailure;
        static readonly ConcurrentDictionary<ulong, Call> Pending = new ConcurrentDictionary<ulong, Call>();
        static long lastIndex;

        static readonly Thread Dispatcher;

        static Calls()
        {
            LeaseqError* error = null;
            Interop.Check(NativeMethods.leaseq_init(SuccessCallback, FailureCallback, &error), error);
            Dispatcher = new Thread(Dispatch) { IsBackground = true, Name = "leaseq callbacks" };
            Dispatcher.Start();
            // A thread blocked in native code cannot be aborted, and Mono waits for background
            // threads at exit (and at AppDomain unload): let ours return first.
            AppDomain.CurrentDomain.ProcessExit += StopDispatching;
            AppDomain.CurrentDomain.DomainUnload += StopDispatching;
        }

        /// <summary>
        /// Set by <see cref="Worker"/>: stops the running workers and waits for them (bounded) as the process exits,
        /// while the dispatcher still delivers their events and the ends of their runs.
        /// </summary>
        internal static Action StopWorkers;

        static void StopDispatching(object sender, EventArgs e)
        {
            var stopWorkers = Volatile.Read(ref StopWorkers);
            if (stopWorkers != null)
            {
                try
                {
                    stopWorkers();
                }
                catch (Exception)
                {
                    // The process is exiting: nothing left to report to.
                }
            }
            NativeMethods.leaseq_dispatch_stop();
            Dispatcher.Join(TimeSpan.FromSeconds(1));
        }

        /// <summary>Registers the callbacks and starts the dispatcher thread, if not done yet.</summary>
        internal static void EnsureStarted()
        {
            // Calling any static member runs the static constructor first.
        }

        /// <summary>The thread the callbacks run on (for tests).</summary>
        internal static Thread DispatcherThread
        {
            get { return Dispatcher; }
        }

        static void Dispatch()
        {
            LeaseqError* error = null;
            // Returns when StopDispatching asks it to, or at once if leaseq_init had failed.
            var code = NativeMethods.leaseq_dispatch(&error);
            if (code != 0)
            {
                Console.Error.WriteLine("leaseq: async operations cannot complete: " + Interop.Error(code, error).Message);
            }
        }

        /// <summary>Operations started and not yet completed (for tests).</summary>
        internal static int PendingCount
        {
            get { return Pending.Count; }
        }

        /// <summary>
        /// Runs <paramref name="start"/> with a fresh index and returns the task its callback completes.
        /// Every exception, including argument checks done inside <paramref name="start"/>, ends up in the task.
        /// </summary>
        internal static Task<T> Start<T>(Reader<T> reader, CancellationToken cancellationToken, Starter start)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return Task.FromCanceled<T>(cancellationToken);
            }
            var call = new Call<T>((ulong)Interlocked.Increment(ref lastIndex), reader, cancellationToken);
            Pending[call.Index] = call;
            uint code;
            LeaseqError* error = null;
            try
            {
                code = start(call.Index, &error);
            }
            catch (Exception exception)
            {
                Call ignored;
                Pending.TryRemove(call.Index, out ignored);
                return Task.FromException<T>(exception);
            }
            if (code != 0)
            {
                // Not started: no callback will come.
                Call ignored;
                Pending.TryRemove(call.Index, out ignored);
                return Task.FromException<T>(Interop.Error(code, error));
            }
            call.WatchCancellation();
            return call.Task;
        }

        // Both callbacks run on the dispatcher thread: they copy the result, complete the task (whose
        // continuations run elsewhere) and return. An exception must never escape into native code.
        static void OnSuccess(ulong index, LeaseqValue* value)
        {
            try
            {
                Call call;
                if (Pending.TryRemove(index, out call))
                {
                    call.Succeed(value);
                }
                else if (value->connection != null)
                {
                    NativeMethods.leaseq_connection_free(value->connection);
                }
            }
            catch (Exception)
            {
                // Nothing left to report to: the call's own exceptions are caught in Succeed.
            }
        }

        static void OnFailure(ulong index, uint kind, byte* message, UIntPtr messageLength)
        {
            try
            {
                Call call;
                if (!Pending.TryRemove(index, out call))
                {
                    return;
                }
                if (kind == NativeMethods.LEASEQ_CANCELLED)
                {
                    call.Cancelled();
                }
                else
                {
                    call.Fail(Errors.FromKind(kind, Interop.Decode(message, messageLength)));
                }
            }
            catch (Exception)
            {
                // As in OnSuccess.
            }
        }

        internal abstract class Call
        {
            internal readonly ulong Index;
            readonly CancellationToken token;
            CancellationTokenRegistration registration;
            bool finished;

            protected Call(ulong index, CancellationToken token)
            {
                Index = index;
                this.token = token;
            }

            internal abstract void Succeed(LeaseqValue* value);

            internal abstract void Fail(Exception exception);

            internal abstract void Cancelled();

            /// <summary>Cancelling the token asks the native side to stop; its callback completes the task.</summary>
            internal void WatchCancellation()
            {
                if (!token.CanBeCanceled)
                {
                    return;
                }
                var watching = token.Register(state => NativeMethods.leaseq_cancel(((Call)state).Index), this);
                lock (this)
                {
                    if (!finished)
                    {
                        registration = watching;
                        return;
                    }
                }
                watching.Dispose();
            }

            protected CancellationToken Token
            {
                get { return token; }
            }

            protected void Finish()
            {
                CancellationTokenRegistration watching;
                lock (this)
                {
                    finished = true;
                    watching = registration;
                }
                watching.Dispose();
            }
        }

        internal sealed class Call<T> : Call
        {
            // Continuations must not run on (and hold up) the dispatcher thread that completes the task.
            readonly TaskCompletionSource<T> source = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            readonly Reader<T> reader;

            internal Call(ulong index, Reader<T> reader, CancellationToken token) : base(index, token)
            {
                this.reader = reader;
            }

            internal Task<T> Task
            {
                get { return source.Task; }
            }

            internal override void Succeed(LeaseqValue* value)
            {
                Finish();
                try
                {
                    source.TrySetResult(reader(value));
                }
                catch (Exception exception)
                {
                    source.TrySetException(exception);
                }
            }

            internal override void Fail(Exception exception)
            {
                Finish();
                source.TrySetException(exception);
            }

            internal override void Cancelled()
            {
                Finish();
                source.TrySetCanceled(Token);
            }
        }
    }

    /// <summary>The readers of each kind of result, made once.</summary>
    internal static unsafe class Readers
    {
        internal static readonly Reader<bool> Nothing = value => true;
        internal static readonly Reader<bool> Flag = value => value->number != 0;
        internal static readonly Reader<long> Count = value => checked((long)value->number);
        internal static readonly Reader<CleanReport> Report = value => ReportFrom(value->report);
        internal static readonly Reader<Item> Leased = value => value->item == null ? null : Interop.ItemFrom(value->item);
        internal static readonly Reader<FailOutcome> Fail = value => FailOutcome.From(value->fail);
        internal static readonly Reader<IReadOnlyList<DeadItem>> Dead = value => Interop.DeadItemsFrom(value->dead_items);
        internal static readonly Reader<Connection> Opened =
            value => new Connection(new ConnectionHandle((IntPtr)value->connection));

        internal static CleanReport ReportFrom(LeaseqCleanReport report)
        {
            return new CleanReport(checked((long)report.requeued), checked((long)report.dropped), checked((long)report.dead));
        }
    }
}
