//! The work queue and its operations, in the core's order, each a thin call into the core.

use std::time::Duration;

use napi_derive::napi;

use crate::connection::Connection;
use crate::convert::{
    from_js_object, read_optional, whole, Arg, JsDate, Timestamp, MAX_SAFE_INTEGER,
};
use crate::error::{guard, settle, Result, Settled};
use crate::item::Item;

/// The highest priority level for {@link WorkQueue.addItemWith}; 0 is the default, where
/// `redis-work-queue` clients add.
#[napi]
pub const MAX_PRIORITY: u32 = leaseq::MAX_PRIORITY as u32;

/// The most items {@link WorkQueue.leaseMany}, {@link WorkQueue.completeMany} and
/// {@link WorkQueue.completeAndLease} take in one call (1000).
#[napi]
pub const MAX_BATCH: u32 = leaseq::MAX_BATCH as u32;

/// How a queue handle retries failed items and refuses recent duplicates; each is optional.
///
/// These travel with each call (they are not stored in Redis), so every process working a queue
/// should use the same options.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct QueueOptions {
    /// Leases an item gets before a failure (an explicit {@link WorkQueue.fail} or an expired
    /// lease) sends it to the dead letters instead of back to the queue. Default 25, as Sidekiq
    /// and asynq.
    pub max_attempts: Option<f64>,
    /// Seconds: the first retry's backoff; each later one doubles, with jitter. Default 1.
    pub backoff_base: Option<f64>,
    /// Seconds: the longest backoff. Default 3600 (1 hour).
    pub backoff_max: Option<f64>,
    /// Seconds: how long after an item is completed {@link WorkQueue.addItem} refuses its id.
    /// Default 0 (off).
    pub unique_window: Option<f64>,
    /// Seconds: how long a clean leaves alone an id it finds in processing without a lease, or
    /// an item in no list, before it reclaims it: such an id must be seen that way twice, this
    /// far apart, because `redis-work-queue` clients pop an id and write its lease (or write an
    /// item and push its id) in separate commands. A clean that finds such ids takes this much
    /// longer. Default 1.
    pub clean_grace: Option<f64>,
    /// Durability opt-in: adds and {@link WorkQueue.complete} resolve only once this many
    /// replicas of the queue's master acknowledged the write (Redis `WAIT`), so a failover that
    /// promotes one of them keeps it. Default 0 (off: Redis replication is asynchronous, and a
    /// write acknowledged just before a failover can be lost).
    pub wait_replicas: Option<f64>,
    /// Seconds: how long adds and {@link WorkQueue.complete} wait for `waitReplicas`; if fewer
    /// acknowledge in time the call rejects with an `ETIMEOUT` error (the write is on the
    /// master, not yet on enough replicas). Default 1.
    pub wait_timeout: Option<f64>,
    /// Fencing: {@link WorkQueue.renew}, {@link WorkQueue.complete}, {@link WorkQueue.fail} and
    /// {@link WorkQueue.release} of an item from a lease that was superseded (the item was leased
    /// again since, by any leaseq client) reject with an `ELEASE_LOST` error and change nothing,
    /// instead of acting on the newer holder's delivery. Every leased item carries its token
    /// ({@link Item.fence}) either way; this makes the calls check it. Default false.
    pub fencing: Option<bool>,
}

from_js_object!(QueueOptions {
    max_attempts: get("maxAttempts"),
    backoff_base: get("backoffBase"),
    backoff_max: get("backoffMax"),
    unique_window: get("uniqueWindow"),
    clean_grace: get("cleanGrace"),
    wait_replicas: get("waitReplicas"),
    wait_timeout: get("waitTimeout"),
    fencing: get("fencing"),
});

