//! Dead letters: items that used up their attempts, kept with their last error.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::item::Item;
use crate::queue::WorkQueue;
use crate::scripts;

/// Ids handled per script call by the bulk dead-letter operations.
const DEAD_BATCH: usize = 1000;

/// An item in the dead letters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadItem {
    /// The item, its data as added; `attempts` is how many leases it had.
    pub item: Item,
    /// The error of its last failure (`"lease expired"` when its last lease ran out).
    pub error: String,
    /// When it died (Redis server clock).
    pub died_at: SystemTime,
}

impl WorkQueue {
    /// The number of items in the dead letters.
    pub async fn dead_len(&self) -> Result<u64> {
        self.zcard(&self.keys.dead).await
    }

    /// A page of dead letters, oldest death first: `count` (at most 1000) from `offset`.
    /// One round trip ([`dead-items-4.lua`](../lua/dead-items-4.lua)).
    pub async fn dead_items(&self, offset: u64, count: u64) -> Result<Vec<DeadItem>> {
        if count == 0 || count > DEAD_BATCH as u64 {
            return Err(Error::invalid_argument("count must be between 1 and 1000"));
        }
        // Redis indexes are i64; no sorted set holds anywhere near 2^63 members.
        let Ok(first) = i64::try_from(offset) else {
            return Ok(Vec::new());
        };
        let last = first.saturating_add(count as i64 - 1);
        let mut connection = self.connection.shared().await?;
        let flat: Vec<redis::Value> = scripts::DEAD_ITEMS
            .key(&self.keys.dead)
            .key(&self.keys.item_prefix)
            .key(&self.keys.attempts)
            .key(&self.keys.errors)
            .arg(first)
            .arg(last)
            .invoke_async(&mut connection)
            .await?;
        let mut page = Vec::with_capacity(flat.len() / 5);
        for entry in flat.chunks_exact(5) {
            let (id, data, attempts, error, died_at): (String, Vec<u8>, u32, String, f64) =
                redis::from_redis_value(redis::Value::Array(entry.to_vec()))?;
            page.push(DeadItem {
                item: Item { id, data, attempts },
                error,
                died_at: UNIX_EPOCH + Duration::from_millis(died_at as u64),
            });
        }
        Ok(page)
    }

    /// Puts dead items back in the queue at their priority with their attempts reset; returns
    /// how many were dead. One round trip per 1000 ids
    /// ([`requeue-dead-6.lua`](../lua/requeue-dead-6.lua)).
    pub async fn requeue_dead(&self, ids: &[String]) -> Result<u64> {
        let mut requeued = 0;
        for chunk in ids.chunks(DEAD_BATCH) {
            let mut connection = self.connection.shared().await?;
            let mut invocation = scripts::REQUEUE_DEAD.key(&self.keys.dead);
            invocation
                .key(&self.keys.queue)
                .key(&self.keys.attempts)
                .key(&self.keys.priority)
                .key(&self.keys.prioritized)
                .key(&self.keys.signal);
            for id in chunk {
                invocation.arg(id);
            }
            let count: u64 = invocation.invoke_async(&mut connection).await?;
            requeued += count;
        }
        Ok(requeued)
    }

    /// Deletes dead items for good; returns how many were dead. One round trip per 1000 ids
    /// ([`purge-dead-5.lua`](../lua/purge-dead-5.lua)).
    pub async fn purge_dead(&self, ids: &[String]) -> Result<u64> {
        let mut purged = 0;
        for chunk in ids.chunks(DEAD_BATCH) {
            let mut connection = self.connection.shared().await?;
            let mut invocation = scripts::PURGE_DEAD.key(&self.keys.dead);
            invocation
                .key(&self.keys.item_prefix)
                .key(&self.keys.attempts)
                .key(&self.keys.errors)
                .key(&self.keys.priority);
            for id in chunk {
                invocation.arg(id);
            }
            let count: u64 = invocation.invoke_async(&mut connection).await?;
            purged += count;
        }
        Ok(purged)
    }

    /// Requeues every dead item, 1000 per round trip; returns how many.
    pub async fn requeue_all_dead(&self) -> Result<u64> {
        self.drain_dead(true).await
    }

    /// Deletes every dead item, 1000 per round trip; returns how many.
    pub async fn purge_all_dead(&self) -> Result<u64> {
        self.drain_dead(false).await
    }

    async fn drain_dead(&self, requeue: bool) -> Result<u64> {
        let mut total = 0;
        loop {
            let mut connection = self.connection.shared().await?;
            let ids: Vec<String> = redis::cmd("ZRANGE")
                .arg(&self.keys.dead)
                .arg(0)
                .arg(DEAD_BATCH - 1)
                .query_async(&mut connection)
                .await?;
            if ids.is_empty() {
                return Ok(total);
            }
            total += if requeue {
                self.requeue_dead(&ids).await?
            } else {
                self.purge_dead(&ids).await?
            };
        }
    }

    /// Pauses the queue: leases return nothing (blocking ones wait) until [`WorkQueue::resume`];
    /// adds still succeed. Clients of `redis-work-queue` do not know of pauses.
    pub async fn pause(&self) -> Result<()> {
        let mut connection = self.connection.shared().await?;
        let _: () = redis::cmd("SET")
            .arg(&self.keys.paused)
            .arg(1)
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    /// Resumes a paused queue and wakes its blocked leases; returns whether it was paused.
    /// One round trip ([`resume-2.lua`](../lua/resume-2.lua)).
    pub async fn resume(&self) -> Result<bool> {
        let mut connection = self.connection.shared().await?;
        let was_paused: i64 = scripts::RESUME
            .key(&self.keys.paused)
            .key(&self.keys.signal)
            .invoke_async(&mut connection)
            .await?;
        Ok(was_paused == 1)
    }

    /// Whether the queue is paused.
    pub async fn is_paused(&self) -> Result<bool> {
        let mut connection = self.connection.shared().await?;
        let paused: bool = redis::cmd("EXISTS")
            .arg(&self.keys.paused)
            .query_async(&mut connection)
            .await?;
        Ok(paused)
    }
}
