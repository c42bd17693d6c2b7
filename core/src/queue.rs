//! The work queue handle and its counting operations.

use std::sync::Arc;
use std::time::Duration;

use crate::connection::Connection;
use crate::duration::MAX_LEASE;
use crate::error::{Error, Result};
use crate::keys::Keys;
use crate::schema::SchemaChecked;

/// How a queue handle retries failed items and refuses recent duplicates.
///
/// These travel with each call (they are not stored in Redis), so every process working a queue
/// should use the same options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueOptions {
    /// Leases an item gets before a failure (an explicit [`WorkQueue::fail`] or an expired lease)
    /// sends it to the dead letters instead of back to the queue. Default 25, as Sidekiq and asynq.
    pub max_attempts: u32,
    /// The first retry's backoff; each later one doubles, with jitter. Default 1 s.
    pub backoff_base: Duration,
    /// The longest backoff. Default 1 hour.
    pub backoff_max: Duration,
    /// How long after an item is completed [`WorkQueue::add_item`] refuses its id. Default 0 (off).
    pub unique_window: Duration,
    /// How long a clean leaves alone an id it finds in processing without a lease, or an item
    /// in no list, before it reclaims it: such an id must be seen that way twice, this far apart,
    /// because `redis-work-queue` clients pop an id and write its lease (or write an item and
    /// push its id) in separate commands. A clean that finds such ids takes this much longer.
    /// Default 1 s.
    pub clean_grace: Duration,
    /// Durability opt-in: add and complete return only once this many replicas of the queue's
    /// master acknowledged the write (Redis `WAIT`), so a failover that promotes one of them
    /// keeps it. Default 0 (off: Redis replication is asynchronous, and a write acknowledged just
    /// before a failover can be lost). See `spec/key-schema.md`, "Durability".
    pub wait_replicas: u32,
    /// How long add and complete wait for `wait_replicas`; if fewer acknowledge in time the call
    /// fails with a Timeout error (the write is on the master, not yet on enough replicas).
    /// Default 1 s.
    pub wait_timeout: Duration,
    /// Fencing: renew, complete, fail and release of an item from a lease that was superseded
    /// (the item was leased again since, by any leaseq client) fail with a `LeaseLost` error and
    /// change nothing, instead of acting on the newer holder's delivery. Every delivery carries
    /// its token ([`crate::Item::fence`]) either way; this option makes the calls check it.
    /// Default off. See `spec/key-schema.md`, "Fencing tokens".
    pub fencing: bool,
}

impl Default for QueueOptions {
    fn default() -> QueueOptions {
        QueueOptions {
            max_attempts: 25,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(3600),
            unique_window: Duration::ZERO,
            clean_grace: Duration::from_secs(1),
            wait_replicas: 0,
            wait_timeout: Duration::from_secs(1),
            fencing: false,
        }
    }
}

impl QueueOptions {
    fn validate(&self) -> Result<()> {
        if self.wait_replicas > 0 && self.wait_timeout.is_zero() {
            return Err(Error::invalid_argument(
                "wait_timeout must be positive when wait_replicas is set",
            ));
        }
        if self.max_attempts == 0 {
            return Err(Error::invalid_argument("max_attempts must be at least 1"));
        }
        if self.backoff_max < self.backoff_base {
            return Err(Error::invalid_argument(
                "backoff_max must not be shorter than backoff_base",
            ));
        }
        for (name, value) in [
            ("backoff_max", self.backoff_max),
            ("unique_window", self.unique_window),
            ("clean_grace", self.clean_grace),
        ] {
            if value > MAX_LEASE {
                return Err(Error::invalid_argument(format!(
                    "{name} {value:?} is longer than the maximum of 365 days"
                )));
            }
        }
        Ok(())
    }
}

