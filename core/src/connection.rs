//! One shared, multiplexed, auto-reconnecting connection, and the dedicated connections blocking
//! leases wait on.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::AsyncConnectionConfig;

use crate::error::{Error, ErrorKind, Result};

/// How long opening a TCP/TLS connection may take before it is an error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one command on the shared connection may take before it is a timeout error. Long
/// enough for a large `add_items` batch; every command leaseq sends is bounded work.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle blocking connections kept for the next blocking lease.
const MAX_IDLE_BLOCKING: usize = 32;

/// A connection to one Redis server, shared by any number of [`crate::WorkQueue`]s.
///
/// Cloning is cheap and gives another handle to the same connection. Operations are multiplexed
/// over one socket that reconnects by itself; a blocking lease waits on a connection of its own
/// so it never stalls the others. After `fork()`, a child reconnects on first use.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    state: Mutex<State>,
    /// Turns true on close, so leases blocked at that moment end too.
    closed: tokio::sync::watch::Sender<bool>,
}

struct State {
    /// The process that made `shared` and `idle_blocking`; another pid means we are a forked child.
    pid: u32,
    shared: Option<ConnectionManager>,
    idle_blocking: Vec<BlockingConnection>,
    closed: bool,
}

impl Connection {
    /// Opens a connection from a URL: `redis://[user:password@]host:port[/db]`,
    /// `rediss://…` (TLS, verified against the Mozilla roots; append `#insecure` to skip
    /// verification) or `unix:///path/to/redis.sock`.
    ///
    /// Connects at once, so a server that cannot be reached is an [`ErrorKind::Connection`] error
    /// here rather than at the first operation.
    pub async fn open(url: &str) -> Result<Connection> {
        // rediss:// needs a process-wide crypto provider; Err means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = redis::Client::open(url)
            .map_err(|err| Error::invalid_argument(format!("invalid Redis URL {url:?}: {err}")))?;
        let connection = Connection {
            inner: Arc::new(Inner {
                client,
                state: Mutex::new(State {
                    pid: std::process::id(),
                    shared: None,
                    idle_blocking: Vec::new(),
                    closed: false,
                }),
                closed: tokio::sync::watch::Sender::new(false),
            }),
        };
        connection.shared().await?;
        Ok(connection)
    }

    /// Closes the connection: every handle and queue using it fails with a connection error from
    /// now on, and blocking leases waiting on it end with that error at once. Dropping the last
    /// handle closes it too.
    pub fn close(&self) {
        {
            let mut state = self.state();
            state.closed = true;
            state.shared = None;
            state.idle_blocking.clear();
        }
        self.inner.closed.send_replace(true);
    }

    /// Resolves when [`Connection::close`] is called.
    pub(crate) async fn until_closed(&self) {
        let mut closed = self.inner.closed.subscribe();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = closed.wait_for(|closed| *closed).await;
    }

    /// True once [`Connection::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.state().closed
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave it inconsistent: every write is one field.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The shared multiplexed connection, (re)made on first use in this process.
    pub(crate) async fn shared(&self) -> Result<ConnectionManager> {
        let pid = std::process::id();
        {
            let mut state = self.state();
            if state.closed {
                return Err(closed_error());
            }
            if state.pid == pid {
                if let Some(shared) = &state.shared {
                    return Ok(shared.clone());
                }
            } else {
                forget_inherited(&mut state, pid);
            }
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2);
        let manager = ConnectionManager::new_with_config(self.inner.client.clone(), config)
            .await
            .map_err(connect_error)?;
        let mut state = self.state();
        if state.closed {
            return Err(closed_error());
        }
        if state.pid != pid {
            forget_inherited(&mut state, pid);
        }
        Ok(state.shared.get_or_insert(manager).clone())
    }

    /// A connection of its own for one blocking command; give it back with
    /// [`Connection::put_blocking`] only if that command finished.
    pub(crate) async fn take_blocking(&self) -> Result<BlockingConnection> {
        let pid = std::process::id();
        {
            let mut state = self.state();
            if state.closed {
                return Err(closed_error());
            }
            if state.pid != pid {
                forget_inherited(&mut state, pid);
            }
            if let Some(connection) = state.idle_blocking.pop() {
                return Ok(connection);
            }
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(None);
        let mut connection = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(connect_error)?;
        let client_id: i64 = redis::cmd("CLIENT")
            .arg("ID")
            .query_async(&mut connection)
            .await?;
        Ok(BlockingConnection {
            connection,
            client_id,
        })
    }

    pub(crate) fn put_blocking(&self, connection: BlockingConnection) {
        let mut state = self.state();
        if !state.closed
            && state.pid == std::process::id()
            && state.idle_blocking.len() < MAX_IDLE_BLOCKING
        {
            state.idle_blocking.push(connection);
        }
    }
}

/// A connection that runs one blocking command at a time, and its server-side id so another
/// connection can end that command early with `CLIENT UNBLOCK`.
pub(crate) struct BlockingConnection {
    pub connection: MultiplexedConnection,
    pub client_id: i64,
}

/// Drops, without running their destructors, connections a forked child inherited: their driver
/// tasks lived on the parent's runtime threads, which the child does not have.
fn forget_inherited(state: &mut State, pid: u32) {
    state.pid = pid;
    if let Some(shared) = state.shared.take() {
        std::mem::forget(shared);
    }
    for connection in state.idle_blocking.drain(..) {
        std::mem::forget(connection);
    }
}

pub(crate) fn closed_error() -> Error {
    Error::new(ErrorKind::Connection, "the connection is closed")
}

fn connect_error(err: redis::RedisError) -> Error {
    let err = Error::from(err);
    match err.kind() {
        ErrorKind::Internal | ErrorKind::Timeout => Error::new(
            ErrorKind::Connection,
            format!("cannot connect to Redis: {}", err.message()),
        ),
        _ => err,
    }
}