impl QueueOptions {
    fn to_core(&self) -> leaseq::Result<leaseq::QueueOptions> {
        let mut options = leaseq::QueueOptions::default();
        if let Some(max_attempts) = self.max_attempts {
            options.max_attempts = whole("maxAttempts", max_attempts, u32::MAX.into())? as u32;
        }
        let secs = |what, value: Option<f64>, default: Duration| {
            value.map_or(Ok(default), |secs| leaseq::from_secs_f64(what, secs))
        };
        options.backoff_base = secs("backoffBase", self.backoff_base, options.backoff_base)?;
        options.backoff_max = secs("backoffMax", self.backoff_max, options.backoff_max)?;
        options.unique_window = secs("uniqueWindow", self.unique_window, options.unique_window)?;
        options.clean_grace = secs("cleanGrace", self.clean_grace, options.clean_grace)?;
        if let Some(wait_replicas) = self.wait_replicas {
            options.wait_replicas = whole("waitReplicas", wait_replicas, u32::MAX.into())? as u32;
        }
        options.wait_timeout = secs("waitTimeout", self.wait_timeout, options.wait_timeout)?;
        options.fencing = self.fencing.unwrap_or(options.fencing);
        Ok(options)
    }
}

/// How {@link WorkQueue.lease} waits.
#[napi(object)]
#[derive(Default)]
pub struct LeaseOptions {
    /// Wait until an item can be leased (the default), or return `null` at once.
    pub block: Option<bool>,
    /// Seconds to wait at most when blocking; `undefined` waits for ever.
    pub timeout: Option<f64>,
}

impl LeaseOptions {
    /// `lease`'s and `leaseMany`'s arguments as the core takes them: the lease, block, timeout.
    fn read(
        lease_secs: Arg<f64>,
        options: Option<Arg<LeaseOptions>>,
    ) -> leaseq::Result<(Duration, bool, Option<Duration>)> {
        let lease_duration = leaseq::lease_from_secs_f64(lease_secs.read("leaseSecs")?)?;
        let options = read_optional(options, "options")?.unwrap_or_default();
        let timeout = options
            .timeout
            .map(|secs| leaseq::from_secs_f64("timeout", secs))
            .transpose()?;
        Ok((lease_duration, options.block.unwrap_or(true), timeout))
    }
}

from_js_object!(LeaseOptions {
    block: get("block"),
    timeout: get("timeout"),
});

/// Where and when an item added with {@link WorkQueue.addItemWith} becomes leasable; each is
/// optional.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct AddOptions {
    /// 0 (default) to {@link MAX_PRIORITY} (9); a lease always takes the highest level with a
    /// due item.
    pub priority: Option<f64>,
    /// Seconds: not leasable until this long after the add (Redis server time).
    pub delay: Option<f64>,
    /// Not leasable before this time, a `Date` or milliseconds since the epoch (Redis server
    /// clock). Give `delay` or `at`, not both.
    #[napi(ts_type = "Date | number")]
    pub at: Option<Timestamp>,
}

from_js_object!(AddOptions {
    priority: get("priority"),
    delay: get("delay"),
    at: get("at"),
});

impl AddOptions {
    fn to_core(&self) -> leaseq::Result<leaseq::AddOptions> {
        Ok(leaseq::AddOptions {
            // Any whole number up to 255 goes to the core, which says why it refuses one over 9.
            priority: match self.priority {
                None => 0,
                Some(priority) => whole("priority", priority, u8::MAX.into())? as u8,
            },
            delay: self
                .delay
                .map(|secs| leaseq::from_secs_f64("delay", secs))
                .transpose()?,
            at: self
                .at
                .as_ref()
                .map(|at| at.system_time("at"))
                .transpose()?,
        })
    }
}

/// What a clean did.
#[napi(object)]
pub struct CleanReport {
    /// Items whose lease had expired (or was never taken), returned to the queue.
    pub requeued: f64,
    /// Ids dropped from the lists because their item no longer exists.
    pub dropped: f64,
    /// Items whose lease expired on their last attempt, moved to the dead letters.
    pub dead: f64,
}

impl From<leaseq::CleanReport> for CleanReport {
    fn from(report: leaseq::CleanReport) -> CleanReport {
        CleanReport {
            requeued: report.requeued as f64,
            dropped: report.dropped as f64,
            dead: report.dead as f64,
        }
    }
}

/// What {@link WorkQueue.fail} did with the item.
#[napi(object, object_from_js = false)]
pub struct FailOutcome {
    /// `'retry'`: it will be leased again, not before `retryAt`. `'dead'`: that was its last
    /// attempt, it is in the dead letters with the error. `'gone'`: the item no longer exists (it
    /// was completed); nothing changed.
    #[napi(ts_type = "'retry' | 'dead' | 'gone'")]
    pub outcome: String,
    /// For `'retry'` only: when the retry becomes due (Redis server clock).
    #[napi(ts_type = "Date")]
    pub retry_at: Option<JsDate>,
}

