using System;
using Leaseq.Native;

namespace Leaseq
{
    /// <summary>
    /// How a <see cref="Connection"/> waits on Redis (the core's <c>ConnectionOptions</c>); a new instance holds the
    /// core's defaults. The core checks them when the connection opens.
    /// </summary>
    public sealed class ConnectionOptions
    {
        /// <summary>Options with the core's defaults: 5 s to connect, 30 s for each answer.</summary>
        public unsafe ConnectionOptions()
        {
            LeaseqConnectionOptions defaults;
            NativeMethods.leaseq_options_default(&defaults, null, null);
            ConnectTimeout = Interop.Span(defaults.connect_timeout_secs);
            ResponseTimeout = defaults.has_response_timeout != 0 ? Interop.Span(defaults.response_timeout_secs) : (TimeSpan?)null;
        }

        /// <summary>
        /// How long one attempt at opening a TCP/TLS connection (and its handshake) may take; after
        /// three failed attempts it is a <see cref="LeaseqConnectionException"/>. Must be positive.
        /// Default 5 s.
        /// </summary>
        public TimeSpan ConnectTimeout { get; set; }

        /// <summary>
        /// How long one operation may wait for Redis's answer before it throws a <see cref="LeaseqTimeoutException"/>
        /// (the connection stays usable; the operation may still have run); <c>null</c> waits for ever. Must be
        /// positive. Default 30 s. A blocking <see cref="WorkQueue.Lease"/>'s wait is bounded by its own timeout, not this.
        /// </summary>
        public TimeSpan? ResponseTimeout { get; set; }

        internal LeaseqConnectionOptions ToNative()
        {
            return new LeaseqConnectionOptions
            {
                connect_timeout_secs = Interop.Seconds(ConnectTimeout),
                has_response_timeout = Interop.Flag(ResponseTimeout.HasValue),
                response_timeout_secs = Interop.Seconds(ResponseTimeout.GetValueOrDefault()),
            };
        }
    }

    /// <summary>
    /// How a queue handle retries failed items and refuses recent duplicates (the core's <c>QueueOptions</c>);
    /// a new instance holds the core's defaults.
    ///
    /// These travel with each call (they are not stored in Redis), so every process working a queue should
    /// use the same options. The core checks them when the <see cref="WorkQueue"/> is made.
    /// </summary>
    public sealed class QueueOptions
    {
        /// <summary>
        /// Options with the core's defaults: 25 attempts, backoff from 1 s up to 1 hour, no uniqueness window, a 1 s
        /// clean grace, no replica wait (1 s when one is asked for), no fencing.
        /// </summary>
        public unsafe QueueOptions()
        {
            LeaseqQueueOptions defaults;
            NativeMethods.leaseq_options_default(null, &defaults, null);
            MaxAttempts = defaults.max_attempts;
            BackoffBase = Interop.Span(defaults.backoff_base_secs);
            BackoffMax = Interop.Span(defaults.backoff_max_secs);
            UniqueWindow = Interop.Span(defaults.unique_window_secs);
            CleanGrace = Interop.Span(defaults.clean_grace_secs);
            WaitReplicas = defaults.wait_replicas;
            WaitTimeout = Interop.Span(defaults.wait_timeout_secs);
            Fencing = defaults.fencing != 0;
        }

        /// <summary>
        /// Leases an item gets before a failure (an explicit <see cref="WorkQueue.Fail"/> or an expired lease) sends
        /// it to the dead letters instead of back to the queue. Default 25, as Sidekiq and asynq.
        /// </summary>
        public int MaxAttempts { get; set; }

        /// <summary>The first retry's backoff; each later one doubles, with jitter. Default 1 s.</summary>
        public TimeSpan BackoffBase { get; set; }

        /// <summary>The longest backoff. Default 1 hour.</summary>
        public TimeSpan BackoffMax { get; set; }

        /// <summary>How long after an item is completed <see cref="WorkQueue.AddItem"/> refuses its id. Default 0 (off).</summary>
        public TimeSpan UniqueWindow { get; set; }

        /// <summary>
        /// How long a clean leaves alone an id it finds in processing without a lease, or an item in no list, before
        /// it reclaims it: such an id must be seen that way twice, this far apart, because <c>redis-work-queue</c>
        /// clients pop an id and write its lease (or write an item and push its id) in separate commands. A clean
        /// that finds such ids takes this much longer. Default 1 s.
        /// </summary>
        public TimeSpan CleanGrace { get; set; }

        /// <summary>
        /// Durability opt-in: adds and <see cref="WorkQueue.Complete"/> return only once this many replicas of the
        /// queue's master acknowledged the write (Redis <c>WAIT</c>), so a failover that promotes one of them keeps
        /// it. Must not be negative. Default 0 (off: Redis replication is asynchronous, and a write acknowledged just
        /// before a failover can be lost).
        /// </summary>
        public int WaitReplicas { get; set; }

        /// <summary>
        /// How long adds and <see cref="WorkQueue.Complete"/> wait for <see cref="WaitReplicas"/>; if fewer
        /// acknowledge in time the call throws <see cref="LeaseqTimeoutException"/> (the write is on the master, not
        /// yet on enough replicas). Must be positive when <see cref="WaitReplicas"/> is set. Default 1 s.
        /// </summary>
        public TimeSpan WaitTimeout { get; set; }

