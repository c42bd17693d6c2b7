//! The work queue and its operations, in the core's order, each a thin call into the core.

use std::sync::Arc;

use leaseq::ErrorKind;
use napi_derive::napi;
use tokio::sync::watch;

use crate::connection::{until_closed, Connection};
use crate::error::{guard, settle, Result, Settled};
use crate::item::Item;

/// How {@link WorkQueue.lease} waits.
#[napi(object)]
#[derive(Default)]
pub struct LeaseOptions {
    /// Wait until an item can be leased (the default), or return `null` at once.
    pub block: Option<bool>,
    /// Seconds to wait at most when blocking; `undefined` waits for ever.
    pub timeout: Option<f64>,
}

/// What a clean did.
#[napi(object)]
pub struct CleanReport {
    /// Items whose lease had expired (or was never taken), returned to the queue.
    pub requeued: f64,
    /// Ids dropped from the lists because their item no longer exists.
    pub dropped: f64,
}

impl From<leaseq::CleanReport> for CleanReport {
    fn from(report: leaseq::CleanReport) -> CleanReport {
        CleanReport {
            requeued: report.requeued as f64,
            dropped: report.dropped as f64,
        }
    }
}

/// A work queue: the keys under one prefix, reached through a shared {@link Connection}.
///
/// Each `new WorkQueue` gets a fresh session id, written into the leases it takes.
#[napi]
pub struct WorkQueue {
    inner: leaseq::WorkQueue,
    closed: Arc<watch::Sender<bool>>,
}

#[napi]
impl WorkQueue {
    /// A queue whose keys start with `name` (the key prefix, e.g. `"jobs"` or `"{jobs}"`).
    ///
    /// Throws an `EINVAL` error if `name` is empty.
    #[napi(constructor, catch_unwind)]
    pub fn new(connection: &Connection, name: String) -> Result<WorkQueue> {
        let inner = guard(|| leaseq::WorkQueue::new(&connection.inner, &name))?;
        let closed = connection.closed.clone();
        Ok(WorkQueue { inner, closed })
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

    /// Adds an item. Returns `false`, changing nothing, if an item with this id already exists.
    ///
    /// One round trip (`add-2.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub async fn add_item(&self, item: &Item) -> Settled<bool> {
        settle(self.inner.add_item(&item.inner)).await
    }

    /// Adds an item whose id the caller knows is new, skipping the existence check.
    ///
    /// If the id did exist, its data is replaced and it is queued again. One round trip.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub async fn add_unique_item(&self, item: &Item) -> Settled<()> {
        settle(self.inner.add_unique_item(&item.inner)).await
    }

    /// Adds a batch of items atomically, in one round trip; each is added unless its id exists.
    ///
    /// Returns how many were added. The batch as a whole must stay under 512 MB.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn add_items(&self, items: Vec<&Item>) -> Settled<f64> {
        let items: Vec<leaseq::Item> = items.iter().map(|item| item.inner.clone()).collect();
        settle(async { Ok(self.inner.add_items(&items).await? as f64) }).await
    }

    /// Leases the next item for `leaseSecs` seconds, or resolves to `null`.
    ///
    /// With `block: false`, returns at once. With `block: true` (the default), waits until an
    /// item can be leased, or until `timeout` seconds have passed (`undefined` waits for ever).
    /// Durations keep millisecond precision. Complete the item with {@link WorkQueue.complete}
    /// before the lease ends, or extend it with {@link WorkQueue.renew}; otherwise a clean
    /// returns it to the queue for another worker.
    ///
    /// One round trip when an item is there (`lease-4.lua`). A blocking lease on an empty queue
    /// waits on a connection of its own, so other calls on the same connection go on meanwhile.
    #[napi(catch_unwind, ts_return_type = "Promise<Item | null>")]
    pub async fn lease(
        &self,
        lease_secs: f64,
        options: Option<LeaseOptions>,
    ) -> Settled<Option<Item>> {
        let options = options.unwrap_or_default();
        settle(async {
            let lease_duration = leaseq::lease_from_secs_f64(lease_secs)?;
            let timeout = options
                .timeout
                .map(|secs| leaseq::from_secs_f64("timeout", secs))
                .transpose()?;
            let block = options.block.unwrap_or(true);
            // Dropping the core's lease while it waits loses nothing (see its docs).
            tokio::select! {
                item = self.inner.lease(lease_duration, block, timeout) => Ok(item?.map(Item::from)),
                () = until_closed(&self.closed) => Err(leaseq::Error::new(
                    ErrorKind::Connection,
                    "the connection was closed while the lease waited",
                )),
            }
        })
        .await
    }

    /// Extends the lease on `item` to `leaseSecs` seconds from now, only while this queue's
    /// session still holds it. Returns `false` (changing nothing) if the lease expired, the item
    /// was completed, or another session holds it. One round trip (`renew-1.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub async fn renew(&self, item: &Item, lease_secs: f64) -> Settled<bool> {
        settle(async {
            let lease_duration = leaseq::lease_from_secs_f64(lease_secs)?;
            self.inner.renew(&item.inner, lease_duration).await
        })
        .await
    }

    /// Marks `item` done and removes it from the queue for good.
    ///
    /// Returns `true` for exactly one call per item, the one that deleted its data; every other
    /// call (a second worker that got the item after a lease expired, a repeated call) gets
    /// `false`. Completing after the lease was lost still counts if nobody completed it first.
    /// One round trip (`complete-5.lua`).
    #[napi(catch_unwind, ts_return_type = "Promise<boolean>")]
    pub async fn complete(&self, item: &Item) -> Settled<bool> {
        settle(self.inner.complete(&item.inner)).await
    }

    /// Returns to the queue every leased item whose lease has expired, and drops ids in
    /// processing whose item no longer exists.
    ///
    /// Leases taken by either key generation (`lease:` and the older `leased_by_session:`) count
    /// as live. Ids left in the old generation's `cleaning` list are finished. Runs as a series
    /// of short scripts (`light-clean-5.lua`), one per 200 leased ids, so Redis is never blocked
    /// for long; safe to run while workers lease and complete.
    #[napi(catch_unwind, ts_return_type = "Promise<CleanReport>")]
    pub async fn light_clean(&self) -> Settled<CleanReport> {
        settle(async { Ok(self.inner.light_clean().await?.into()) }).await
    }

    /// A light clean, then requeues every item that exists but is in no list and holds no lease
    /// (left so by a crashed client of an older generation, or by hand).
    ///
    /// Walks the item keys with `SCAN` in batches (never `KEYS`), compares them against a
    /// snapshot of the lists, and checks each miss atomically (`clean-orphan-6.lua`) before
    /// requeueing it. Its cost grows with the number of items, so run it rarely (at start-up,
    /// or hourly), not per job.
    #[napi(catch_unwind, ts_return_type = "Promise<CleanReport>")]
    pub async fn deep_clean(&self) -> Settled<CleanReport> {
        settle(async { Ok(self.inner.deep_clean().await?.into()) }).await
    }

    /// The number of items waiting to be leased (not counting those being processed).
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn queue_len(&self) -> Settled<f64> {
        settle(async { Ok(self.inner.queue_len().await? as f64) }).await
    }

    /// The number of items currently leased (being processed, or waiting for a clean).
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub async fn processing(&self) -> Settled<f64> {
        settle(async { Ok(self.inner.processing().await? as f64) }).await
    }
}
