//! Read-only inspection for operators (the `leaseq` command line and dashboard): finding the
//! queues on a server, their counts and recent throughput, an item's state, pages of items.
//! Every call is bounded work on the server (no `KEYS`, SCAN in batches, O(log n) counts).

use std::sync::LazyLock;

use redis::Script;
use serde::Serialize;

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::item::Item;
use crate::queue::WorkQueue;

static QUEUE_STATS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/queue-stats-8.lua")));

/// Minutes of per-minute counters [`WorkQueue::stats`] returns, the current minute last.
pub const STATS_MINUTES: usize = 60;

/// Per-minute counter buckets older than this many minutes are deleted by [`WorkQueue::trim_stats`].
pub const STATS_KEEP_MINUTES: i64 = 120;

/// Keys SCAN looks at per call while finding queues: about 1-3 ms a call on the server for a
/// keyspace of a million item keys (measured in `cli/tests/scale.py`).
pub const SCAN_BATCH: u64 = 1000;

/// The key suffixes that show a queue exists.
const QUEUE_KEY_SUFFIXES: [&str; 7] = [
    ":queue",
    ":processing",
    ":dead",
    ":delayed",
    ":prioritized",
    ":paused",
    ":stats",
];

/// One glob that matches every suffix above and almost no item key (`<p>:item:<uuid>` matches
/// only when the uuid starts with `d`, then one of `ae`, one of `ace`, and ends in `d` or `e`:
/// about 1 in 5,000), so one SCAN pass sends back little more than the queues' own keys. SCAN's
/// TYPE filter was slower than MATCH on Redis 7.0, and would need one pass per type.
const QUEUE_KEY_PATTERN: &str = "*:[dpqs][aeilrtu][aceilorstuy]*[degs]";

/// One queue's counts and throughput, as read by one script call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    /// The queue's name (its key prefix).
    pub name: String,
    /// Items waiting, all levels together.
    pub queued: u64,
    /// Items waiting per priority level 0 (default) to 9; index = level.
    pub queued_by_priority: [u64; 10],
    /// Items leased (or whose lease ran out and a clean has not yet returned).
    pub processing: u64,
    /// Items scheduled for later or waiting for a retry.
    pub delayed: u64,
    /// Items in the dead letters.
    pub dead: u64,
    /// Whether the queue is paused.
    pub paused: bool,
    /// Age of the oldest waiting item in ms, when known (see `spec/http-api.md`).
    pub oldest_queued_age_ms: Option<u64>,
    /// Redis server time of the reading (ms since the epoch).
    pub now_ms: u64,
    /// Completions per minute, oldest first, the current minute last ([`STATS_MINUTES`] entries).
    pub completed_per_minute: Vec<u64>,
    /// Failures that were scheduled for a retry, per minute.
    pub retried_per_minute: Vec<u64>,
    /// Failures that went to the dead letters, per minute.
    pub dead_lettered_per_minute: Vec<u64>,
}

impl QueueStats {
    /// Completions in the current minute.
    pub fn completed_last_minute(&self) -> u64 {
        self.completed_per_minute.last().copied().unwrap_or(0)
    }
    /// Failures (retried or dead-lettered) in the current minute.
    pub fn failed_last_minute(&self) -> u64 {
        self.retried_per_minute.last().copied().unwrap_or(0)
            + self.dead_lettered_per_minute.last().copied().unwrap_or(0)
    }
    /// Completions in the last hour.
    pub fn completed_last_hour(&self) -> u64 {
        self.completed_per_minute.iter().sum()
    }
    /// Failures in the last hour.
    pub fn failed_last_hour(&self) -> u64 {
        self.retried_per_minute.iter().sum::<u64>()
            + self.dead_lettered_per_minute.iter().sum::<u64>()
    }
}

/// Where an item is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ItemState {
    /// Waiting to be leased, at this priority level.
    Queued {
        /// 0 (default) to 9.
        priority: u8,
    },
    /// Scheduled: due at this time (ms, Redis clock).
    Delayed {
        /// Due time, ms since the epoch.
        due_ms: u64,
    },
    /// Leased by a session, for this much longer.
    Leased {
        /// The session id written in the lease.
        session: String,
        /// Milliseconds left on the lease.
        expires_in_ms: i64,
    },
    /// Its lease ran out; the next lease or clean returns it to the queue.
    LeaseExpired,
    /// In the dead letters since this time (ms).
    Dead {
        /// Time of death, ms since the epoch.
        died_ms: u64,
    },
    /// No such item (never added, completed, or purged).
    Unknown,
}

