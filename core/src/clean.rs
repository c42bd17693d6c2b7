//! Cleaning: returning items whose lease expired, and finding items that are in no list at all.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use std::time::Instant;

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{may_be_another_queues, Keys};
use crate::queue::{CleanReport, WorkQueue};
use crate::scripts;

/// Ids examined per light-clean script call: keeps each call well under a millisecond.
const LIGHT_CLEAN_BATCH: u64 = 200;
/// Ids read per `LRANGE` and keys asked for per `SCAN` during a deep clean.
const DEEP_CLEAN_BATCH: u64 = 1000;

/// What a first pass of a clean left for its second sighting, once the grace period has passed.
#[derive(Default)]
struct Suspects {
    /// Ids in processing without a lease (and no recorded deadline of ours).
    unleased: Vec<Vec<u8>>,
    /// Ids with data in no list or set, and whether each came from the old `cleaning` list.
    orphans: Vec<(Vec<u8>, bool)>,
}

impl WorkQueue {
    /// Returns to the queue every leased item whose lease has expired (or, on its last attempt,
    /// moves it to the dead letters), and drops ids in processing whose item no longer exists.
    ///
    /// Leases taken by either key generation (`lease:` and the older `leased_by_session:`) count
    /// as live. Ids left in the old generation's `cleaning` list are finished. Runs as a series
    /// of short scripts ([`light-clean-12.lua`](../lua/light-clean-12.lua)), one per 200 leased
    /// ids, so Redis is never blocked for long; safe to run while workers lease and complete.
    ///
    /// An id in processing without a lease that leaseq did not lease (a `redis-work-queue`
    /// client pops an id and writes its lease in two commands) is reclaimed only if it is still
    /// so after the queue's `clean_grace` (default 1 s): the call then takes that much longer.
    pub async fn light_clean(&self) -> Result<CleanReport> {
        let mut report = CleanReport::default();
        let mut suspects = Suspects::default();
        let first_sighting = Instant::now();
        self.light_clean_pass(&mut report, &mut suspects).await?;
        self.second_sighting(first_sighting, suspects, &mut report)
            .await?;
        Ok(report)
    }