impl From<leaseq::FailOutcome> for FailOutcome {
    fn from(outcome: leaseq::FailOutcome) -> FailOutcome {
        let (outcome, retry_at) = match outcome {
            leaseq::FailOutcome::Retry { at } => ("retry", Some(JsDate(at))),
            leaseq::FailOutcome::Dead => ("dead", None),
            leaseq::FailOutcome::Gone => ("gone", None),
        };
        FailOutcome {
            outcome: outcome.to_owned(),
            retry_at,
        }
    }
}

/// What {@link WorkQueue.completeAndLease} did.
#[napi(object, object_from_js = false)]
pub struct CompleteAndLeaseResult {
    /// Whether this call completed the item (as {@link WorkQueue.complete}'s result).
    pub completed: bool,
    /// The items leased, in the order {@link WorkQueue.lease} would hand them out; empty when
    /// there was nothing to lease.
    pub leased: Vec<Item>,
}

/// An item in the dead letters.
#[napi(object, object_from_js = false)]
pub struct DeadItem {
    /// The item, its data as added; `item.attempts` is how many leases it had.
    pub item: Item,
    /// The error of its last failure (`"lease expired"` when its last lease ran out).
    pub error: String,
    /// When it died (Redis server clock).
    #[napi(ts_type = "Date")]
    pub died_at: JsDate,
}

/// The core's items of an `Array<Item>` argument (the core takes a slice of its own items).
fn inner_items(items: Arg<Vec<&'static Item>>) -> leaseq::Result<Vec<leaseq::Item>> {
    Ok(items
        .read("items")?
        .iter()
        .map(|item| item.inner.clone())
        .collect())
}

/// A work queue: the keys under one prefix, reached through a shared {@link Connection}.
///
/// Each `new WorkQueue` gets a fresh session id, written into the leases it takes.
#[napi]
pub struct WorkQueue {
    pub(crate) inner: leaseq::WorkQueue,
}

#[napi]
impl WorkQueue {
    /// A queue whose keys start with `name` (the key prefix, e.g. `"jobs"` or `"{jobs}"`), with
    /// retry and uniqueness `options` other than the defaults if given.
    ///
    /// Throws an `EINVAL` error if `name` is empty or an option is out of range (`maxAttempts`
    /// of 0, `backoffMax` shorter than `backoffBase`, a negative or fractional `waitReplicas`,
    /// `waitTimeout` of 0 with `waitReplicas` set, a duration over 365 days, …).
    #[napi(constructor, catch_unwind)]
    pub fn new(
        #[napi(ts_arg_type = "Connection")] connection: Arg<&'static Connection>,
        #[napi(ts_arg_type = "string")] name: Arg<String>,
        #[napi(ts_arg_type = "QueueOptions | undefined | null")] options: Option<Arg<QueueOptions>>,
    ) -> Result<WorkQueue> {
        let inner = guard(|| {
            let connection = connection.read("connection")?;
            let name = name.read("name")?;
            let options = read_optional(options, "options")?.unwrap_or_default();
            leaseq::WorkQueue::with_options(&connection.inner, &name, options.to_core()?)
        })?;
        Ok(WorkQueue { inner })
    }

    /// The key prefix this queue was made with.
    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> String {
        self.inner.name().to_owned()
    }

    /// The id this queue handle writes into the leases it takes.
    #[napi(getter, catch_unwind)]
    pub fn session(&self) -> String {
        self.inner.session().to_owned()
    }