/// An item with everything known about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemInfo {
    /// The item's id.
    pub id: String,
    /// Its data (absent when unknown).
    #[serde(skip)]
    pub data: Option<Vec<u8>>,
    /// Where it is.
    #[serde(flatten)]
    pub state: ItemState,
    /// Leases so far.
    pub attempts: u32,
    /// The last failure's error, if any.
    pub last_error: Option<String>,
}

/// The item lists and sets [`WorkQueue::items_in`] pages through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemList {
    /// Plain-queued items, next to be leased first.
    Queued,
    /// Items waiting at a priority above the default, next first.
    Prioritized,
    /// Scheduled items, soonest first.
    Delayed,
    /// Leased items, newest lease first.
    Processing,
    /// Dead letters, oldest death first.
    Dead,
}

impl ItemList {
    /// Parses `queued`, `prioritized`, `delayed`, `processing` or `dead`.
    pub fn parse(name: &str) -> Result<ItemList> {
        Ok(match name {
            "queued" => ItemList::Queued,
            "prioritized" => ItemList::Prioritized,
            "delayed" => ItemList::Delayed,
            "processing" => ItemList::Processing,
            "dead" => ItemList::Dead,
            other => {
                return Err(Error::invalid_argument(format!(
                    "unknown item state {other:?} (queued, prioritized, delayed, processing, dead)"
                )))
            }
        })
    }
}

/// Finds the queues on the server: the registry of queues ([`crate::QUEUE_REGISTRY_KEY`], read
/// with `SSCAN`), and, when `scan` is set or no registered queue exists, one SCAN pass as well,
/// [`SCAN_BATCH`] keys a call, matching the key names that mark a queue (queues only
/// `redis-work-queue` clients or an older leaseq wrote to are not registered). `progress` is
/// called with the keys visited so far. Either way a queue is listed while it has items in any
/// state, is paused, or has counters from the last two hours.
pub async fn find_queues(
    connection: &Connection,
    scan: bool,
    mut progress: impl FnMut(u64),
) -> Result<Vec<String>> {
    let mut redis = connection.shared().await?;
    let mut names = std::collections::BTreeSet::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, members): (u64, Vec<Vec<u8>>) = redis::cmd("SSCAN")
            .arg(crate::QUEUE_REGISTRY_KEY)
            .arg(cursor)
            .arg("COUNT")
            .arg(SCAN_BATCH)
            .query_async(&mut redis)
            .await?;
        let members: Vec<String> = members
            .into_iter()
            .filter_map(|m| String::from_utf8(m).ok())
            .collect();
        // As with a scan, a queue is listed while any of its own keys exists: a registered
        // queue whose keys are all gone is skipped (left in the registry: this call only reads).
        let mut exists = redis::pipe();
        for name in &members {
            let command = exists.cmd("EXISTS");
            for suffix in QUEUE_KEY_SUFFIXES {
                command.arg(format!("{name}{suffix}"));
            }
        }
        let found: Vec<u64> = if members.is_empty() {
            Vec::new()
        } else if connection.is_cluster() {
            // A Cluster pipeline must stay in one slot, and queues sit in different ones.
            let mut found = Vec::with_capacity(members.len());
            for command in exists.cmd_iter() {
                found.push(command.query_async(&mut redis).await?);
            }
            found
        } else {
            exists.query_async(&mut redis).await?
        };
        names.extend(
            members
                .into_iter()
                .zip(found)
                .filter(|(_, found)| *found > 0)
                .map(|(name, _)| name),
        );
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    if scan || names.is_empty() {
        // On a Cluster each master holds part of the keyspace: every one is walked.
        let mut visited = 0u64;
        for slot in connection.slot_per_master().await? {
            scan_for_queues(connection, slot, &mut names, &mut visited, &mut progress).await?;
        }
    }
    Ok(names.into_iter().collect())
}

