//! Cleaning: returning items whose lease expired, and finding items that are in no list at all.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::error::Result;
use crate::queue::{CleanReport, WorkQueue};
use crate::scripts;

/// Ids examined per light-clean script call: keeps each call well under a millisecond.
const LIGHT_CLEAN_BATCH: u64 = 200;
/// Ids read per `LRANGE` and keys asked for per `SCAN` during a deep clean.
const DEEP_CLEAN_BATCH: u64 = 1000;

impl WorkQueue {
    /// Returns to the queue every leased item whose lease has expired (or, on its last attempt,
    /// moves it to the dead letters), and drops ids in processing whose item no longer exists.
    ///
    /// Leases taken by either key generation (`lease:` and the older `leased_by_session:`) count
    /// as live. Ids left in the old generation's `cleaning` list are finished. Runs as a series
    /// of short scripts ([`light-clean-12.lua`](../lua/light-clean-12.lua)), one per 200 leased
    /// ids, so Redis is never blocked for long; safe to run while workers lease and complete.
    pub async fn light_clean(&self) -> Result<CleanReport> {
        let mut report = CleanReport::default();
        let mut connection = self.connection.shared().await?;
        let mut offset = 0u64;
        loop {
            let (requeued, dropped, next_offset, done, dead): (u64, u64, u64, u64, u64) =
                scripts::LIGHT_CLEAN
                    .key(&self.keys.processing)
                    .key(&self.keys.queue)
                    .key(&self.keys.lease_prefix)
                    .key(&self.keys.old_lease_prefix)
                    .key(&self.keys.item_prefix)
                    .key(&self.keys.deadlines)
                    .key(&self.keys.attempts)
                    .key(&self.keys.errors)
                    .key(&self.keys.dead)
                    .key(&self.keys.priority)
                    .key(&self.keys.prioritized)
                    .key(&self.keys.signal)
                    .arg(offset)
                    .arg(LIGHT_CLEAN_BATCH)
                    .arg(self.options.max_attempts)
                    .invoke_async(&mut connection)
                    .await?;
            report.requeued += requeued;
            report.dropped += dropped;
            report.dead += dead;
            offset = next_offset;
            if done == 1 {
                break;
            }
        }
        // Ids an old-generation cleaner crashed on; each call removes one from `cleaning`.
        loop {
            let leftovers: Vec<String> = redis::cmd("LRANGE")
                .arg(&self.keys.cleaning)
                .arg(0)
                .arg(DEEP_CLEAN_BATCH as i64 - 1)
                .query_async(&mut connection)
                .await?;
            if leftovers.is_empty() {
                break;
            }
            for id in leftovers {
                report.requeued += self.requeue_orphan(&id, true).await?;
            }
        }
        Ok(report)
    }

    /// A light clean, then requeues every item that exists but is in no list or set and holds no
    /// lease (left so by a crashed client of an older generation, or by hand), and drops
    /// bookkeeping (attempts, errors, priorities, deadlines, dead letters) of items that are gone.
    ///
    /// Walks the item keys with `SCAN` in batches (never `KEYS`), compares them against a
    /// snapshot of the lists, and checks each miss atomically
    /// ([`clean-orphan-9.lua`](../lua/clean-orphan-9.lua)) before requeueing it. Its cost grows
    /// with the number of items, so run it rarely (at start-up, or hourly), not per job.
    pub async fn deep_clean(&self) -> Result<CleanReport> {
        let mut report = self.light_clean().await?;
        let mut connection = self.connection.shared().await?;

        let mut listed = HashSet::new();
        for list in [&self.keys.queue, &self.keys.processing] {
            let mut start = 0i64;
            loop {
                let ids: Vec<Vec<u8>> = redis::cmd("LRANGE")
                    .arg(list)
                    .arg(start)
                    .arg(start + DEEP_CLEAN_BATCH as i64 - 1)
                    .query_async(&mut connection)
                    .await?;
                for id in &ids {
                    listed.insert(hash_id(id));
                }
                if (ids.len() as u64) < DEEP_CLEAN_BATCH {
                    break;
                }
                start += DEEP_CLEAN_BATCH as i64;
            }
        }

        let pattern = self.keys.item_scan_pattern();
        let mut cursor = 0u64;
        loop {
            let (next, found) = self
                .connection
                .scan(&self.keys.queue, cursor, &pattern, DEEP_CLEAN_BATCH)
                .await?;
            for key in found {
                let id = &key[self.keys.item_prefix.len()..];
                if listed.contains(&hash_id(id)) {
                    continue;
                }
                // Not UTF-8: not an id leaseq or redis-work-queue could have written.
                if let Ok(id) = std::str::from_utf8(id) {
                    report.requeued += self.requeue_orphan(id, false).await?;
                }
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        for (key, kind) in [
            (&self.keys.attempts, "hash"),
            (&self.keys.errors, "hash"),
            (&self.keys.priority, "hash"),
            (&self.keys.deadlines, "zset"),
            (&self.keys.dead, "zset"),
        ] {
            report.dropped += self.prune(key, kind).await?;
        }
        Ok(report)
    }

    /// Walks a per-id hash or zset with HSCAN/ZSCAN and drops the entries of items that are gone.
    async fn prune(&self, key: &str, kind: &str) -> Result<u64> {
        let mut connection = self.connection.shared().await?;
        let (scan, mut dropped, mut cursor) =
            (if kind == "hash" { "HSCAN" } else { "ZSCAN" }, 0, 0u64);
        loop {
            let (next, pairs): (u64, Vec<Vec<u8>>) = redis::cmd(scan)
                .arg(key)
                .arg(cursor)
                .arg("COUNT")
                .arg(DEEP_CLEAN_BATCH)
                .query_async(&mut connection)
                .await?;
            // Field/value (or member/score) pairs: the ids are every other entry.
            let ids: Vec<&Vec<u8>> = pairs.iter().step_by(2).collect();
            if !ids.is_empty() {
                let mut invocation = scripts::PRUNE.key(key);
                invocation.key(&self.keys.item_prefix).arg(kind);
                for id in ids {
                    invocation.arg(id);
                }
                let pruned: u64 = invocation.invoke_async(&mut connection).await?;
                dropped += pruned;
            }
            cursor = next;
            if cursor == 0 {
                return Ok(dropped);
            }
        }
    }

    async fn requeue_orphan(&self, id: &str, from_cleaning_list: bool) -> Result<u64> {
        let mut connection = self.connection.shared().await?;
        Ok(scripts::CLEAN_ORPHAN
            .key(self.keys.item(id))
            .key(&self.keys.queue)
            .key(&self.keys.processing)
            .key(self.keys.lease(id))
            .key(self.keys.old_lease(id))
            .key(&self.keys.cleaning)
            .key(&self.keys.prioritized)
            .key(&self.keys.delayed)
            .key(&self.keys.dead)
            .arg(id)
            .arg(if from_cleaning_list { "1" } else { "0" })
            .invoke_async(&mut connection)
            .await?)
    }
}

/// A 64-bit digest of an id: the snapshot of a million-item queue stays a few MB. A collision
/// only makes one orphan wait for the next deep clean.
fn hash_id(id: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}
