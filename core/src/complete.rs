//! Completing an item, and failing it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, ErrorKind, Result};
use crate::item::{validate_id, Item};
use crate::keys::Keys;
use crate::queue::WorkQueue;
use crate::scripts;

/// What [`WorkQueue::fail`] did with the item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOutcome {
    /// It will be leased again, not before this time (Redis server clock).
    Retry {
        /// When the retry becomes due.
        at: SystemTime,
    },
    /// That was its last attempt: it is in the dead letters with the error.
    Dead,
    /// The item no longer exists (it was completed); nothing changed.
    Gone,
}

impl WorkQueue {
    /// Marks the item done and removes it from the queue for good.
    ///
    /// Returns `true` for exactly one call per item, the one that deleted its data; every other
    /// call (a second worker that got the item after a lease expired, a repeated call) gets
    /// `false`. Completing after the lease was lost still counts if nobody completed it first,
    /// unless the queue's [`QueueOptions::fencing`](crate::QueueOptions::fencing) is on and the
    /// item was leased again since: then it fails with [`ErrorKind::LeaseLost`] and changes
    /// nothing. A true complete adds one to the current minute's completed counter.
    /// One round trip ([`complete-15.lua`](../lua/complete-15.lua)).
    pub async fn complete(&self, item: &Item) -> Result<bool> {
        validate_id(&item.id)?;
        let minute = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() / 60);
        let mut connection = self.connection.shared().await?;
        let completed: i64 = scripts::COMPLETE
            .key(self.keys.item(&item.id))
            .key(&self.keys.processing)
            .key(self.keys.lease(&item.id))
            .key(&self.keys.queue)
            .key(self.keys.old_lease(&item.id))
            .key(&self.keys.deadlines)
            .key(&self.keys.attempts)
            .key(&self.keys.errors)
            .key(&self.keys.priority)
            .key(&self.keys.prioritized)
            .key(&self.keys.delayed)
            .key(&self.keys.dead)
            .key(self.keys.done(&item.id))
            .key(&self.keys.fences)
            .key(&self.keys.stats)
            .arg(&item.id)
            .arg(self.options.unique_window.as_millis() as u64)
            .arg(self.fence_to_check(item))
            .arg(minute)
            .arg(u8::from(self.options.fencing))
            .invoke_async(&mut connection)
            .await?;
        if completed < 0 {
            return Err(superseded(item.id.as_bytes()));
        }
        self.wait_for_replicas().await?;
        Ok(completed == 1)
    }

    /// Completes a batch of items (1 to [`MAX_BATCH`](crate::MAX_BATCH)) in one round trip, each
    /// as [`complete`](WorkQueue::complete) would; returns one bool per item, in order.
    ///
    /// A batch costs Redis far less per item than single calls: the bookkeeping of the whole
    /// batch is one command each ([`complete-items-n.lua`](../lua/complete-items-n.lua)). With
    /// the queue's fencing option, a superseded delivery gets `false` and nothing changes for it
    /// (where [`WorkQueue::complete`] fails with LeaseLost), so one stale item never fails the
    /// batch.
    pub async fn complete_many(&self, items: &[Item]) -> Result<Vec<bool>> {
        let mut invocation = scripts::COMPLETE_ITEMS.prepare_invoke();
        self.complete_items_args(&mut invocation, items)?;
        let mut connection = self.connection.shared().await?;
        let completed: Vec<i64> = invocation.invoke_async(&mut connection).await?;
        self.wait_for_replicas().await?;
        Ok(completed.into_iter().map(|one| one == 1).collect())
    }

    /// Completes the item and leases up to `count` next items (1 to
    /// [`MAX_BATCH`](crate::MAX_BATCH)) in one round trip, as [`complete`](WorkQueue::complete)
    /// then a non-blocking [`lease_many`](WorkQueue::lease_many) would; returns whether this call
    /// completed the item, and the items leased (empty when there is nothing to lease now).
    ///
    /// A worker that finishes one job and takes the next pays one round trip instead of two
    /// ([`complete-lease-n.lua`](../lua/complete-lease-n.lua) runs both scripts' text). As in
    /// [`complete_many`](WorkQueue::complete_many), a superseded delivery (fencing) gets `false`.
    /// When the lease part fails (a key of the wrong type) the call fails and the complete
    /// stands, as if its reply had been lost: completing the item again returns `false`.
    pub async fn complete_and_lease(
        &self,
        item: &Item,
        lease_duration: Duration,
        count: usize,
    ) -> Result<(bool, Vec<Item>)> {
        let lease_ms = crate::duration::lease_millis(lease_duration)?;
        crate::lease::check_batch(count)?;
        let items = std::slice::from_ref(item);
        let mut invocation = scripts::COMPLETE_LEASE.prepare_invoke();
        invocation
            .arg(11 + 4 * items.len())
            .arg(3 + 2 * items.len());
        self.complete_items_args(&mut invocation, items)?;
        self.lease_args(&mut invocation, lease_ms, count);
        let mut connection = self.connection.shared().await?;
        let (completed, leased): (Vec<i64>, redis::Value) =
            invocation.invoke_async(&mut connection).await?;
        drop(connection);
        let (leased, unreadable) = crate::lease::parse_leased(leased)?;
        for id in &unreadable {
            self.bury_unreadable_id(id).await?;
        }
        self.wait_for_replicas().await?;
        let leased = match leased {
            crate::lease::Leased::Items(items) => items,
            crate::lease::Leased::Nothing { .. } => Vec::new(),
        };
        Ok((completed.first() == Some(&1), leased))
    }

    /// The keys and values of complete-items-n.lua for a batch of 1 to MAX_BATCH items.
    fn complete_items_args(
        &self,
        invocation: &mut redis::ScriptInvocation<'_>,
        items: &[Item],
    ) -> Result<()> {
        crate::lease::check_batch(items.len())?;
        for item in items {
            validate_id(&item.id)?;
        }
        let minute = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() / 60);
        invocation
            .key(&self.keys.processing)
            .key(&self.keys.queue)
            .key(&self.keys.deadlines)
            .key(&self.keys.attempts)
            .key(&self.keys.errors)
            .key(&self.keys.priority)
            .key(&self.keys.prioritized)
            .key(&self.keys.delayed)
            .key(&self.keys.dead)
            .key(&self.keys.fences)
            .key(&self.keys.stats)
            .arg(self.options.unique_window.as_millis() as u64)
            .arg(minute)
            .arg(u8::from(self.options.fencing));
        for item in items {
            invocation
                .key(self.keys.item(&item.id))
                .key(self.keys.lease(&item.id))
                .key(self.keys.old_lease(&item.id))
                .key(self.keys.done(&item.id))
                .arg(&item.id)
                .arg(self.fence_to_check(item));
        }
        Ok(())
    }

    /// Ends the lease on the item with a failure: it is retried after the given delay or, without
    /// one, after the queue's exponential backoff with jitter, until its attempts reach the queue's
    /// maximum; then it moves to the dead letters, keeping its data, attempts and error.
    ///
    /// Fails with [`ErrorKind::LeaseLost`] if this session no longer holds the item (its lease
    /// expired and it was requeued or leased by another worker). One round trip
    /// ([`fail-14.lua`](../lua/fail-14.lua)).
    pub async fn fail(
        &self,
        item: &Item,
        error: &str,
        retry_after: Option<Duration>,
    ) -> Result<FailOutcome> {
        validate_id(&item.id)?;
        self.fail_raw(
            item.id.as_bytes(),
            error,
            None,
            retry_after,
            self.fence_to_check(item),
        )
        .await
    }

    /// [`WorkQueue::fail`] for an id given as bytes, at `max_attempts` (the queue's when `None`).
    pub(crate) async fn fail_raw(
        &self,
        id: &[u8],
        error: &str,
        max_attempts: Option<u32>,
        retry_after: Option<Duration>,
        fence: u64,
    ) -> Result<FailOutcome> {
        let retry_ms: i64 = match retry_after {
            None => -1,
            Some(delay) => i64::try_from(delay.as_millis())
                .map_err(|_| Error::invalid_argument("retry_after is too long"))?,
        };
        let mut connection = self.connection.shared().await?;
        let (outcome, value): (i64, i64) = scripts::FAIL
            .key(Keys::with_id(&self.keys.item_prefix, id))
            .key(&self.keys.processing)
            .key(Keys::with_id(&self.keys.lease_prefix, id))
            .key(&self.keys.deadlines)
            .key(&self.keys.attempts)
            .key(&self.keys.errors)
            .key(&self.keys.dead)
            .key(&self.keys.delayed)
            .key(&self.keys.priority)
            .key(&self.keys.prioritized)
            .key(&self.keys.signal)
            .key(&self.keys.queue)
            .key(&self.keys.fences)
            .key(&self.keys.stats)
            .arg(id)
            .arg(&*self.session)
            .arg(error)
            .arg(max_attempts.unwrap_or(self.options.max_attempts))
            .arg(retry_ms)
            .arg(self.options.backoff_base.as_millis() as u64)
            .arg(self.options.backoff_max.as_millis() as u64)
            .arg(jitter())
            .arg(fence)
            .invoke_async(&mut connection)
            .await?;
        match outcome {
            1 => Ok(FailOutcome::Retry {
                at: UNIX_EPOCH + Duration::from_millis(value.max(0) as u64),
            }),
            2 => Ok(FailOutcome::Dead),
            0 => Ok(FailOutcome::Gone),
            _ if fence > 0 => Err(superseded(id)),
            _ => Err(Error::new(
                ErrorKind::LeaseLost,
                format!(
                    "the lease on item {} is no longer held by this worker",
                    String::from_utf8_lossy(id)
                ),
            )),
        }
    }

    /// The token renew, complete, fail and release send: the item's own with the queue's
    /// fencing option on, else 0 (the scripts do not check it).
    pub(crate) fn fence_to_check(&self, item: &Item) -> u64 {
        if self.options.fencing {
            item.fence
        } else {
            0
        }
    }
}

