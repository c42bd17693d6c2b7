//! One shared, multiplexed, auto-reconnecting connection, and the dedicated connections blocking
//! leases wait on.

use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::AsyncConnectionConfig;

use crate::error::{Error, ErrorKind, Result};

/// How a [`Connection`] waits on Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionOptions {
    /// How long one attempt at opening a TCP/TLS connection may take. Opening (and reconnecting)
    /// tries three times before it is a connection error, so a server that accepts but never
    /// answers is given up on after about three times this. Default 5 s.
    pub connect_timeout: Duration,
    /// How long one operation may wait for Redis's answer before it is an
    /// [`ErrorKind::Timeout`] error; `None` waits for ever. Default 30 s: long enough for a large
    /// `add_items` batch (every script leaseq runs is bounded work). A blocking lease's wait is
    /// not bounded by it (its own `timeout` is). After a timeout the operation's outcome is
    /// unknown: it may still run, as after any lost answer.
    pub response_timeout: Option<Duration>,
}

impl Default for ConnectionOptions {
    fn default() -> ConnectionOptions {
        ConnectionOptions {
            connect_timeout: Duration::from_secs(5),
            response_timeout: Some(Duration::from_secs(30)),
        }
    }
}

impl ConnectionOptions {
    fn validate(&self) -> Result<()> {
        if self.connect_timeout.is_zero() {
            return Err(Error::invalid_argument("connect timeout must be positive"));
        }
        if self.response_timeout == Some(Duration::ZERO) {
            return Err(Error::invalid_argument(
                "response timeout must be positive (or none, to wait for ever)",
            ));
        }
        Ok(())
    }
}
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
    options: ConnectionOptions,
    /// This process's connections. Found without a lock: a lock held by another thread at the
    /// instant of a fork stays held for ever in the child, so a child makes a new cell instead.
    cell: AtomicPtr<StateCell>,
    closed: AtomicBool,
    /// Turns true on close, so leases blocked at that moment end too.
    closed_signal: tokio::sync::watch::Sender<bool>,
}

/// The connections of one process. A cell is freed with its `Inner` only if this process made
/// it; a parent's cell is leaked in the child (its connections' tasks ran on threads the child
/// does not have, so their destructors must not run).
struct StateCell {
    pid: u32,
    state: Mutex<State>,
}

struct State {
    shared: Option<ConnectionManager>,
    idle_blocking: Vec<BlockingConnection>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let cell = *self.cell.get_mut();
        // SAFETY: the pointer comes from Box::into_raw and is only freed here, once.
        if let Some(owned) = unsafe { cell.as_ref() } {
            if owned.pid == std::process::id() {
                drop(unsafe { Box::from_raw(cell) });
            }
        }
    }
}

impl Connection {
    /// Opens a connection from a URL: `redis://[user:password@]host:port[/db]`,
    /// `rediss://…` (TLS, verified against the Mozilla roots; append `#insecure` to skip
    /// verification) or `unix:///path/to/redis.sock`.
    ///
    /// Connects at once, so a server that cannot be reached is an [`ErrorKind::Connection`] error
    /// here rather than at the first operation.
    pub async fn open(url: &str) -> Result<Connection> {
        Connection::open_with(url, ConnectionOptions::default()).await
    }

    /// [`Connection::open`] with timeouts other than the defaults.
    pub async fn open_with(url: &str, options: ConnectionOptions) -> Result<Connection> {
        options.validate()?;
        // rediss:// needs a process-wide crypto provider; Err means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = redis::Client::open(url)
            .map_err(|err| Error::invalid_argument(format!("invalid Redis URL {url:?}: {err}")))?;
        let connection = Connection {
            inner: Arc::new(Inner {
                client,
                options,
                cell: AtomicPtr::new(std::ptr::null_mut()),
                closed: AtomicBool::new(false),
                closed_signal: tokio::sync::watch::Sender::new(false),
            }),
        };
        connection.shared().await?;
        Ok(connection)
    }

    /// Closes the connection: every handle and queue using it fails with a connection error from
    /// now on, and blocking leases waiting on it end with that error at once. Dropping the last
    /// handle closes it too.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        {
            let mut state = self.state();
            state.shared = None;
            state.idle_blocking.clear();
        }
        self.inner.closed_signal.send_replace(true);
    }

    /// Resolves when [`Connection::close`] is called.
    pub(crate) async fn until_closed(&self) {
        let mut closed = self.inner.closed_signal.subscribe();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = closed.wait_for(|closed| *closed).await;
    }

    /// True once [`Connection::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    /// This process's state, made on first use here (also in a forked child).
    fn state(&self) -> MutexGuard<'_, State> {
        let pid = std::process::id();
        let cell = loop {
            let current = self.inner.cell.load(Ordering::Acquire);
            // SAFETY: cells come from Box::into_raw and live as long as `Inner` (or for ever).
            if let Some(cell) = unsafe { current.as_ref() } {
                if cell.pid == pid {
                    break cell;
                }
            }
            let fresh = Box::into_raw(Box::new(StateCell {
                pid,
                state: Mutex::new(State {
                    shared: None,
                    idle_blocking: Vec::new(),
                }),
            }));
            if self
                .inner
                .cell
                .compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                // SAFETY: `fresh` was never shared.
                drop(unsafe { Box::from_raw(fresh) });
            }
            // On success the parent's cell (if any) is leaked: see `StateCell`.
        };
        // A panic while holding this lock cannot leave it inconsistent: every write is one field.
        cell.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The shared multiplexed connection, (re)made on first use in this process.
    pub(crate) async fn shared(&self) -> Result<ConnectionManager> {
        if self.is_closed() {
            return Err(closed_error());
        }
        if let Some(shared) = &self.state().shared {
            return Ok(shared.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.inner.options.connect_timeout))
            .set_response_timeout(self.inner.options.response_timeout)
            .set_number_of_retries(2);
        let manager = ConnectionManager::new_with_config(self.inner.client.clone(), config)
            .await
            .map_err(|err| self.connect_error(err))?;
        if self.is_closed() {
            return Err(closed_error());
        }
        Ok(self.state().shared.get_or_insert(manager).clone())
    }

    /// A connection of its own for one blocking command; give it back with
    /// [`Connection::put_blocking`] only if that command finished.
    pub(crate) async fn take_blocking(&self) -> Result<BlockingConnection> {
        if self.is_closed() {
            return Err(closed_error());
        }
        if let Some(connection) = self.state().idle_blocking.pop() {
            return Ok(connection);
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.inner.options.connect_timeout))
            .set_response_timeout(None);
        let mut connection = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|err| self.connect_error(err))?;
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
        if self.is_closed() {
            return;
        }
        let mut state = self.state();
        if state.idle_blocking.len() < MAX_IDLE_BLOCKING {
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

pub(crate) fn closed_error() -> Error {
    Error::new(ErrorKind::Connection, "the connection is closed")
}

impl Connection {
    /// Any failure to connect is a connection error, and says where we tried (never the password).
    fn connect_error(&self, err: redis::RedisError) -> Error {
        let err = Error::from(err);
        let address = self.inner.client.get_connection_info().addr();
        match err.kind() {
            ErrorKind::InvalidArgument => err,
            _ => Error::new(
                ErrorKind::Connection,
                format!("cannot connect to Redis at {address}: {}", err.message()),
            ),
        }
    }
}
