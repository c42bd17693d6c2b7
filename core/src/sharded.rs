//! One logical queue spread over several ordinary queues (shards), each with a hash tag of its
//! own, so that on a Redis Cluster its load spreads over the masters.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::add::AddOptions;
use crate::complete::FailOutcome;
use crate::connection::{closed_error, Connection};
use crate::duration::lease_millis;
use crate::error::{Error, Result};
use crate::item::{validate_id, Item};
use crate::lease::Leased;
use crate::queue::{CleanReport, QueueOptions, WorkQueue};

/// The most shards a [`ShardedQueue`] may have.
pub const MAX_SHARDS: usize = 1024;

/// The number of Redis Cluster hash slots.
const SLOTS: u32 = 16384;

/// One logical queue spread over `N` ordinary leaseq queues, its shards.
///
/// Shard `i` is a plain queue named `{<name>-<i>}` (or `{<name>-<i>.<k>}`, see
/// [`ShardedQueue::shard_names`]): its own hash tag, chosen so that on a Cluster whose slots are
/// split evenly between its masters (what `redis-cli --cluster create` and the managed services
/// do) the shards fall on different masters, `N` of them spread evenly. Each shard stays a valid
/// queue for [`WorkQueue`] and `redis-work-queue` clients of that name.
///
/// - Adds go to the shard the item's id hashes to ([`ShardedQueue::shard_index`]), so an id
///   always meets its earlier copy and uniqueness holds across the whole queue.
/// - Renew, complete, fail and release go to that same shard. An item that a client added to a
///   shard directly must therefore have an id that hashes to that shard, or the sharded queue's
///   complete looks for it in the wrong one (and returns `false`).
/// - A lease starts at a shard that rotates from call to call (fair to every shard) and takes
///   the first item found. A blocking lease on an empty queue waits on every shard at once, the
///   way [`WorkQueue::lease`] waits on one, and wakes within milliseconds of an add to any.
/// - Cleans, counts, pause and resume cover every shard.
///
/// Cloning is cheap; clones share the shards' sessions and the rotation.
#[derive(Clone)]
pub struct ShardedQueue {
    name: Arc<str>,
    shards: Arc<[WorkQueue]>,
    /// The shard the next lease starts at (modulo the number of shards).
    next_start: Arc<AtomicUsize>,
}

