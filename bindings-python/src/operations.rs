//! The queue operations, listed once. Each entry becomes a method of both Python classes: the
//! blocking `leaseq.WorkQueue` (`queue.rs`), which runs the core call with the GIL released and
//! returns its result, and the asyncio `leaseq.aio.WorkQueue` (`aio.rs`), which returns an
//! `Operation`, an awaitable that runs the core call on leaseq's runtime (`bridge.rs`).
//!
//! An entry is written as the Python method, without `self`:
//!
//! - its attributes (docstring from `docs.rs`, pyo3 signature) and Python parameters;
//! - `hold ...;` names the `Item` parameters, which the core call gets as `&leaseq::Item`: the
//!   blocking call borrows it, the asyncio one (which outlives the method) a copy;
//! - `let ... = ...;` converts a Python value when the method is called (a wrong type raises
//!   there, in both flavours);
//! - `blocking f;` gives the blocking flavour a call of its own (lease: an interruptible wait);
//! - `|queue| call` is the core call, the same for `leaseq::blocking::WorkQueue` and (awaited)
//!   `leaseq::WorkQueue`. What it checks (durations, ids) fails where it runs: in the blocking
//!   call, or when the awaitable is awaited, as a coroutine's would;
//! - `=> f` turns the core's result into the Python one.
//!
//! The order is the spec's (spec/operations.json); tests/test_stub.py checks it.

use pyo3::prelude::*;
use pyo3::types::PyAny;

use crate::aio::AsyncWorkQueue;
use crate::bridge::{run, Operation};
use crate::connection::{AsyncConnection, Connection};
use crate::convert::{
    add_options, batch_count, ids_from_py, lease_duration, optional_secs, page, queue_options,
    QueueArgs,
};
use crate::error::to_py;
use crate::item::{CleanReport, DeadItem, FailOutcome, Item};
use crate::queue::{
    dead_items_to_py, items_from_py, items_to_py, lease_blocking, lease_many_blocking, WorkQueue,
};

/// What a method of each class returns for an operation whose Python result is `T`.
pub trait Surface {
    type Returns<T>;
}

/// `leaseq.WorkQueue`: the result itself.
pub struct Blocking;

impl Surface for Blocking {
    type Returns<T> = T;
}

/// `leaseq.aio.WorkQueue`: an awaitable of the result.
pub struct Asyncio;

impl Surface for Asyncio {
    type Returns<T> = Operation;
}

/// `()` as Python's None (an awaitable's `()` would become an empty tuple).
fn none(_: ()) -> Option<()> {
    None
}

/// The body of one operation's method, per flavour (see the module doc).
macro_rules! operation_body {
    (Blocking, $py:ident, $inner:expr, [$($held:ident),*], [], [$($arg:ident),*],
        |$queue:ident| $call:expr, [$($convert:expr)?]) => {{
        $(let $held = &$held.get().inner;)*
        let $queue = &$inner;
        run($py, || $call $(.map($convert))?)
    }};
    (Blocking, $py:ident, $inner:expr, [$($held:ident),*], [$blocking:path], [$($arg:ident),*],
        $($core_call:tt)*) => {
        $blocking($py, &$inner, $($arg),*)
    };
    (Asyncio, $py:ident, $inner:expr, [$($held:ident),*], [$($blocking:path)?], [$($arg:ident),*],
        |$queue:ident| $call:expr, [$($convert:expr)?]) => {{
        let _ = $py;
        $(let $held = $held.get().inner.clone();)*
        let $queue = $inner.clone();
        Ok(Operation::new(async move {
            $(let $held = &$held;)*
            $call.await $(.map($convert))?
        }))
    }};
}

