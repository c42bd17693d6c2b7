//! `WorkQueue`: the blocking API. Each method converts its arguments, calls
//! `leaseq::blocking::WorkQueue` with the GIL released, and maps the error.

use pyo3::prelude::*;
use pyo3::types::PyAny;

use crate::bridge::{run, run_interruptible};
use crate::connection::Connection;
use crate::convert::{
    add_options, ids_from_py, lease_duration, optional_secs, page, queue_options, timeout,
    QueueArgs,
};
use crate::error::to_py;
use crate::item::{CleanReport, DeadItem, FailOutcome, Item};

/// A work queue: the keys under one prefix, reached through a shared Connection.
///
/// Each WorkQueue gets a fresh session id, written into the leases it takes. Safe to share
/// between threads: the GIL is released during every Redis call.
///
/// The options travel with each call (they are not stored in Redis), so every process working
/// a queue should use the same.
///
/// Args:
///     connection: the connection to use.
///     name: the key prefix, e.g. ``"jobs"`` or ``"{jobs}"``.
///     max_attempts: leases an item gets before a failure (``fail``, or an expired lease)
///         sends it to the dead letters instead of back to the queue.
///     backoff_base: the first retry's backoff in seconds; each later one doubles, with
///         jitter.
///     backoff_max: the longest backoff, in seconds.
///     unique_window: how many seconds after an item is completed ``add_item`` refuses its
///         id; 0 turns this off.
///     clean_grace: how many seconds a clean leaves alone an id it finds in processing without
///         a lease, or an item in no list, before it reclaims it (``redis-work-queue`` clients
///         pop an id and write its lease in separate commands): such an id must be seen that
///         way twice, this far apart. A clean that finds such ids takes this much longer.
///     wait_replicas: durability opt-in: ``add_item`` (and the other adds) and ``complete``
///         return only once this many replicas of the queue's master acknowledged the write
///         (Redis ``WAIT``), so a failover that promotes one of them keeps it; 0 turns this
///         off.
///     wait_timeout: how many seconds adds and ``complete`` wait for ``wait_replicas``; if
///         fewer acknowledge in time the call raises TimeoutError (the write is on the master,
///         not yet on enough replicas).
///     fencing: renew, complete, fail and release of an item from a lease that was superseded
///         (the item was leased again since, by any leaseq client) raise LeaseLostError and
///         change nothing, instead of acting on the newer holder's delivery. Every leased item
///         carries its token (``Item.fence``) either way; this makes the calls check it.
///
/// Raises:
///     InvalidArgumentError: if ``name`` is empty, ``max_attempts`` is below 1,
///         ``wait_replicas`` is negative, ``backoff_max`` is shorter than ``backoff_base``,
///         ``wait_timeout`` is 0 while ``wait_replicas`` is set, or a duration is negative,
///         NaN, infinite or over 365 days.
#[pyclass(frozen, module = "leaseq", name = "WorkQueue")]
pub struct WorkQueue {
    inner: leaseq::blocking::WorkQueue,
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

#[pymethods]
impl WorkQueue {
    #[new]
    #[pyo3(signature = (
        connection, name, *, max_attempts = 25, backoff_base = 1.0, backoff_max = 3600.0,
        unique_window = 0.0, clean_grace = 1.0, wait_replicas = 0, wait_timeout = 1.0,
        fencing = false
    ))]
    #[allow(clippy::too_many_arguments)] // the keyword arguments of the constructor
    fn new(
        connection: &Bound<'_, Connection>,
        name: String,
        max_attempts: i64,
        backoff_base: f64,
        backoff_max: f64,
        unique_window: f64,
        clean_grace: f64,
        wait_replicas: i64,
        wait_timeout: f64,
        fencing: bool,
    ) -> PyResult<WorkQueue> {
        let options = queue_options(QueueArgs {
            max_attempts,
            backoff_base,
            backoff_max,
            unique_window,
            clean_grace,
            wait_replicas,
            wait_timeout,
            fencing,
        })
        .map_err(to_py)?;
        let inner =
            leaseq::blocking::WorkQueue::with_options(&connection.get().inner, &name, options)
                .map_err(to_py)?;
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

    #[doc = doc_add_item_with!()]
    #[pyo3(signature = (item, *, priority = 0, delay = None, at = None))]
    fn add_item_with(
        &self,
        py: Python<'_>,
        item: &Bound<'_, Item>,
        priority: i64,
        delay: Option<f64>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let options = add_options(priority, delay, at)?;
        let item = &item.get().inner;
        run(py, || self.inner.add_item_with(item, &options?))
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

    #[doc = doc_fail!()]
    #[pyo3(signature = (item, error, retry_after = None))]
    fn fail(
        &self,
        py: Python<'_>,
        item: &Bound<'_, Item>,
        error: &str,
        retry_after: Option<f64>,
    ) -> PyResult<FailOutcome> {
        let item = &item.get().inner;
        run(py, || {
            let retry_after = optional_secs("retry_after", retry_after)?;
            Ok(FailOutcome::from(self.inner.fail(
                item,
                error,
                retry_after,
            )?))
        })
    }

    #[doc = doc_release!()]
    fn release(&self, py: Python<'_>, item: &Bound<'_, Item>) -> PyResult<bool> {
        let item = &item.get().inner;
        run(py, || self.inner.release(item))
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

    #[doc = doc_prioritized_len!()]
    fn prioritized_len(&self, py: Python<'_>) -> PyResult<u64> {
        run(py, || self.inner.prioritized_len())
    }

    #[doc = doc_delayed_len!()]
    fn delayed_len(&self, py: Python<'_>) -> PyResult<u64> {
        run(py, || self.inner.delayed_len())
    }

    #[doc = doc_dead_len!()]
    fn dead_len(&self, py: Python<'_>) -> PyResult<u64> {
        run(py, || self.inner.dead_len())
    }

    #[doc = doc_dead_items!()]
    #[pyo3(signature = (offset = 0, count = 100))]
    fn dead_items(&self, py: Python<'_>, offset: i64, count: i64) -> PyResult<Vec<DeadItem>> {
        run(py, || {
            let (offset, count) = page(offset, count)?;
            self.inner.dead_items(offset, count).map(dead_items_to_py)
        })
    }

    #[doc = doc_requeue_dead!()]
    fn requeue_dead(&self, py: Python<'_>, ids: &Bound<'_, PyAny>) -> PyResult<u64> {
        let ids = ids_from_py(ids)?;
        run(py, || self.inner.requeue_dead(&ids))
    }

    #[doc = doc_purge_dead!()]
    fn purge_dead(&self, py: Python<'_>, ids: &Bound<'_, PyAny>) -> PyResult<u64> {
        let ids = ids_from_py(ids)?;
        run(py, || self.inner.purge_dead(&ids))
    }

    #[doc = doc_requeue_all_dead!()]
    fn requeue_all_dead(&self, py: Python<'_>) -> PyResult<u64> {
        run(py, || self.inner.requeue_all_dead())
    }

    #[doc = doc_purge_all_dead!()]
    fn purge_all_dead(&self, py: Python<'_>) -> PyResult<u64> {
        run(py, || self.inner.purge_all_dead())
    }

    #[doc = doc_pause!()]
    fn pause(&self, py: Python<'_>) -> PyResult<()> {
        run(py, || self.inner.pause())
    }

    #[doc = doc_resume!()]
    fn resume(&self, py: Python<'_>) -> PyResult<bool> {
        run(py, || self.inner.resume())
    }

    #[doc = doc_is_paused!()]
    fn is_paused(&self, py: Python<'_>) -> PyResult<bool> {
        run(py, || self.inner.is_paused())
    }

    fn __repr__(&self) -> String {
        format!("<leaseq.WorkQueue {:?}>", self.name())
    }
}
