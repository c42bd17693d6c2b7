//! The C ABI of leaseq, for the .NET binding (`bindings-csharp/Leaseq`). Thin: every function
//! converts its arguments, calls the core, and hands back the result or the error. No queue logic.
//!
//! Conventions every exported `leaseq_*` function follows:
//! - **Errors.** A function that can fail returns `u32`: `0` on success, otherwise the core's
//!   [`leaseq::ErrorKind`] number (`1` Connection … `5` Internal). If `out_error` is not null it then
//!   receives a [`LeaseqError`] that the caller frees with [`leaseq_error_free`].
//! - **No panic crosses the boundary.** Every entry runs under `catch_unwind`; a panic becomes an
//!   Internal error (or, in an async operation, an Internal failure callback).
//! - **Buffers.** Arguments are borrowed `(pointer, length)` pairs, copied before the call returns.
//!   Everything Rust allocates for the caller has exactly one free function: [`leaseq_error_free`],
//!   [`leaseq_value_free`] (every result: items, flags, dead letters, strings),
//!   [`leaseq_connection_free`], [`leaseq_queue_free`], [`leaseq_worker_free`].
//! - **Queue operations.** One entry per flavour, not per operation: [`leaseq_queue_call`] runs
//!   operation `LEASEQ_OP_…` on the calling thread, [`leaseq_queue_start`] on [`leaseq::runtime`]
//!   (`ops.rs`, one table for both).
//! - **Async.** Async entries take a caller-chosen callback `index` and return at once. If they
//!   return `0`, exactly one of the callbacks given to [`leaseq_init`] is later called with that
//!   index: success, failure, or failure with [`LEASEQ_CANCELLED`] after [`leaseq_cancel`]. If
//!   they return an error, no callback follows (`async_ops.rs`).
//! - **Workers.** The core's worker (`leaseq::Worker::for_host`) runs on its runtime and sends
//!   each host call to the callback given to [`leaseq_worker_new`] (on the same dispatcher
//!   thread), then awaits [`leaseq_worker_job_done`] for each job (`worker.rs`).
//!
//! csbindgen turns these functions into `Leaseq/NativeMethods.g.cs` (see `build.rs`).

mod async_ops;
mod boundary;
mod handles;
mod item;
mod ops;
mod options;
#[cfg(test)]
mod tests;
mod worker;

pub use async_ops::*;
pub use boundary::*;
pub use handles::*;
pub use item::*;
pub use ops::*;
pub use options::*;
pub use worker::*;
