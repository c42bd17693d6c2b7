//! Leasing an item, blocking or not; renewing a lease.

use std::time::{Duration, Instant};

use crate::connection::{closed_error, BlockingConnection};
use crate::duration::lease_millis;
use crate::error::{Error, Result};
use crate::item::{validate_id, Item};
use crate::queue::WorkQueue;
use crate::scripts;

/// The most items one batched call ([`WorkQueue::lease_many`], [`WorkQueue::complete_many`])
/// takes: a script holds Redis for the whole batch, so a batch stays well under a millisecond.
pub const MAX_BATCH: usize = 1000;

/// What one run of the lease script found.
pub(crate) enum Leased {
    /// One or more items (at most the count asked for), in lease order.
    Items(Vec<Item>),
    /// Nothing leasable now; the next delayed item is due in this long, if any.
    Nothing {
        next_due: Option<Duration>,
        paused: bool,
    },
}

impl WorkQueue {
    /// Leases the next item for the given duration, or returns `None`.
    ///
    /// Takes the highest priority level that has an item, oldest first; delayed items join when
    /// due. With `block` false, returns at once. With `block` true, waits until an item can be
    /// leased, or until `timeout` has passed (`None` waits for ever); durations keep millisecond
    /// precision. Complete the item with [`WorkQueue::complete`] (or [`WorkQueue::fail`]) before
    /// the lease ends, or extend it with [`WorkQueue::renew`]; an expired lease counts as a failed
    /// attempt and the item goes back to the queue. A paused queue leases nothing.
    ///
    /// One round trip when an item is there ([`lease-15.lua`](../lua/lease-15.lua)), which also
    /// reclaims up to 10 expired leases and moves up to 100 due items, so no cleaner or scheduler
    /// process is needed. A blocking lease on an empty queue waits on connections of its own
    /// with `BLMOVE`s that move nothing; it wakes within milliseconds of an add, a due delayed
    /// item or a resume. Dropping the future while it waits loses nothing, and closing the
    /// connection ends the wait with a connection error.
    pub async fn lease(
        &self,
        lease_duration: Duration,
        block: bool,
        timeout: Option<Duration>,
    ) -> Result<Option<Item>> {
        let items = self.lease_many(lease_duration, 1, block, timeout).await?;
        Ok(items.into_iter().next())
    }

