//! The blocking API: the same operations as the async one, run on leaseq's own runtime.
//!
//! For programs without an async runtime (and for the Python and .NET bindings' synchronous
//! methods). Do not call these from inside an async runtime: that is an error, not a deadlock.

use std::future::Future;
use std::time::Duration;

use crate::add::AddOptions;
use crate::complete::FailOutcome;
use crate::dead::DeadItem;
use crate::error::{Error, ErrorKind, Result};
use crate::item::Item;
use crate::queue::{CleanReport, QueueOptions};
use crate::runtime::runtime;

fn block_on<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            ErrorKind::Internal,
            "the blocking leaseq API was called from inside an async runtime; use the async API",
        ));
    }
    runtime().block_on(future)
}

/// A blocking handle on a [`crate::Connection`]. Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct Connection {
    inner: crate::Connection,
}

impl Connection {
    /// Opens a connection from a URL; see [`crate::Connection::open`].
    pub fn open(url: &str) -> Result<Connection> {
        Ok(Connection {
            inner: block_on(crate::Connection::open(url))?,
        })
    }

    /// Opens a connection with timeouts other than the defaults; see
    /// [`crate::Connection::open_with`].
    pub fn open_with(url: &str, options: crate::ConnectionOptions) -> Result<Connection> {
        Ok(Connection {
            inner: block_on(crate::Connection::open_with(url, options))?,
        })
    }

    /// Closes the connection; see [`crate::Connection::close`].
    pub fn close(&self) {
        self.inner.close()
    }

    /// The async handle on the same connection.
    pub fn as_async(&self) -> &crate::Connection {
        &self.inner
    }
}

impl From<crate::Connection> for Connection {
    /// The blocking handle on an async connection: both share one socket.
    fn from(inner: crate::Connection) -> Connection {
        Connection { inner }
    }
}

/// A blocking handle on a [`crate::WorkQueue`]. Cheap to clone; safe to share between threads.
#[derive(Clone)]
pub struct WorkQueue {
    inner: crate::WorkQueue,
}

impl WorkQueue {
    /// See [`crate::WorkQueue::new`].
    pub fn new(connection: &Connection, name: &str) -> Result<WorkQueue> {
        Ok(WorkQueue {
            inner: crate::WorkQueue::new(&connection.inner, name)?,
        })
    }

    /// See [`crate::WorkQueue::with_options`].
    pub fn with_options(
        connection: &Connection,
        name: &str,
        options: QueueOptions,
    ) -> Result<WorkQueue> {
        Ok(WorkQueue {
            inner: crate::WorkQueue::with_options(&connection.inner, name, options)?,
        })
    }

    /// The async handle on the same queue (same session).
    pub fn as_async(&self) -> &crate::WorkQueue {
        &self.inner
    }

    /// See [`crate::WorkQueue::add_item`].
    pub fn add_item(&self, item: &Item) -> Result<bool> {
        block_on(self.inner.add_item(item))
    }

    /// See [`crate::WorkQueue::add_unique_item`].
    pub fn add_unique_item(&self, item: &Item) -> Result<()> {
        block_on(self.inner.add_unique_item(item))
    }

    /// See [`crate::WorkQueue::add_items`].
    pub fn add_items(&self, items: &[Item]) -> Result<u64> {
        block_on(self.inner.add_items(items))
    }

    /// See [`crate::WorkQueue::add_item_with`].
    pub fn add_item_with(&self, item: &Item, options: &AddOptions) -> Result<bool> {
        block_on(self.inner.add_item_with(item, options))
    }

    /// See [`crate::WorkQueue::lease`].
    pub fn lease(
        &self,
        lease_duration: Duration,
        block: bool,
        timeout: Option<Duration>,
    ) -> Result<Option<Item>> {
        block_on(self.inner.lease(lease_duration, block, timeout))
    }

    /// See [`crate::WorkQueue::lease_many`].
    pub fn lease_many(
        &self,
        lease_duration: Duration,
        count: usize,
        block: bool,
        timeout: Option<Duration>,
    ) -> Result<Vec<Item>> {
        block_on(self.inner.lease_many(lease_duration, count, block, timeout))
    }

