//! `WorkQueue`: the blocking API. Its methods are generated with the asyncio class's from one
//! list (`operations.rs`): each converts its arguments, calls `leaseq::blocking::WorkQueue` with
//! the GIL released, and maps the error.

use pyo3::prelude::*;
use pyo3::types::PyAny;

use crate::bridge::{run, run_interruptible};
use crate::convert::{batch_count, lease_duration, timeout};
use crate::error::to_py;
use crate::item::{DeadItem, Item};

/// A work queue: the keys under one prefix, reached through a shared Connection.
///
/// Each WorkQueue gets a fresh session id, written into the leases it takes. Safe to share
/// between threads: the GIL is released during every Redis call.
///
#[doc = doc_work_queue_options!()]
#[pyclass(frozen, module = "leaseq", name = "WorkQueue")]
pub struct WorkQueue {
    pub(crate) inner: leaseq::blocking::WorkQueue,
}

impl WorkQueue {
    /// The core (async) queue behind this handle, same session.
    pub fn core(&self) -> &leaseq::WorkQueue {
        self.inner.as_async()
    }
}

/// Copies of the items of a sequence (the core takes a slice of items).
pub fn items_from_py(items: &Bound<'_, PyAny>) -> PyResult<Vec<leaseq::Item>> {
    items
        .try_iter()?
        .map(|item| Ok(item?.cast::<Item>()?.get().inner.clone()))
        .collect()
}

/// Dead items as Python objects.
pub fn dead_items_to_py(page: Vec<leaseq::DeadItem>) -> Vec<DeadItem> {
    page.into_iter().map(DeadItem::from).collect()
}

/// Leased items as Python objects.
pub fn items_to_py(items: Vec<leaseq::Item>) -> Vec<Item> {
    items.into_iter().map(Item::from).collect()
}

/// The blocking `lease`: `lease_many` of one.
pub fn lease_blocking(
    py: Python<'_>,
    queue: &leaseq::blocking::WorkQueue,
    lease_secs: f64,
    block: bool,
    timeout: Option<f64>,
) -> PyResult<Option<Item>> {
    Ok(lease_many_blocking(py, queue, lease_secs, 1, block, timeout)?.pop())
}

/// The blocking `lease_many`. First a lease that does not wait, on this thread: when an item is
/// there (the busy case) that is the whole lease, without the hop to the runtime that an
/// interruptible wait (Ctrl-C) needs.
pub fn lease_many_blocking(
    py: Python<'_>,
    queue: &leaseq::blocking::WorkQueue,
    lease_secs: f64,
    count: i64,
    block: bool,
    timeout: Option<f64>,
) -> PyResult<Vec<Item>> {
    let lease_duration = lease_duration(lease_secs).map_err(to_py)?;
    let timeout = self::timeout(timeout).map_err(to_py)?;
    let count = batch_count(count).map_err(to_py)?;
    let leased = run(py, || queue.lease_many(lease_duration, count, false, None))?;
    if !leased.is_empty() || !block {
        return Ok(items_to_py(leased));
    }
    let queue = queue.as_async().clone();
    run_interruptible(py, async move {
        let leased = queue
            .lease_many(lease_duration, count, true, timeout)
            .await?;
        Ok(items_to_py(leased))
    })
}
