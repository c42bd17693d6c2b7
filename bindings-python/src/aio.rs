//! `AsyncWorkQueue` (`leaseq.aio.WorkQueue`): the asyncio API. Each method converts its
//! arguments and returns an `Operation`, an awaitable that runs the core operation when awaited
//! (`bridge.rs`). Checks the core makes (durations, ids) fail when awaited, as a coroutine's would.

use pyo3::prelude::*;

use crate::bridge::Operation;
use crate::connection::AsyncConnection;
use crate::convert::{lease_duration, timeout};
use crate::item::{CleanReport, Item};
use crate::queue::items_from_py;

/// A work queue: the keys under one prefix, reached through a shared ``leaseq.aio.Connection``.
///
/// Every operation is a coroutine: awaiting it never blocks the event loop, and cancelling it
/// loses no item. Each WorkQueue gets a fresh session id.
///
/// Args:
///     connection: the connection to use.
///     name: the key prefix, e.g. ``"jobs"`` or ``"{jobs}"``.
///
/// Raises:
///     InvalidArgumentError: if ``name`` is empty.
#[pyclass(frozen, module = "leaseq.aio", name = "WorkQueue")]
pub struct AsyncWorkQueue {
    inner: leaseq::WorkQueue,
}

#[pymethods]
impl AsyncWorkQueue {
    #[new]
    fn new(connection: &Bound<'_, AsyncConnection>, name: String) -> PyResult<AsyncWorkQueue> {
        let inner =
            leaseq::WorkQueue::new(&connection.get().inner, &name).map_err(crate::error::to_py)?;
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

    fn __repr__(&self) -> String {
        format!("<leaseq.aio.WorkQueue {:?}>", self.inner.name())
    }
}
