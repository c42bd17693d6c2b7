//! Completing an item.

use crate::error::Result;
use crate::item::{validate_id, Item};
use crate::queue::WorkQueue;
use crate::scripts;

impl WorkQueue {
    /// Marks `item` done and removes it from the queue for good.
    ///
    /// Returns `true` for exactly one call per item, the one that deleted its data; every other
    /// call (a second worker that got the item after a lease expired, a repeated call) gets
    /// `false`. Completing after the lease was lost still counts if nobody completed it first.
    /// One round trip ([`complete-5.lua`](../lua/complete-5.lua)).
    pub async fn complete(&self, item: &Item) -> Result<bool> {
        validate_id(&item.id)?;
        let mut connection = self.connection.shared().await?;
        let completed: i64 = scripts::COMPLETE
            .key(self.keys.item(&item.id))
            .key(&self.keys.processing)
            .key(self.keys.lease(&item.id))
            .key(&self.keys.queue)
            .key(self.keys.old_lease(&item.id))
            .arg(&item.id)
            .invoke_async(&mut connection)
            .await?;
        Ok(completed == 1)
    }
}
