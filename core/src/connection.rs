//! One shared, multiplexed, auto-reconnecting connection, and the dedicated connections blocking
//! leases wait on; to one server, a Cluster or a Sentinel-monitored master (see `topology.rs`).

use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::AsyncConnectionConfig;

use crate::error::{Error, ErrorKind, Result};
use crate::eviction;
use crate::topology::{Shared, Target};

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

/// A connection to Redis (one server, a Cluster or a Sentinel-monitored master), shared by any
/// number of [`crate::WorkQueue`]s.
///
/// Cloning is cheap and gives another handle to the same connection. Operations are multiplexed
/// over one socket (per Cluster node) that reconnects by itself; a blocking lease waits on a
/// connection of its own so it never stalls the others. After `fork()`, a child reconnects on
/// first use.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    target: Target,
    options: ConnectionOptions,
    /// This process's connections. Found without a lock: a lock held by another thread at the
    /// instant of a fork stays held for ever in the child, so a child makes a new cell instead.
    cell: AtomicPtr<StateCell>,
    closed: AtomicBool,
    /// Turns true on close, so leases blocked at that moment end too.
    closed_signal: tokio::sync::watch::Sender<bool>,
    /// What the eviction check found when the connection opened.
    eviction: OnceLock<eviction::Finding>,
}

/// The connections of one process. A cell is freed with its `Inner` only if this process made
/// it; a parent's cell is leaked in the child (its connections' tasks ran on threads the child
/// does not have, so their destructors must not run).
struct StateCell {
    pid: u32,
    state: Mutex<State>,
}

struct State {
    shared: Option<Shared>,
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
    /// Opens a connection from a URL:
    ///
    /// - one server: `redis://[user:password@]host:port[/db]`, `rediss://…` (TLS, verified
    ///   against the Mozilla roots; append `#insecure` to skip verification) or
    ///   `unix:///path/to/redis.sock`;
    /// - a Redis Cluster: `redis+cluster://[user:password@]host:port[,host:port…]` (seed nodes:
    ///   give several, ideally every master), `rediss+cluster://…` with TLS;
    /// - a master found through Sentinel:
    ///   `redis+sentinel://[user:password@]host:port[,host:port…]/master-name[/db]` (the
    ///   Sentinels' addresses; user and password are the data nodes'), `rediss+sentinel://…`
    ///   with TLS to Sentinels and data nodes alike.
    ///
    /// On a Cluster every queue name needs a `{hash tag}` (see [`crate::WorkQueue::new`]).
    /// Connects at once, so a server that cannot be reached is an [`ErrorKind::Connection`] error
    /// here rather than at the first operation.
    ///
    /// **Eviction.** Opening reads Redis's `maxmemory-policy` (`INFO memory`; on a Cluster, every
    /// master's): under any policy but `noeviction` Redis may delete queue keys when it reaches
    /// `maxmemory`, and items are lost without a trace. The query parameter `eviction` of the URL
    /// says what to do then: `eviction=warn` (the default) opens and reports it in
    /// [`Connection::warnings`], `eviction=refuse` fails with an [`ErrorKind::Connection`] error
    /// that names the policy and the fix (`CONFIG SET maxmemory-policy noeviction`), and
    /// `eviction=ignore` skips the check. A server that refuses `INFO` (an ACL user without
    /// `+info`, some managed services) is reported in [`Connection::warnings`] instead of failing,
    /// with `refuse` too. Example: `redis://10.0.0.1:6379/0?eviction=refuse`.
    pub async fn open(url: &str) -> Result<Connection> {
        Connection::open_with(url, ConnectionOptions::default()).await
    }

    /// [`Connection::open`] with timeouts other than the defaults.
    pub async fn open_with(url: &str, options: ConnectionOptions) -> Result<Connection> {
        options.validate()?;
        // rediss:// needs a process-wide crypto provider; Err means one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (url, eviction_mode) = eviction::take_mode(url)?;
        let target = Target::parse(&url)?;
        let connection = Connection {
            inner: Arc::new(Inner {
                target,
                options,
                cell: AtomicPtr::new(std::ptr::null_mut()),
                closed: AtomicBool::new(false),
                closed_signal: tokio::sync::watch::Sender::new(false),
                eviction: OnceLock::new(),
            }),
        };
        let mut shared = connection.shared().await?;
        let target = &connection.inner.target;
        let place = match target {
            Target::Single(_) => format!("the Redis at {}", target.describe()),
            _ => target.describe(),
        };
        let finding = eviction::check(&mut shared, eviction_mode, &place).await?;
        let _ = connection.inner.eviction.set(finding);
        Ok(connection)
    }

    /// What opening this connection found that the application should be told, one sentence
    /// each; empty when all is well. Today: Redis may evict keys (its `maxmemory-policy` is not
    /// `noeviction`), or its policy could not be read (see **Eviction** at [`Connection::open`]).
    ///
    /// The Python and Node.js bindings emit each once when the connection opens (a
    /// `RuntimeWarning`, a process warning with code `LEASEQ_EVICTION`); a Rust application logs
    /// them as it logs the rest.
    pub fn warnings(&self) -> Vec<String> {
        self.inner
            .eviction
            .get()
            .map(|finding| finding.warnings.clone())
            .unwrap_or_default()
    }