/// A work queue: the keys under one prefix, reached through a shared [`Connection`].
///
/// Cloning is cheap; clones share the session id, so a lease taken through one clone can be
/// renewed through another. Each `WorkQueue::new` gets a fresh session id.
#[derive(Clone)]
pub struct WorkQueue {
    pub(crate) connection: SchemaChecked,
    pub(crate) keys: Arc<Keys>,
    pub(crate) session: Arc<str>,
    pub(crate) options: Arc<QueueOptions>,
}

/// What a clean did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CleanReport {
    /// Items whose lease had expired (or was never taken), returned to the queue.
    pub requeued: u64,
    /// Ids dropped from the lists because their item no longer exists.
    pub dropped: u64,
    /// Items whose lease expired on their last attempt, moved to the dead letters.
    pub dead: u64,
}

impl WorkQueue {
    /// A queue whose keys start with `name` (the key prefix, e.g. `"jobs"` or `"{jobs}"`).
    ///
    /// Fails with [`crate::ErrorKind::InvalidArgument`] if `name` is empty, or if the connection
    /// goes to a Redis Cluster and `name` has no `{hash tag}` (name the queue `"{jobs}"`, not
    /// `"jobs"`, so all its keys share one slot; see `spec/key-schema.md`).
    pub fn new(connection: &Connection, name: &str) -> Result<WorkQueue> {
        WorkQueue::with_options(connection, name, QueueOptions::default())
    }

    /// A queue with retry and uniqueness options other than the defaults.
    pub fn with_options(
        connection: &Connection,
        name: &str,
        options: QueueOptions,
    ) -> Result<WorkQueue> {
        options.validate()?;
        if connection.is_cluster() && !crate::topology::has_hash_tag(name) {
            return Err(Error::invalid_argument(format!(
                "queue name {name:?} has no {{hash tag}}: on a Redis Cluster all of a queue's \
                 keys must share one slot; name it \"{{{name}}}\" (as in \"{{jobs}}\"), and use \
                 that same name in every client of the queue"
            )));
        }
        Ok(WorkQueue {
            connection: SchemaChecked::new(connection, name),
            keys: Arc::new(Keys::new(name)?),
            session: uuid::Uuid::new_v4().simple().to_string().into(),
            options: Arc::new(options),
        })
    }

    /// The options this handle was made with.
    pub fn options(&self) -> &QueueOptions {
        &self.options
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

    /// The number of items waiting at a priority above the default.
    pub async fn prioritized_len(&self) -> Result<u64> {
        self.zcard(&self.keys.prioritized).await
    }

    /// The number of items added with a delay (or scheduled) or waiting to be retried, not yet due.
    pub async fn delayed_len(&self) -> Result<u64> {
        self.zcard(&self.keys.delayed).await
    }

    /// With [`QueueOptions::wait_replicas`] set: waits until that many replicas have this
    /// connection's writes so far (`WAIT`, on the queue's master), or fails with a Timeout error.
    /// What every add does after its script: register the queue (once per handle), then wait
    /// for replicas if the queue's options ask for it.
    pub(crate) async fn after_add(&self) -> Result<()> {
        self.connection.register_once().await;
        self.wait_for_replicas().await
    }

    pub(crate) async fn wait_for_replicas(&self) -> Result<()> {
        let wanted = self.options.wait_replicas;
        if wanted == 0 {
            return Ok(());
        }
        let timeout = self.options.wait_timeout;
        let acked = self
            .connection
            .wait_replicas(&self.keys.queue, wanted, timeout)
            .await?;
        if acked < u64::from(wanted) {
            return Err(Error::new(
                crate::ErrorKind::Timeout,
                format!(
                    "written on the master, but only {acked} of {wanted} replicas acknowledged it \
                     within {timeout:?}: a failover now could lose it"
                ),
            ));
        }
        Ok(())
    }

    pub(crate) async fn zcard(&self, key: &str) -> Result<u64> {
        let mut connection = self.connection.shared().await?;
        Ok(redis::cmd("ZCARD")
            .arg(key)
            .query_async(&mut connection)
            .await?)
    }
}
