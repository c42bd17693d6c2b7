//! The work queue handle and its counting operations.

use std::sync::Arc;

use crate::connection::Connection;
use crate::error::Result;
use crate::keys::Keys;

/// A work queue: the keys under one prefix, reached through a shared [`Connection`].
///
/// Cloning is cheap; clones share the session id, so a lease taken through one clone can be
/// renewed through another. Each `WorkQueue::new` gets a fresh session id.
#[derive(Clone)]
pub struct WorkQueue {
    pub(crate) connection: Connection,
    pub(crate) keys: Arc<Keys>,
    pub(crate) session: Arc<str>,
}

/// What a clean did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CleanReport {
    /// Items whose lease had expired (or was never taken), returned to the queue.
    pub requeued: u64,
    /// Ids dropped from the lists because their item no longer exists.
    pub dropped: u64,
}

impl WorkQueue {
    /// A queue whose keys start with `name` (the key prefix, e.g. `"jobs"` or `"{jobs}"`).
    ///
    /// Fails with [`crate::ErrorKind::InvalidArgument`] if `name` is empty.
    pub fn new(connection: &Connection, name: &str) -> Result<WorkQueue> {
        Ok(WorkQueue {
            connection: connection.clone(),
            keys: Arc::new(Keys::new(name)?),
            session: uuid::Uuid::new_v4().simple().to_string().into(),
        })
    }

    /// The key prefix this queue was made with.
    pub fn name(&self) -> &str {
        &self.keys.prefix
    }

    /// The id this queue handle writes into the leases it takes.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// The number of items waiting to be leased (not counting those being processed).
    pub async fn queue_len(&self) -> Result<u64> {
        let mut connection = self.connection.shared().await?;
        Ok(redis::cmd("LLEN")
            .arg(&self.keys.queue)
            .query_async(&mut connection)
            .await?)
    }

    /// The number of items currently leased (being processed, or waiting for a clean).
    pub async fn processing(&self) -> Result<u64> {
        let mut connection = self.connection.shared().await?;
        Ok(redis::cmd("LLEN")
            .arg(&self.keys.processing)
            .query_async(&mut connection)
            .await?)
    }
}