impl ShardedQueue {
    /// A queue named `name` spread over `shards` queues (see [`ShardedQueue::shard_names`]),
    /// each with `options`.
    ///
    /// Fails with [`crate::ErrorKind::InvalidArgument`] if `name` is empty or holds a `{` or `}`
    /// (each shard gets a hash tag of its own around the name), if `shards` is 0 or more than
    /// [`MAX_SHARDS`], or if the options are invalid. Every client of the queue must use the same
    /// name and number of shards: both decide where an id goes.
    pub fn new(
        connection: &Connection,
        name: &str,
        shards: usize,
        options: QueueOptions,
    ) -> Result<ShardedQueue> {
        let names = ShardedQueue::shard_names(name, shards)?;
        let shards = names
            .iter()
            .map(|shard| WorkQueue::with_options(connection, shard, options.clone()))
            .collect::<Result<Vec<_>>>()?;
        Ok(ShardedQueue {
            name: name.into(),
            shards: shards.into(),
            next_start: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The shard names of a queue `name` with `shards` shards, in shard order.
    ///
    /// Shard `i` is named `{<name>-<i>}` if the Cluster hash slot of the tag `<name>-<i>` (CRC16
    /// of the tag, modulo 16384) lies in the middle half of the `i`-th of `shards` equal parts of
    /// the 16384 slots; otherwise `{<name>-<i>.<k>}` for the smallest `k` ≥ 1 whose slot does.
    /// A pure function of the name and the count, so every client (in any language) finds the
    /// same shards without asking the server. On a Cluster whose masters own equal runs of slots
    /// in order (`redis-cli --cluster create`, ElastiCache, MemoryDB…), `N` shards over `M`
    /// masters put `N/M` shards on each; the middle half keeps a shard well inside its master's
    /// run even when the split is off by a few slots. A Cluster resharded by hand may place
    /// them otherwise: name queues yourself then (plain [`WorkQueue`]s).
    pub fn shard_names(name: &str, shards: usize) -> Result<Vec<String>> {
        if name.is_empty() {
            return Err(Error::invalid_argument("queue name must not be empty"));
        }
        if name.contains(['{', '}']) {
            return Err(Error::invalid_argument(format!(
                "sharded queue name {name:?} must not hold braces: each shard gets a hash tag of \
                 its own around it ({{{name}-0}}, {{{name}-1}}, …); name it without them"
            )));
        }
        if shards == 0 || shards > MAX_SHARDS {
            return Err(Error::invalid_argument(format!(
                "a sharded queue has 1 to {MAX_SHARDS} shards, not {shards}"
            )));
        }
        Ok((0..shards)
            .map(|index| format!("{{{}}}", shard_tag(name, index, shards)))
            .collect())
    }

    /// The logical queue's name (without the shards' tags).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shards, in shard order: ordinary queues, for anything this type does not offer
    /// (dead-letter lists, stats, inspection).
    pub fn shards(&self) -> &[WorkQueue] {
        &self.shards
    }

    /// The shard an item id belongs to: CRC16 (XMODEM, the Redis Cluster key hash) of the id's
    /// UTF-8 bytes, modulo the number of shards.
    pub fn shard_index(&self, id: &str) -> usize {
        usize::from(crc16(id.as_bytes())) % self.shards.len()
    }

    /// The shard an item id belongs to.
    pub fn shard_for(&self, id: &str) -> &WorkQueue {
        &self.shards[self.shard_index(id)]
    }

    /// [`WorkQueue::add_item`] on the item's shard: `false` if the id exists in the queue.
    pub async fn add_item(&self, item: &Item) -> Result<bool> {
        validate_id(&item.id)?;
        self.shard_for(&item.id).add_item(item).await
    }

    /// [`WorkQueue::add_unique_item`] on the item's shard.
    pub async fn add_unique_item(&self, item: &Item) -> Result<()> {
        validate_id(&item.id)?;
        self.shard_for(&item.id).add_unique_item(item).await
    }

    /// [`WorkQueue::add_item_with`] on the item's shard.
    pub async fn add_item_with(&self, item: &Item, options: &AddOptions) -> Result<bool> {
        validate_id(&item.id)?;
        self.shard_for(&item.id).add_item_with(item, options).await
    }

    /// Adds a batch: one [`WorkQueue::add_items`] per shard that gets some of it, all at once.
    /// Returns how many were added (ids that exist are skipped).
    ///
    /// Atomic per shard, not across shards: after an error, the parts that went to other shards
    /// may be in. Adding the same batch again is safe (their ids exist, so they are skipped).
    pub async fn add_items(&self, items: &[Item]) -> Result<u64> {
        let mut parts: Vec<Vec<Item>> = vec![Vec::new(); self.shards.len()];
        for item in items {
            validate_id(&item.id)?;
            parts[self.shard_index(&item.id)].push(item.clone());
        }
        let added = join_all(
            self.shards
                .iter()
                .zip(&parts)
                .filter(|(_, part)| !part.is_empty())
                .map(|(shard, part)| shard.add_items(part)),
        )
        .await;
        added.into_iter().sum()
    }

    /// Leases the next item from any shard, or returns `None`; as [`WorkQueue::lease`].
    ///
    /// Each call starts at the next shard in turn and takes the first item it finds, so every
    /// shard is served. Without `block`, an empty queue costs one lease script per shard. With
    /// `block`, when no shard has an item it waits on every shard at once (two `BLMOVE`s each,
    /// on connections of their own, as [`WorkQueue::lease`]); the first shard to wake ends the
    /// others' waits (`CLIENT UNBLOCK`) and is tried first. A shard that fails (its master is
    /// failing over) does not stop the others: its error is returned only if no shard had an
    /// item.
    pub async fn lease(
        &self,
        lease_duration: Duration,
        block: bool,
        timeout: Option<Duration>,
    ) -> Result<Option<Item>> {
        let lease_ms = lease_millis(lease_duration)?;
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        let count = self.shards.len();
        let mut start = self.next_start.fetch_add(1, Ordering::Relaxed) % count;
        loop {
            let mut next_due: Option<Duration> = None;
            let mut paused = vec![false; count];
            let mut failed = None;
            for offset in 0..count {
                let index = (start + offset) % count;
                match self.shards[index].try_lease(lease_ms, 1).await {
                    Ok(Leased::Items(items)) if !items.is_empty() => {
                        return Ok(items.into_iter().next())
                    }
                    Ok(Leased::Items(_)) => {}
                    Ok(Leased::Nothing {
                        next_due: due,
                        paused: shard_paused,
                    }) => {
                        paused[index] = shard_paused;
                        next_due = match (next_due, due) {
                            (Some(soonest), Some(due)) => Some(soonest.min(due)),
                            (soonest, due) => soonest.or(due),
                        };
                    }
                    Err(err) => failed = failed.or(Some(err)),
                }
            }
            if let Some(err) = failed {
                return Err(err);
            }
            if !block {
                return Ok(None);
            }
            let remaining = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(remaining) if !remaining.is_zero() => Some(remaining),
                    _ => return Ok(None),
                },
            };
            let wait = match (remaining, next_due) {
                (Some(remaining), Some(due)) => Some(remaining.min(due)),
                (remaining, due) => remaining.or(due),
            };
            let woke = tokio::select! {
                woke = self.wait_on_every_shard(wait, &paused) => woke?,
                () = self.shards[0].connection.until_closed() => return Err(closed_error()),
            };
            start = woke.unwrap_or(start);
        }
    }

    /// Waits on every shard at once ([`WorkQueue::wait_for_work`] each, in tasks of their own)
    /// until one may have work, or `wait` passes. Returns that shard as soon as its wait ends;
    /// the others' waits are ended then (`CLIENT UNBLOCK`) and finish in the background,
    /// putting their connections back, so the lease that follows does not wait for them.
    /// Dropping this future ends them all the same way.
    async fn wait_on_every_shard(
        &self,
        wait: Option<Duration>,
        paused: &[bool],
    ) -> Result<Option<usize>> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (ended, mut first_ended) = tokio::sync::mpsc::unbounded_channel();
        for (index, (shard, &paused)) in self.shards.iter().zip(paused).enumerate() {
            let (shard, mut stopped, ended) = (shard.clone(), stopped.clone(), ended.clone());
            tokio::spawn(async move {
                if *stopped.borrow() {
                    return;
                }
                // Ends when told to, or when `stop` is dropped (the lease was dropped).
                let until_stopped = async move {
                    let _ = stopped.wait_for(|stopped| *stopped).await;
                };
                let waited = shard.wait_for_work(wait, paused, until_stopped).await;
                let _ = ended.send((index, waited));
            });
        }
        drop(ended);
        let first = first_ended.recv().await;
        stop.send_replace(true);
        match first {
            Some((index, Ok(()))) => Ok(Some(index)),
            Some((_, Err(err))) => Err(err),
            None => Ok(None),
        }
    }