    /// See [`crate::WorkQueue::renew`].
    pub fn renew(&self, item: &Item, lease_duration: Duration) -> Result<bool> {
        block_on(self.inner.renew(item, lease_duration))
    }

    /// See [`crate::WorkQueue::complete`].
    pub fn complete(&self, item: &Item) -> Result<bool> {
        block_on(self.inner.complete(item))
    }

    /// See [`crate::WorkQueue::complete_many`].
    pub fn complete_many(&self, items: &[Item]) -> Result<Vec<bool>> {
        block_on(self.inner.complete_many(items))
    }

    /// See [`crate::WorkQueue::complete_and_lease`].
    pub fn complete_and_lease(
        &self,
        item: &Item,
        lease_duration: Duration,
        count: usize,
    ) -> Result<(bool, Vec<Item>)> {
        block_on(self.inner.complete_and_lease(item, lease_duration, count))
    }

    /// See [`crate::WorkQueue::fail`].
    pub fn fail(
        &self,
        item: &Item,
        error: &str,
        retry_after: Option<Duration>,
    ) -> Result<FailOutcome> {
        block_on(self.inner.fail(item, error, retry_after))
    }

    /// See [`crate::WorkQueue::release`].
    pub fn release(&self, item: &Item) -> Result<bool> {
        block_on(self.inner.release(item))
    }

    /// See [`crate::WorkQueue::light_clean`].
    pub fn light_clean(&self) -> Result<CleanReport> {
        block_on(self.inner.light_clean())
    }

    /// See [`crate::WorkQueue::deep_clean`].
    pub fn deep_clean(&self) -> Result<CleanReport> {
        block_on(self.inner.deep_clean())
    }

    /// See [`crate::WorkQueue::queue_len`].
    pub fn queue_len(&self) -> Result<u64> {
        block_on(self.inner.queue_len())
    }

    /// See [`crate::WorkQueue::processing`].
    pub fn processing(&self) -> Result<u64> {
        block_on(self.inner.processing())
    }

    /// See [`crate::WorkQueue::prioritized_len`].
    pub fn prioritized_len(&self) -> Result<u64> {
        block_on(self.inner.prioritized_len())
    }

    /// See [`crate::WorkQueue::delayed_len`].
    pub fn delayed_len(&self) -> Result<u64> {
        block_on(self.inner.delayed_len())
    }

    /// See [`crate::WorkQueue::dead_len`].
    pub fn dead_len(&self) -> Result<u64> {
        block_on(self.inner.dead_len())
    }

    /// See [`crate::WorkQueue::dead_items`].
    pub fn dead_items(&self, offset: u64, count: u64) -> Result<Vec<DeadItem>> {
        block_on(self.inner.dead_items(offset, count))
    }

    /// See [`crate::WorkQueue::requeue_dead`].
    pub fn requeue_dead(&self, ids: &[String]) -> Result<u64> {
        block_on(self.inner.requeue_dead(ids))
    }

    /// See [`crate::WorkQueue::purge_dead`].
    pub fn purge_dead(&self, ids: &[String]) -> Result<u64> {
        block_on(self.inner.purge_dead(ids))
    }

    /// See [`crate::WorkQueue::requeue_all_dead`].
    pub fn requeue_all_dead(&self) -> Result<u64> {
        block_on(self.inner.requeue_all_dead())
    }

    /// See [`crate::WorkQueue::purge_all_dead`].
    pub fn purge_all_dead(&self) -> Result<u64> {
        block_on(self.inner.purge_all_dead())
    }

    /// See [`crate::WorkQueue::pause`].
    pub fn pause(&self) -> Result<()> {
        block_on(self.inner.pause())
    }

    /// See [`crate::WorkQueue::resume`].
    pub fn resume(&self) -> Result<bool> {
        block_on(self.inner.resume())
    }

    /// See [`crate::WorkQueue::is_paused`].
    pub fn is_paused(&self) -> Result<bool> {
        block_on(self.inner.is_paused())
    }
}
