using System;
using System.Collections.Generic;
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
        public bool AddItem(Item item) => AddItemCall(item).Run();

        /// <summary><see cref="AddItem"/>, asynchronously.</summary>
        public Task<bool> AddItemAsync(Item item, CancellationToken cancellationToken = default(CancellationToken)) =>
            AddItemCall(item).Start(cancellationToken);

        QueueCall<bool> AddItemCall(Item item) => Call(NativeMethods.LEASEQ_OP_ADD_ITEM, Readers.Flag, args => args.Item(item));

        /// <summary>
        /// Adds an item whose id the caller knows is new, skipping the existence check.
        ///
        /// If the id did exist, its data is replaced and it is queued again. One round trip.
        /// </summary>
        public void AddUniqueItem(Item item) => AddUniqueItemCall(item).Run();

        /// <summary><see cref="AddUniqueItem"/>, asynchronously.</summary>
        public Task AddUniqueItemAsync(Item item, CancellationToken cancellationToken = default(CancellationToken)) =>
            AddUniqueItemCall(item).Start(cancellationToken);

        QueueCall<bool> AddUniqueItemCall(Item item) =>
            Call(NativeMethods.LEASEQ_OP_ADD_UNIQUE_ITEM, Readers.Nothing, args => args.Item(item));

        /// <summary>
        /// Adds a batch of items atomically, in one round trip; each is added unless its id exists.
        ///
        /// Returns how many were added. The batch as a whole must stay under 512 MB.
        /// </summary>
        public long AddItems(IEnumerable<Item> items) => AddItemsCall(items).Run();

        /// <summary><see cref="AddItems"/>, asynchronously.</summary>
        public Task<long> AddItemsAsync(IEnumerable<Item> items, CancellationToken cancellationToken = default(CancellationToken)) =>
            AddItemsCall(items).Start(cancellationToken);

        QueueCall<long> AddItemsCall(IEnumerable<Item> items) =>
            Call(NativeMethods.LEASEQ_OP_ADD_ITEMS, Readers.Count, args => args.Items(items));

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
        public bool AddItemWith(Item item, AddOptions options) => AddItemWithCall(item, options).Run();

        /// <summary><see cref="AddItemWith"/>, asynchronously.</summary>
        public Task<bool> AddItemWithAsync(Item item, AddOptions options, CancellationToken cancellationToken = default(CancellationToken)) =>
            AddItemWithCall(item, options).Start(cancellationToken);

        QueueCall<bool> AddItemWithCall(Item item, AddOptions options) =>
            Call(NativeMethods.LEASEQ_OP_ADD_ITEM_WITH, Readers.Flag, args => args.ItemWith(item, options));

        /// <summary>
        /// Leases the next item for the given duration, or returns <c>null</c>.
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
        public Item Lease(TimeSpan leaseDuration, bool block = true, TimeSpan? timeout = null) =>
            LeaseCall(leaseDuration, block, timeout).Run();

        /// <summary>
        /// <see cref="Lease"/>, asynchronously. Cancelling <paramref name="cancellationToken"/> stops a blocking
        /// wait (the task is then cancelled) without losing any item.
        /// </summary>
        public Task<Item> LeaseAsync(TimeSpan leaseDuration, bool block = true, TimeSpan? timeout = null, CancellationToken cancellationToken = default(CancellationToken)) =>
            LeaseCall(leaseDuration, block, timeout).Start(cancellationToken);

        QueueCall<Item> LeaseCall(TimeSpan leaseDuration, bool block, TimeSpan? timeout) =>
            Call(NativeMethods.LEASEQ_OP_LEASE, Readers.Leased, args => args.Lease(leaseDuration, block, timeout));

        /// <summary>
        /// Leases up to <c>count</c> items (1 to <c>MAX_BATCH</c>) in one round trip, each as <see cref="Lease"/> would, in
        /// the order <see cref="Lease"/> would hand them out; an empty list when there is nothing (with <c>block</c>, once
        /// <c>timeout</c> has passed). <c>MAX_BATCH</c> is the core's 1000; blocking waits for the first item only.
        /// </summary>
        /// <exception cref="LeaseqArgumentException"><paramref name="count"/> is not 1 to 1000, or as for <see cref="Lease"/>.</exception>
        public IReadOnlyList<Item> LeaseMany(TimeSpan leaseDuration, int count, bool block = true, TimeSpan? timeout = null) =>
            LeaseManyCall(leaseDuration, count, block, timeout).Run();

        /// <summary><see cref="LeaseMany"/>, asynchronously; cancelling a blocking wait loses no item.</summary>
        public Task<IReadOnlyList<Item>> LeaseManyAsync(TimeSpan leaseDuration, int count, bool block = true, TimeSpan? timeout = null,
            CancellationToken cancellationToken = default(CancellationToken)) =>
            LeaseManyCall(leaseDuration, count, block, timeout).Start(cancellationToken);

        QueueCall<IReadOnlyList<Item>> LeaseManyCall(TimeSpan leaseDuration, int count, bool block, TimeSpan? timeout) =>
            Call(NativeMethods.LEASEQ_OP_LEASE_MANY, Readers.Items, args => args.Lease(leaseDuration, block, timeout, count));

        /// <summary>
        /// Extends the lease on the item to the given duration from now, only while this session
        /// still holds it. Returns <c>false</c> (changing nothing) if the lease expired, the item
        /// was completed, or another session holds it. One round trip (<c>renew-3.lua</c>).
        /// </summary>
        /// <exception cref="LeaseLostException">With <see cref="QueueOptions.Fencing"/>: <paramref name="item"/> is
        /// from a superseded delivery (the item was leased again since); nothing changed.</exception>
        public bool Renew(Item item, TimeSpan leaseDuration) => RenewCall(item, leaseDuration).Run();

        /// <summary><see cref="Renew"/>, asynchronously.</summary>
        public Task<bool> RenewAsync(Item item, TimeSpan leaseDuration, CancellationToken cancellationToken = default(CancellationToken)) =>
            RenewCall(item, leaseDuration).Start(cancellationToken);

        QueueCall<bool> RenewCall(Item item, TimeSpan leaseDuration) =>
            Call(NativeMethods.LEASEQ_OP_RENEW, Readers.Flag, args => args.Renew(item, leaseDuration));

        /// <summary>
        /// Marks the item done and removes it from the queue for good.
        ///
        /// Returns <c>true</c> for exactly one call per item, the one that deleted its data; every other call
        /// (a second worker that got the item after a lease expired, a repeated call) gets <c>false</c>.
        /// Completing after the lease was lost still counts if nobody completed it first.
        /// One round trip (<c>complete-15.lua</c>).
        /// </summary>
        /// <exception cref="LeaseLostException">With <see cref="QueueOptions.Fencing"/>: <paramref name="item"/> is
        /// from a superseded delivery (the item was leased again since); nothing changed.</exception>
        public bool Complete(Item item) => CompleteCall(item).Run();

        /// <summary><see cref="Complete"/>, asynchronously.</summary>
        public Task<bool> CompleteAsync(Item item, CancellationToken cancellationToken = default(CancellationToken)) =>
            CompleteCall(item).Start(cancellationToken);

        QueueCall<bool> CompleteCall(Item item) => Call(NativeMethods.LEASEQ_OP_COMPLETE, Readers.Flag, args => args.Id(item));

        /// <summary>
        /// Completes a batch of items (1 to <c>MAX_BATCH</c>) in one round trip, each as <see cref="Complete"/> would; returns
        /// one bool per item, in order. With <see cref="QueueOptions.Fencing"/>, a superseded delivery gets <c>false</c>
        /// rather than failing the batch.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="items"/> or one of them is null.</exception>
        /// <exception cref="LeaseqArgumentException"><paramref name="items"/> is empty or holds more than 1000.</exception>
        public bool[] CompleteMany(IReadOnlyList<Item> items) => CompleteManyCall(items).Run();

        /// <summary><see cref="CompleteMany"/>, asynchronously.</summary>
        public Task<bool[]> CompleteManyAsync(IReadOnlyList<Item> items, CancellationToken cancellationToken = default(CancellationToken)) =>
            CompleteManyCall(items).Start(cancellationToken);

        QueueCall<bool[]> CompleteManyCall(IReadOnlyList<Item> items) =>
            Call(NativeMethods.LEASEQ_OP_COMPLETE_MANY, Readers.Flags, args => args.Items(items, withData: false));

        /// <summary>
        /// Completes the item and leases up to count next items (1 to <c>MAX_BATCH</c>) in one round trip, as complete then
        /// a non-blocking lease_many would; returns whether this call completed the item, and the items leased (empty when
        /// there is nothing to lease now). That is, <see cref="Complete"/> then <see cref="LeaseMany"/> with <c>block</c>
        /// false; if the lease part fails the complete stands, as after a lost reply.
        /// </summary>
        /// <exception cref="LeaseqArgumentException"><paramref name="count"/> is not 1 to 1000, or as for <see cref="Lease"/>.</exception>
        public CompleteAndLeaseResult CompleteAndLease(Item item, TimeSpan leaseDuration, int count) =>
            CompleteAndLeaseCall(item, leaseDuration, count).Run();

        /// <summary><see cref="CompleteAndLease"/>, asynchronously.</summary>
        public Task<CompleteAndLeaseResult> CompleteAndLeaseAsync(Item item, TimeSpan leaseDuration, int count,
            CancellationToken cancellationToken = default(CancellationToken)) =>
            CompleteAndLeaseCall(item, leaseDuration, count).Start(cancellationToken);

        QueueCall<CompleteAndLeaseResult> CompleteAndLeaseCall(Item item, TimeSpan leaseDuration, int count) =>
            Call(NativeMethods.LEASEQ_OP_COMPLETE_AND_LEASE, Readers.CompletedAndLeased, args => args.CompleteAndLease(item, leaseDuration, count));

        /// <summary>
        /// Ends the lease on the item with a failure: it is retried after the given delay or,
        /// without one, after the queue's exponential backoff with jitter, until its attempts reach
        /// the queue's maximum; then it moves to the dead letters, keeping its data, attempts and
        /// error.
        ///
        /// One round trip (<c>fail-14.lua</c>).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="item"/> or <paramref name="error"/> is null.</exception>
        /// <exception cref="LeaseqArgumentException"><paramref name="retryAfter"/> is negative.</exception>
        /// <exception cref="LeaseLostException">This session no longer holds the item (its lease expired and it was
        /// requeued or leased by another worker), or, with <see cref="QueueOptions.Fencing"/>,
        /// <paramref name="item"/> is from a superseded delivery; nothing changed.</exception>
        public FailOutcome Fail(Item item, string error, TimeSpan? retryAfter = null) => FailCall(item, error, retryAfter).Run();

        /// <summary><see cref="Fail"/>, asynchronously.</summary>
        public Task<FailOutcome> FailAsync(Item item, string error, TimeSpan? retryAfter = null, CancellationToken cancellationToken = default(CancellationToken)) =>
            FailCall(item, error, retryAfter).Start(cancellationToken);

        QueueCall<FailOutcome> FailCall(Item item, string error, TimeSpan? retryAfter) =>
            Call(NativeMethods.LEASEQ_OP_FAIL, Readers.Fail, args => args.Fail(item, error, retryAfter));

        /// <summary>
        /// Gives a leased item back at once, first in line at its level, without counting the attempt: for work this
        /// worker will not do (it is shutting down). Returns <c>false</c> if this session no longer holds the item.
        /// One round trip (<c>release-10.lua</c>).
        /// </summary>
        /// <exception cref="LeaseLostException">With <see cref="QueueOptions.Fencing"/>: <paramref name="item"/> is
        /// from a superseded delivery (the item was leased again since); nothing changed.</exception>
        public bool Release(Item item) => ReleaseCall(item).Run();

        /// <summary><see cref="Release"/>, asynchronously.</summary>
        public Task<bool> ReleaseAsync(Item item, CancellationToken cancellationToken = default(CancellationToken)) =>
            ReleaseCall(item).Start(cancellationToken);

        QueueCall<bool> ReleaseCall(Item item) => Call(NativeMethods.LEASEQ_OP_RELEASE, Readers.Flag, args => args.Id(item));

        /// <summary>
        /// Returns to the queue every leased item whose lease has expired (or, on its last attempt, moves it to
        /// the dead letters), and drops ids in processing whose item no longer exists.
        ///
        /// Leases taken by either key generation (<c>lease:</c> and the older <c>leased_by_session:</c>) count
        /// as live. Ids left in the old generation's <c>cleaning</c> list are finished. Runs as a series of short
        /// scripts (<c>light-clean-12.lua</c>), one per 200 leased ids, so Redis is never blocked for long; safe
        /// to run while workers lease and complete.
        /// </summary>
        public CleanReport LightClean() => LightCleanCall().Run();

        /// <summary><see cref="LightClean"/>, asynchronously.</summary>
        public Task<CleanReport> LightCleanAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            LightCleanCall().Start(cancellationToken);

        QueueCall<CleanReport> LightCleanCall() => Call(NativeMethods.LEASEQ_OP_LIGHT_CLEAN, Readers.Report, null);

        /// <summary>
        /// A light clean, then requeues every item that exists but is in no list or set and holds
        /// no lease (left so by a crashed client of an older generation, or by hand), and drops
        /// bookkeeping (attempts, errors, priorities, fencing tokens, deadlines, dead letters) of
        /// items that are gone.
        ///
        /// Walks the item keys with <c>SCAN</c> in batches (never <c>KEYS</c>), compares them against a
        /// snapshot of the lists, and checks each miss atomically (<c>clean-orphan-9.lua</c>) before requeueing
        /// it. Its cost grows with the number of items, so run it rarely (at start-up, or hourly), not per job.
        /// </summary>
        public CleanReport DeepClean() => DeepCleanCall().Run();

        /// <summary><see cref="DeepClean"/>, asynchronously.</summary>
        public Task<CleanReport> DeepCleanAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            DeepCleanCall().Start(cancellationToken);

        QueueCall<CleanReport> DeepCleanCall() => Call(NativeMethods.LEASEQ_OP_DEEP_CLEAN, Readers.Report, null);

        /// <summary>The number of items waiting to be leased (not counting those being processed).</summary>
        public long QueueLength() => QueueLengthCall().Run();

        /// <summary><see cref="QueueLength"/>, asynchronously.</summary>
        public Task<long> QueueLengthAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            QueueLengthCall().Start(cancellationToken);

        QueueCall<long> QueueLengthCall() => Call(NativeMethods.LEASEQ_OP_QUEUE_LEN, Readers.Count, null);

        /// <summary>The number of items currently leased (being processed, or waiting for a clean).</summary>
        public long Processing() => ProcessingCall().Run();

        /// <summary><see cref="Processing"/>, asynchronously.</summary>
        public Task<long> ProcessingAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            ProcessingCall().Start(cancellationToken);

        QueueCall<long> ProcessingCall() => Call(NativeMethods.LEASEQ_OP_PROCESSING, Readers.Count, null);

        /// <summary>The number of items waiting at a priority above the default.</summary>
        public long PrioritizedLength() => PrioritizedLengthCall().Run();

        /// <summary><see cref="PrioritizedLength"/>, asynchronously.</summary>
        public Task<long> PrioritizedLengthAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            PrioritizedLengthCall().Start(cancellationToken);

        QueueCall<long> PrioritizedLengthCall() => Call(NativeMethods.LEASEQ_OP_PRIORITIZED_LEN, Readers.Count, null);

        /// <summary>The number of items added with a delay (or scheduled) or waiting to be retried, not yet due.</summary>
        public long DelayedLength() => DelayedLengthCall().Run();

        /// <summary><see cref="DelayedLength"/>, asynchronously.</summary>
        public Task<long> DelayedLengthAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            DelayedLengthCall().Start(cancellationToken);

        QueueCall<long> DelayedLengthCall() => Call(NativeMethods.LEASEQ_OP_DELAYED_LEN, Readers.Count, null);

        /// <summary>The number of items in the dead letters.</summary>
        public long DeadLength() => DeadLengthCall().Run();

        /// <summary><see cref="DeadLength"/>, asynchronously.</summary>
        public Task<long> DeadLengthAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            DeadLengthCall().Start(cancellationToken);

        QueueCall<long> DeadLengthCall() => Call(NativeMethods.LEASEQ_OP_DEAD_LEN, Readers.Count, null);

        /// <summary>
        /// A page of dead letters, oldest death first: at most 1000 from an offset. One round trip
        /// (<c>dead-items-4.lua</c>).
        /// </summary>
        /// <exception cref="LeaseqArgumentException"><paramref name="count"/> is not between 1 and 1000, or
        /// <paramref name="offset"/> is negative.</exception>
        public IReadOnlyList<DeadItem> DeadItems(long offset, long count) => DeadItemsCall(offset, count).Run();

        /// <summary><see cref="DeadItems"/>, asynchronously.</summary>
        public Task<IReadOnlyList<DeadItem>> DeadItemsAsync(long offset, long count, CancellationToken cancellationToken = default(CancellationToken)) =>
            DeadItemsCall(offset, count).Start(cancellationToken);

        QueueCall<IReadOnlyList<DeadItem>> DeadItemsCall(long offset, long count) =>
            Call(NativeMethods.LEASEQ_OP_DEAD_ITEMS, Readers.Dead, args => args.Page(offset, count));

        /// <summary>
        /// Puts dead items back in the queue at their priority with their attempts reset; returns how many were dead.
        /// One round trip per 1000 ids (<c>requeue-dead-6.lua</c>).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="ids"/> or one of them is null.</exception>
        public long RequeueDead(IEnumerable<string> ids) => RequeueDeadCall(ids).Run();

        /// <summary><see cref="RequeueDead"/>, asynchronously.</summary>
        public Task<long> RequeueDeadAsync(IEnumerable<string> ids, CancellationToken cancellationToken = default(CancellationToken)) =>
            RequeueDeadCall(ids).Start(cancellationToken);

        QueueCall<long> RequeueDeadCall(IEnumerable<string> ids) =>
            Call(NativeMethods.LEASEQ_OP_REQUEUE_DEAD, Readers.Count, args => args.Ids(ids));

        /// <summary>
        /// Deletes dead items for good; returns how many were dead. One round trip per 1000 ids
        /// (<c>purge-dead-6.lua</c>).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="ids"/> or one of them is null.</exception>
        public long PurgeDead(IEnumerable<string> ids) => PurgeDeadCall(ids).Run();

        /// <summary><see cref="PurgeDead"/>, asynchronously.</summary>
        public Task<long> PurgeDeadAsync(IEnumerable<string> ids, CancellationToken cancellationToken = default(CancellationToken)) =>
            PurgeDeadCall(ids).Start(cancellationToken);

        QueueCall<long> PurgeDeadCall(IEnumerable<string> ids) =>
            Call(NativeMethods.LEASEQ_OP_PURGE_DEAD, Readers.Count, args => args.Ids(ids));

        /// <summary>Requeues every dead item, 1000 per round trip; returns how many.</summary>
        public long RequeueAllDead() => RequeueAllDeadCall().Run();

        /// <summary><see cref="RequeueAllDead"/>, asynchronously.</summary>
        public Task<long> RequeueAllDeadAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            RequeueAllDeadCall().Start(cancellationToken);

        QueueCall<long> RequeueAllDeadCall() => Call(NativeMethods.LEASEQ_OP_REQUEUE_ALL_DEAD, Readers.Count, null);

        /// <summary>Deletes every dead item, 1000 per round trip; returns how many.</summary>
        public long PurgeAllDead() => PurgeAllDeadCall().Run();

        /// <summary><see cref="PurgeAllDead"/>, asynchronously.</summary>
        public Task<long> PurgeAllDeadAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            PurgeAllDeadCall().Start(cancellationToken);

        QueueCall<long> PurgeAllDeadCall() => Call(NativeMethods.LEASEQ_OP_PURGE_ALL_DEAD, Readers.Count, null);

        /// <summary>
        /// Pauses the queue: leases return nothing (blocking ones wait) until it is resumed; adds
        /// still succeed. Clients of <c>redis-work-queue</c> do not know of pauses.
        /// </summary>
        public void Pause() => PauseCall().Run();

        /// <summary><see cref="Pause"/>, asynchronously.</summary>
        public Task PauseAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            PauseCall().Start(cancellationToken);

        QueueCall<bool> PauseCall() => Call(NativeMethods.LEASEQ_OP_PAUSE, Readers.Nothing, null);

        /// <summary>
        /// Resumes a paused queue and wakes its blocked leases; returns whether it was paused.
        /// One round trip (<c>resume-2.lua</c>).
        /// </summary>
        public bool Resume() => ResumeCall().Run();

        /// <summary><see cref="Resume"/>, asynchronously.</summary>
        public Task<bool> ResumeAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            ResumeCall().Start(cancellationToken);

        QueueCall<bool> ResumeCall() => Call(NativeMethods.LEASEQ_OP_RESUME, Readers.Flag, null);

        /// <summary>Whether the queue is paused.</summary>
        public bool IsPaused() => IsPausedCall().Run();

        /// <summary><see cref="IsPaused"/>, asynchronously.</summary>
        public Task<bool> IsPausedAsync(CancellationToken cancellationToken = default(CancellationToken)) =>
            IsPausedCall().Start(cancellationToken);

        QueueCall<bool> IsPausedCall() => Call(NativeMethods.LEASEQ_OP_IS_PAUSED, Readers.Flag, null);
        /// <summary>
        /// Frees the queue's handle (the connection stays open). Operations already started asynchronously
        /// finish normally; a queue that is never disposed is freed by the finalizer.
        /// </summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        // Each operation's one body is its …Call method: the native operation code, how its arguments are
        // laid out and how its result is read. The sync form runs it, the …Async form starts it.
        QueueCall<T> Call<T>(uint op, Reader<T> reader, Action<QueueArgs> fill)
        {
            return new QueueCall<T>(handle, op, reader, fill);
        }
    }
}
