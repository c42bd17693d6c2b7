using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
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
        internal static readonly Reader<CleanReport> Report = value =>
            new CleanReport(checked((long)value->report.requeued), checked((long)value->report.dropped), checked((long)value->report.dead));
        internal static readonly Reader<Item> Leased = value => value->count == UIntPtr.Zero ? null : Interop.ItemFrom(value->items);
        internal static readonly Reader<IReadOnlyList<Item>> Items = value => Interop.ListFrom(value, i => Interop.ItemFrom(value->items + i));
        internal static readonly Reader<CompleteAndLeaseResult> CompletedAndLeased =
            value => new CompleteAndLeaseResult(value->number != 0, Items(value));
        internal static readonly Reader<bool[]> Flags = value => Interop.ListFrom(value, i => value->flags[i] != 0).ToArray();
        internal static readonly Reader<FailOutcome> Fail = value => FailOutcome.From(value->fail);
        internal static readonly Reader<IReadOnlyList<DeadItem>> Dead = value => Interop.ListFrom(value, i => Interop.DeadItemFrom(value->dead_items + i));
        internal static readonly Reader<List<string>> Strings =
            value => Interop.ListFrom(value, i => Interop.Decode(value->strings[i].bytes, value->strings[i].len));
        internal static readonly Reader<Connection> Opened =
            value => new Connection(new ConnectionHandle((IntPtr)value->connection));
    }

    /// <summary>
    /// One queue operation with its arguments, to run either way: <see cref="Run"/> blocks the calling thread in
    /// <c>leaseq_queue_call</c>; <see cref="Start"/> hands it to <c>leaseq_queue_start</c> and returns the task its
    /// callback completes (argument errors included). The same reader reads the result either way.
    /// </summary>
    internal unsafe struct QueueCall<T>
    {
        readonly QueueHandle queue;
        readonly uint op;
        readonly Reader<T> reader;
        readonly Action<QueueArgs> fill;

        internal QueueCall(QueueHandle queue, uint op, Reader<T> reader, Action<QueueArgs> fill)
        {
            this.queue = queue;
            this.op = op;
            this.reader = reader;
            this.fill = fill;
        }

        internal T Run()
        {
            var self = this;
            return Interop.ReadValue(reader, (value, error) =>
            {
                using (var args = new QueueArgs(self.fill))
                using (var use = new HandleUse(self.queue))
                {
                    var raw = args.Raw;
                    return NativeMethods.leaseq_queue_call((LeaseqQueue*)use.Pointer, self.op, &raw, value, error);
                }
            });
        }

        internal Task<T> Start(CancellationToken cancellationToken)
        {
            var self = this;
            return Calls.Start(reader, cancellationToken, (index, error) =>
            {
                using (var args = new QueueArgs(self.fill))
                using (var use = new HandleUse(self.queue))
                {
                    var raw = args.Raw;
                    return NativeMethods.leaseq_queue_start((LeaseqQueue*)use.Pointer, self.op, &raw, index, error);
                }
            });
        }
    }

    /// <summary>
    /// A queue operation's arguments laid out for one native call, the byte arrays they point to pinned until
    /// <see cref="Dispose"/> (the native side copies them before it returns). Each setter checks its arguments
    /// as the operation documents.
    /// </summary>
    internal sealed unsafe class QueueArgs : IDisposable
    {
        internal LeaseqArgs Raw;
        List<GCHandle> pins;

        internal QueueArgs(Action<QueueArgs> fill)
        {
            try
            {
                fill?.Invoke(this);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        /// <summary>The item to add: its id and data.</summary>
        internal void Item(Item item)
        {
            Id(item);
            Raw.item.data = Pin(item.Data);
            Raw.item.data_len = Interop.Length(item.Data);
        }

        /// <summary>The item acted on: its id and the fencing token of its delivery.</summary>
        internal void Id(Item item)
        {
            if (item == null)
            {
                throw new ArgumentNullException("item");
            }
            Raw.item.id = Pin(item.IdUtf8);
            Raw.item.id_len = Interop.Length(item.IdUtf8);
            // Only ever set from the core's u64, so never negative.
            Raw.item.fence = (ulong)item.Fence;
        }

        internal void ItemWith(Item item, AddOptions options)
        {
            Item(item);
            if (options == null)
            {
                throw new ArgumentNullException("options");
            }
            Raw.add = options.ToNative();
        }

        /// <summary>Items to add (ids and data), or to complete (<paramref name="withData"/> false: ids and fencing tokens).</summary>
        internal void Items(IEnumerable<Item> items, bool withData = true)
        {
            var list = ListOf(items, "items");
            var raw = new LeaseqItem[list.Count];
            for (int i = 0; i < raw.Length; i++)
            {
                raw[i].id = Pin(list[i].IdUtf8);
                raw[i].id_len = Interop.Length(list[i].IdUtf8);
                raw[i].data = withData ? Pin(list[i].Data) : null;
                raw[i].data_len = withData ? Interop.Length(list[i].Data) : UIntPtr.Zero;
                // Only ever set from the core's u64, so never negative.
                raw[i].fence = withData ? 0 : (ulong)list[i].Fence;
            }
            Raw.items = (LeaseqItem*)PinArray(raw);
            Raw.count = (UIntPtr)(uint)raw.Length;
        }

        /// <summary>Strings: ids (or a worker's route names, <paramref name="name"/> and <paramref name="what"/> saying so in errors).</summary>
        internal void Ids(IEnumerable<string> ids, string name = "ids", string what = "item id")
        {
            var list = ListOf(ids, name);
            var raw = new LeaseqStr[list.Count];
            for (int i = 0; i < raw.Length; i++)
            {
                var bytes = Interop.Encode(list[i], what);
                raw[i].bytes = Pin(bytes);
                raw[i].len = Interop.Length(bytes);
            }
            Raw.ids = (LeaseqStr*)PinArray(raw);
            Raw.count = (UIntPtr)(uint)raw.Length;
        }

        internal void Lease(TimeSpan leaseDuration, bool block, TimeSpan? timeout, int count = 1)
        {
            // A negative count becomes 0, which the core refuses with its own message.
            Raw.count = (UIntPtr)(uint)Math.Max(count, 0);
            Raw.lease_secs = Interop.Seconds(leaseDuration);
            Raw.block = Interop.Flag(block);
            Raw.has_timeout = Interop.Flag(timeout.HasValue);
            Raw.timeout_secs = Interop.Seconds(timeout.GetValueOrDefault());
        }

        internal void CompleteAndLease(Item item, TimeSpan leaseDuration, int count)
        {
            Id(item);
            Lease(leaseDuration, false, null, count);
        }

        internal void Renew(Item item, TimeSpan leaseDuration)
        {
            Id(item);
            Raw.lease_secs = Interop.Seconds(leaseDuration);
        }

        internal void Fail(Item item, string error, TimeSpan? retryAfter)
        {
            Id(item);
            if (error == null)
            {
                throw new ArgumentNullException("error");
            }
            var message = Interop.Encode(error, "error");
            Raw.message.bytes = Pin(message);
            Raw.message.len = Interop.Length(message);
            Raw.has_retry_after = Interop.Flag(retryAfter.HasValue);
            Raw.retry_after_secs = Interop.Seconds(retryAfter.GetValueOrDefault());
        }

        internal void Page(long offset, long count)
        {
            if (offset < 0)
            {
                throw new LeaseqArgumentException("offset must not be negative, got " + offset);
            }
            Raw.offset = (ulong)offset;
            // As in Lease.
            Raw.count = (UIntPtr)(count < 0 ? 0 : (ulong)Math.Min(count, uint.MaxValue));
        }

        /// <summary>The list of <paramref name="name"/>, none of them null.</summary>
        static List<TItem> ListOf<TItem>(IEnumerable<TItem> items, string name) where TItem : class
        {
            if (items == null)
            {
                throw new ArgumentNullException(name);
            }
            var list = new List<TItem>(items);
            var missing = list.IndexOf(null);
            if (missing >= 0)
            {
                throw new ArgumentNullException(name, name + "[" + missing + "] is null");
            }
            return list;
        }

        byte* Pin(byte[] bytes)
        {
            return (byte*)PinArray(bytes);
        }

        IntPtr PinArray(object array)
        {
            var pin = GCHandle.Alloc(array, GCHandleType.Pinned);
            (pins ?? (pins = new List<GCHandle>())).Add(pin);
            return pin.AddrOfPinnedObject();
        }

        public void Dispose()
        {
            if (pins != null)
            {
                pins.ForEach(pin => pin.Free());
                pins = null;
            }
        }
    }
}
