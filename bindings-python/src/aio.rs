//! `AsyncWorkQueue` (`leaseq.aio.WorkQueue`): the asyncio API. Each method converts its
//! arguments and returns an `Operation`, an awaitable that runs the core operation when awaited
//! (`bridge.rs`). Checks the core makes (durations, ids) fail when awaited, as a coroutine's would.

use pyo3::prelude::*;

use crate::bridge::Operation;
use crate::connection::AsyncConnection;
use crate::convert::{
    add_options, ids_from_py, lease_duration, optional_secs, page, queue_options, timeout,
    QueueArgs,
};
use crate::error::to_py;
use crate::item::{CleanReport, FailOutcome, Item};
use crate::queue::{dead_items_to_py, items_from_py};

/// A work queue: the keys under one prefix, reached through a shared ``leaseq.aio.Connection``.
///
/// Every operation is a coroutine: awaiting it never blocks the event loop, and cancelling it
/// loses no item. Each WorkQueue gets a fresh session id.
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
#[pyclass(frozen, module = "leaseq.aio", name = "WorkQueue")]
pub struct AsyncWorkQueue {
    inner: leaseq::WorkQueue,
}

impl AsyncWorkQueue {
    /// The core queue behind this handle.
    pub fn core(&self) -> &leaseq::WorkQueue {
        &self.inner
    }
}