    /// Redis's `maxmemory-policy` as read when the connection opened (on a Cluster, the first
    /// master's that is not `noeviction`, or `noeviction` when none is); `None` with
    /// `eviction=ignore` or when it could not be read.
    pub fn eviction_policy(&self) -> Option<String> {
        self.inner
            .eviction
            .get()
            .and_then(|finding| finding.policy.clone())
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

    /// True if this connection goes to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.inner.target, Target::Cluster { .. })
    }

    /// The shared multiplexed connection, (re)made on first use in this process, and again
    /// after it saw the Sentinel master move.
    pub(crate) async fn shared(&self) -> Result<Shared> {
        if self.is_closed() {
            return Err(closed_error());
        }
        if let Some(shared) = &self.state().shared {
            if !shared.is_stale() {
                return Ok(shared.clone());
            }
        }
        let options = &self.inner.options;
        let made = self.inner.target.connect_shared(options).await;
        let made = made.map_err(|err| self.connect_error(err))?;
        if self.is_closed() {
            return Err(closed_error());
        }
        let mut state = self.state();
        match &state.shared {
            Some(current) if !current.is_stale() => Ok(current.clone()),
            _ => Ok(state.shared.insert(made).clone()),
        }
    }

    /// A connection of its own for one blocking command on `key`; give it back with
    /// [`Connection::put_blocking`] only if that command finished.
    pub(crate) async fn take_blocking(&self, key: &str) -> Result<BlockingConnection> {
        if self.is_closed() {
            return Err(closed_error());
        }
        let route = self
            .is_cluster()
            .then(|| Route::with_key(key, SlotAddr::Master));
        let pooled = self.state().idle_blocking.pop();
        let mut link = match pooled {
            Some(pooled) => pooled.connection,
            None => self.open_blocking().await?,
        };
        // On a Cluster the id is the one on the node that owns `key`'s slot now.
        let client_id = match (&mut link, route) {
            (BlockingLink::Cluster(cluster), Some(route)) => {
                let id = cluster
                    .route_command(
                        redis::cmd("CLIENT").arg("ID").clone(),
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                    )
                    .await?;
                redis::from_redis_value(id)?
            }
            (link, _) => redis::cmd("CLIENT").arg("ID").query_async(link).await?,
        };
        Ok(BlockingConnection {
            connection: link,
            client_id,
            route,
        })
    }

    async fn open_blocking(&self) -> Result<BlockingLink> {
        let options = &self.inner.options;
        let connect_timeout = options.connect_timeout;
        match &self.inner.target {
            Target::Cluster { .. } => {
                let client = self.inner.target.cluster_client(options, false)?;
                // Bounded by a timeout of our own (redis-rs issue 1953).
                let connected =
                    tokio::time::timeout(connect_timeout * 3, client.get_async_connection()).await;
                match connected {
                    Ok(connected) => Ok(BlockingLink::Cluster(
                        connected.map_err(|err| self.connect_error(err))?,
                    )),
                    Err(_) => Err(Error::new(
                        ErrorKind::Connection,
                        format!(
                            "cannot connect to the Redis Cluster at {}: timed out",
                            self.inner.target.describe()
                        ),
                    )),
                }
            }
            _ => {
                let client = match self.shared().await? {
                    Shared::Sentinel { client, .. } => *client,
                    _ => self.inner.target.single_client().clone(),
                };
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(connect_timeout))
                    .set_response_timeout(None);
                let connection = client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .map_err(|err| self.connect_error(err))?;
                Ok(BlockingLink::Single(connection))
            }
        }
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

    /// Ends the blocking commands of `connections` (`CLIENT UNBLOCK`, sent to the node each waits on).
    pub(crate) async fn unblock(&self, connections: &[i64], route: Option<Route>) -> Result<()> {
        let mut shared = self.shared().await?;
        match (&mut shared, route) {
            (Shared::Cluster(cluster), Some(route)) => {
                for id in connections {
                    cluster
                        .route_command(
                            redis::cmd("CLIENT").arg("UNBLOCK").arg(id).clone(),
                            RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                        )
                        .await?;
                }
            }
            (shared, _) => {
                let mut pipe = redis::pipe();
                for id in connections {
                    pipe.cmd("CLIENT").arg("UNBLOCK").arg(id);
                }
                let _: redis::Value = pipe.query_async(shared).await?;
            }
        }
        Ok(())
    }

