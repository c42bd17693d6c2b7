using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Leaseq.Native;

namespace Leaseq
{
    /// <summary>
    /// A work queue: the keys under one prefix, reached through a shared <see cref="Connection"/>.
    ///
    /// Each <see cref="WorkQueue"/> gets a fresh session id, written into the leases it takes. Safe to
    /// share between threads. Every operation has a synchronous form, which blocks the calling thread,
    /// and an <c>…Async</c> form, which runs on the core's runtime and completes its task from there
    /// (no .NET thread waits). Argument errors of an <c>…Async</c> form are reported through its task.
    /// </summary>
    public sealed class WorkQueue : IDisposable
    {
        readonly QueueHandle handle;
        readonly QueueOptions options;

        /// <summary>
        /// A queue whose keys start with <paramref name="name"/> (the key prefix, e.g. <c>"jobs"</c> or
        /// <c>"{jobs}"</c>), with the default <see cref="QueueOptions"/>.
        /// </summary>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="LeaseqArgumentException"><paramref name="name"/> is empty.</exception>
        public WorkQueue(Connection connection, string name) : this(connection, name, null)
        {
        }

        /// <summary>
        /// A queue with retry and uniqueness <paramref name="options"/> other than the defaults (<c>null</c>: the
        /// defaults). Every process working a queue should use the same options.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="connection"/> or <paramref name="name"/> is null.</exception>
        /// <exception cref="LeaseqArgumentException"><paramref name="name"/> is empty, or the core refuses the
        /// options (<see cref="QueueOptions.MaxAttempts"/> below 1, <see cref="QueueOptions.BackoffMax"/> shorter than
        /// <see cref="QueueOptions.BackoffBase"/>, a negative <see cref="QueueOptions.WaitReplicas"/>, a zero
        /// <see cref="QueueOptions.WaitTimeout"/> with replicas to wait for, a negative duration, one over 365
        /// days).</exception>
        public unsafe WorkQueue(Connection connection, string name, QueueOptions options)
        {
            if (connection == null)
            {
                throw new ArgumentNullException("connection");
            }
            if (name == null)
            {
                throw new ArgumentNullException("name");
            }
            var nameBytes = Interop.Encode(name, "queue name");
            options = options == null ? new QueueOptions() : options.Copy();
            var raw = options.ToNative();
            LeaseqQueue* queue = null;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(connection.Handle))
            fixed (byte* nameStart = nameBytes)
            {
                code = NativeMethods.leaseq_queue_new_with_options((LeaseqConnection*)use.Pointer, nameStart, Interop.Length(nameBytes), &raw, &queue, &error);
            }
            Interop.Check(code, error);
            handle = new QueueHandle((IntPtr)queue);
            Name = name;
            this.options = options;
        }

        internal QueueHandle Handle
        {
            get { return handle; }
        }

        /// <summary>The key prefix this queue was made with.</summary>
        public string Name { get; }

        /// <summary>The options this queue was made with (a copy: changing it changes nothing).</summary>
        public QueueOptions Options
        {
            get { return options.Copy(); }
        }

        /// <summary>
        /// Adds an item. Returns <c>false</c>, changing nothing, if an item with this id already exists
        /// (or was completed within the queue's uniqueness window).
        ///
        /// One round trip (<c>add-3.lua</c>).
        /// </summary>
        public unsafe bool AddItem(Item item)
        {
            var id = IdOf(item);
            var data = item.Data;
            bool added;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            fixed (byte* idStart = id)
            fixed (byte* dataStart = data)
            {
                code = NativeMethods.leaseq_queue_add_item(Queue(use), idStart, Interop.Length(id), dataStart, Interop.Length(data), &added, &error);
            }
            Interop.Check(code, error);
            return added;
        }