/// The error of a call made with a superseded delivery's fencing token.
pub(crate) fn superseded(id: &[u8]) -> Error {
    Error::new(
        ErrorKind::LeaseLost,
        format!(
            "item {} was leased again since this delivery (its fencing token is superseded); \
             nothing was changed",
            String::from_utf8_lossy(id)
        ),
    )
}

impl WorkQueue {
    /// Gives a leased item back at once, first in line at its level, without counting the
    /// attempt: for work this worker will not do (it is shutting down). Returns `false` if this
    /// session no longer holds the item. One round trip ([`release-10.lua`](../lua/release-10.lua)).
    ///
    /// An item whose attempt count in Redis is not an integer (written by hand) cannot have its
    /// attempt given back: the call fails with an Internal error naming the field and changes
    /// nothing; `fail`, `complete` or its lease running out end it.
    pub async fn release(&self, item: &Item) -> Result<bool> {
        validate_id(&item.id)?;
        let mut connection = self.connection.shared().await?;
        let released: i64 = scripts::RELEASE
            .key(self.keys.item(&item.id))
            .key(&self.keys.processing)
            .key(self.keys.lease(&item.id))
            .key(&self.keys.deadlines)
            .key(&self.keys.attempts)
            .key(&self.keys.queue)
            .key(&self.keys.priority)
            .key(&self.keys.prioritized)
            .key(&self.keys.signal)
            .key(&self.keys.fences)
            .arg(&item.id)
            .arg(&*self.session)
            .arg(self.fence_to_check(item))
            .invoke_async(&mut connection)
            .await?;
        if released < 0 {
            return Err(superseded(item.id.as_bytes()));
        }
        Ok(released == 1)
    }
}

/// A draw in [0, 1) for the backoff's jitter; a v4 UUID's random bits are enough for that.
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}