    /// `WAIT replicas timeout` on the node holding `slot_key` (the one server, the Sentinel
    /// master): how many replicas acknowledged this connection's writes so far.
    pub(crate) async fn wait_replicas(
        &self,
        slot_key: &str,
        replicas: u32,
        timeout: Duration,
    ) -> Result<u64> {
        let mut shared = self.shared().await?;
        let mut wait = redis::cmd("WAIT");
        wait.arg(replicas).arg(timeout.as_millis().max(1) as u64);
        match &mut shared {
            Shared::Cluster(cluster) => {
                let route = Route::with_key(slot_key, SlotAddr::Master);
                let reply = cluster
                    .route_command(
                        wait,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                    )
                    .await?;
                Ok(redis::from_redis_value(reply)?)
            }
            shared => Ok(wait.query_async(shared).await?),
        }
    }

    /// One slot owned by each Cluster master (the first of one of its ranges, from
    /// `CLUSTER SLOTS`), so a command routed to each reaches every master once; on one server or
    /// a Sentinel master, `[0]` (the one node).
    pub(crate) async fn slot_per_master(&self) -> Result<Vec<u16>> {
        let mut shared = self.shared().await?;
        let Shared::Cluster(cluster) = &mut shared else {
            return Ok(vec![0]);
        };
        let ranges: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async(cluster)
            .await?;
        let mut slots = Vec::new();
        let mut masters = std::collections::BTreeSet::new();
        // Each range: [start, end, [host, port, id, …] of its master, then its replicas].
        for range in ranges {
            let (Some(start), Some(master)) = (range.first(), range.get(2)) else {
                continue;
            };
            let start: u16 = redis::from_redis_value(start.clone())?;
            let master: Vec<redis::Value> = redis::from_redis_value(master.clone())?;
            let (Some(host), Some(port)) = (master.first(), master.get(1)) else {
                continue;
            };
            let host: String = redis::from_redis_value(host.clone())?;
            let port: u16 = redis::from_redis_value(port.clone())?;
            if masters.insert((host, port)) {
                slots.push(start);
            }
        }
        Ok(slots)
    }

    /// One `SCAN` step over the keys of the node that owns `slot` (on one server: over that
    /// server). Returns the next cursor (0 when done) and the keys found.
    pub(crate) async fn scan_slot_owner(
        &self,
        slot: u16,
        cursor: u64,
        pattern: &str,
        count: u64,
    ) -> Result<(u64, Vec<Vec<u8>>)> {
        self.scan_at(Route::new(slot, SlotAddr::Master), cursor, pattern, count)
            .await
    }

    /// One `SCAN` step over the keys of the node that holds `slot_key`'s slot (on one server:
    /// over that server). Returns the next cursor (0 when done) and the keys found.
    pub(crate) async fn scan(
        &self,
        slot_key: &str,
        cursor: u64,
        pattern: &str,
        count: u64,
    ) -> Result<(u64, Vec<Vec<u8>>)> {
        self.scan_at(
            Route::with_key(slot_key, SlotAddr::Master),
            cursor,
            pattern,
            count,
        )
        .await
    }

    /// One `SCAN` step on the master `route` names on a Cluster, on the one server otherwise.
    async fn scan_at(
        &self,
        route: Route,
        cursor: u64,
        pattern: &str,
        count: u64,
    ) -> Result<(u64, Vec<Vec<u8>>)> {
        let mut shared = self.shared().await?;
        let mut scan = redis::cmd("SCAN");
        scan.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(count);
        match &mut shared {
            Shared::Cluster(cluster) => {
                let reply = cluster
                    .route_command(
                        scan,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                    )
                    .await?;
                Ok(redis::from_redis_value(reply)?)
            }
            shared => Ok(scan.query_async(shared).await?),
        }
    }
}

/// A connection that runs one blocking command at a time, and its server-side id so another
/// connection can end that command early with `CLIENT UNBLOCK` ([`Connection::unblock`]).
pub(crate) struct BlockingConnection {
    pub connection: BlockingLink,
    pub client_id: i64,
    /// On a Cluster, the slot (and so the node) the command waits on.
    pub route: Option<Route>,
}

/// A blocking connection: to the one server (or Sentinel master), or a Cluster connection of its
/// own whose commands go to the node owning their key.
pub(crate) enum BlockingLink {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl redis::aio::ConnectionLike for BlockingLink {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            BlockingLink::Single(c) => c.req_packed_command(cmd),
            BlockingLink::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            BlockingLink::Single(c) => c.req_packed_commands(pipeline, offset, count),
            BlockingLink::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            BlockingLink::Single(c) => c.get_db(),
            BlockingLink::Cluster(c) => c.get_db(),
        }
    }
}

pub(crate) fn closed_error() -> Error {
    Error::new(ErrorKind::Connection, "the connection is closed")
}

impl Connection {
    /// Any failure to connect is a connection error, and says where we tried (never the password).
    fn connect_error(&self, err: redis::RedisError) -> Error {
        let err = Error::from(err);
        let address = self.inner.target.describe();
        match err.kind() {
            ErrorKind::InvalidArgument => err,
            _ => Error::new(
                ErrorKind::Connection,
                format!("cannot connect to Redis at {address}: {}", err.message()),
            ),
        }
    }
}