/// One class's `#[pymethods]`: the constructor, the accessors, then every operation.
macro_rules! work_queue_class {
    ($class:ident, $surface:ident, $connection:ty, $core:ty, $module:literal, {
        $(
            $(#[$($attr:tt)*])*
            fn $name:ident($($arg:ident: $type:ty),* $(,)?) -> $returns:ty {
                $(hold $($held:ident),+;)?
                $(let $var:ident = $convert_arg:expr;)*
                $(blocking $blocking:path;)?
                |$queue:ident| $call:expr $(=> $convert:expr)?
            }
        )*
    }) => {
        #[pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (
                connection, name, *, max_attempts = 25, backoff_base = 1.0, backoff_max = 3600.0,
                unique_window = 0.0, clean_grace = 1.0, wait_replicas = 0, wait_timeout = 1.0,
                fencing = false
            ))]
            #[allow(clippy::too_many_arguments)] // the keyword arguments of the constructor
            fn new(
                connection: &Bound<'_, $connection>,
                name: String,
                max_attempts: i64,
                backoff_base: f64,
                backoff_max: f64,
                unique_window: f64,
                clean_grace: f64,
                wait_replicas: i64,
                wait_timeout: f64,
                fencing: bool,
            ) -> PyResult<$class> {
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
                let inner = <$core>::with_options(&connection.get().inner, &name, options)
                    .map_err(to_py)?;
                Ok($class { inner })
            }

            #[doc = doc_queue_name!()]
            #[getter]
            fn name(&self) -> &str {
                self.core().name()
            }

            #[doc = doc_queue_session!()]
            #[getter]
            fn session(&self) -> &str {
                self.core().session()
            }

            $(
                $(#[$($attr)*])*
                fn $name(
                    &self,
                    py: Python<'_>,
                    $($arg: $type),*
                ) -> PyResult< <$surface as Surface>::Returns<$returns> > {
                    $(let $var = $convert_arg;)*
                    operation_body!(
                        $surface, py, self.inner, [$($($held),+)?], [$($blocking)?], [$($arg),*],
                        |$queue| $call, [$($convert)?]
                    )
                }
            )*

            fn __repr__(&self) -> String {
                format!(concat!("<", $module, ".WorkQueue {:?}>"), self.core().name())
            }
        }
    };
}

/// Both classes from one list of operations.
macro_rules! work_queue_classes {
    ($operations:tt) => {
        work_queue_class!(
            WorkQueue,
            Blocking,
            Connection,
            leaseq::blocking::WorkQueue,
            "leaseq",
            $operations
        );
        work_queue_class!(
            AsyncWorkQueue,
            Asyncio,
            AsyncConnection,
            leaseq::WorkQueue,
            "leaseq.aio",
            $operations
        );
    };
}

