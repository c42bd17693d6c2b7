//! The worker runtime: the core's `leaseq::Worker` running a .NET handler.
//!
//! The core leases, renews (heartbeats), times out, completes or fails, cleans and shuts down;
//! this file only hands each item to .NET and waits for the answer. Every call into .NET is a
//! [`LeaseqWorkerEvent`] for the callback given to [`leaseq_worker_init`], made on the
//! dispatcher thread inside [`crate::leaseq_dispatch`] (the channel the async callbacks use, in
//! the order the core sent them), never on the runtime's threads:
//! - [`LEASEQ_WORKER_HANDLE`]: run the handler of `route` on `item`, then report with
//!   [`leaseq_worker_job_done`] and the event's `job`. The core awaits that report (a oneshot per
//!   job), so a handler holds no runtime thread while it runs. A worker made with routes runs the
//!   core's `leaseq::Router` over them: it picks the route (or fails the item with its error), and
//!   `route` says which; without routes, `route` is 0;
//! - [`LEASEQ_WORKER_ABANDON`]: the core stopped waiting for `job` (its job timeout passed, the
//!   worker shut down and released the item, or its lease was lost): .NET cancels the handler's
//!   token; a later report for that job is ignored;
//! - [`LEASEQ_WORKER_BEFORE`], [`LEASEQ_WORKER_AFTER`]: the hooks, when asked for, as the core
//!   calls them (a `BEFORE` comes before its `HANDLE`).

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, OnceLock};

use leaseq::{Error, ErrorKind, HandlerFuture, Item, JobOutcome, Result, Router, Worker};
use tokio::sync::oneshot;

use crate::async_ops::{deliver, start, Delivery, Outcome};
use crate::boundary::{borrow_bytes, call, write_out, LeaseqError};
use crate::handles::{queue, LeaseqQueue};
use crate::item::{item_view, strs_from_raw, LeaseqItem, LeaseqStr};
use crate::options::{worker_options, LeaseqWorkerOptions};

/// [`LeaseqWorkerEvent::kind`]: run the handler on `item`; report with [`leaseq_worker_job_done`].
pub const LEASEQ_WORKER_HANDLE: u32 = 1;
/// [`LeaseqWorkerEvent::kind`]: the core no longer waits for `job`; cancel its handler.
pub const LEASEQ_WORKER_ABANDON: u32 = 2;
/// [`LeaseqWorkerEvent::kind`]: the `before` hook, for `item`.
pub const LEASEQ_WORKER_BEFORE: u32 = 3;
/// [`LeaseqWorkerEvent::kind`]: the `after` hook, for `item` and `outcome`.
pub const LEASEQ_WORKER_AFTER: u32 = 4;

/// [`LeaseqWorkerEvent::outcome`]: the handler succeeded and the item was completed
/// (`completed`: whether this worker's `complete` was the one that completed it).
pub const LEASEQ_JOB_COMPLETED: u32 = 1;
/// [`LeaseqWorkerEvent::outcome`]: the handler failed (or timed out) with `error`; the item was
/// retried or buried.
pub const LEASEQ_JOB_FAILED: u32 = 2;
/// [`LeaseqWorkerEvent::outcome`]: the worker shut down before the handler finished; the item
/// went back to the queue.
pub const LEASEQ_JOB_RELEASED: u32 = 3;
/// [`LeaseqWorkerEvent::outcome`]: the lease was lost (a renew failed); another worker may have
/// the item.
pub const LEASEQ_JOB_LEASE_LOST: u32 = 4;

/// What a worker asks of .NET, borrowed for the callback's duration (copy what is kept). Which
/// fields mean something depends on `kind`.
#[repr(C)]
pub struct LeaseqWorkerEvent {
    /// [`LEASEQ_WORKER_HANDLE`], [`LEASEQ_WORKER_ABANDON`], [`LEASEQ_WORKER_BEFORE`] or
    /// [`LEASEQ_WORKER_AFTER`].
    pub kind: u32,
    /// The key the worker was made with ([`leaseq_worker_new`]).
    pub worker: u64,
    /// HANDLE, ABANDON: the job, for [`leaseq_worker_job_done`].
    pub job: u64,
    /// HANDLE: the handler to run, an index into the routes given to [`leaseq_worker_new`] (the
    /// core's `Router` chose it by the item's type); 0 for a worker made without routes.
    pub route: u32,
    /// HANDLE, BEFORE, AFTER: the item (its `attempts` counts this lease, its `fence` is this
    /// delivery's); null otherwise.
    pub item: *const LeaseqItem,
    /// AFTER: [`LEASEQ_JOB_COMPLETED`], [`LEASEQ_JOB_FAILED`], [`LEASEQ_JOB_RELEASED`] or
    /// [`LEASEQ_JOB_LEASE_LOST`]; 0 otherwise.
    pub outcome: u32,
    /// AFTER, COMPLETED: 1 if this worker's `complete` was the one that completed the item, else 0
    /// (a `u8`: a struct with a `bool` is not blittable, and .NET Core refuses a pointer to one).
    pub completed: u8,
    /// AFTER, FAILED: the error the item was failed with (UTF-8, not NUL-terminated).
    pub error: *const u8,
    /// The error length in bytes.
    pub error_len: usize,
}

