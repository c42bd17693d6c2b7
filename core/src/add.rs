//! Adding items: one, one known to be new, a batch, and one with a priority or a due time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::item::{Item, MAX_ITEM_BYTES};
use crate::queue::WorkQueue;
use crate::scripts;

/// The highest priority level; 0 is the default, where `redis-work-queue` clients add.
pub const MAX_PRIORITY: u8 = 9;

/// Where and when an item added with [`WorkQueue::add_item_with`] becomes leasable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddOptions {
    /// 0 (default) to [`MAX_PRIORITY`]; a lease always takes the highest level with a due item.
    pub priority: u8,
    /// Not leasable until this long after the add (Redis server time).
    pub delay: Option<Duration>,
    /// Not leasable before this time (Redis server clock). Give `delay` or `at`, not both.
    pub at: Option<SystemTime>,
}

impl AddOptions {
    /// (when, milliseconds) as `add-scheduled-7.lua` takes them.
    fn schedule(&self) -> Result<(u8, u64)> {
        if self.priority > MAX_PRIORITY {
            return Err(Error::invalid_argument(format!(
                "priority {} is above the maximum of {MAX_PRIORITY}",
                self.priority
            )));
        }
        match (self.delay, self.at) {
            (Some(_), Some(_)) => Err(Error::invalid_argument("give a delay or a time, not both")),
            (Some(delay), None) => Ok((1, delay.as_millis().try_into().map_err(|_| too_far())?)),
            (None, Some(at)) => {
                let since_epoch = at
                    .duration_since(UNIX_EPOCH)
                    .map_err(|_| Error::invalid_argument("a due time before 1970"))?;
                Ok((
                    2,
                    since_epoch.as_millis().try_into().map_err(|_| too_far())?,
                ))
            }
            (None, None) => Ok((0, 0)),
        }
    }
}

fn too_far() -> Error {
    Error::invalid_argument("the due time is too far away")
}

impl WorkQueue {
    /// Adds an item. Returns `false`, changing nothing, if an item with this id already exists
    /// (or was completed within the queue's uniqueness window).
    ///
    /// One round trip ([`add-3.lua`](../lua/add-3.lua)).
    pub async fn add_item(&self, item: &Item) -> Result<bool> {
        item.validate()?;
        let mut connection = self.connection.shared().await?;
        let added: i64 = scripts::ADD
            .key(&self.keys.queue)
            .key(self.keys.item(&item.id))
            .key(self.keys.done(&item.id))
            .arg(&item.id)
            .arg(&item.data)
            .invoke_async(&mut connection)
            .await?;
        self.after_add().await?;
        Ok(added == 1)
    }

    /// Adds an item whose id the caller knows is new, skipping the existence check.
    ///
    /// If the id did exist, its data is replaced and it is queued again. One round trip.
    pub async fn add_unique_item(&self, item: &Item) -> Result<()> {
        item.validate()?;
        let mut connection = self.connection.shared().await?;
        let _: i64 = scripts::ADD_UNIQUE
            .key(&self.keys.queue)
            .key(self.keys.item(&item.id))
            .arg(&item.id)
            .arg(&item.data)
            .invoke_async(&mut connection)
            .await?;
        self.after_add().await?;
        Ok(())
    }

    /// Adds a batch of items atomically, in one round trip; each is added unless its id exists.
    ///
    /// Returns how many were added. The batch as a whole must stay under 512 MB.
    pub async fn add_items(&self, items: &[Item]) -> Result<u64> {
        if items.is_empty() {
            return Ok(0);
        }
        let mut total = 0usize;
        for item in items {
            item.validate()?;
            total += item.data.len() + item.id.len();
        }
        if total > MAX_ITEM_BYTES {
            return Err(Error::invalid_argument(format!(
                "a batch of {total} bytes is over Redis's 512 MB request limit; split it"
            )));
        }
        let mut invocation = scripts::ADD_ITEMS.key(&self.keys.queue);
        for item in items {
            invocation.key(self.keys.item(&item.id));
        }
        for item in items {
            invocation.key(self.keys.done(&item.id));
        }
        for item in items {
            invocation.arg(&item.id);
        }
        for item in items {
            invocation.arg(&item.data);
        }
        let mut connection = self.connection.shared().await?;
        let added = invocation.invoke_async(&mut connection).await?;
        self.after_add().await?;
        Ok(added)
    }

    /// Adds an item at a priority level, and/or not leasable before a delay or a time.
    ///
    /// Returns `false`, changing nothing, if the id exists (or was completed within the
    /// uniqueness window). Delayed items become leasable when due, in due order, moved by the
    /// lease operation itself: no scheduler process is needed. One round trip
    /// ([`add-scheduled-7.lua`](../lua/add-scheduled-7.lua)).
    pub async fn add_item_with(&self, item: &Item, options: &AddOptions) -> Result<bool> {
        item.validate()?;
        let (when, millis) = options.schedule()?;
        let mut connection = self.connection.shared().await?;
        let added: i64 = scripts::ADD_SCHEDULED
            .key(&self.keys.queue)
            .key(self.keys.item(&item.id))
            .key(self.keys.done(&item.id))
            .key(&self.keys.prioritized)
            .key(&self.keys.delayed)
            .key(&self.keys.priority)
            .key(&self.keys.signal)
            .arg(&item.id)
            .arg(&item.data)
            .arg(options.priority)
            .arg(when)
            .arg(millis)
            .invoke_async(&mut connection)
            .await?;
        self.after_add().await?;
        Ok(added == 1)
    }
}
