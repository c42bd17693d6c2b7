//! One shared connection to a Redis server.

use napi_derive::napi;

use crate::error::{settle, Settled};

/// A connection to one Redis server, shared by any number of {@link WorkQueue}s.
///
/// Operations are multiplexed over one socket that reconnects by itself; a blocking lease waits
/// on a connection of its own so it never stalls the others. Nothing in it keeps Node's event
/// loop alive: a process whose work is done exits, connection open or not.
#[napi]
pub struct Connection {
    pub(crate) inner: leaseq::Connection,
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
            Ok(Connection { inner })
        })
        .await
    }

    /// Closes the connection: every queue using it fails with an `ECONNECTION` error from now
    /// on, and blocking leases waiting on it end with that error at once. Dropping the last
    /// handle closes it too.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.inner.close();
    }

    /// True once {@link Connection.close} was called.
    #[napi(catch_unwind)]
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}