#[pymethods]
impl AsyncWorkQueue {
    #[new]
    #[pyo3(signature = (
        connection, name, *, max_attempts = 25, backoff_base = 1.0, backoff_max = 3600.0,
        unique_window = 0.0, clean_grace = 1.0, wait_replicas = 0, wait_timeout = 1.0,
        fencing = false
    ))]
    #[allow(clippy::too_many_arguments)] // the keyword arguments of the constructor
    fn new(
        connection: &Bound<'_, AsyncConnection>,
        name: String,
        max_attempts: i64,
        backoff_base: f64,
        backoff_max: f64,
        unique_window: f64,
        clean_grace: f64,
        wait_replicas: i64,
        wait_timeout: f64,
        fencing: bool,
    ) -> PyResult<AsyncWorkQueue> {
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
        let inner = leaseq::WorkQueue::with_options(&connection.get().inner, &name, options)
            .map_err(to_py)?;
        Ok(AsyncWorkQueue { inner })
    }

    #[doc = doc_queue_name!()]
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    #[doc = doc_queue_session!()]
    #[getter]
    fn session(&self) -> &str {
        self.inner.session()
    }

    #[doc = doc_add_item!()]
    fn add_item(&self, item: &Bound<'_, Item>) -> Operation {
        let (queue, item) = (self.inner.clone(), item.get().inner.clone());
        Operation::new(async move { queue.add_item(&item).await })
    }

    #[doc = doc_add_unique_item!()]
    fn add_unique_item(&self, item: &Bound<'_, Item>) -> Operation {
        let (queue, item) = (self.inner.clone(), item.get().inner.clone());
        // `()` would become an empty tuple; the blocking method returns None.
        Operation::new(async move { queue.add_unique_item(&item).await.map(|()| None::<()>) })
    }

    #[doc = doc_add_items!()]
    fn add_items(&self, items: &Bound<'_, PyAny>) -> PyResult<Operation> {
        let (queue, items) = (self.inner.clone(), items_from_py(items)?);
        Ok(Operation::new(async move { queue.add_items(&items).await }))
    }

    #[doc = doc_add_item_with!()]
    #[pyo3(signature = (item, *, priority = 0, delay = None, at = None))]
    fn add_item_with(
        &self,
        item: &Bound<'_, Item>,
        priority: i64,
        delay: Option<f64>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Operation> {
        let (queue, item) = (self.inner.clone(), item.get().inner.clone());
        let options = add_options(priority, delay, at)?;
        Ok(Operation::new(async move {
            queue.add_item_with(&item, &options?).await
        }))
    }

    #[doc = doc_lease!()]
    #[pyo3(signature = (lease_secs, block = true, timeout = None))]
    fn lease(&self, lease_secs: f64, block: bool, timeout: Option<f64>) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move {
            let leased = queue
                .lease(lease_duration(lease_secs)?, block, self::timeout(timeout)?)
                .await?;
            Ok(leased.map(Item::from))
        })
    }

    #[doc = doc_renew!()]
    fn renew(&self, item: &Bound<'_, Item>, lease_secs: f64) -> Operation {
        let (queue, item) = (self.inner.clone(), item.get().inner.clone());
        Operation::new(async move { queue.renew(&item, lease_duration(lease_secs)?).await })
    }

    #[doc = doc_complete!()]
    fn complete(&self, item: &Bound<'_, Item>) -> Operation {
        let (queue, item) = (self.inner.clone(), item.get().inner.clone());
        Operation::new(async move { queue.complete(&item).await })
    }

    #[doc = doc_fail!()]
    #[pyo3(signature = (item, error, retry_after = None))]
    fn fail(&self, item: &Bound<'_, Item>, error: String, retry_after: Option<f64>) -> Operation {
        let (queue, item) = (self.inner.clone(), item.get().inner.clone());
        Operation::new(async move {
            let retry_after = optional_secs("retry_after", retry_after)?;
            Ok(FailOutcome::from(
                queue.fail(&item, &error, retry_after).await?,
            ))
        })
    }

    #[doc = doc_release!()]
    fn release(&self, item: &Bound<'_, Item>) -> Operation {
        let (queue, item) = (self.inner.clone(), item.get().inner.clone());
        Operation::new(async move { queue.release(&item).await })
    }

    #[doc = doc_light_clean!()]
    fn light_clean(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { Ok(CleanReport::from(queue.light_clean().await?)) })
    }

    #[doc = doc_deep_clean!()]
    fn deep_clean(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { Ok(CleanReport::from(queue.deep_clean().await?)) })
    }

    #[doc = doc_queue_len!()]
    fn queue_len(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { queue.queue_len().await })
    }

    #[doc = doc_processing!()]
    fn processing(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { queue.processing().await })
    }

    #[doc = doc_prioritized_len!()]
    fn prioritized_len(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { queue.prioritized_len().await })
    }

    #[doc = doc_delayed_len!()]
    fn delayed_len(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { queue.delayed_len().await })
    }

    #[doc = doc_dead_len!()]
    fn dead_len(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { queue.dead_len().await })
    }

    #[doc = doc_dead_items!()]
    #[pyo3(signature = (offset = 0, count = 100))]
    fn dead_items(&self, offset: i64, count: i64) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move {
            let (offset, count) = page(offset, count)?;
            Ok(dead_items_to_py(queue.dead_items(offset, count).await?))
        })
    }

    #[doc = doc_requeue_dead!()]
    fn requeue_dead(&self, ids: &Bound<'_, PyAny>) -> PyResult<Operation> {
        let (queue, ids) = (self.inner.clone(), ids_from_py(ids)?);
        Ok(Operation::new(
            async move { queue.requeue_dead(&ids).await },
        ))
    }

    #[doc = doc_purge_dead!()]
    fn purge_dead(&self, ids: &Bound<'_, PyAny>) -> PyResult<Operation> {
        let (queue, ids) = (self.inner.clone(), ids_from_py(ids)?);
        Ok(Operation::new(async move { queue.purge_dead(&ids).await }))
    }

    #[doc = doc_requeue_all_dead!()]
    fn requeue_all_dead(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { queue.requeue_all_dead().await })
    }

    #[doc = doc_purge_all_dead!()]
    fn purge_all_dead(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { queue.purge_all_dead().await })
    }

    #[doc = doc_pause!()]
    fn pause(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { queue.pause().await.map(|()| None::<()>) })
    }

    #[doc = doc_resume!()]
    fn resume(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { queue.resume().await })
    }

    #[doc = doc_is_paused!()]
    fn is_paused(&self) -> Operation {
        let queue = self.inner.clone();
        Operation::new(async move { queue.is_paused().await })
    }

    fn __repr__(&self) -> String {
        format!("<leaseq.aio.WorkQueue {:?}>", self.inner.name())
    }
}