/// Called on the dispatcher thread with each worker event; must return quickly (run the handler
/// and the hooks elsewhere).
pub type LeaseqWorkerCallback = Option<extern "C" fn(event: *const LeaseqWorkerEvent)>;

static CALLBACK: OnceLock<extern "C" fn(*const LeaseqWorkerEvent)> = OnceLock::new();

/// Registers the callback every worker's events go to. Call it once per process, before
/// [`leaseq_worker_new`], with [`crate::leaseq_init`] called and [`crate::leaseq_dispatch`]
/// running; calling it again with the same callback is harmless, with another an InvalidArgument
/// error.
///
/// # Safety
/// The callback must stay callable for the life of the process; `out_error` must be null or
/// writable, and the caller frees what it receives with [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_init(
    callback: LeaseqWorkerCallback,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let Some(callback) = callback else {
            return Err(Error::invalid_argument("the worker callback is required"));
        };
        if *CALLBACK.get_or_init(|| callback) as usize != callback as usize {
            return Err(Error::invalid_argument(
                "leaseq_worker_init was already called with another callback",
            ));
        }
        Ok(())
    })
}

/// A worker event on its way to the dispatcher thread.
pub(crate) enum WorkerEvent {
    Handle {
        worker: u64,
        job: u64,
        route: u32,
        item: Item,
    },
    Abandon {
        worker: u64,
        job: u64,
    },
    Before {
        worker: u64,
        item: Item,
    },
    After {
        worker: u64,
        item: Item,
        outcome: JobOutcome,
    },
}

impl WorkerEvent {
    /// On the dispatcher thread: calls the registered callback.
    pub(crate) fn run(self) {
        let Some(callback) = CALLBACK.get().copied() else {
            // Not reached: no worker is made before the callback is registered.
            if let WorkerEvent::Handle { job, .. } = self {
                settle(job, Err("no .NET worker callback is registered".to_owned()));
            }
            return;
        };
        let mut event = LeaseqWorkerEvent {
            kind: 0,
            worker: 0,
            job: 0,
            route: 0,
            item: std::ptr::null(),
            outcome: 0,
            completed: 0,
            error: std::ptr::null(),
            error_len: 0,
        };
        let item = match &self {
            WorkerEvent::Handle {
                worker,
                job,
                route,
                item,
            } => {
                (event.kind, event.worker, event.job, event.route) =
                    (LEASEQ_WORKER_HANDLE, *worker, *job, *route);
                Some(item)
            }
            WorkerEvent::Abandon { worker, job } => {
                (event.kind, event.worker, event.job) = (LEASEQ_WORKER_ABANDON, *worker, *job);
                None
            }
            WorkerEvent::Before { worker, item } => {
                (event.kind, event.worker) = (LEASEQ_WORKER_BEFORE, *worker);
                Some(item)
            }
            WorkerEvent::After {
                worker,
                item,
                outcome,
            } => {
                (event.kind, event.worker) = (LEASEQ_WORKER_AFTER, *worker);
                match outcome {
                    JobOutcome::Completed(completed) => {
                        (event.outcome, event.completed) =
                            (LEASEQ_JOB_COMPLETED, (*completed).into());
                    }
                    JobOutcome::Failed(error) => {
                        event.outcome = LEASEQ_JOB_FAILED;
                        (event.error, event.error_len) = (error.as_ptr(), error.len());
                    }
                    JobOutcome::Released => event.outcome = LEASEQ_JOB_RELEASED,
                    JobOutcome::LeaseLost => event.outcome = LEASEQ_JOB_LEASE_LOST,
                }
                Some(item)
            }
        };
        // The event borrows the view, which borrows `self`: all live until the callback returns.
        let view = item.map(item_view);
        if let Some(view) = &view {
            event.item = view;
        }
        callback(&event);
    }
}

/// What the core awaits for one job: `Err` carries the message `fail` records.
type JobResult = std::result::Result<(), String>;

