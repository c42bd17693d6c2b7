//! Node.js binding of leaseq: a Redis-backed work queue with leases.
//!
//! Thin on purpose: every method converts its arguments, awaits the core (`leaseq`), and maps
//! the core's error kind to `err.code`. Behaviour, validation and key naming live in the core.
#![deny(clippy::all)]

mod cli;
mod connection;
mod convert;
mod error;
mod item;
mod queue;
mod worker;

pub use cli::run_cli;
pub use connection::{Connection, ConnectionOptions};
pub use error::{error_kinds, testing, ErrorCode, ErrorKindInfo};
pub use item::Item;
pub use queue::{
    AddOptions, CleanReport, CompleteAndLeaseResult, DeadItem, FailOutcome, LeaseOptions,
    QueueOptions, WorkQueue, MAX_BATCH, MAX_PRIORITY,
};
pub use worker::{JobOutcome, RunOptions, Worker, WorkerCounters, WorkerOptions};