    /// Adds an item. Returns `false`, changing nothing, if an item with this id already exists
    /// (or was completed within the queue's uniqueness window).
    ///
    /// One round trip (`add-3.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub async fn add_item(
        &self,
        #[napi(ts_arg_type = "Item")] item: Arg<&'static Item>,
    ) -> Settled<bool> {
        settle(async { self.inner.add_item(&item.read("item")?.inner).await }).await
    }

    /// Adds an item whose id the caller knows is new, skipping the existence check.
    ///
    /// If the id did exist, its data is replaced and it is queued again. One round trip.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub async fn add_unique_item(
        &self,
        #[napi(ts_arg_type = "Item")] item: Arg<&'static Item>,
    ) -> Settled<()> {
        settle(async { self.inner.add_unique_item(&item.read("item")?.inner).await }).await
    }

    /// Adds a batch of items atomically, in one round trip; each is added unless its id exists.
    ///
    /// Returns how many were added. The batch as a whole must stay under 512 MB.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn add_items(
        &self,
        #[napi(ts_arg_type = "Array<Item>")] items: Arg<Vec<&'static Item>>,
    ) -> Settled<f64> {
        settle(async { Ok(self.inner.add_items(&inner_items(items)?).await? as f64) }).await
    }

    /// Adds an item at a priority level, and/or not leasable before a delay or a time.
    ///
    /// Returns `false`, changing nothing, if the id exists (or was completed within the
    /// uniqueness window). Delayed items become leasable when due, in due order, moved by the
    /// lease operation itself: no scheduler process is needed. A priority over 9, or both
    /// `delay` and `at`, is an `EINVAL` error. One round trip (`add-scheduled-7.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub async fn add_item_with(
        &self,
        #[napi(ts_arg_type = "Item")] item: Arg<&'static Item>,
        #[napi(ts_arg_type = "AddOptions | undefined | null")] options: Option<Arg<AddOptions>>,
    ) -> Settled<bool> {
        settle(async {
            let item = item.read("item")?;
            let options = read_optional(options, "options")?
                .unwrap_or_default()
                .to_core()?;
            self.inner.add_item_with(&item.inner, &options).await
        })
        .await
    }

    /// Leases the next item for the given duration, or returns `null`.
    ///
    /// The lease lasts `leaseSecs` seconds; the Promise resolves to `null` when there is no item.
    /// Takes the highest priority level that has an item, oldest first; delayed items join when
    /// due. With `block: false`, returns at once. With `block: true` (the default), waits until an
    /// item can be leased, or until `timeout` seconds have passed (`undefined` waits for ever);
    /// durations keep millisecond precision. Complete the item with {@link WorkQueue.complete}
    /// (or {@link WorkQueue.fail}) before the lease ends, or extend it with
    /// {@link WorkQueue.renew}; an expired lease counts as a failed attempt and the item goes
    /// back to the queue. A paused queue leases nothing.
    ///
    /// One round trip when an item is there (`lease-15.lua`), which also reclaims up to 10
    /// expired leases and moves up to 100 due items, so no cleaner or scheduler process is
    /// needed. A blocking lease on an empty queue waits on connections of its own, so other calls
    /// on the same connection go on meanwhile; it wakes within milliseconds of an add, a due
    /// delayed item or a resume, and {@link Connection.close} ends the wait with `ECONNECTION`.
    #[napi(catch_unwind, ts_return_type = "Promise<Item | null>")]
    pub async fn lease(
        &self,
        #[napi(ts_arg_type = "number")] lease_secs: Arg<f64>,
        #[napi(ts_arg_type = "LeaseOptions | undefined | null")] options: Option<Arg<LeaseOptions>>,
    ) -> Settled<Option<Item>> {
        settle(async {
            let (lease_duration, block, timeout) = LeaseOptions::read(lease_secs, options)?;
            let item = self.inner.lease(lease_duration, block, timeout).await?;
            Ok(item.map(Item::from))
        })
        .await
    }

    /// Leases up to `count` items (1 to {@link MAX_BATCH}) in one round trip, each as lease would,
    /// in the order lease would hand them out; an empty list when there is nothing (with block,
    /// once timeout has passed).
    ///
    /// `leaseSecs` and `options` are {@link WorkQueue.lease}'s. Every item's lease starts now, so
    /// take only as many as you will start before their leases run out (or renew them). Blocking
    /// waits for the first item only: the call resolves with what is there then, which may be
    /// fewer than `count`. A `count` of 0 or over {@link MAX_BATCH} is an `EINVAL` error.
    #[napi(catch_unwind, ts_return_type = "Promise<Array<Item>>")]
    pub async fn lease_many(
        &self,
        #[napi(ts_arg_type = "number")] lease_secs: Arg<f64>,
        #[napi(ts_arg_type = "number")] count: Arg<f64>,
        #[napi(ts_arg_type = "LeaseOptions | undefined | null")] options: Option<Arg<LeaseOptions>>,
    ) -> Settled<Vec<Item>> {
        settle(async {
            let (lease_duration, block, timeout) = LeaseOptions::read(lease_secs, options)?;
            let count = whole("count", count.read("count")?, MAX_SAFE_INTEGER)? as usize;
            let items = (self.inner)
                .lease_many(lease_duration, count, block, timeout)
                .await?;
            Ok(items.into_iter().map(Item::from).collect())
        })
        .await
    }

    /// Extends the lease on the item to the given duration from now, only while this session still
    /// holds it.
    ///
    /// The new lease lasts `leaseSecs` seconds; the session is this queue handle's. Returns
    /// `false` (changing nothing) if the lease expired, the item was completed, or another session
    /// holds it. With the queue's `fencing` on, rejects with an `ELEASE_LOST` error (changing
    /// nothing) if `item` is from a superseded delivery (the item was leased again since). One
    /// round trip (`renew-3.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub async fn renew(
        &self,
        #[napi(ts_arg_type = "Item")] item: Arg<&'static Item>,
        #[napi(ts_arg_type = "number")] lease_secs: Arg<f64>,
    ) -> Settled<bool> {
        settle(async {
            let item = item.read("item")?;
            let lease_duration = leaseq::lease_from_secs_f64(lease_secs.read("leaseSecs")?)?;
            self.inner.renew(&item.inner, lease_duration).await
        })
        .await
    }

    /// Marks the item done and removes it from the queue for good.
    ///
    /// Returns `true` for exactly one call per item, the one that deleted its data; every other
    /// call (a second worker that got the item after a lease expired, a repeated call) gets
    /// `false`. Completing after the lease was lost still counts if nobody completed it first;
    /// with the queue's `fencing` on, completing a superseded delivery (the item was leased again
    /// since) rejects with an `ELEASE_LOST` error instead, changing nothing.
    /// One round trip (`complete-15.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub async fn complete(
        &self,
        #[napi(ts_arg_type = "Item")] item: Arg<&'static Item>,
    ) -> Settled<bool> {
        settle(async { self.inner.complete(&item.read("item")?.inner).await }).await
    }

    /// Completes a batch of items (1 to {@link MAX_BATCH}) in one round trip, each as complete
    /// would; returns one bool per item, in order.
    ///
    /// With the queue's `fencing` on, a superseded delivery gets `false` and nothing changes for
    /// it (where {@link WorkQueue.complete} rejects with `ELEASE_LOST`), so one stale item never
    /// fails the batch. An empty batch, or one over {@link MAX_BATCH}, is an `EINVAL` error.
    /// One round trip (`complete-items-n.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<Array<boolean>>")]
    pub async fn complete_many(
        &self,
        #[napi(ts_arg_type = "Array<Item>")] items: Arg<Vec<&'static Item>>,
    ) -> Settled<Vec<bool>> {
        settle(async { self.inner.complete_many(&inner_items(items)?).await }).await
    }

    /// Completes the item and leases up to count next items (1 to {@link MAX_BATCH}) in one round
    /// trip, as complete then a non-blocking lease_many would; returns whether this call
    /// completed the item, and the items leased (empty when there is nothing to lease now).
    ///
    /// The new leases last `leaseSecs` seconds. As in {@link WorkQueue.completeMany}, a
    /// superseded delivery (fencing) gets `completed: false`. When the lease part fails the
    /// Promise rejects and the complete stands, as if its reply had been lost: completing the
    /// item again returns `false`. One round trip (`complete-lease-n.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<CompleteAndLeaseResult>")]
    pub async fn complete_and_lease(
        &self,
        #[napi(ts_arg_type = "Item")] item: Arg<&'static Item>,
        #[napi(ts_arg_type = "number")] lease_secs: Arg<f64>,
        #[napi(ts_arg_type = "number")] count: Arg<f64>,
    ) -> Settled<CompleteAndLeaseResult> {
        settle(async {
            let item = item.read("item")?;
            let lease_duration = leaseq::lease_from_secs_f64(lease_secs.read("leaseSecs")?)?;
            let count = whole("count", count.read("count")?, MAX_SAFE_INTEGER)? as usize;
            let (completed, leased) = (self.inner)
                .complete_and_lease(&item.inner, lease_duration, count)
                .await?;
            let leased = leased.into_iter().map(Item::from).collect();
            Ok(CompleteAndLeaseResult { completed, leased })
        })
        .await
    }

    /// Ends the lease on the item with a failure: it is retried after the given delay or, without
    /// one, after the queue's exponential backoff with jitter, until its attempts reach the queue's
    /// maximum; then it moves to the dead letters, keeping its data, attempts and error.
    ///
    /// The delay is `retryAfter` seconds (`undefined`: the backoff); the maximum is the queue's
    /// `maxAttempts`; `error` is the text kept.
    ///
    /// Rejects with an `ELEASE_LOST` error if this session no longer holds the item (its lease
    /// expired and it was requeued or leased by another worker), or, with the queue's `fencing`
    /// on, if `item` is from a superseded delivery; nothing changed. One round trip
    /// (`fail-14.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<FailOutcome>")]
    pub async fn fail(
        &self,
        #[napi(ts_arg_type = "Item")] item: Arg<&'static Item>,
        #[napi(ts_arg_type = "string")] error: Arg<String>,
        #[napi(ts_arg_type = "number | undefined | null")] retry_after: Option<Arg<f64>>,
    ) -> Settled<FailOutcome> {
        settle(async {
            let item = item.read("item")?;
            let error = error.read("error")?;
            let retry_after = read_optional(retry_after, "retryAfter")?
                .map(|secs| leaseq::from_secs_f64("retryAfter", secs))
                .transpose()?;
            let outcome = self.inner.fail(&item.inner, &error, retry_after).await?;
            Ok(outcome.into())
        })
        .await
    }

    /// Gives a leased item back at once, first in line at its level, without counting the
    /// attempt: for work this worker will not do (it is shutting down). Returns `false` if this
    /// session no longer holds the item; with the queue's `fencing` on, rejects with an
    /// `ELEASE_LOST` error (changing nothing) if `item` is from a superseded delivery. One round
    /// trip (`release-10.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub async fn release(
        &self,
        #[napi(ts_arg_type = "Item")] item: Arg<&'static Item>,
    ) -> Settled<bool> {
        settle(async { self.inner.release(&item.read("item")?.inner).await }).await
    }

    /// Returns to the queue every leased item whose lease has expired (or, on its last attempt,
    /// moves it to the dead letters), and drops ids in processing whose item no longer exists.
    ///
    /// Leases taken by either key generation (`lease:` and the older `leased_by_session:`) count
    /// as live. Ids left in the old generation's `cleaning` list are finished. Runs as a series
    /// of short scripts (`light-clean-12.lua`), one per 200 leased ids, so Redis is never blocked
    /// for long; safe to run while workers lease and complete.
    #[napi(catch_unwind, ts_return_type = "Promise<CleanReport>")]
    pub async fn light_clean(&self) -> Settled<CleanReport> {
        settle(async { Ok(self.inner.light_clean().await?.into()) }).await
    }

    /// A light clean, then requeues every item that exists but is in no list or set and holds no
    /// lease (left so by a crashed client of an older generation, or by hand), and drops
    /// bookkeeping (attempts, errors, priorities, fencing tokens, deadlines, dead letters) of items
    /// that are gone.
    ///
    /// Walks the item keys with `SCAN` in batches (never `KEYS`), compares them against a
    /// snapshot of the lists, and checks each miss atomically (`clean-orphan-9.lua`) before
    /// requeueing it. Its cost grows with the number of items, so run it rarely (at start-up,
    /// or hourly), not per job.
    #[napi(catch_unwind, ts_return_type = "Promise<CleanReport>")]
    pub async fn deep_clean(&self) -> Settled<CleanReport> {
        settle(async { Ok(self.inner.deep_clean().await?.into()) }).await
    }

    /// The number of items waiting to be leased (not counting those being processed).
    ///
    /// Counts the default priority level; {@link WorkQueue.prioritizedLen} counts the higher ones.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn queue_len(&self) -> Settled<f64> {
        settle(async { Ok(self.inner.queue_len().await? as f64) }).await
    }

    /// The number of items currently leased (being processed, or waiting for a clean).
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn processing(&self) -> Settled<f64> {
        settle(async { Ok(self.inner.processing().await? as f64) }).await
    }

    /// The number of items waiting at a priority above the default.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn prioritized_len(&self) -> Settled<f64> {
        settle(async { Ok(self.inner.prioritized_len().await? as f64) }).await
    }

    /// The number of items added with a delay (or scheduled) or waiting to be retried, not yet
    /// due.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn delayed_len(&self) -> Settled<f64> {
        settle(async { Ok(self.inner.delayed_len().await? as f64) }).await
    }

    /// The number of items in the dead letters.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn dead_len(&self) -> Settled<f64> {
        settle(async { Ok(self.inner.dead_len().await? as f64) }).await
    }

    /// A page of dead letters, oldest death first: at most 1000 from an offset.
    ///
    /// `count` is 1 to 1000 (default 100), `offset` defaults to 0. One round trip
    /// (`dead-items-4.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<Array<DeadItem>>")]
    pub async fn dead_items(
        &self,
        #[napi(ts_arg_type = "number | undefined | null")] offset: Option<Arg<f64>>,
        #[napi(ts_arg_type = "number | undefined | null")] count: Option<Arg<f64>>,
    ) -> Settled<Vec<DeadItem>> {
        settle(async {
            let offset = read_optional(offset, "offset")?.unwrap_or(0.0);
            let count = read_optional(count, "count")?.unwrap_or(100.0);
            let offset = whole("offset", offset, MAX_SAFE_INTEGER)?;
            let count = whole("count", count, MAX_SAFE_INTEGER)?;
            let page = self.inner.dead_items(offset, count).await?;
            Ok(page
                .into_iter()
                .map(|dead| DeadItem {
                    item: dead.item.into(),
                    error: dead.error,
                    died_at: JsDate(dead.died_at),
                })
                .collect())
        })
        .await
    }

    /// Puts dead items back in the queue at their priority with their attempts reset; returns
    /// how many were dead. One round trip per 1000 ids (`requeue-dead-6.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn requeue_dead(
        &self,
        #[napi(ts_arg_type = "Array<string>")] ids: Arg<Vec<String>>,
    ) -> Settled<f64> {
        settle(async { Ok(self.inner.requeue_dead(&ids.read("ids")?).await? as f64) }).await
    }

    /// Deletes dead items for good; returns how many were dead. One round trip per 1000 ids
    /// (`purge-dead-6.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn purge_dead(
        &self,
        #[napi(ts_arg_type = "Array<string>")] ids: Arg<Vec<String>>,
    ) -> Settled<f64> {
        settle(async { Ok(self.inner.purge_dead(&ids.read("ids")?).await? as f64) }).await
    }

    /// Requeues every dead item, 1000 per round trip; returns how many.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn requeue_all_dead(&self) -> Settled<f64> {
        settle(async { Ok(self.inner.requeue_all_dead().await? as f64) }).await
    }

    /// Deletes every dead item, 1000 per round trip; returns how many.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn purge_all_dead(&self) -> Settled<f64> {
        settle(async { Ok(self.inner.purge_all_dead().await? as f64) }).await
    }

    /// Pauses the queue: leases return nothing (blocking ones wait) until it is resumed; adds still
    /// succeed.
    ///
    /// {@link WorkQueue.resume} resumes it. Clients of `redis-work-queue` do not know of pauses.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub async fn pause(&self) -> Settled<()> {
        settle(self.inner.pause()).await
    }

    /// Resumes a paused queue and wakes its blocked leases; returns whether it was paused.
    /// One round trip (`resume-2.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub async fn resume(&self) -> Settled<bool> {
        settle(self.inner.resume()).await
    }

    /// Whether the queue is paused.
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub async fn is_paused(&self) -> Settled<bool> {
        settle(self.inner.is_paused()).await
    }
}