/// Jobs handed to .NET and not yet answered or abandoned, by job number.
static JOBS: LazyLock<Mutex<HashMap<u64, oneshot::Sender<JobResult>>>> =
    LazyLock::new(Default::default);
static NEXT_JOB: AtomicU64 = AtomicU64::new(1);

fn jobs() -> MutexGuard<'static, HashMap<u64, oneshot::Sender<JobResult>>> {
    // Every critical section is one insert or remove: a poisoned map is still consistent.
    JOBS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Answers `job` if the core still waits for it; returns whether it did.
fn settle(job: u64, result: JobResult) -> bool {
    let waiting = jobs().remove(&job);
    waiting.is_some_and(|sender| sender.send(result).is_ok())
}

/// A job the core awaits: dropped before .NET answered (the core gave up on it), it tells .NET
/// to cancel the handler.
struct PendingJob {
    worker: u64,
    job: u64,
}

impl Drop for PendingJob {
    fn drop(&mut self) {
        if jobs().remove(&self.job).is_some() {
            deliver(Delivery::Worker(WorkerEvent::Abandon {
                worker: self.worker,
                job: self.job,
            }));
        }
    }
}

/// Registers a new job of `worker`: its number, the answer to await, and the guard that
/// abandons it.
fn begin_job(worker: u64) -> (u64, oneshot::Receiver<JobResult>, PendingJob) {
    let (sender, receiver) = oneshot::channel();
    let job = NEXT_JOB.fetch_add(1, Ordering::Relaxed);
    jobs().insert(job, sender);
    (job, receiver, PendingJob { worker, job })
}

/// A .NET handler, as the core's `Handler`: each item is a HANDLE event (for the handler at
/// index `route` on the .NET side) and a job to await.
struct DotnetHandler {
    worker: u64,
    route: u32,
}

impl leaseq::Handler for DotnetHandler {
    fn handle(&self, item: Item) -> HandlerFuture {
        let (job, answer, pending) = begin_job(self.worker);
        deliver(Delivery::Worker(WorkerEvent::Handle {
            worker: self.worker,
            job,
            route: self.route,
            item,
        }));
        Box::pin(async move {
            let _pending = pending;
            answer
                .await
                .unwrap_or_else(|_| Err("the .NET handler's answer was lost".to_owned()))
        })
    }
}

/// The .NET hooks, as the core's `Hooks`: queued for the dispatcher thread, never awaited.
struct DotnetHooks {
    worker: u64,
    before: bool,
    after: bool,
}

impl leaseq::Hooks for DotnetHooks {
    fn before(&self, item: &Item) {
        if self.before {
            deliver(Delivery::Worker(WorkerEvent::Before {
                worker: self.worker,
                item: item.clone(),
            }));
        }
    }

    fn after(&self, item: &Item, outcome: &JobOutcome) {
        if self.after {
            deliver(Delivery::Worker(WorkerEvent::After {
                worker: self.worker,
                item: item.clone(),
                outcome: outcome.clone(),
            }));
        }
    }
}

/// The core's `Router` over `names`: route `i` is the .NET handler at index `i`. Names must be
/// distinct (a second one would silently replace the first in the router).
fn router(worker: u64, names: Vec<String>) -> Result<Router<DotnetHandler>> {
    let mut seen = std::collections::HashSet::new();
    let mut router = Router::default();
    for (index, name) in names.into_iter().enumerate() {
        let route = u32::try_from(index)
            .map_err(|_| Error::invalid_argument("a worker has at most 2^32 routes"))?;
        if !seen.insert(name.clone()) {
            return Err(Error::invalid_argument(format!(
                "the route \"{name}\" is given twice"
            )));
        }
        router = router.route_to(name, DotnetHandler { worker, route });
    }
    Ok(router)
}

/// A handle on a `leaseq::Worker` (opaque to the caller).
pub struct LeaseqWorker {
    inner: Worker,
}

/// What a worker has done so far; see `leaseq::WorkerCounters`.
#[repr(C)]
pub struct LeaseqWorkerCounters {
    /// Items leased.
    pub leased: u64,
    /// Items completed (handler succeeded and `complete` returned true).
    pub completed: u64,
    /// Handler failures and timeouts.
    pub failed: u64,
    /// Failures that were scheduled for a retry (the rest went to the dead letters).
    pub retried: u64,
    /// Successful lease renewals (heartbeats).
    pub renewed: u64,
    /// Items whose handler is running now.
    pub in_flight: u64,
}

/// # Safety
/// A non-null `handle` must be live (not yet freed).
unsafe fn worker<'a>(handle: *const LeaseqWorker) -> Result<&'a LeaseqWorker> {
    // SAFETY: null or live per the contract.
    unsafe { handle.as_ref() }
        .ok_or_else(|| Error::invalid_argument("worker handle must not be null"))
}