    /// Leases up to `count` items (1 to [`MAX_BATCH`]) in one round trip, each as
    /// [`lease`](WorkQueue::lease) would, in the order `lease` would hand them out; an empty list when
    /// there is nothing (with `block`, once `timeout` has passed).
    ///
    /// A batch pays the lease script's fixed cost once: its keys, the server time, the
    /// housekeeping reads. Every item's lease starts now, so take only as many as you will
    /// start before their leases run out (or renew them). Blocking waits for the first item
    /// only: the call returns what is there then, which may be fewer than `count`.
    pub async fn lease_many(
        &self,
        lease_duration: Duration,
        count: usize,
        block: bool,
        timeout: Option<Duration>,
    ) -> Result<Vec<Item>> {
        let lease_ms = lease_millis(lease_duration)?;
        check_batch(count)?;
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        loop {
            let (next_due, paused) = match self.try_lease(lease_ms, count).await? {
                Leased::Items(items) => return Ok(items),
                Leased::Nothing { next_due, paused } => (next_due, paused),
            };
            if !block {
                return Ok(Vec::new());
            }
            let remaining = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(remaining) if !remaining.is_zero() => Some(remaining),
                    _ => return Ok(Vec::new()),
                },
            };
            let wait = match (remaining, next_due) {
                (Some(remaining), Some(due)) => Some(remaining.min(due)),
                (remaining, due) => remaining.or(due),
            };
            tokio::select! {
                waited = self.wait_for_work(wait, paused, std::future::pending()) => waited?,
                () = self.connection.until_closed() => return Err(closed_error()),
            }
        }
    }

    pub(crate) async fn try_lease(&self, lease_ms: u64, count: usize) -> Result<Leased> {
        // Each id that is not UTF-8 goes to the dead letters and the next is leased; bounded so
        // one call stays short even on a queue full of them.
        for _ in 0..100 {
            let (leased, unreadable) = self.lease_once(lease_ms, count).await?;
            for id in &unreadable {
                self.bury_unreadable_id(id).await?;
            }
            match leased {
                Leased::Items(items) if items.is_empty() => {}
                leased => return Ok(leased),
            }
        }
        Ok(Leased::Nothing {
            next_due: Some(Duration::ZERO),
            paused: false,
        })
    }

    /// One run of the lease script, and the ids it leased that are not UTF-8 (left out of the
    /// items: no API could name them).
    async fn lease_once(&self, lease_ms: u64, count: usize) -> Result<(Leased, Vec<Vec<u8>>)> {
        let mut invocation = scripts::LEASE.prepare_invoke();
        self.lease_args(&mut invocation, lease_ms, count);
        let mut connection = self.connection.shared().await?;
        let reply: redis::Value = invocation.invoke_async(&mut connection).await?;
        parse_leased(reply)
    }

    /// The keys and values of lease-15.lua.
    pub(crate) fn lease_args(
        &self,
        invocation: &mut redis::ScriptInvocation<'_>,
        lease_ms: u64,
        count: usize,
    ) {
        invocation
            .key(&self.keys.queue)
            .key(&self.keys.processing)
            .key(&self.keys.lease_prefix)
            .key(&self.keys.item_prefix)
            .key(&self.keys.prioritized)
            .key(&self.keys.delayed)
            .key(&self.keys.deadlines)
            .key(&self.keys.attempts)
            .key(&self.keys.priority)
            .key(&self.keys.paused)
            .key(&self.keys.dead)
            .key(&self.keys.errors)
            .key(&self.keys.signal)
            .key(&self.keys.last_fence)
            .key(&self.keys.fences)
            .arg(lease_ms)
            .arg(&*self.session)
            .arg(self.options.max_attempts)
            .arg(u8::from(self.options.fencing))
            .arg(count);
    }

    /// Moves a just-leased id that is not UTF-8 (a raw producer wrote it) to the dead letters,
    /// with an error that says so: no API could name it, so it is never retried.
    pub(crate) async fn bury_unreadable_id(&self, id: &[u8]) -> Result<()> {
        let error =
            format!(
            "poison item: its id is not UTF-8 (bytes {}), so no leaseq API can name it; it was \
             not written by leaseq or redis-work-queue (purge_all_dead removes it)",
            id.iter().map(|byte| format!("{byte:02x}")).collect::<String>()
        );
        self.fail_raw(id, &error, Some(0), Some(Duration::ZERO), 0)
            .await
            .map(|_| ())
    }

    /// Waits until there may be work, or `wait` passes, or `stop` completes (a sharded queue
    /// ends its other shards' waits so), without taking anything.
    ///
    /// Two waits run at once, each a `BLMOVE key key RIGHT RIGHT` that puts back what it pops:
    /// one on the default list (so adds by `redis-work-queue` clients wake us too), one on the
    /// wake-up flag leaseq raises for other levels, delays, retries and resumes. While paused,
    /// both watch the flag. The time limit is kept here rather than by Redis, whose blocking
    /// timeouts fire up to 100 ms late; whatever ends first, `CLIENT UNBLOCK` ends the rest.
    pub(crate) async fn wait_for_work(
        &self,
        wait: Option<Duration>,
        paused: bool,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<()> {
        // A server-side limit too, a little later, in case this process goes away.
        let server_timeout = match wait {
            None => 0.0,
            Some(wait) => wait.as_millis() as f64 / 1000.0 + 1.0,
        };
        let mut flag = self.connection.take_blocking(&self.keys.signal).await?;
        let mut list = self.connection.take_blocking(&self.keys.queue).await?;
        let list_key = if paused {
            &self.keys.signal
        } else {
            &self.keys.queue
        };
        let (ids, route) = ([flag.client_id, list.client_id], flag.route);
        let waited = {
            let on_flag = blmove_in_place(&mut flag, &self.keys.signal, server_timeout);
            let on_list = blmove_in_place(&mut list, list_key, server_timeout);
            let timer = async {
                match wait {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(on_flag, on_list, timer, stop);
            let (mut flag_result, mut list_result) = (None, None);
            tokio::select! {
                woke = &mut on_flag => flag_result = Some(woke),
                woke = &mut on_list => list_result = Some(woke),
                () = &mut timer => {}
                () = &mut stop => {}
            }
            // A wait may not have reached the server yet: unblock until each has returned.
            while flag_result.is_none() || list_result.is_none() {
                self.connection.unblock(&ids, route).await?;
                let pause = tokio::time::sleep(Duration::from_millis(2));
                tokio::pin!(pause);
                loop {
                    tokio::select! {
                        woke = &mut on_flag, if flag_result.is_none() => flag_result = Some(woke),
                        woke = &mut on_list, if list_result.is_none() => list_result = Some(woke),
                        () = &mut pause => break,
                    }
                    if flag_result.is_some() && list_result.is_some() {
                        break;
                    }
                }
            }
            flag_result
                .into_iter()
                .chain(list_result)
                .collect::<Result<Vec<()>>>()
        };
        waited?;
        self.connection.put_blocking(flag);
        self.connection.put_blocking(list);
        Ok(())
    }

    /// Extends the lease on the item to the given duration from now, only while this session still
    /// holds it. Returns `false` (changing nothing) if the lease expired, the item was completed,
    /// or another session holds it. With the queue's
    /// [`QueueOptions::fencing`](crate::QueueOptions::fencing) on, renewing a delivery that was
    /// superseded (the item was leased again since) fails with
    /// [`ErrorKind::LeaseLost`](crate::ErrorKind::LeaseLost) and changes nothing.
    /// One round trip ([`renew-3.lua`](../lua/renew-3.lua)).
    pub async fn renew(&self, item: &Item, lease_duration: Duration) -> Result<bool> {
        validate_id(&item.id)?;
        let lease_ms = lease_millis(lease_duration)?;
        let mut connection = self.connection.shared().await?;
        let renewed: i64 = scripts::RENEW
            .key(self.keys.lease(&item.id))
            .key(&self.keys.deadlines)
            .key(&self.keys.fences)
            .arg(&*self.session)
            .arg(lease_ms)
            .arg(&item.id)
            .arg(self.fence_to_check(item))
            .invoke_async(&mut connection)
            .await?;
        if renewed < 0 {
            return Err(crate::complete::superseded(item.id.as_bytes()));
        }
        Ok(renewed == 1)
    }
}

/// Blocks until `key` is not empty (or the timeout), moving its last element back in place.
async fn blmove_in_place(
    blocking: &mut BlockingConnection,
    key: &str,
    timeout_secs: f64,
) -> Result<()> {
    let _: Option<Vec<u8>> = redis::cmd("BLMOVE")
        .arg(key)
        .arg(key)
        .arg("RIGHT")
        .arg("RIGHT")
        .arg(timeout_secs)
        .query_async(&mut blocking.connection)
        .await?;
    Ok(())
}

/// A batch size is 1 to [`MAX_BATCH`].
pub(crate) fn check_batch(count: usize) -> Result<()> {
    if count == 0 || count > MAX_BATCH {
        return Err(Error::invalid_argument(format!(
            "a batch is 1 to {MAX_BATCH} items, not {count}"
        )));
    }
    Ok(())
}

/// lease-15.lua's reply: the items (those whose id is UTF-8) or nothing, and the ids that are not
/// UTF-8 (no API could name them).
pub(crate) fn parse_leased(reply: redis::Value) -> Result<(Leased, Vec<Vec<u8>>)> {
    if let redis::Value::Array(values) = &reply {
        if values.first() == Some(&redis::Value::Int(1)) {
            let mut items = Vec::with_capacity(values.len() / 4);
            let mut unreadable = Vec::new();
            for leased in values[1..].chunks(4) {
                let (id, data, attempts, fence): (Vec<u8>, Vec<u8>, u32, u64) =
                    redis::from_redis_value(redis::Value::Array(leased.to_vec()))?;
                match String::from_utf8(id) {
                    Ok(id) => items.push(Item {
                        id,
                        data,
                        attempts,
                        fence,
                    }),
                    Err(not_utf8) => unreadable.push(not_utf8.into_bytes()),
                }
            }
            return Ok((Leased::Items(items), unreadable));
        }
    }
    let (_, wait_ms, paused): (i64, i64, i64) = redis::from_redis_value(reply)?;
    let nothing = Leased::Nothing {
        next_due: u64::try_from(wait_ms).ok().map(Duration::from_millis),
        paused: paused == 1,
    };
    Ok((nothing, Vec::new()))
}
