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

    /// A page of dead letters, oldest death first: at most 1000 from an offset.
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
        // Read leniently, so one entry a foreign client wrote oddly (an id that is not UTF-8, an
        // attempt count that is not a number) never fails the whole page.
        let text = |value: &redis::Value| -> String {
            let bytes: Vec<u8> = redis::from_redis_value(value.clone()).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        for entry in flat.chunks_exact(5) {
            let id = text(&entry[0]);
            let data: Vec<u8> = redis::from_redis_value(entry[1].clone()).unwrap_or_default();
            let attempts = text(&entry[2]).parse().unwrap_or(0);
            let error = text(&entry[3]);
            let died_at: f64 = text(&entry[4]).parse().unwrap_or(0.0);
            page.push(DeadItem {
                item: Item {
                    id,
                    data,
                    attempts,
                    fence: 0,
                },
                error,
                died_at: UNIX_EPOCH + Duration::from_millis(died_at.max(0.0) as u64),
            });
        }
        Ok(page)
    }

    /// Puts dead items back in the queue at their priority with their attempts reset; returns
    /// how many were dead. One round trip per 1000 ids
    /// ([`requeue-dead-6.lua`](../lua/requeue-dead-6.lua)).
    pub async fn requeue_dead(&self, ids: &[String]) -> Result<u64> {
        self.requeue_dead_raw(ids).await
    }

    async fn requeue_dead_raw(&self, ids: &[impl AsRef<[u8]>]) -> Result<u64> {
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
                invocation.arg(id.as_ref());
            }
            let count: u64 = invocation.invoke_async(&mut connection).await?;
            requeued += count;
        }
        Ok(requeued)
    }

    /// Deletes dead items for good; returns how many were dead. One round trip per 1000 ids
    /// ([`purge-dead-6.lua`](../lua/purge-dead-6.lua)).
    pub async fn purge_dead(&self, ids: &[String]) -> Result<u64> {
        self.purge_dead_raw(ids).await
    }

    async fn purge_dead_raw(&self, ids: &[impl AsRef<[u8]>]) -> Result<u64> {
        let mut purged = 0;
        for chunk in ids.chunks(DEAD_BATCH) {
            let mut connection = self.connection.shared().await?;
            let mut invocation = scripts::PURGE_DEAD.key(&self.keys.dead);
            invocation
                .key(&self.keys.item_prefix)
                .key(&self.keys.attempts)
                .key(&self.keys.errors)
                .key(&self.keys.priority)
                .key(&self.keys.fences);
            for id in chunk {
                invocation.arg(id.as_ref());
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
            // Bytes: an id a foreign client wrote need not be UTF-8.
            let ids: Vec<Vec<u8>> = redis::cmd("ZRANGE")
                .arg(&self.keys.dead)
                .arg(0)
                .arg(DEAD_BATCH - 1)
                .query_async(&mut connection)
                .await?;
            if ids.is_empty() {
                return Ok(total);
            }
            total += if requeue {
                self.requeue_dead_raw(&ids).await?
            } else {
                self.purge_dead_raw(&ids).await?
            };
        }
    }

    /// Pauses the queue: leases return nothing (blocking ones wait) until it is resumed; adds still
    /// succeed. Clients of `redis-work-queue` do not know of pauses.
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