/// Makes a worker for `queue` (it keeps its own reference to the queue) whose events carry
/// `key`; null `options` are the core's defaults. Without routes (`route_count` 0) every item
/// goes to one handler (route 0); with routes (`route_count` distinct type names, UTF-8), the
/// core's `leaseq::Router` sends each item to the route of its type, `route` in the HANDLE event
/// being the name's index, and fails an untyped item or one of an unknown type with its error.
/// With `before` or `after`, the worker also sends the events of those hooks. It does nothing
/// until [`leaseq_worker_run_async`].
///
/// # Safety
/// `queue` must be live; `routes` must point to `route_count` readable [`LeaseqStr`]s (or be
/// null with `route_count` 0), copied before the call returns; a non-null `options` must be
/// readable; `out_worker` must be writable; `out_error` must be null or writable. The caller
/// frees the handle with [`leaseq_worker_free`] and an error with [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_new(
    queue: *const LeaseqQueue,
    key: u64,
    routes: *const LeaseqStr,
    route_count: usize,
    options: *const LeaseqWorkerOptions,
    before: bool,
    after: bool,
    out_worker: *mut *mut LeaseqWorker,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        if CALLBACK.get().is_none() {
            return Err(Error::new(
                ErrorKind::Internal,
                "leaseq_worker_init was not called",
            ));
        }
        let queue = unsafe { self::queue(queue)? };
        let names = unsafe { strs_from_raw(routes, route_count, "routes", "route name")? };
        let options = unsafe { worker_options(options)? };
        let mut inner = if names.is_empty() {
            let handler = DotnetHandler {
                worker: key,
                route: 0,
            };
            Worker::new(queue, handler, options)?
        } else {
            Worker::new(queue, router(key, names)?, options)?
        };
        if before || after {
            inner = inner.with_hooks(DotnetHooks {
                worker: key,
                before,
                after,
            });
        }
        let handle = Box::new(LeaseqWorker { inner });
        unsafe { write_out(out_worker, Box::into_raw(handle), "out_worker") }
    })
}

/// Frees a worker handle. A run already started goes on (stop it with [`leaseq_worker_stop`]
/// first). Null is ignored.
///
/// # Safety
/// The caller that received `worker` from [`leaseq_worker_new`] frees it, once, with this
/// function, when no other call using it is running.
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_free(worker: *mut LeaseqWorker) {
    if worker.is_null() {
        return;
    }
    // SAFETY: made by Box::into_raw in `leaseq_worker_new`, freed once per the contract.
    let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(worker) })));
}

/// Runs the worker until [`leaseq_worker_stop`]: an async operation (see
/// [`crate::leaseq_init`]) whose success callback comes once the run has ended, every running
/// handler finished or abandoned and its item released. A stop asked for before the run starts
/// is kept (the run then ends at once); once a run has ended, the worker can run again. Never
/// stop a run with [`crate::leaseq_cancel`]: aborting it drops the items in flight without
/// releasing them.
///
/// # Safety
/// `worker` must be live; `out_error` must be null or writable, and the caller frees what it
/// receives with [`crate::leaseq_error_free`]. `index` follows the async contract.
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_run_async(
    worker: *const LeaseqWorker,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let core = unsafe { self::worker(worker)? }.inner.clone();
        start(index, async move {
            // Signals are .NET's to handle (see the binding's README), never the core's.
            core.run(false).await?;
            Ok(Outcome::Nothing)
        })
    })
}

/// Asks the worker to stop: it leases nothing more, lets running handlers finish within the
/// shutdown timeout, and releases the rest; the run's callback follows once that is done. A stop
/// before [`leaseq_worker_run_async`] is kept. Null is ignored.
///
/// # Safety
/// A non-null `worker` must be live.
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_stop(worker: *const LeaseqWorker) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if let Ok(handle) = unsafe { self::worker(worker) } {
            handle.inner.stop();
        }
    }));
}

/// Writes the worker's counters so far to `out_counters`.
///
/// # Safety
/// `worker` must be live; `out_counters` must be writable; `out_error` must be null or writable,
/// and the caller frees what it receives with [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_counters(
    worker: *const LeaseqWorker,
    out_counters: *mut LeaseqWorkerCounters,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let counters = unsafe { self::worker(worker)? }.inner.counters();
        let raw = LeaseqWorkerCounters {
            leased: counters.leased,
            completed: counters.completed,
            failed: counters.failed,
            retried: counters.retried,
            renewed: counters.renewed,
            in_flight: counters.in_flight,
        };
        unsafe { write_out(out_counters, raw, "out_counters") }
    })
}

