//! `WorkQueue`: the blocking API. Each method converts its arguments, calls
//! `leaseq::blocking::WorkQueue` with the GIL released, and maps the error.

use pyo3::prelude::*;
use pyo3::types::PyAny;

use crate::bridge::{run, run_interruptible};
use crate::connection::Connection;
use crate::convert::{lease_duration, timeout};
use crate::error::to_py;
use crate::item::{CleanReport, Item};

/// A work queue: the keys under one prefix, reached through a shared Connection.
///
/// Each WorkQueue gets a fresh session id, written into the leases it takes. Safe to share
/// between threads: the GIL is released during every Redis call.
///
/// Args:
///     connection: the connection to use.
///     name: the key prefix, e.g. ``"jobs"`` or ``"{jobs}"``.
///
/// Raises:
///     InvalidArgumentError: if ``name`` is empty.
#[pyclass(frozen, module = "leaseq", name = "WorkQueue")]
pub struct WorkQueue {
    inner: leaseq::blocking::WorkQueue,
}

/// Copies of the items of a sequence (the core takes a slice of items).
pub fn items_from_py(items: &Bound<'_, PyAny>) -> PyResult<Vec<leaseq::Item>> {
    items
        .try_iter()?
        .map(|item| Ok(item?.cast::<Item>()?.get().inner.clone()))
        .collect()
}

#[pymethods]
impl WorkQueue {
    #[new]
    fn new(connection: &Bound<'_, Connection>, name: String) -> PyResult<WorkQueue> {
        let inner =
            leaseq::blocking::WorkQueue::new(&connection.get().inner, &name).map_err(to_py)?;
        Ok(WorkQueue { inner })
    }

    #[doc = doc_queue_name!()]
    #[getter]
    fn name(&self) -> &str {
        self.inner.as_async().name()
    }

    #[doc = doc_queue_session!()]
    #[getter]
    fn session(&self) -> &str {
        self.inner.as_async().session()
    }

    #[doc = doc_add_item!()]
    fn add_item(&self, py: Python<'_>, item: &Bound<'_, Item>) -> PyResult<bool> {
        let item = &item.get().inner;
        run(py, || self.inner.add_item(item))
    }

    #[doc = doc_add_unique_item!()]
    fn add_unique_item(&self, py: Python<'_>, item: &Bound<'_, Item>) -> PyResult<()> {
        let item = &item.get().inner;
        run(py, || self.inner.add_unique_item(item))
    }

    #[doc = doc_add_items!()]
    fn add_items(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<u64> {
        let items = items_from_py(items)?;
        run(py, || self.inner.add_items(&items))
    }

    #[doc = doc_lease!()]
    #[pyo3(signature = (lease_secs, block = true, timeout = None))]
    fn lease(
        &self,
        py: Python<'_>,
        lease_secs: f64,
        block: bool,
        timeout: Option<f64>,
    ) -> PyResult<Option<Item>> {
        let lease_duration = lease_duration(lease_secs).map_err(to_py)?;
        let timeout = self::timeout(timeout).map_err(to_py)?;
        // First a lease that does not wait, on this thread: when an item is there (the busy case)
        // that is the whole lease, without the hop to the runtime that an interruptible wait needs.
        let leased = run(py, || self.inner.lease(lease_duration, false, None))?;
        if leased.is_some() || !block {
            return Ok(leased.map(Item::from));
        }
        let queue = self.inner.as_async().clone();
        run_interruptible(py, async move {
            let leased = queue.lease(lease_duration, true, timeout).await?;
            Ok(leased.map(Item::from))
        })
    }

    #[doc = doc_renew!()]
    fn renew(&self, py: Python<'_>, item: &Bound<'_, Item>, lease_secs: f64) -> PyResult<bool> {
        let item = &item.get().inner;
        run(py, || self.inner.renew(item, lease_duration(lease_secs)?))
    }

    #[doc = doc_complete!()]
    fn complete(&self, py: Python<'_>, item: &Bound<'_, Item>) -> PyResult<bool> {
        let item = &item.get().inner;
        run(py, || self.inner.complete(item))
    }

    #[doc = doc_light_clean!()]
    fn light_clean(&self, py: Python<'_>) -> PyResult<CleanReport> {
        run(py, || self.inner.light_clean().map(CleanReport::from))
    }

    #[doc = doc_deep_clean!()]
    fn deep_clean(&self, py: Python<'_>) -> PyResult<CleanReport> {
        run(py, || self.inner.deep_clean().map(CleanReport::from))
    }

    #[doc = doc_queue_len!()]
    fn queue_len(&self, py: Python<'_>) -> PyResult<u64> {
        run(py, || self.inner.queue_len())
    }

    #[doc = doc_processing!()]
    fn processing(&self, py: Python<'_>) -> PyResult<u64> {
        run(py, || self.inner.processing())
    }

    fn __repr__(&self) -> String {
        format!("<leaseq.WorkQueue {:?}>", self.name())
    }
}