    /// Fails (as the scripts do) if a key exists with another type than `kind`: a clean is
    /// several scripts, so the keys a later one needs are checked before the first writes.
    async fn check_types(&self, expected: &[(&String, &str)]) -> Result<()> {
        let mut connection = self.connection.shared().await?;
        let mut types = redis::pipe();
        for (key, _) in expected {
            types.cmd("TYPE").arg(key);
        }
        let found: Vec<String> = types.query_async(&mut connection).await?;
        for ((key, kind), found) in expected.iter().zip(found) {
            if found != "none" && found != *kind {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!("redis: WRONGTYPE {key} holds a {found}, not a {kind}"),
                ));
            }
        }
        Ok(())
    }

    /// The first sighting of a light clean: reclaims what needs no grace, collects the rest.
    async fn light_clean_pass(
        &self,
        report: &mut CleanReport,
        suspects: &mut Suspects,
    ) -> Result<()> {
        self.check_types(&[
            (&self.keys.queue, "list"),
            (&self.keys.processing, "list"),
            (&self.keys.cleaning, "list"),
            (&self.keys.prioritized, "zset"),
            (&self.keys.delayed, "zset"),
            (&self.keys.dead, "zset"),
        ])
        .await?;
        let mut offset = 0u64;
        loop {
            let step = self.light_clean_step(offset, &[]).await?;
            report.requeued += step.requeued;
            report.dropped += step.dropped;
            report.dead += step.dead;
            suspects.unleased.extend(step.suspects);
            offset = step.next_offset;
            if step.done {
                break;
            }
        }
        // Ids an old-generation cleaner crashed on (or is working on now): each first sighting
        // removes a non-orphan from `cleaning`; orphans wait for their second sighting.
        // Read page by page: the first sightings remove entries, so the next page starts after
        // the orphans this pass kept, and a list of any length is finished in one clean.
        let mut connection = self.connection.shared().await?;
        let mut kept = 0i64;
        loop {
            let page: Vec<Vec<u8>> = redis::cmd("LRANGE")
                .arg(&self.keys.cleaning)
                .arg(kept)
                .arg(kept + DEEP_CLEAN_BATCH as i64 - 1)
                .query_async(&mut connection)
                .await?;
            let full = page.len() as u64 == DEEP_CLEAN_BATCH;
            for id in page {
                if self.requeue_orphan(&id, true, true).await? == 1 {
                    suspects.orphans.push((id, true));
                    kept += 1;
                }
            }
            if !full {
                break;
            }
        }
        Ok(())
    }

    /// One light-clean script call: a batch from `offset`, or the given ids (second sighting).
    async fn light_clean_step(&self, offset: u64, ids: &[Vec<u8>]) -> Result<LightCleanStep> {
        let mut connection = self.connection.shared().await?;
        let mut invocation = scripts::LIGHT_CLEAN.key(&self.keys.processing);
        invocation
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
            .arg(self.options.max_attempts);
        for id in ids {
            invocation.arg(id);
        }
        let reply: Vec<redis::Value> = invocation.invoke_async(&mut connection).await?;
        if reply.len() < 5 {
            return Err(Error::new(
                ErrorKind::Internal,
                format!("unexpected reply from the light-clean script: {reply:?}"),
            ));
        }
        let mut reply = reply.into_iter();
        let mut number = || -> Result<u64> {
            Ok(redis::from_redis_value(
                reply.next().unwrap_or(redis::Value::Nil),
            )?)
        };
        let (requeued, dropped, next_offset, done, dead) =
            (number()?, number()?, number()?, number()?, number()?);
        let suspects = reply
            .map(redis::from_redis_value)
            .collect::<std::result::Result<Vec<Vec<u8>>, _>>()?;
        Ok(LightCleanStep {
            requeued,
            dropped,
            next_offset,
            done: done == 1,
            dead,
            suspects,
        })
    }

    /// Waits until the grace period has passed since the first sighting, then reclaims each
    /// suspect that is still unleased or orphaned (each checked atomically again).
    async fn second_sighting(
        &self,
        first_sighting: Instant,
        suspects: Suspects,
        report: &mut CleanReport,
    ) -> Result<()> {
        if suspects.unleased.is_empty() && suspects.orphans.is_empty() {
            return Ok(());
        }
        tokio::time::sleep_until((first_sighting + self.options.clean_grace).into()).await;
        for chunk in suspects.unleased.chunks(LIGHT_CLEAN_BATCH as usize) {
            let step = self.light_clean_step(0, chunk).await?;
            report.requeued += step.requeued;
            report.dropped += step.dropped;
            report.dead += step.dead;
        }
        if suspects.orphans.is_empty() {
            return Ok(());
        }
        // The script's own look into the queue is bounded (1000 ids at each end), so an id that
        // entered the queue after the first snapshot and then sank deep into a long backlog
        // would look orphaned twice and be queued twice. A fresh snapshot, taken after the grace
        // period, holds every id that has sat in a list since: only ids missing from it too go
        // on to the script's atomic check.
        let listed = self.listed_ids().await?;
        for (id, from_cleaning_list) in suspects.orphans {
            if listed.contains(&hash_id(&id)) {
                continue;
            }
            report.requeued += self.requeue_orphan(&id, from_cleaning_list, false).await?;
        }
        Ok(())
    }

    /// Digests of every id in processing and in the queue, read page by page.
    ///
    /// Processing is read first: an id that a lease moves from the queue to processing while
    /// the pages are read is then missed by both, but the orphan script finds it, as it searches
    /// all of processing. The pages are read from the head: pushes there (adds, requeues) only
    /// shift ids towards later pages, and pops at the tail (leases) shift nothing, so an id that
    /// stays in the queue throughout is always read.
    async fn listed_ids(&self) -> Result<HashSet<u64>> {
        let mut connection = self.connection.shared().await?;
        let mut listed = HashSet::new();
        for list in [&self.keys.processing, &self.keys.queue] {
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
        Ok(listed)
    }

    /// A light clean, then requeues every item that exists but is in no list or set and holds no
    /// lease (left so by a crashed client of an older generation, or by hand), and drops
    /// bookkeeping (attempts, errors, priorities, fencing tokens, deadlines, dead letters) of items
    /// that are gone.
    ///
    /// Walks the item keys with `SCAN` in batches (never `KEYS`), compares them against a
    /// snapshot of the lists, and checks each miss atomically
    /// ([`clean-orphan-9.lua`](../lua/clean-orphan-9.lua)) before requeueing it. Its cost grows
    /// with the number of items, so run it rarely (at start-up, or hourly), not per job.
    ///
    /// Only string keys whose remainder after `<prefix>:item:` cannot be another queue's key
    /// are candidates (spec/key-schema.md, "Namespaces"), and each must still be an orphan
    /// after the queue's `clean_grace` (a `redis-work-queue` producer writes an item's data and
    /// pushes its id in two commands).
    pub async fn deep_clean(&self) -> Result<CleanReport> {
        let mut report = CleanReport::default();
        let mut suspects = Suspects::default();
        let first_sighting = Instant::now();
        // Every key the deep clean reads, checked before its light clean writes anything.
        self.check_types(&[
            (&self.keys.attempts, "hash"),
            (&self.keys.errors, "hash"),
            (&self.keys.priority, "hash"),
            (&self.keys.fences, "hash"),
            (&self.keys.deadlines, "zset"),
            (&self.keys.dead, "zset"),
        ])
        .await?;
        self.light_clean_pass(&mut report, &mut suspects).await?;

        let listed = self.listed_ids().await?;

        let pattern = self.keys.item_scan_pattern();
        let mut cursor = 0u64;
        loop {
            let (next, found) = self
                .connection
                .scan(&self.keys.queue, cursor, &pattern, DEEP_CLEAN_BATCH)
                .await?;
            for key in found {
                // SCAN's pattern matched the escaped prefix, but check rather than trust it.
                let Some(id) = key.strip_prefix(self.keys.item_prefix.as_bytes()) else {
                    continue;
                };
                if id.is_empty() || listed.contains(&hash_id(id)) || may_be_another_queues(id) {
                    continue;
                }
                if self.requeue_orphan(id, false, true).await? == 1 {
                    suspects.orphans.push((id.to_vec(), false));
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
            (&self.keys.fences, "hash"),
            (&self.keys.deadlines, "zset"),
            (&self.keys.dead, "zset"),
        ] {
            report.dropped += self.prune(key, kind).await?;
        }
        self.second_sighting(first_sighting, suspects, &mut report)
            .await?;
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

    /// Requeues `id` if it is an orphan; at a first sighting only tells whether it is one.
    async fn requeue_orphan(
        &self,
        id: &[u8],
        from_cleaning_list: bool,
        first_sighting: bool,
    ) -> Result<u64> {
        let mut connection = self.connection.shared().await?;
        Ok(scripts::CLEAN_ORPHAN
            .key(Keys::with_id(&self.keys.item_prefix, id))
            .key(&self.keys.queue)
            .key(&self.keys.processing)
            .key(Keys::with_id(&self.keys.lease_prefix, id))
            .key(Keys::with_id(&self.keys.old_lease_prefix, id))
            .key(&self.keys.cleaning)
            .key(&self.keys.prioritized)
            .key(&self.keys.delayed)
            .key(&self.keys.dead)
            .arg(id)
            .arg(if from_cleaning_list { "1" } else { "0" })
            .arg(if first_sighting { "1" } else { "0" })
            .invoke_async(&mut connection)
            .await?)
    }
}

/// What one light-clean script call did.
struct LightCleanStep {
    requeued: u64,
    dropped: u64,
    next_offset: u64,
    done: bool,
    dead: u64,
    suspects: Vec<Vec<u8>>,
}

/// A 64-bit digest of an id: the snapshot of a million-item queue stays a few MB. A collision
/// only makes one orphan wait for the next deep clean.
fn hash_id(id: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}