/// Reports how the handler of `job` ended: `ok`, or failed with `message` (UTF-8, recorded by
/// `fail`). Returns true if the core was still waiting for it, false if it had abandoned the job
/// (or `job` is unknown, or was already reported). Safe to call from any thread.
///
/// # Safety
/// `message` must point to `message_len` readable bytes (or be null with length 0).
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_job_done(
    job: u64,
    ok: bool,
    message: *const u8,
    message_len: usize,
) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        let result = if ok {
            Ok(())
        } else {
            let bytes = unsafe { borrow_bytes(message, message_len, "message") }.unwrap_or(b"");
            Err(String::from_utf8_lossy(bytes).into_owned())
        };
        settle(job, result)
    }))
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_answered_once_and_abandoned_only_while_awaited() {
        let runtime = leaseq::runtime();

        let (job, answer, pending) = begin_job(7);
        assert!(unsafe { leaseq_worker_job_done(job, true, std::ptr::null(), 0) });
        assert!(!unsafe { leaseq_worker_job_done(job, true, std::ptr::null(), 0) });
        drop(pending);
        assert_eq!(runtime.block_on(answer), Ok(Ok(())));

        let (job, answer, _pending) = begin_job(7);
        let message = "boom ✓";
        assert!(unsafe { leaseq_worker_job_done(job, false, message.as_ptr(), message.len()) });
        assert_eq!(runtime.block_on(answer), Ok(Err(message.to_owned())));

        // The core gave up: the answer that comes later is refused.
        let (job, _answer, pending) = begin_job(7);
        drop(pending);
        assert!(!unsafe { leaseq_worker_job_done(job, true, std::ptr::null(), 0) });
        assert!(!unsafe { leaseq_worker_job_done(u64::MAX, true, std::ptr::null(), 0) });
    }

    #[test]
    fn a_worker_needs_the_callback_and_a_live_queue() {
        let mut error = std::ptr::null_mut();
        let mut made = std::ptr::null_mut();
        let code = unsafe {
            leaseq_worker_new(
                std::ptr::null(),
                1,
                std::ptr::null(),
                0,
                std::ptr::null(),
                false,
                false,
                &mut made,
                &mut error,
            )
        };
        assert_ne!(code, 0);
        assert!(made.is_null());
        unsafe { crate::leaseq_error_free(error) };
        unsafe { leaseq_worker_stop(std::ptr::null()) };
        unsafe { leaseq_worker_free(std::ptr::null_mut()) };
    }

    /// The route the core's router picks for an item with `data`, or its error.
    fn route_of(router: &Router<DotnetHandler>, data: &str) -> std::result::Result<u32, String> {
        let item = Item::with_id("x", data.as_bytes().to_vec());
        router.handler_for(&item).map(|handler| handler.route)
    }

    #[test]
    fn routes_are_the_cores_router_over_the_name_indexes() {
        let names = ["resize".to_owned(), "email".to_owned()];
        let router = router(9, names.to_vec()).unwrap();
        assert_eq!(route_of(&router, r#"{"type": "resize"}"#), Ok(0));
        assert_eq!(route_of(&router, r#"{"type": "email", "to": "a"}"#), Ok(1));
        assert!(router
            .handler_for(&Item::with_id("x", br#"{"type": "email"}"#.to_vec()))
            .is_ok_and(|handler| handler.worker == 9));
        // Untyped and unknown items fail with the core's error, word for word.
        let mut core = Router::default();
        for name in names {
            core = core.route_to(name, ());
        }
        for data in [r#"{"type": "fax"}"#, r#"{"kind": "email"}"#, "[1]"] {
            let error = route_of(&router, data).unwrap_err();
            let item = Item::with_id("x", data.as_bytes().to_vec());
            assert_eq!(Err(error.clone()), core.handler_for(&item).map(|_| ()));
            assert!(
                error.ends_with("this worker handles: email, resize"),
                "{error}"
            );
        }
    }

    #[test]
    fn route_names_are_distinct_utf8() {
        let twice = router(1, vec!["a".into(), "b".into(), "a".into()]);
        assert!(twice.is_err_and(|error| error.message().contains("\"a\" is given twice")));
        let bad = [LeaseqStr {
            bytes: b"\xff".as_ptr(),
            len: 1,
        }];
        assert!(
            unsafe { strs_from_raw(bad.as_ptr(), 1, "routes", "route name") }
                .is_err_and(|error| error.message().contains("route name"))
        );
        assert!(unsafe { strs_from_raw(std::ptr::null(), 2, "routes", "route name") }.is_err());
    }
}