    /// [`WorkQueue::renew`] on the item's shard.
    pub async fn renew(&self, item: &Item, lease_duration: Duration) -> Result<bool> {
        validate_id(&item.id)?;
        self.shard_for(&item.id).renew(item, lease_duration).await
    }

    /// [`WorkQueue::complete`] on the item's shard: `true` exactly once per item.
    pub async fn complete(&self, item: &Item) -> Result<bool> {
        validate_id(&item.id)?;
        self.shard_for(&item.id).complete(item).await
    }

    /// [`WorkQueue::fail`] on the item's shard.
    pub async fn fail(
        &self,
        item: &Item,
        error: &str,
        retry_after: Option<Duration>,
    ) -> Result<FailOutcome> {
        validate_id(&item.id)?;
        self.shard_for(&item.id)
            .fail(item, error, retry_after)
            .await
    }

    /// [`WorkQueue::release`] on the item's shard.
    pub async fn release(&self, item: &Item) -> Result<bool> {
        validate_id(&item.id)?;
        self.shard_for(&item.id).release(item).await
    }

    /// [`WorkQueue::light_clean`] on every shard at once; the reports summed.
    pub async fn light_clean(&self) -> Result<CleanReport> {
        sum_reports(join_all(self.shards.iter().map(WorkQueue::light_clean)).await)
    }

    /// [`WorkQueue::deep_clean`] on every shard at once (each scans its own master); the reports
    /// summed.
    pub async fn deep_clean(&self) -> Result<CleanReport> {
        sum_reports(join_all(self.shards.iter().map(WorkQueue::deep_clean)).await)
    }

    /// Items waiting to be leased, over every shard.
    pub async fn queue_len(&self) -> Result<u64> {
        join_all(self.shards.iter().map(WorkQueue::queue_len))
            .await
            .into_iter()
            .sum()
    }

    /// Items being processed, over every shard.
    pub async fn processing(&self) -> Result<u64> {
        join_all(self.shards.iter().map(WorkQueue::processing))
            .await
            .into_iter()
            .sum()
    }

    /// Items waiting at a priority above the default, over every shard.
    pub async fn prioritized_len(&self) -> Result<u64> {
        join_all(self.shards.iter().map(WorkQueue::prioritized_len))
            .await
            .into_iter()
            .sum()
    }

    /// Delayed items not yet due, over every shard.
    pub async fn delayed_len(&self) -> Result<u64> {
        join_all(self.shards.iter().map(WorkQueue::delayed_len))
            .await
            .into_iter()
            .sum()
    }

    /// Dead letters, over every shard.
    pub async fn dead_len(&self) -> Result<u64> {
        join_all(self.shards.iter().map(WorkQueue::dead_len))
            .await
            .into_iter()
            .sum()
    }

