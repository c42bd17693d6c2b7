//! The key schema's version: a queue written by a newer, incompatible leaseq is refused, not
//! corrupted.
//!
//! `<p>:schema` holds the layout version of the queue `<p>` (see `spec/key-schema.md`). A queue
//! without it has version 1: the layout of `redis-work-queue` and of every leaseq so far. A
//! leaseq that changes the layout incompatibly will raise [`SCHEMA_VERSION`] and write the new
//! number on the queues it touches; this one then refuses them with an
//! [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) error naming both versions.
//!
//! The check is one `GET` per queue handle, on its first operation, cached once it passes (a
//! handle's clones share it), so it costs nothing on the per-job path.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::topology::Shared;

use crate::connection::Connection;
use crate::error::{Error, Result};

/// The newest key schema version this leaseq reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A queue's connection, whose [`SchemaChecked::shared`] checks the queue's schema version on
/// first use. It dereferences to the [`Connection`] for everything else, so the operations keep
/// calling `self.connection.shared()` and get the check without knowing it.
#[derive(Clone)]
pub(crate) struct SchemaChecked {
    connection: Connection,
    schema_key: Arc<str>,
    /// A flag, not a lock or a `OnceCell`: a task forked away in the middle of the first check
    /// (pre-forked worker pools) would leave a held lock in the child for ever, and its every
    /// operation would hang. Two tasks may both check at first; the check is idempotent.
    checked: Arc<AtomicBool>,
    /// The queue's name, and whether this handle has put it in the registry of queues.
    prefix: Arc<str>,
    registered: Arc<AtomicBool>,
}

/// The registry of queues: a set of the queue names leaseq has added items to, so the command
/// line and dashboard list a server's queues without walking its whole keyspace. Outside every
/// queue's prefix (no queue's own key can be named so: those all end in a suffix of the schema).
pub const QUEUE_REGISTRY_KEY: &str = "leaseq:queues";

impl SchemaChecked {
    pub(crate) fn new(connection: &Connection, prefix: &str) -> SchemaChecked {
        SchemaChecked {
            connection: connection.clone(),
            schema_key: format!("{prefix}:schema").into(),
            checked: Arc::new(AtomicBool::new(false)),
            prefix: prefix.into(),
            registered: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Puts the queue in the registry ([`QUEUE_REGISTRY_KEY`]) once per handle, after its first
    /// successful add: one `SADD` for the handle's lifetime, off the per-job path. Best effort:
    /// a server that refuses it (an ACL user limited to the queue's keys) only leaves the queue
    /// to be found by a scan (`leaseq queues --scan`), so its error is not the caller's.
    pub(crate) async fn register_once(&self) {
        if self.registered.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut shared) = self.connection.shared().await else {
            return;
        };
        let added: redis::RedisResult<i64> = redis::cmd("SADD")
            .arg(QUEUE_REGISTRY_KEY)
            .arg(&*self.prefix)
            .query_async(&mut shared)
            .await;
        // Refused for good (no permission, a key of another type): do not ask again.
        let refused = matches!(&added, Err(e) if e.code().is_some());
        if added.is_ok() || refused {
            self.registered.store(true, Ordering::Release);
        }
    }

    /// The shared connection, once this queue's schema version is known to be one we support.
    /// A failed check (including a connection error) is not cached: the next call checks again.
    pub(crate) async fn shared(&self) -> Result<Shared> {
        let mut shared = self.connection.shared().await?;
        if !self.checked.load(Ordering::Acquire) {
            let stored: Option<String> = redis::cmd("GET")
                .arg(&*self.schema_key)
                .query_async(&mut shared)
                .await?;
            check_version(&self.schema_key, stored.as_deref())?;
            self.checked.store(true, Ordering::Release);
        }
        Ok(shared)
    }
}

impl Deref for SchemaChecked {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.connection
    }
}

/// Accepts an absent version (1) or any version up to [`SCHEMA_VERSION`].
fn check_version(schema_key: &str, stored: Option<&str>) -> Result<()> {
    let Some(stored) = stored else {
        return Ok(());
    };
    match stored.trim().parse::<u32>() {
        Ok(version) if (1..=SCHEMA_VERSION).contains(&version) => Ok(()),
        Ok(version) if version > SCHEMA_VERSION => Err(Error::invalid_argument(format!(
            "this queue uses key schema version {version} ({schema_key}), newer than the \
             version {SCHEMA_VERSION} this leaseq {} supports: upgrade leaseq to work on it",
            env!("CARGO_PKG_VERSION")
        ))),
        _ => Err(Error::invalid_argument(format!(
            "{schema_key} holds {stored:?}, which is not a key schema version (a number from 1)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn absent_and_known_versions_pass() {
        assert!(check_version("q:schema", None).is_ok());
        assert!(check_version("q:schema", Some("1")).is_ok());
    }

    #[test]
    fn newer_version_is_refused_with_both_versions() {
        let err = check_version("q:schema", Some("2")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.message().contains("version 2"), "{}", err.message());
        assert!(err.message().contains("version 1"), "{}", err.message());
    }

    #[test]
    fn garbage_is_refused() {
        for stored in ["", "0", "-1", "two", "1.5"] {
            let err = check_version("q:schema", Some(stored)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{stored:?}");
        }
    }
}