/// One SCAN pass over the keys of the node owning `slot`, adding the queues whose keys it meets
/// to `names`.
async fn scan_for_queues(
    connection: &Connection,
    slot: u16,
    names: &mut std::collections::BTreeSet<String>,
    visited: &mut u64,
    progress: &mut impl FnMut(u64),
) -> Result<()> {
    let mut cursor: u64 = 0;
    loop {
        let (next, keys) = connection
            .scan_slot_owner(slot, cursor, QUEUE_KEY_PATTERN, SCAN_BATCH)
            .await?;
        *visited += SCAN_BATCH;
        let visited = *visited;
        progress(visited);
        for key in keys {
            let Ok(key) = String::from_utf8(key) else {
                continue;
            };
            if let Some(prefix) = QUEUE_KEY_SUFFIXES
                .iter()
                .find_map(|suffix| key.strip_suffix(suffix))
            {
                // An item or lease key of some queue whose id ends like a suffix is not a queue.
                if !prefix.is_empty() && !prefix.contains(":item:") && !prefix.contains(":lease:") {
                    names.insert(prefix.to_owned());
                }
            }
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    Ok(())
}

impl WorkQueue {
    /// Counts and the last [`STATS_MINUTES`] minutes of throughput, in one script call
    /// ([`queue-stats-8.lua`](../lua/queue-stats-8.lua)).
    pub async fn stats(&self) -> Result<QueueStats> {
        let mut redis = self.connection.shared().await?;
        let keys = &self.keys;
        let values: Vec<i64> = QUEUE_STATS
            .key(&keys.queue)
            .key(&keys.processing)
            .key(&keys.delayed)
            .key(&keys.dead)
            .key(&keys.paused)
            .key(&keys.prioritized)
            .key(&keys.item_prefix)
            .key(&keys.stats)
            .arg(STATS_MINUTES)
            .invoke_async(&mut redis)
            .await?;
        if values.len() != 18 + 3 * STATS_MINUTES {
            return Err(Error::new(
                crate::ErrorKind::Internal,
                "queue-stats script returned an unexpected reply",
            ));
        }
        let count = |v: i64| v.max(0) as u64;
        let mut by_priority = [0u64; 10];
        by_priority[0] = count(values[0]);
        for level in 1..10 {
            by_priority[level] = count(values[4 + level]);
        }
        let now_ms = count(values[16]);
        let oldest_prioritized =
            (values[14] >= 0).then(|| now_ms.saturating_sub(values[14] as u64));
        let oldest_plain = (values[15] >= 0).then(|| values[15] as u64 * 1000);
        let oldest_queued_age_ms = match (oldest_prioritized, oldest_plain) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let buckets = &values[18..];
        let column = |offset: usize| -> Vec<u64> {
            buckets.chunks_exact(3).map(|m| count(m[offset])).collect()
        };
        Ok(QueueStats {
            name: keys.prefix.clone(),
            queued: by_priority.iter().sum(),
            queued_by_priority: by_priority,
            processing: count(values[1]),
            delayed: count(values[2]),
            dead: count(values[3]),
            paused: values[4] != 0,
            oldest_queued_age_ms,
            now_ms,
            completed_per_minute: column(0),
            retried_per_minute: column(1),
            dead_lettered_per_minute: column(2),
        })
    }

    /// Everything known about one item, in one round trip (a pipeline of O(1) reads).
    pub async fn item_info(&self, id: &str) -> Result<ItemInfo> {
        crate::item::validate_id(id)?;
        let keys = &self.keys;
        let mut redis = self.connection.shared().await?;
        #[allow(clippy::type_complexity)]
        let (
            data,
            session,
            pttl,
            old_lease,
            dead,
            delayed,
            prioritized,
            in_deadlines,
            attempts,
            error,
            priority,
        ): (
            Option<Vec<u8>>,
            Option<String>,
            i64,
            Option<String>,
            Option<f64>,
            Option<f64>,
            Option<f64>,
            Option<f64>,
            Option<u32>,
            Option<String>,
            Option<u8>,
        ) = redis::pipe()
            .get(keys.item(id))
            .get(keys.lease(id))
            .pttl(keys.lease(id))
            .get(keys.old_lease(id))
            .zscore(&keys.dead, id)
            .zscore(&keys.delayed, id)
            .zscore(&keys.prioritized, id)
            .zscore(&keys.deadlines, id)
            .hget(&keys.attempts, id)
            .hget(&keys.errors, id)
            .hget(&keys.priority, id)
            .query_async(&mut redis)
            .await?;
        let state = if data.is_none() {
            ItemState::Unknown
        } else if let Some(died) = dead {
            ItemState::Dead {
                died_ms: died as u64,
            }
        } else if let Some(session) = session.or(old_lease) {
            ItemState::Leased {
                session,
                expires_in_ms: pttl,
            }
        } else if in_deadlines.is_some() {
            ItemState::LeaseExpired
        } else if let Some(due) = delayed {
            ItemState::Delayed { due_ms: due as u64 }
        } else {
            let level = if prioritized.is_some() {
                priority.unwrap_or(0)
            } else {
                0
            };
            ItemState::Queued { priority: level }
        };
        Ok(ItemInfo {
            id: id.to_owned(),
            data,
            state,
            attempts: attempts.unwrap_or(0),
            last_error: error,
        })
    }

    /// A page of the ids in one list or set (`count` 1–1000), next to be leased first, with
    /// their data (`None` for an id whose data is gone). Two round trips.
    pub async fn items_in(&self, list: ItemList, offset: u64, count: u64) -> Result<Vec<Item>> {
        if count == 0 || count > 1000 {
            return Err(Error::invalid_argument("count must be between 1 and 1000"));
        }
        let Ok(first) = i64::try_from(offset) else {
            return Ok(Vec::new());
        };
        let last = first.saturating_add(count as i64 - 1);
        let keys = &self.keys;
        let mut redis = self.connection.shared().await?;
        let ids: Vec<String> = match list {
            // The queue is popped from the tail: read it backwards.
            ItemList::Queued => {
                let mut ids: Vec<String> = redis::cmd("LRANGE")
                    .arg(&keys.queue)
                    .arg(-1 - last)
                    .arg(-1 - first)
                    .query_async(&mut redis)
                    .await?;
                ids.reverse();
                ids
            }
            ItemList::Processing => {
                redis::cmd("LRANGE")
                    .arg(&keys.processing)
                    .arg(first)
                    .arg(last)
                    .query_async(&mut redis)
                    .await?
            }
            ItemList::Prioritized | ItemList::Delayed | ItemList::Dead => {
                let key = match list {
                    ItemList::Prioritized => &keys.prioritized,
                    ItemList::Delayed => &keys.delayed,
                    _ => &keys.dead,
                };
                redis::cmd("ZRANGE")
                    .arg(key)
                    .arg(first)
                    .arg(last)
                    .query_async(&mut redis)
                    .await?
            }
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.get(keys.item(id)).hget(&keys.attempts, id);
        }
        let values: Vec<(Option<Vec<u8>>, Option<u32>)> = pipe.query_async(&mut redis).await?;
        Ok(ids
            .into_iter()
            .zip(values)
            .filter_map(|(id, (data, attempts))| {
                data.map(|data| Item {
                    id,
                    data,
                    attempts: attempts.unwrap_or(0),
                    fence: 0,
                })
            })
            .collect())
    }

    /// Deletes per-minute counter buckets older than [`STATS_KEEP_MINUTES`]: one HDEL of the
    /// named fields of the hour before (cheap; run it at least hourly, as the dashboard and
    /// `leaseq clean` do). With `sweep`, also HSCANs the whole hash for anything older.
    pub async fn trim_stats(&self, sweep: bool) -> Result<u64> {
        let mut redis = self.connection.shared().await?;
        let (seconds, _micros): (i64, i64) = redis::cmd("TIME").query_async(&mut redis).await?;
        let minute = seconds / 60;
        let oldest_kept = minute - STATS_KEEP_MINUTES;
        let mut fields = Vec::with_capacity(180);
        for m in (oldest_kept - 60)..oldest_kept {
            for kind in ["c", "r", "d"] {
                fields.push(format!("{m}:{kind}"));
            }
        }
        let mut removed: u64 = redis::cmd("HDEL")
            .arg(&self.keys.stats)
            .arg(&fields)
            .query_async(&mut redis)
            .await?;
        if sweep {
            let mut cursor: u64 = 0;
            loop {
                let (next, pairs): (u64, Vec<String>) = redis::cmd("HSCAN")
                    .arg(&self.keys.stats)
                    .arg(cursor)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut redis)
                    .await?;
                let old: Vec<&String> = pairs
                    .chunks_exact(2)
                    .map(|pair| &pair[0])
                    .filter(|field| {
                        field
                            .split(':')
                            .next()
                            .and_then(|m| m.parse::<i64>().ok())
                            .filter(|m| *m >= oldest_kept)
                            .is_none()
                    })
                    .collect();
                if !old.is_empty() {
                    removed += redis::cmd("HDEL")
                        .arg(&self.keys.stats)
                        .arg(old)
                        .query_async::<u64>(&mut redis)
                        .await?;
                }
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
        }
        Ok(removed)
    }
}
