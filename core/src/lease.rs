//! Leasing an item, blocking or not; renewing a lease.

use std::time::{Duration, Instant};

use crate::duration::lease_millis;
use crate::error::Result;
use crate::item::{validate_id, Item};
use crate::queue::WorkQueue;
use crate::scripts;

impl WorkQueue {
    /// Leases the next item for `lease_duration`, or returns `None`.
    ///
    /// With `block` false, returns at once. With `block` true, waits until an item can be leased,
    /// or until `timeout` has passed (`None` waits for ever). Durations keep millisecond precision.
    /// Complete the item with [`WorkQueue::complete`] before the lease ends, or extend it with
    /// [`WorkQueue::renew`]; otherwise a clean returns it to the queue for another worker.
    ///
    /// One round trip when an item is there ([`lease-4.lua`](../lua/lease-4.lua)). A blocking
    /// lease on an empty queue waits on a connection of its own with a `BLMOVE` that moves
    /// nothing, then leases with the same script. Dropping the future while it waits loses
    /// nothing.
    pub async fn lease(
        &self,
        lease_duration: Duration,
        block: bool,
        timeout: Option<Duration>,
    ) -> Result<Option<Item>> {
        let lease_ms = lease_millis(lease_duration)?;
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        loop {
            if let Some(item) = self.try_lease(lease_ms).await? {
                return Ok(Some(item));
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
            self.wait_for_item(remaining).await?;
        }
    }

    async fn try_lease(&self, lease_ms: u64) -> Result<Option<Item>> {
        let mut connection = self.connection.shared().await?;
        let leased: Option<(String, Vec<u8>)> = scripts::LEASE
            .key(&self.keys.queue)
            .key(&self.keys.processing)
            .key(&self.keys.lease_prefix)
            .key(&self.keys.item_prefix)
            .arg(lease_ms)
            .arg(&*self.session)
            .invoke_async(&mut connection)
            .await?;
        Ok(leased.map(|(id, data)| Item { id, data }))
    }

    /// Waits until the queue is not empty, or `remaining` passes, without taking anything:
    /// `BLMOVE queue queue RIGHT RIGHT` pops the oldest id and puts it straight back in place.
    async fn wait_for_item(&self, remaining: Option<Duration>) -> Result<()> {
        // BLMOVE takes seconds with millisecond resolution; 0 would mean "for ever".
        let timeout_secs = match remaining {
            None => 0.0,
            Some(remaining) => remaining.as_millis().max(1) as f64 / 1000.0,
        };
        let mut connection = self.connection.take_blocking().await?;
        let _: Option<String> = redis::cmd("BLMOVE")
            .arg(&self.keys.queue)
            .arg(&self.keys.queue)
            .arg("RIGHT")
            .arg("RIGHT")
            .arg(timeout_secs)
            .query_async(&mut connection)
            .await?;
        self.connection.put_blocking(connection);
        Ok(())
    }

    /// Extends the lease on `item` to `lease_duration` from now, only while this session still
    /// holds it. Returns `false` (changing nothing) if the lease expired, the item was completed,
    /// or another session holds it. One round trip ([`renew-1.lua`](../lua/renew-1.lua)).
    pub async fn renew(&self, item: &Item, lease_duration: Duration) -> Result<bool> {
        validate_id(&item.id)?;
        let lease_ms = lease_millis(lease_duration)?;
        let mut connection = self.connection.shared().await?;
        let renewed: i64 = scripts::RENEW
            .key(self.keys.lease(&item.id))
            .arg(&*self.session)
            .arg(lease_ms)
            .invoke_async(&mut connection)
            .await?;
        Ok(renewed == 1)
    }
}