        /// <summary>
        /// Fencing: <see cref="WorkQueue.Renew"/>, <see cref="WorkQueue.Complete"/>, <see cref="WorkQueue.Fail"/> and
        /// <see cref="WorkQueue.Release"/> of an item from a lease that was superseded (the item was leased again
        /// since, by any leaseq client) throw <see cref="LeaseLostException"/> and change nothing, instead of acting
        /// on the newer holder's delivery. Every leased item carries its token (<see cref="Item.Fence"/>) either way;
        /// this makes the calls check it. Default off.
        /// </summary>
        public bool Fencing { get; set; }

        internal QueueOptions Copy()
        {
            return (QueueOptions)MemberwiseClone();
        }

        internal LeaseqQueueOptions ToNative()
        {
            return new LeaseqQueueOptions
            {
                max_attempts = MaxAttempts,
                backoff_base_secs = Interop.Seconds(BackoffBase),
                backoff_max_secs = Interop.Seconds(BackoffMax),
                unique_window_secs = Interop.Seconds(UniqueWindow),
                clean_grace_secs = Interop.Seconds(CleanGrace),
                wait_replicas = WaitReplicas,
                wait_timeout_secs = Interop.Seconds(WaitTimeout),
                fencing = Interop.Flag(Fencing),
            };
        }
    }

    /// <summary>
    /// Where and when an item added with <see cref="WorkQueue.AddItemWith"/> becomes leasable (the core's
    /// <c>AddOptions</c>); a new instance is the default level, leasable at once.
    /// </summary>
    public sealed class AddOptions
    {
        /// <summary>The highest priority level; 0 is the default, where <c>redis-work-queue</c> clients add.</summary>
        public const int MaxPriority = 9;

        /// <summary>0 (default) to <see cref="MaxPriority"/>; a lease always takes the highest level with a due item.</summary>
        public int Priority { get; set; }

        /// <summary>Not leasable until this long after the add (Redis server time).</summary>
        public TimeSpan? Delay { get; set; }

        /// <summary>Not leasable before this time (Redis server clock). Give <see cref="Delay"/> or <see cref="At"/>, not both.</summary>
        public DateTimeOffset? At { get; set; }

        internal LeaseqAddOptions ToNative()
        {
            return new LeaseqAddOptions
            {
                priority = Priority,
                has_delay = Interop.Flag(Delay.HasValue),
                delay_secs = Interop.Seconds(Delay.GetValueOrDefault()),
                has_at = Interop.Flag(At.HasValue),
                at_unix_ms = At.HasValue ? Interop.UnixMilliseconds(At.Value) : 0,
            };
        }
    }

    /// <summary>
    /// How a <see cref="Worker"/> runs (the core's <c>WorkerOptions</c>, and the hooks); a new instance holds the
    /// core's defaults. The core checks them when the worker is made.
    /// </summary>
    public sealed class WorkerOptions
    {
        /// <summary>Options with the core's defaults: 1 at a time, 30 s leases, no job timeout, 10 s to shut down, a light clean every 5 s.</summary>
        public unsafe WorkerOptions()
        {
            LeaseqWorkerOptions defaults;
            NativeMethods.leaseq_options_default(null, null, &defaults);
            Concurrency = defaults.concurrency;
            LeaseDuration = Interop.Span(defaults.lease_secs);
            JobTimeout = defaults.has_job_timeout != 0 ? Interop.Span(defaults.job_timeout_secs) : (TimeSpan?)null;
            ShutdownTimeout = Interop.Span(defaults.shutdown_timeout_secs);
            CleanEvery = defaults.has_clean_every != 0 ? Interop.Span(defaults.clean_every_secs) : (TimeSpan?)null;
        }

        /// <summary>Items run at once. Default 1.</summary>
        public int Concurrency { get; set; }

        /// <summary>
        /// The lease taken on each item; renewed every third of it while the handler runs. Default 30 s.
        /// </summary>
        public TimeSpan LeaseDuration { get; set; }

        /// <summary>
        /// A handler running longer is abandoned (its token is cancelled) and the item failed with a timeout.
        /// Default none.
        /// </summary>
        public TimeSpan? JobTimeout { get; set; }

        /// <summary>
        /// After <see cref="Worker.Stop"/>, how long running handlers may still finish; the rest are released back
        /// to the queue at once (and their tokens cancelled). Default 10 s.
        /// </summary>
        public TimeSpan ShutdownTimeout { get; set; }

        /// <summary>
        /// How often the worker runs a light clean (for leases of <c>redis-work-queue</c> clients and dead workers);
        /// <c>null</c> never. Default 5 s.
        /// </summary>
        public TimeSpan? CleanEvery { get; set; }

        /// <summary>
        /// Middleware called before each item's handler (logging, metrics, tracing); <c>null</c> for none. It has
        /// returned before the handler starts. See <see cref="Worker"/> for where hooks run.
        /// </summary>
        public Action<Item> Before { get; set; }

        /// <summary>
        /// Middleware called after each item's run ended, with how it ended; <c>null</c> for none. See
        /// <see cref="Worker"/> for where hooks run.
        /// </summary>
        public Action<Item, JobOutcome> After { get; set; }

        internal LeaseqWorkerOptions ToNative()
        {
            return new LeaseqWorkerOptions
            {
                concurrency = Concurrency,
                lease_secs = Interop.Seconds(LeaseDuration),
                has_job_timeout = Interop.Flag(JobTimeout.HasValue),
                job_timeout_secs = Interop.Seconds(JobTimeout.GetValueOrDefault()),
                shutdown_timeout_secs = Interop.Seconds(ShutdownTimeout),
                has_clean_every = Interop.Flag(CleanEvery.HasValue),
                clean_every_secs = Interop.Seconds(CleanEvery.GetValueOrDefault()),
            };
        }
    }
}