    /// [`WorkQueue::requeue_all_dead`] on every shard; how many were requeued.
    pub async fn requeue_all_dead(&self) -> Result<u64> {
        join_all(self.shards.iter().map(WorkQueue::requeue_all_dead))
            .await
            .into_iter()
            .sum()
    }

    /// [`WorkQueue::purge_all_dead`] on every shard; how many were removed.
    pub async fn purge_all_dead(&self) -> Result<u64> {
        join_all(self.shards.iter().map(WorkQueue::purge_all_dead))
            .await
            .into_iter()
            .sum()
    }

    /// Pauses every shard ([`WorkQueue::pause`]).
    pub async fn pause(&self) -> Result<()> {
        join_all(self.shards.iter().map(WorkQueue::pause))
            .await
            .into_iter()
            .collect()
    }

    /// Resumes every shard and wakes their blocked leases; returns whether any was paused.
    pub async fn resume(&self) -> Result<bool> {
        let resumed = join_all(self.shards.iter().map(WorkQueue::resume)).await;
        let resumed = resumed.into_iter().collect::<Result<Vec<bool>>>()?;
        Ok(resumed.contains(&true))
    }

    /// Whether any shard is paused (after a [`ShardedQueue::pause`] that failed part way, some
    /// are: [`ShardedQueue::resume`] or `pause` again).
    pub async fn is_paused(&self) -> Result<bool> {
        let paused = join_all(self.shards.iter().map(WorkQueue::is_paused)).await;
        let paused = paused.into_iter().collect::<Result<Vec<bool>>>()?;
        Ok(paused.contains(&true))
    }
}

/// The tag of shard `index` of `shards` (see [`ShardedQueue::shard_names`]).
fn shard_tag(name: &str, index: usize, shards: usize) -> String {
    // The middle half of the index-th of `shards` equal parts of the slots. With at most
    // MAX_SHARDS shards it is at least 8 slots wide, so a tag is found in a few thousand tries.
    let (index_u32, shards_u32) = (index as u32, shards as u32);
    let (low, high) = (
        index_u32 * SLOTS / shards_u32,
        (index_u32 + 1) * SLOTS / shards_u32,
    );
    let quarter = (high - low) / 4;
    let wanted = (low + quarter)..(high - quarter);
    let mut tag = format!("{name}-{index}");
    let mut k = 0u64;
    while !wanted.contains(&(u32::from(crc16(tag.as_bytes())) % SLOTS)) {
        k += 1;
        tag = format!("{name}-{index}.{k}");
    }
    tag
}

/// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the hash Redis Cluster slots use.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn sum_reports(reports: Vec<Result<CleanReport>>) -> Result<CleanReport> {
    let mut total = CleanReport::default();
    for report in reports {
        let report = report?;
        total.requeued += report.requeued;
        total.dropped += report.dropped;
        total.dead += report.dead;
    }
    Ok(total)
}

/// Runs the futures at once, in this task, and gives their outputs in order. (What
/// `futures::future::join_all` does, without the dependency.)
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut running: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = running.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, output) in running.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(context) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_is_redis_clusters() {
        // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b"foo") % 16384, 12182);
        assert_eq!(crc16(b"jobs") % 16384, 9631);
    }

    #[test]
    fn shard_tags_fall_in_their_part_of_the_slots() {
        for shards in [1, 2, 3, 4, 6, 7, 16, MAX_SHARDS] {
            let names = ShardedQueue::shard_names("jobs", shards).unwrap();
            assert_eq!(names.len(), shards);
            for (index, name) in names.iter().enumerate() {
                let tag = &name[1..name.len() - 1];
                let slot = u32::from(crc16(tag.as_bytes())) % SLOTS;
                let part = slot as usize * shards / SLOTS as usize;
                assert_eq!(part, index, "{name} slot {slot}");
            }
        }
        // A stable function of the name and count: every client finds the same shards.
        assert_eq!(
            ShardedQueue::shard_names("jobs", 3).unwrap(),
            ShardedQueue::shard_names("jobs", 3).unwrap()
        );
    }

    #[test]
    fn names_with_braces_and_bad_counts_are_refused() {
        for (name, shards) in [("{jobs}", 3), ("a}b", 3), ("", 3), ("jobs", 0)] {
            let err = ShardedQueue::shard_names(name, shards).unwrap_err();
            assert_eq!(
                err.kind(),
                crate::ErrorKind::InvalidArgument,
                "{name} {shards}"
            );
        }
        assert!(ShardedQueue::shard_names("jobs", MAX_SHARDS + 1).is_err());
    }
}
