//! One shared connection to a Redis server.

use std::sync::Arc;

use napi_derive::napi;
use tokio::sync::watch;

use crate::error::{settle, Settled};

/// A connection to one Redis server, shared by any number of {@link WorkQueue}s.
///
/// Operations are multiplexed over one socket that reconnects by itself; a blocking lease waits
/// on a connection of its own so it never stalls the others. Nothing in it keeps Node's event
/// loop alive: a process whose work is done exits, connection open or not.
#[napi]
pub struct Connection {
    pub(crate) inner: leaseq::Connection,
    /// Set by `close()`, so that blocking leases in progress end too (the core's close only
    /// fails the calls that start after it): a pending Promise keeps Node running.
    pub(crate) closed: Arc<watch::Sender<bool>>,
}

#[napi]
impl Connection {
    /// Opens a connection from a URL: `redis://[user:password@]host:port[/db]`,
    /// `rediss://…` (TLS) or `unix:///path/to/redis.sock`.
    ///
    /// Connects at once, so a server that cannot be reached is an `ECONNECTION` error here
    /// rather than at the first operation.
    #[napi(catch_unwind, ts_return_type = "Promise<Connection>")]
    pub async fn open(url: String) -> Settled<Connection> {
        settle(async move {
            let inner = leaseq::Connection::open(&url).await?;
            let closed = Arc::new(watch::Sender::new(false));
            Ok(Connection { inner, closed })
        })
        .await
    }

    /// Closes the connection: every queue using it fails with an `ECONNECTION` error from now
    /// on. Dropping the last handle closes it too.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.inner.close();
        self.closed.send_replace(true);
    }

    /// True once {@link Connection.close} was called.
    #[napi(catch_unwind)]
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

/// Resolves once `close()` was called on the connection `closed` belongs to.
pub(crate) async fn until_closed(closed: &watch::Sender<bool>) {
    // The sender is borrowed, so it outlives the wait: `wait_for` only ends on `true`.
    let _ = closed.subscribe().wait_for(|closed| *closed).await;
}
