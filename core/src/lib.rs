//! # leaseq
//!
//! A Redis-backed work queue with leases: producers add items, workers lease them for a while
//! and complete them, cleaners return the work of workers that died. One implementation behind
//! the Rust, Python, Node.js and .NET packages, wire-compatible with `redis-work-queue`.
//!
//! Guarantees (see `spec/key-schema.md`): an added item is never lost; delivery is at least once;
//! [`WorkQueue::complete`] returns `true` exactly once per item. Every operation is one atomic Lua
//! script (in `core/lua/`), one round trip.
//!
//! ```no_run
//! use std::time::Duration;
//! use leaseq::{Connection, Item, WorkQueue};
//!
//! # async fn run() -> leaseq::Result<()> {
//! let connection = Connection::open("redis://127.0.0.1:6379").await?;
//! let queue = WorkQueue::new(&connection, "jobs")?;
//! queue.add_item(&Item::new(b"resize photo 17".to_vec())).await?;
//! if let Some(item) = queue.lease(Duration::from_secs(30), true, Some(Duration::from_secs(1))).await? {
//!     // ... do the work ...
//!     assert!(queue.complete(&item).await?);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The [`blocking`] module has the same API for code without an async runtime.
#![warn(missing_docs)]

/// The crate README's examples, compiled by `cargo test` (doc tests).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod add;
pub mod blocking;
mod clean;
mod complete;
mod connection;
mod dead;
mod duration;
mod error;
mod eviction;
mod host;
mod inspect;
mod item;
mod keys;
mod lease;
mod queue;
mod runtime;
mod schema;
mod scripts;
mod sharded;
mod topology;
mod worker;

pub use add::{AddOptions, MAX_PRIORITY};
pub use complete::FailOutcome;
pub use connection::{Connection, ConnectionOptions};
pub use dead::DeadItem;
pub use duration::{from_secs_f64, lease_from_secs_f64, lease_millis, MAX_LEASE};
pub use error::{Error, ErrorKind, Result};
pub use host::{HostCall, HostHooks, HostOutcome};
pub use inspect::{
    find_queues, ItemInfo, ItemList, ItemState, QueueStats, SCAN_BATCH, STATS_KEEP_MINUTES,
    STATS_MINUTES,
};
pub use item::{id_from_bytes, validate_id, Item, MAX_ITEM_BYTES};
pub use lease::MAX_BATCH;
pub use queue::{CleanReport, QueueOptions, WorkQueue};
pub use runtime::runtime;
pub use schema::{QUEUE_REGISTRY_KEY, SCHEMA_VERSION};
pub use sharded::{ShardedQueue, MAX_SHARDS};
pub use worker::{
    Handler, HandlerFuture, Hooks, JobOutcome, Router, Worker, WorkerCounters, WorkerOptions,
};
