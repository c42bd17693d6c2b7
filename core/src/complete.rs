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
    /// Marks `item` done and removes it from the queue for good.
    ///
    /// Returns `true` for exactly one call per item, the one that deleted its data; every other
    /// call (a second worker that got the item after a lease expired, a repeated call) gets
    /// `false`. Completing after the lease was lost still counts if nobody completed it first.
    /// One round trip ([`complete-13.lua`](../lua/complete-13.lua)).
    pub async fn complete(&self, item: &Item) -> Result<bool> {
        validate_id(&item.id)?;
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
            .arg(&item.id)
            .arg(self.options.unique_window.as_millis() as u64)
            .invoke_async(&mut connection)
            .await?;
        self.wait_for_replicas().await?;
        Ok(completed == 1)
    }

    /// Ends the lease on `item` with a failure: it is retried after `retry_after`, or after the
    /// queue's exponential backoff with jitter when `None`, until its attempts reach the queue's
    /// `max_attempts`; then it moves to the dead letters, keeping its data, attempts and `error`.
    ///
    /// Fails with [`ErrorKind::LeaseLost`] if this session no longer holds the item (its lease
    /// expired and it was requeued or leased by another worker). One round trip
    /// ([`fail-12.lua`](../lua/fail-12.lua)).
    pub async fn fail(
        &self,
        item: &Item,
        error: &str,
        retry_after: Option<Duration>,
    ) -> Result<FailOutcome> {
        validate_id(&item.id)?;
        self.fail_raw(item.id.as_bytes(), error, None, retry_after)
            .await
    }

    /// [`WorkQueue::fail`] for an id given as bytes, at `max_attempts` (the queue's when `None`).
    pub(crate) async fn fail_raw(
        &self,
        id: &[u8],
        error: &str,
        max_attempts: Option<u32>,
        retry_after: Option<Duration>,
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
            .arg(id)
            .arg(&*self.session)
            .arg(error)
            .arg(max_attempts.unwrap_or(self.options.max_attempts))
            .arg(retry_ms)
            .arg(self.options.backoff_base.as_millis() as u64)
            .arg(self.options.backoff_max.as_millis() as u64)
            .arg(jitter())
            .invoke_async(&mut connection)
            .await?;
        match outcome {
            1 => Ok(FailOutcome::Retry {
                at: UNIX_EPOCH + Duration::from_millis(value.max(0) as u64),
            }),
            2 => Ok(FailOutcome::Dead),
            0 => Ok(FailOutcome::Gone),
            _ => Err(Error::new(
                ErrorKind::LeaseLost,
                format!(
                    "the lease on item {} is no longer held by this worker",
                    String::from_utf8_lossy(id)
                ),
            )),
        }
    }
}

impl WorkQueue {
    /// Gives a leased item back at once, first in line at its level, without counting the
    /// attempt: for work this worker will not do (it is shutting down). Returns `false` if this
    /// session no longer holds the item. One round trip ([`release-9.lua`](../lua/release-9.lua)).
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
            .arg(&item.id)
            .arg(&*self.session)
            .invoke_async(&mut connection)
            .await?;
        Ok(released == 1)
    }
}

/// A draw in [0, 1) for the backoff's jitter; a v4 UUID's random bits are enough for that.
fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}
