//! `AsyncWorkQueue` (`leaseq.aio.WorkQueue`): the asyncio API. Its methods are generated with the
//! blocking class's from one list (`operations.rs`): each converts its arguments and returns an
//! `Operation`, an awaitable that runs the core operation when awaited (`bridge.rs`). Checks the
//! core makes (durations, ids) fail when awaited, as a coroutine's would.

use pyo3::prelude::*;

/// A work queue: the keys under one prefix, reached through a shared ``leaseq.aio.Connection``.
///
/// Every operation is a coroutine: awaiting it never blocks the event loop, and cancelling it
/// loses no item. Each WorkQueue gets a fresh session id.
///
#[doc = doc_work_queue_options!()]
#[pyclass(frozen, module = "leaseq.aio", name = "WorkQueue")]
pub struct AsyncWorkQueue {
    pub(crate) inner: leaseq::WorkQueue,
}

impl AsyncWorkQueue {
    /// The core queue behind this handle.
    pub fn core(&self) -> &leaseq::WorkQueue {
        &self.inner
    }
}