work_queue_classes!({
    #[doc = doc_add_item!()]
    fn add_item(item: &Bound<'_, Item>) -> bool {
        hold item;
        |queue| queue.add_item(item)
    }

    #[doc = doc_add_unique_item!()]
    fn add_unique_item(item: &Bound<'_, Item>) -> Option<()> {
        hold item;
        |queue| queue.add_unique_item(item) => none
    }

    #[doc = doc_add_items!()]
    fn add_items(items: &Bound<'_, PyAny>) -> u64 {
        let items = items_from_py(items)?;
        |queue| queue.add_items(&items)
    }

    #[doc = doc_add_item_with!()]
    #[pyo3(signature = (item, *, priority = 0, delay = None, at = None))]
    fn add_item_with(
        item: &Bound<'_, Item>,
        priority: i64,
        delay: Option<f64>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        hold item;
        let options = add_options(priority, delay, at)?;
        |queue| queue.add_item_with(item, &options?)
    }

    #[doc = doc_lease!()]
    #[pyo3(signature = (lease_secs, block = true, timeout = None))]
    fn lease(lease_secs: f64, block: bool, timeout: Option<f64>) -> Option<Item> {
        blocking lease_blocking;
        |queue| queue.lease(lease_duration(lease_secs)?, block, crate::convert::timeout(timeout)?)
            => |leased| leased.map(Item::from)
    }

    #[doc = doc_lease_many!()]
    #[pyo3(signature = (lease_secs, count, block = true, timeout = None))]
    fn lease_many(lease_secs: f64, count: i64, block: bool, timeout: Option<f64>) -> Vec<Item> {
        blocking lease_many_blocking;
        |queue| queue.lease_many(
            lease_duration(lease_secs)?,
            batch_count(count)?,
            block,
            crate::convert::timeout(timeout)?,
        ) => items_to_py
    }

    #[doc = doc_renew!()]
    fn renew(item: &Bound<'_, Item>, lease_secs: f64) -> bool {
        hold item;
        |queue| queue.renew(item, lease_duration(lease_secs)?)
    }

    #[doc = doc_complete!()]
    fn complete(item: &Bound<'_, Item>) -> bool {
        hold item;
        |queue| queue.complete(item)
    }

    #[doc = doc_complete_many!()]
    fn complete_many(items: &Bound<'_, PyAny>) -> Vec<bool> {
        let items = items_from_py(items)?;
        |queue| queue.complete_many(&items)
    }

    #[doc = doc_complete_and_lease!()]
    fn complete_and_lease(
        item: &Bound<'_, Item>,
        lease_secs: f64,
        count: i64,
    ) -> (bool, Vec<Item>) {
        hold item;
        |queue| queue.complete_and_lease(item, lease_duration(lease_secs)?, batch_count(count)?)
            => |(completed, leased)| (completed, items_to_py(leased))
    }

    #[doc = doc_fail!()]
    #[pyo3(signature = (item, error, retry_after = None))]
    fn fail(item: &Bound<'_, Item>, error: String, retry_after: Option<f64>) -> FailOutcome {
        hold item;
        |queue| queue.fail(item, &error, optional_secs("retry_after", retry_after)?)
            => FailOutcome::from
    }

    #[doc = doc_release!()]
    fn release(item: &Bound<'_, Item>) -> bool {
        hold item;
        |queue| queue.release(item)
    }

    #[doc = doc_light_clean!()]
    fn light_clean() -> CleanReport { |queue| queue.light_clean() => CleanReport::from }

    #[doc = doc_deep_clean!()]
    fn deep_clean() -> CleanReport { |queue| queue.deep_clean() => CleanReport::from }

    #[doc = doc_queue_len!()]
    fn queue_len() -> u64 { |queue| queue.queue_len() }

    #[doc = doc_processing!()]
    fn processing() -> u64 { |queue| queue.processing() }

    #[doc = doc_prioritized_len!()]
    fn prioritized_len() -> u64 { |queue| queue.prioritized_len() }

    #[doc = doc_delayed_len!()]
    fn delayed_len() -> u64 { |queue| queue.delayed_len() }

    #[doc = doc_dead_len!()]
    fn dead_len() -> u64 { |queue| queue.dead_len() }

    #[doc = doc_dead_items!()]
    #[pyo3(signature = (offset = 0, count = 100))]
    fn dead_items(offset: i64, count: i64) -> Vec<DeadItem> {
        |queue| {
            let (offset, count) = page(offset, count)?;
            queue.dead_items(offset, count)
        } => dead_items_to_py
    }

    #[doc = doc_requeue_dead!()]
    fn requeue_dead(ids: &Bound<'_, PyAny>) -> u64 {
        let ids = ids_from_py(ids)?;
        |queue| queue.requeue_dead(&ids)
    }

    #[doc = doc_purge_dead!()]
    fn purge_dead(ids: &Bound<'_, PyAny>) -> u64 {
        let ids = ids_from_py(ids)?;
        |queue| queue.purge_dead(&ids)
    }

    #[doc = doc_requeue_all_dead!()]
    fn requeue_all_dead() -> u64 { |queue| queue.requeue_all_dead() }

    #[doc = doc_purge_all_dead!()]
    fn purge_all_dead() -> u64 { |queue| queue.purge_all_dead() }

    #[doc = doc_pause!()]
    fn pause() -> Option<()> { |queue| queue.pause() => none }

    #[doc = doc_resume!()]
    fn resume() -> bool { |queue| queue.resume() }

    #[doc = doc_is_paused!()]
    fn is_paused() -> bool { |queue| queue.is_paused() }
});