        /// <summary><see cref="AddItem"/>, asynchronously.</summary>
        public unsafe Task<bool> AddItemAsync(Item item, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Flag, cancellationToken, (index, error) =>
            {
                var id = IdOf(item);
                using (var use = new HandleUse(handle))
                fixed (byte* idStart = id)
                fixed (byte* dataStart = item.Data)
                {
                    return NativeMethods.leaseq_queue_add_item_async(Queue(use), index, idStart, Interop.Length(id), dataStart, Interop.Length(item.Data), error);
                }
            });
        }

        /// <summary>
        /// Adds an item whose id the caller knows is new, skipping the existence check.
        ///
        /// If the id did exist, its data is replaced and it is queued again. One round trip.
        /// </summary>
        public unsafe void AddUniqueItem(Item item)
        {
            var id = IdOf(item);
            var data = item.Data;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            fixed (byte* idStart = id)
            fixed (byte* dataStart = data)
            {
                code = NativeMethods.leaseq_queue_add_unique_item(Queue(use), idStart, Interop.Length(id), dataStart, Interop.Length(data), &error);
            }
            Interop.Check(code, error);
        }

        /// <summary><see cref="AddUniqueItem"/>, asynchronously.</summary>
        public unsafe Task AddUniqueItemAsync(Item item, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Nothing, cancellationToken, (index, error) =>
            {
                var id = IdOf(item);
                using (var use = new HandleUse(handle))
                fixed (byte* idStart = id)
                fixed (byte* dataStart = item.Data)
                {
                    return NativeMethods.leaseq_queue_add_unique_item_async(Queue(use), index, idStart, Interop.Length(id), dataStart, Interop.Length(item.Data), error);
                }
            });
        }

        /// <summary>
        /// Adds a batch of items atomically, in one round trip; each is added unless its id exists.
        ///
        /// Returns how many were added. The batch as a whole must stay under 512 MB.
        /// </summary>
        public unsafe long AddItems(IEnumerable<Item> items)
        {
            ulong added;
            LeaseqError* error = null;
            uint code;
            using (var pinned = new PinnedItems(items))
            using (var use = new HandleUse(handle))
            fixed (LeaseqItem* raw = pinned.Raw)
            {
                code = NativeMethods.leaseq_queue_add_items(Queue(use), raw, pinned.Count, &added, &error);
            }
            Interop.Check(code, error);
            return checked((long)added);
        }

        /// <summary><see cref="AddItems"/>, asynchronously.</summary>
        public unsafe Task<long> AddItemsAsync(IEnumerable<Item> items, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Count, cancellationToken, (index, error) =>
            {
                using (var pinned = new PinnedItems(items))
                using (var use = new HandleUse(handle))
                fixed (LeaseqItem* raw = pinned.Raw)
                {
                    return NativeMethods.leaseq_queue_add_items_async(Queue(use), index, raw, pinned.Count, error);
                }
            });
        }

        /// <summary>
        /// Adds an item at a priority level, and/or not leasable before a delay or a time.
        ///
        /// Returns <c>false</c>, changing nothing, if the id exists (or was completed within the uniqueness window).
        /// Delayed items become leasable when due, in due order, moved by the lease operation itself: no scheduler
        /// process is needed. One round trip (<c>add-scheduled-7.lua</c>).
        /// </summary>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="LeaseqArgumentException">The priority is outside 0 to <see cref="AddOptions.MaxPriority"/>,
        /// both <see cref="AddOptions.Delay"/> and <see cref="AddOptions.At"/> are given, the delay is negative, or
        /// the time is before 1970.</exception>
        public unsafe bool AddItemWith(Item item, AddOptions options)
        {
            var id = IdOf(item);
            var data = item.Data;
            var raw = OptionsOf(options);
            bool added;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            fixed (byte* idStart = id)
            fixed (byte* dataStart = data)
            {
                code = NativeMethods.leaseq_queue_add_item_with(Queue(use), idStart, Interop.Length(id), dataStart, Interop.Length(data), &raw, &added, &error);
            }
            Interop.Check(code, error);
            return added;
        }

        /// <summary><see cref="AddItemWith"/>, asynchronously.</summary>
        public unsafe Task<bool> AddItemWithAsync(Item item, AddOptions options, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Flag, cancellationToken, (index, error) =>
            {
                var id = IdOf(item);
                var raw = OptionsOf(options);
                using (var use = new HandleUse(handle))
                fixed (byte* idStart = id)
                fixed (byte* dataStart = item.Data)
                {
                    return NativeMethods.leaseq_queue_add_item_with_async(Queue(use), index, idStart, Interop.Length(id), dataStart, Interop.Length(item.Data), &raw, error);
                }
            });
        }

        /// <summary>
        /// Leases the next item for <paramref name="leaseDuration"/>, or returns <c>null</c>.
        ///
        /// Takes the highest priority level that has an item, oldest first; delayed items join when due.
        /// With <paramref name="block"/> false, returns at once. With <paramref name="block"/> true, waits until
        /// an item can be leased, or until <paramref name="timeout"/> has passed (<c>null</c> waits for ever);
        /// durations keep millisecond precision. Complete the item with <see cref="Complete"/> (or <see cref="Fail"/>)
        /// before the lease ends, or extend it with <see cref="Renew"/>; an expired lease counts as a failed
        /// attempt and the item goes back to the queue. A paused queue leases nothing.
        ///
        /// One round trip when an item is there (<c>lease-15.lua</c>), which also reclaims up to 10 expired
        /// leases and moves up to 100 due items, so no cleaner or scheduler process is needed. A blocking lease
        /// on an empty queue waits on connections of its own with <c>BLMOVE</c>s that move nothing; it wakes
        /// within milliseconds of an add, a due delayed item or a resume. Cancelling <see cref="LeaseAsync"/>
        /// while it waits loses nothing, and closing the connection ends the wait with a connection error.
        /// </summary>
        /// <remarks>
        /// A blocking call holds its thread until it returns, and on Mono a thread blocked in native code
        /// holds up process exit too: give it a <paramref name="timeout"/>, or use <see cref="LeaseAsync"/>,
        /// which holds no thread and can be cancelled.
        /// </remarks>
        /// <exception cref="LeaseqArgumentException">The lease duration is not positive or over 365 days, or the timeout is negative.</exception>
        public unsafe Item Lease(TimeSpan leaseDuration, bool block = true, TimeSpan? timeout = null)
        {
            LeaseqItem* leased = null;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            {
                code = NativeMethods.leaseq_queue_lease(Queue(use), leaseDuration.TotalSeconds, block, timeout.HasValue, timeout.GetValueOrDefault().TotalSeconds, &leased, &error);
            }
            Interop.Check(code, error);
            if (leased == null)
            {
                return null;
            }
            try
            {
                return Interop.ItemFrom(leased);
            }
            finally
            {
                NativeMethods.leaseq_item_free(leased);
            }
        }

        /// <summary>
        /// <see cref="Lease"/>, asynchronously. Cancelling <paramref name="cancellationToken"/> stops a blocking
        /// wait (the task is then cancelled) without losing any item.
        /// </summary>
        public unsafe Task<Item> LeaseAsync(TimeSpan leaseDuration, bool block = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Leased, cancellationToken, (index, error) =>
            {
                using (var use = new HandleUse(handle))
                {
                    return NativeMethods.leaseq_queue_lease_async(Queue(use), index, leaseDuration.TotalSeconds, block, timeout.HasValue, timeout.GetValueOrDefault().TotalSeconds, error);
                }
            });
        }

        /// <summary>
        /// Extends the lease on <paramref name="item"/> to <paramref name="leaseDuration"/> from now, only while
        /// this session still holds it. Returns <c>false</c> (changing nothing) if the lease expired, the item
        /// was completed, or another session holds it. One round trip (<c>renew-3.lua</c>).
        /// </summary>
        /// <exception cref="LeaseLostException">With <see cref="QueueOptions.Fencing"/>: <paramref name="item"/> is
        /// from a superseded delivery (the item was leased again since); nothing changed.</exception>
        public unsafe bool Renew(Item item, TimeSpan leaseDuration)
        {
            var id = IdOf(item);
            bool renewed;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            fixed (byte* idStart = id)
            {
                code = NativeMethods.leaseq_queue_renew(Queue(use), idStart, Interop.Length(id), FenceOf(item), leaseDuration.TotalSeconds, &renewed, &error);
            }
            Interop.Check(code, error);
            return renewed;
        }

        /// <summary><see cref="Renew"/>, asynchronously.</summary>
        public unsafe Task<bool> RenewAsync(Item item, TimeSpan leaseDuration, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Flag, cancellationToken, (index, error) =>
            {
                var id = IdOf(item);
                using (var use = new HandleUse(handle))
                fixed (byte* idStart = id)
                {
                    return NativeMethods.leaseq_queue_renew_async(Queue(use), index, idStart, Interop.Length(id), FenceOf(item), leaseDuration.TotalSeconds, error);
                }
            });
        }

        /// <summary>
        /// Marks <paramref name="item"/> done and removes it from the queue for good.
        ///
        /// Returns <c>true</c> for exactly one call per item, the one that deleted its data; every other call
        /// (a second worker that got the item after a lease expired, a repeated call) gets <c>false</c>.
        /// Completing after the lease was lost still counts if nobody completed it first.
        /// One round trip (<c>complete-15.lua</c>).
        /// </summary>
        /// <exception cref="LeaseLostException">With <see cref="QueueOptions.Fencing"/>: <paramref name="item"/> is
        /// from a superseded delivery (the item was leased again since); nothing changed.</exception>
        public unsafe bool Complete(Item item)
        {
            var id = IdOf(item);
            bool completed;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            fixed (byte* idStart = id)
            {
                code = NativeMethods.leaseq_queue_complete(Queue(use), idStart, Interop.Length(id), FenceOf(item), &completed, &error);
            }
            Interop.Check(code, error);
            return completed;
        }

        /// <summary><see cref="Complete"/>, asynchronously.</summary>
        public unsafe Task<bool> CompleteAsync(Item item, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Flag, cancellationToken, (index, error) =>
            {
                var id = IdOf(item);
                using (var use = new HandleUse(handle))
                fixed (byte* idStart = id)
                {
                    return NativeMethods.leaseq_queue_complete_async(Queue(use), index, idStart, Interop.Length(id), FenceOf(item), error);
                }
            });
        }

        /// <summary>
        /// Ends the lease on <paramref name="item"/> with a failure: it is retried after <paramref name="retryAfter"/>,
        /// or after the queue's exponential backoff with jitter when <c>null</c>, until its attempts reach the queue's
        /// <see cref="QueueOptions.MaxAttempts"/>; then it moves to the dead letters, keeping its data, attempts and
        /// <paramref name="error"/>.
        ///
        /// One round trip (<c>fail-14.lua</c>).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="item"/> or <paramref name="error"/> is null.</exception>
        /// <exception cref="LeaseqArgumentException"><paramref name="retryAfter"/> is negative.</exception>
        /// <exception cref="LeaseLostException">This session no longer holds the item (its lease expired and it was
        /// requeued or leased by another worker), or, with <see cref="QueueOptions.Fencing"/>,
        /// <paramref name="item"/> is from a superseded delivery; nothing changed.</exception>
        public unsafe FailOutcome Fail(Item item, string error, TimeSpan? retryAfter = null)
        {
            var id = IdOf(item);
            var message = ErrorOf(error);
            LeaseqFailOutcome outcome;
            LeaseqError* failure = null;
            uint code;
            using (var use = new HandleUse(handle))
            fixed (byte* idStart = id)
            fixed (byte* messageStart = message)
            {
                code = NativeMethods.leaseq_queue_fail(Queue(use), idStart, Interop.Length(id), FenceOf(item), messageStart, Interop.Length(message),
                    retryAfter.HasValue, Interop.Seconds(retryAfter.GetValueOrDefault()), &outcome, &failure);
            }
            Interop.Check(code, failure);
            return FailOutcome.From(outcome);
        }

        /// <summary><see cref="Fail"/>, asynchronously.</summary>
        public unsafe Task<FailOutcome> FailAsync(Item item, string error, TimeSpan? retryAfter = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Fail, cancellationToken, (index, failure) =>
            {
                var id = IdOf(item);
                var message = ErrorOf(error);
                using (var use = new HandleUse(handle))
                fixed (byte* idStart = id)
                fixed (byte* messageStart = message)
                {
                    return NativeMethods.leaseq_queue_fail_async(Queue(use), index, idStart, Interop.Length(id), FenceOf(item), messageStart, Interop.Length(message),
                        retryAfter.HasValue, Interop.Seconds(retryAfter.GetValueOrDefault()), failure);
                }
            });
        }

        /// <summary>
        /// Gives a leased item back at once, first in line at its level, without counting the attempt: for work this
        /// worker will not do (it is shutting down). Returns <c>false</c> if this session no longer holds the item.
        /// One round trip (<c>release-10.lua</c>).
        /// </summary>
        /// <exception cref="LeaseLostException">With <see cref="QueueOptions.Fencing"/>: <paramref name="item"/> is
        /// from a superseded delivery (the item was leased again since); nothing changed.</exception>
        public unsafe bool Release(Item item)
        {
            var id = IdOf(item);
            bool released;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            fixed (byte* idStart = id)
            {
                code = NativeMethods.leaseq_queue_release(Queue(use), idStart, Interop.Length(id), FenceOf(item), &released, &error);
            }
            Interop.Check(code, error);
            return released;
        }

        /// <summary><see cref="Release"/>, asynchronously.</summary>
        public unsafe Task<bool> ReleaseAsync(Item item, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Flag, cancellationToken, (index, error) =>
            {
                var id = IdOf(item);
                using (var use = new HandleUse(handle))
                fixed (byte* idStart = id)
                {
                    return NativeMethods.leaseq_queue_release_async(Queue(use), index, idStart, Interop.Length(id), FenceOf(item), error);
                }
            });
        }

        /// <summary>
        /// Returns to the queue every leased item whose lease has expired (or, on its last attempt, moves it to
        /// the dead letters), and drops ids in processing whose item no longer exists.
        ///
        /// Leases taken by either key generation (<c>lease:</c> and the older <c>leased_by_session:</c>) count
        /// as live. Ids left in the old generation's <c>cleaning</c> list are finished. Runs as a series of short
        /// scripts (<c>light-clean-12.lua</c>), one per 200 leased ids, so Redis is never blocked for long; safe
        /// to run while workers lease and complete.
        /// </summary>
        public unsafe CleanReport LightClean()
        {
            LeaseqCleanReport report;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            {
                code = NativeMethods.leaseq_queue_light_clean(Queue(use), &report, &error);
            }
            Interop.Check(code, error);
            return Readers.ReportFrom(report);
        }

        /// <summary><see cref="LightClean"/>, asynchronously.</summary>
        public unsafe Task<CleanReport> LightCleanAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Report, cancellationToken, (index, error) =>
            {
                using (var use = new HandleUse(handle))
                {
                    return NativeMethods.leaseq_queue_light_clean_async(Queue(use), index, error);
                }
            });
        }

        /// <summary>
        /// A light clean, then requeues every item that exists but is in no list or set and holds no lease (left
        /// so by a crashed client of an older generation, or by hand), and drops bookkeeping (attempts, errors,
        /// priorities, deadlines, dead letters) of items that are gone.
        ///
        /// Walks the item keys with <c>SCAN</c> in batches (never <c>KEYS</c>), compares them against a
        /// snapshot of the lists, and checks each miss atomically (<c>clean-orphan-9.lua</c>) before requeueing
        /// it. Its cost grows with the number of items, so run it rarely (at start-up, or hourly), not per job.
        /// </summary>
        public unsafe CleanReport DeepClean()
        {
            LeaseqCleanReport report;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            {
                code = NativeMethods.leaseq_queue_deep_clean(Queue(use), &report, &error);
            }
            Interop.Check(code, error);
            return Readers.ReportFrom(report);
        }

        /// <summary><see cref="DeepClean"/>, asynchronously.</summary>
        public unsafe Task<CleanReport> DeepCleanAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Report, cancellationToken, (index, error) =>
            {
                using (var use = new HandleUse(handle))
                {
                    return NativeMethods.leaseq_queue_deep_clean_async(Queue(use), index, error);
                }
            });
        }

        /// <summary>The number of items waiting to be leased (not counting those being processed).</summary>
        public unsafe long QueueLength()
        {
            ulong length;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            {
                code = NativeMethods.leaseq_queue_len(Queue(use), &length, &error);
            }
            Interop.Check(code, error);
            return checked((long)length);
        }

        /// <summary><see cref="QueueLength"/>, asynchronously.</summary>
        public unsafe Task<long> QueueLengthAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Count, cancellationToken, (index, error) =>
            {
                using (var use = new HandleUse(handle))
                {
                    return NativeMethods.leaseq_queue_len_async(Queue(use), index, error);
                }
            });
        }

        /// <summary>The number of items currently leased (being processed, or waiting for a clean).</summary>
        public unsafe long Processing()
        {
            ulong count;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            {
                code = NativeMethods.leaseq_queue_processing(Queue(use), &count, &error);
            }
            Interop.Check(code, error);
            return checked((long)count);
        }

        /// <summary><see cref="Processing"/>, asynchronously.</summary>
        public unsafe Task<long> ProcessingAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Count, cancellationToken, (index, error) =>
            {
                using (var use = new HandleUse(handle))
                {
                    return NativeMethods.leaseq_queue_processing_async(Queue(use), index, error);
                }
            });
        }

        /// <summary>The number of items waiting at a priority above the default.</summary>
        public long PrioritizedLength()
        {
            return Count(NativePrioritizedLength);
        }

        /// <summary><see cref="PrioritizedLength"/>, asynchronously.</summary>
        public Task<long> PrioritizedLengthAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start(Readers.Count, cancellationToken, NativePrioritizedLengthAsync);
        }

        /// <summary>The number of items added with a delay (or scheduled) or waiting to be retried, not yet due.</summary>
        public long DelayedLength()
        {
            return Count(NativeDelayedLength);
        }

        /// <summary><see cref="DelayedLength"/>, asynchronously.</summary>
        public Task<long> DelayedLengthAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start(Readers.Count, cancellationToken, NativeDelayedLengthAsync);
        }

        /// <summary>The number of items in the dead letters.</summary>
        public long DeadLength()
        {
            return Count(NativeDeadLength);
        }

        /// <summary><see cref="DeadLength"/>, asynchronously.</summary>
        public Task<long> DeadLengthAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start(Readers.Count, cancellationToken, NativeDeadLengthAsync);
        }

        /// <summary>
        /// A page of dead letters, oldest death first: <paramref name="count"/> (at most 1000) from
        /// <paramref name="offset"/>. One round trip (<c>dead-items-4.lua</c>).
        /// </summary>
        /// <exception cref="LeaseqArgumentException"><paramref name="count"/> is not between 1 and 1000, or
        /// <paramref name="offset"/> is negative.</exception>
        public unsafe IReadOnlyList<DeadItem> DeadItems(long offset, long count)
        {
            var start = OffsetOf(offset);
            LeaseqDeadItems* page = null;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            {
                code = NativeMethods.leaseq_queue_dead_items(Queue(use), start, PageSizeOf(count), &page, &error);
            }
            Interop.Check(code, error);
            try
            {
                return Interop.DeadItemsFrom(page);
            }
            finally
            {
                NativeMethods.leaseq_dead_items_free(page);
            }
        }

        /// <summary><see cref="DeadItems"/>, asynchronously.</summary>
        public unsafe Task<IReadOnlyList<DeadItem>> DeadItemsAsync(long offset, long count, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Dead, cancellationToken, (index, error) =>
            {
                var start = OffsetOf(offset);
                using (var use = new HandleUse(handle))
                {
                    return NativeMethods.leaseq_queue_dead_items_async(Queue(use), index, start, PageSizeOf(count), error);
                }
            });
        }

        /// <summary>
        /// Puts dead items back in the queue at their priority with their attempts reset; returns how many were dead.
        /// One round trip per 1000 ids (<c>requeue-dead-6.lua</c>).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="ids"/> or one of them is null.</exception>
        public unsafe long RequeueDead(IEnumerable<string> ids)
        {
            ulong count;
            LeaseqError* error = null;
            uint code;
            using (var pinned = new PinnedIds(ids))
            using (var use = new HandleUse(handle))
            fixed (LeaseqStr* raw = pinned.Raw)
            {
                code = NativeMethods.leaseq_queue_requeue_dead(Queue(use), raw, pinned.Count, &count, &error);
            }
            Interop.Check(code, error);
            return checked((long)count);
        }

        /// <summary><see cref="RequeueDead"/>, asynchronously.</summary>
        public unsafe Task<long> RequeueDeadAsync(IEnumerable<string> ids, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Count, cancellationToken, (index, error) =>
            {
                using (var pinned = new PinnedIds(ids))
                using (var use = new HandleUse(handle))
                fixed (LeaseqStr* raw = pinned.Raw)
                {
                    return NativeMethods.leaseq_queue_requeue_dead_async(Queue(use), index, raw, pinned.Count, error);
                }
            });
        }

        /// <summary>
        /// Deletes dead items for good; returns how many were dead. One round trip per 1000 ids
        /// (<c>purge-dead-6.lua</c>).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="ids"/> or one of them is null.</exception>
        public unsafe long PurgeDead(IEnumerable<string> ids)
        {
            ulong count;
            LeaseqError* error = null;
            uint code;
            using (var pinned = new PinnedIds(ids))
            using (var use = new HandleUse(handle))
            fixed (LeaseqStr* raw = pinned.Raw)
            {
                code = NativeMethods.leaseq_queue_purge_dead(Queue(use), raw, pinned.Count, &count, &error);
            }
            Interop.Check(code, error);
            return checked((long)count);
        }

        /// <summary><see cref="PurgeDead"/>, asynchronously.</summary>
        public unsafe Task<long> PurgeDeadAsync(IEnumerable<string> ids, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Calls.Start(Readers.Count, cancellationToken, (index, error) =>
            {
                using (var pinned = new PinnedIds(ids))
                using (var use = new HandleUse(handle))
                fixed (LeaseqStr* raw = pinned.Raw)
                {
                    return NativeMethods.leaseq_queue_purge_dead_async(Queue(use), index, raw, pinned.Count, error);
                }
            });
        }

        /// <summary>Requeues every dead item, 1000 per round trip; returns how many.</summary>
        public long RequeueAllDead()
        {
            return Count(NativeRequeueAllDead);
        }

        /// <summary><see cref="RequeueAllDead"/>, asynchronously.</summary>
        public Task<long> RequeueAllDeadAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start(Readers.Count, cancellationToken, NativeRequeueAllDeadAsync);
        }

        /// <summary>Deletes every dead item, 1000 per round trip; returns how many.</summary>
        public long PurgeAllDead()
        {
            return Count(NativePurgeAllDead);
        }

        /// <summary><see cref="PurgeAllDead"/>, asynchronously.</summary>
        public Task<long> PurgeAllDeadAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start(Readers.Count, cancellationToken, NativePurgeAllDeadAsync);
        }

        /// <summary>
        /// Pauses the queue: leases return nothing (blocking ones wait) until <see cref="Resume"/>; adds still
        /// succeed. Clients of <c>redis-work-queue</c> do not know of pauses.
        /// </summary>
        public unsafe void Pause()
        {
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            {
                code = NativeMethods.leaseq_queue_pause(Queue(use), &error);
            }
            Interop.Check(code, error);
        }

        /// <summary><see cref="Pause"/>, asynchronously.</summary>
        public Task PauseAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start(Readers.Nothing, cancellationToken, NativePauseAsync);
        }

        /// <summary>
        /// Resumes a paused queue and wakes its blocked leases; returns whether it was paused.
        /// One round trip (<c>resume-2.lua</c>).
        /// </summary>
        public bool Resume()
        {
            return Flag(NativeResume);
        }

        /// <summary><see cref="Resume"/>, asynchronously.</summary>
        public Task<bool> ResumeAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start(Readers.Flag, cancellationToken, NativeResumeAsync);
        }

        /// <summary>Whether the queue is paused.</summary>
        public bool IsPaused()
        {
            return Flag(NativeIsPaused);
        }

        /// <summary><see cref="IsPaused"/>, asynchronously.</summary>
        public Task<bool> IsPausedAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start(Readers.Flag, cancellationToken, NativeIsPausedAsync);
        }

        /// <summary>
        /// Frees the queue's handle (the connection stays open). Operations already started asynchronously
        /// finish normally; a queue that is never disposed is freed by the finalizer.
        /// </summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        static unsafe LeaseqQueue* Queue(HandleUse use)
        {
            return (LeaseqQueue*)use.Pointer;
        }

        static byte[] IdOf(Item item)
        {
            if (item == null)
            {
                throw new ArgumentNullException("item");
            }
            return item.IdUtf8;
        }

        /// <summary>The fencing token an item carries to the core (after <see cref="IdOf"/> checked it is not null).</summary>
        static ulong FenceOf(Item item)
        {
            // Only ever set from the core's u64, so never negative.
            return (ulong)item.Fence;
        }

        static LeaseqAddOptions OptionsOf(AddOptions options)
        {
            if (options == null)
            {
                throw new ArgumentNullException("options");
            }
            return options.ToNative();
        }

        static byte[] ErrorOf(string error)
        {
            if (error == null)
            {
                throw new ArgumentNullException("error");
            }
            return Interop.Encode(error, "error");
        }

        static ulong OffsetOf(long offset)
        {
            if (offset < 0)
            {
                throw new LeaseqArgumentException("offset must not be negative, got " + offset);
            }
            return (ulong)offset;
        }

        /// <summary>A negative count becomes 0, which the core refuses with its own message.</summary>
        static ulong PageSizeOf(long count)
        {
            return count < 0 ? 0 : (ulong)count;
        }

        // The argument-less operations, through one helper each way.
        unsafe delegate uint CountCall(LeaseqQueue* queue, ulong* count, LeaseqError** error);

        unsafe delegate uint FlagCall(LeaseqQueue* queue, bool* flag, LeaseqError** error);

        unsafe delegate uint AsyncCall(LeaseqQueue* queue, ulong index, LeaseqError** error);

        static readonly unsafe CountCall NativePrioritizedLength = NativeMethods.leaseq_queue_prioritized_len;
        static readonly unsafe CountCall NativeDelayedLength = NativeMethods.leaseq_queue_delayed_len;
        static readonly unsafe CountCall NativeDeadLength = NativeMethods.leaseq_queue_dead_len;
        static readonly unsafe CountCall NativeRequeueAllDead = NativeMethods.leaseq_queue_requeue_all_dead;
        static readonly unsafe CountCall NativePurgeAllDead = NativeMethods.leaseq_queue_purge_all_dead;
        static readonly unsafe FlagCall NativeResume = NativeMethods.leaseq_queue_resume;
        static readonly unsafe FlagCall NativeIsPaused = NativeMethods.leaseq_queue_is_paused;
        static readonly unsafe AsyncCall NativePrioritizedLengthAsync = NativeMethods.leaseq_queue_prioritized_len_async;
        static readonly unsafe AsyncCall NativeDelayedLengthAsync = NativeMethods.leaseq_queue_delayed_len_async;
        static readonly unsafe AsyncCall NativeDeadLengthAsync = NativeMethods.leaseq_queue_dead_len_async;
        static readonly unsafe AsyncCall NativeRequeueAllDeadAsync = NativeMethods.leaseq_queue_requeue_all_dead_async;
        static readonly unsafe AsyncCall NativePurgeAllDeadAsync = NativeMethods.leaseq_queue_purge_all_dead_async;
        static readonly unsafe AsyncCall NativePauseAsync = NativeMethods.leaseq_queue_pause_async;
        static readonly unsafe AsyncCall NativeResumeAsync = NativeMethods.leaseq_queue_resume_async;
        static readonly unsafe AsyncCall NativeIsPausedAsync = NativeMethods.leaseq_queue_is_paused_async;

        unsafe long Count(CountCall native)
        {
            ulong count;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            {
                code = native(Queue(use), &count, &error);
            }
            Interop.Check(code, error);
            return checked((long)count);
        }

        unsafe bool Flag(FlagCall native)
        {
            bool flag;
            LeaseqError* error = null;
            uint code;
            using (var use = new HandleUse(handle))
            {
                code = native(Queue(use), &flag, &error);
            }
            Interop.Check(code, error);
            return flag;
        }

        unsafe Task<T> Start<T>(Reader<T> reader, CancellationToken cancellationToken, AsyncCall native)
        {
            return Calls.Start(reader, cancellationToken, (index, error) =>
            {
                using (var use = new HandleUse(handle))
                {
                    return native(Queue(use), index, error);
                }
            });
        }

        /// <summary>Byte arrays pinned for one native call; freed on Dispose.</summary>
        unsafe class Pins : IDisposable
        {
            readonly List<GCHandle> pins = new List<GCHandle>();

            protected byte* Pin(byte[] bytes)
            {
                var pin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
                pins.Add(pin);
                return (byte*)pin.AddrOfPinnedObject();
            }

            public void Dispose()
            {
                foreach (var pin in pins)
                {
                    pin.Free();
                }
                pins.Clear();
            }
        }

        /// <summary>Ids pinned as an array of native strings, for one <c>requeue_dead</c> or <c>purge_dead</c> call.</summary>
        sealed unsafe class PinnedIds : Pins
        {
            internal PinnedIds(IEnumerable<string> ids)
            {
                if (ids == null)
                {
                    throw new ArgumentNullException("ids");
                }
                var list = new List<string>(ids);
                Raw = new LeaseqStr[list.Count];
                try
                {
                    for (int i = 0; i < list.Count; i++)
                    {
                        if (list[i] == null)
                        {
                            throw new ArgumentNullException("ids", "ids[" + i + "] is null");
                        }
                        var bytes = Interop.Encode(list[i], "item id");
                        Raw[i].bytes = Pin(bytes);
                        Raw[i].len = Interop.Length(bytes);
                    }
                }
                catch
                {
                    Dispose();
                    throw;
                }
            }

            internal LeaseqStr[] Raw { get; }

            internal UIntPtr Count
            {
                get { return (UIntPtr)(uint)Raw.Length; }
            }
        }

        /// <summary>Items pinned as an array of native views, for one <c>add_items</c> call.</summary>
        sealed unsafe class PinnedItems : Pins
        {
            internal PinnedItems(IEnumerable<Item> items)
            {
                if (items == null)
                {
                    throw new ArgumentNullException("items");
                }
                var list = new List<Item>(items);
                Raw = new LeaseqItem[list.Count];
                try
                {
                    for (int i = 0; i < list.Count; i++)
                    {
                        if (list[i] == null)
                        {
                            throw new ArgumentNullException("items", "items[" + i + "] is null");
                        }
                        Raw[i].id = Pin(list[i].IdUtf8);
                        Raw[i].id_len = Interop.Length(list[i].IdUtf8);
                        Raw[i].data = Pin(list[i].Data);
                        Raw[i].data_len = Interop.Length(list[i].Data);
                    }
                }
                catch
                {
                    Dispose();
                    throw;
                }
            }

            internal LeaseqItem[] Raw { get; }

            internal UIntPtr Count
            {
                get { return (UIntPtr)(uint)Raw.Length; }
            }
        }
    }
}
