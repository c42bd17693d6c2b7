//! Adding items: one, one known to be new, and a batch.

use crate::error::{Error, Result};
use crate::item::{Item, MAX_ITEM_BYTES};
use crate::queue::WorkQueue;
use crate::scripts;

impl WorkQueue {
    /// Adds an item. Returns `false`, changing nothing, if an item with this id already exists.
    ///
    /// One round trip ([`add-2.lua`](../lua/add-2.lua)).
    pub async fn add_item(&self, item: &Item) -> Result<bool> {
        item.validate()?;
        let mut connection = self.connection.shared().await?;
        let added: i64 = scripts::ADD
            .key(&self.keys.queue)
            .key(self.keys.item(&item.id))
            .arg(&item.id)
            .arg(&item.data)
            .invoke_async(&mut connection)
            .await?;
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
            invocation.arg(&item.id);
        }
        for item in items {
            invocation.arg(&item.data);
        }
        let mut connection = self.connection.shared().await?;
        Ok(invocation.invoke_async(&mut connection).await?)
    }
}
