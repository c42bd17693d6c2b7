//! The worker: the core's host interface (`leaseq::Worker::for_host`) with .NET as the host.
//!
//! Jobs, routing, timeouts, hook order and the run are the core's. Each `leaseq::HostCall`
//! becomes a [`LeaseqWorkerEvent`] for the callback given to [`leaseq_worker_new`], made on the
//! dispatcher thread inside [`crate::leaseq_dispatch`] in the core's order; .NET answers each
//! HANDLE with [`leaseq_worker_job_done`].

use leaseq::{Error, HostCall, HostHooks, JobOutcome, Worker};

use crate::async_ops::{deliver, start, Delivery, Outcome};
use crate::boundary::{borrow_slice, call, free_handle, live, write_out, LeaseqError};
use crate::handles::LeaseqQueue;
use crate::item::{item_view, strs_from_raw, LeaseqItem, LeaseqStr};
use crate::options::{worker_options, LeaseqWorkerOptions};

// Event kinds: HANDLE (run handler `route` on `item`, then call `leaseq_worker_job_done`),
// ABANDON (the core no longer waits for `job`: cancel it), the BEFORE and AFTER hooks.
pub const LEASEQ_WORKER_HANDLE: u32 = 1;
pub const LEASEQ_WORKER_ABANDON: u32 = 2;
pub const LEASEQ_WORKER_BEFORE: u32 = 3;
pub const LEASEQ_WORKER_AFTER: u32 = 4;
// AFTER's outcomes, in the order of `leaseq::JobOutcome` (and of .NET's `JobOutcomeKind`).
pub const LEASEQ_JOB_COMPLETED: u32 = 1;
pub const LEASEQ_JOB_FAILED: u32 = 2;
pub const LEASEQ_JOB_RELEASED: u32 = 3;
pub const LEASEQ_JOB_LEASE_LOST: u32 = 4;

/// A `leaseq::HostCall`, borrowed for the callback's duration (copy what is kept).
#[repr(C)]
pub struct LeaseqWorkerEvent {
    /// A `LEASEQ_WORKER_…` kind.
    pub kind: u32,
    /// The key the worker was made with.
    pub worker: u64,
    /// HANDLE, ABANDON: the job.
    pub job: u64,
    /// HANDLE: the handler's index in the routes (0 without routes).
    pub route: u32,
    /// HANDLE, BEFORE, AFTER: the item; null otherwise.
    pub item: *const LeaseqItem,
    /// AFTER: a `LEASEQ_JOB_…` outcome; 0 otherwise.
    pub outcome: u32,
    /// AFTER, COMPLETED: 1 if this worker's `complete` completed the item.
    pub completed: u8,
    /// AFTER, FAILED: the error the item was failed with (UTF-8, `error_len` bytes).
    pub error: *const u8,
    /// The error length in bytes.
    pub error_len: usize,
}

/// Called on the dispatcher thread with each worker event; must return quickly.
pub type LeaseqWorkerCallback = Option<extern "C" fn(event: *const LeaseqWorkerEvent)>;

/// A host call of a worker on its way to the dispatcher thread.
pub(crate) struct WorkerEvent {
    callback: extern "C" fn(*const LeaseqWorkerEvent),
    worker: u64,
    call: HostCall,
}

impl WorkerEvent {
    /// On the dispatcher thread: lays the call out as a [`LeaseqWorkerEvent`] for the callback.
    pub(crate) fn run(self) {
        let (kind, job, route, item, outcome) = match &self.call {
            HostCall::Handle { job, route, item } => {
                let route = u32::try_from(*route).unwrap_or(u32::MAX);
                (LEASEQ_WORKER_HANDLE, *job, route, Some(item), None)
            }
            HostCall::Cancel { job } => (LEASEQ_WORKER_ABANDON, *job, 0, None, None),
            HostCall::Before { item } => (LEASEQ_WORKER_BEFORE, 0, 0, Some(item), None),
            HostCall::After { item, outcome } => {
                (LEASEQ_WORKER_AFTER, 0, 0, Some(item), Some(outcome))
            }
        };
        let (outcome, completed, error) = match outcome {
            None => (0, false, ""),
            Some(JobOutcome::Completed(completed)) => (LEASEQ_JOB_COMPLETED, *completed, ""),
            Some(JobOutcome::Failed(error)) => (LEASEQ_JOB_FAILED, false, error.as_str()),
            Some(JobOutcome::Released) => (LEASEQ_JOB_RELEASED, false, ""),
            Some(JobOutcome::LeaseLost) => (LEASEQ_JOB_LEASE_LOST, false, ""),
        };
        // The event borrows the view, which borrows `self`: both live until the callback returns.
        let view = item.map(item_view);
        let event = LeaseqWorkerEvent {
            kind,
            worker: self.worker,
            job,
            route,
            item: view.as_ref().map_or(std::ptr::null(), |view| view),
            outcome,
            completed: completed.into(),
            error: error.as_ptr(),
            error_len: error.len(),
        };
        (self.callback)(&event);
    }
}

/// A handle on a `leaseq::Worker` (opaque to the caller).
pub struct LeaseqWorker {
    inner: Worker,
}

/// What a worker has done so far; see `leaseq::WorkerCounters`.
#[repr(C)]
pub struct LeaseqWorkerCounters {
    pub leased: u64,
    pub completed: u64,
    pub failed: u64,
    pub retried: u64,
    pub renewed: u64,
    pub in_flight: u64,
}

/// Makes a worker for `queue` whose events go to `callback` with `key` (null `options`: the
/// core's defaults). Without `by_type`, one handler runs every item (route 0); with it, the
/// core routes each item by its type to the handler of that name in `routes`. `before`,
/// `after`: send those hooks' events. It does nothing until [`leaseq_worker_run_async`].
///
/// # Safety
/// `queue` must be live; `routes` must point to `route_count` readable [`LeaseqStr`]s (or be
/// null with `route_count` 0); a non-null `options` must be readable; `out_worker` must be
/// writable; `out_error` must be null or writable. The caller frees the handle with
/// [`leaseq_worker_free`] and an error with [`crate::leaseq_error_free`]; `callback` must stay
/// callable while the worker lives.
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_new(
    queue: *const LeaseqQueue,
    key: u64,
    callback: LeaseqWorkerCallback,
    by_type: bool,
    routes: *const LeaseqStr,
    route_count: usize,
    options: *const LeaseqWorkerOptions,
    before: bool,
    after: bool,
    out_worker: *mut *mut LeaseqWorker,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let callback = callback.ok_or_else(|| Error::invalid_argument("callback is required"))?;
        let queue = &unsafe { live(queue, "queue")? }.inner;
        let names = unsafe { strs_from_raw(routes, route_count, "route name")? };
        let options = unsafe { worker_options(options)? };
        let dispatch = move |call| {
            deliver(Delivery::Worker(WorkerEvent {
                callback,
                worker: key,
                call,
            }));
        };
        let hooks = HostHooks { before, after };
        let inner = Worker::for_host(queue, by_type.then_some(names), hooks, options, dispatch)?;
        let handle = Box::into_raw(Box::new(LeaseqWorker { inner }));
        unsafe { write_out(out_worker, handle, "out_worker") }
    })
}

/// Frees a worker handle; a run already started goes on. Null is ignored.
///
/// # Safety
/// Frees a handle from [`leaseq_worker_new`] once, when no other call using it is running.
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_free(worker: *mut LeaseqWorker) {
    unsafe { free_handle(worker) }
}

/// Runs the worker (`leaseq::Worker::run`) until [`leaseq_worker_stop`]: an async operation
/// (see [`crate::leaseq_init`]) whose success comes once the run has ended. Never stop it with
/// [`crate::leaseq_cancel`]: aborting it drops the items in flight without releasing them.
///
/// # Safety
/// As for every async operation; `worker` must be live.
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_run_async(
    worker: *const LeaseqWorker,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let worker = unsafe { live(worker, "worker")? }.inner.clone();
        // Signals are .NET's to handle, never the core's.
        start(index, async move {
            worker.run(false).await.map(|()| Outcome::Nothing)
        })
    })
}

/// Asks the worker to stop (`leaseq::Worker::stop`). Null is ignored.
///
/// # Safety
/// A non-null `worker` must be live.
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_stop(worker: *const LeaseqWorker) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        unsafe { live(worker, "worker") }.map(|worker| worker.inner.stop())
    }));
}

/// Writes the worker's counters so far to `out_counters`.
///
/// # Safety
/// `worker` must be live; `out_counters` writable; `out_error` null or writable.
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_counters(
    worker: *const LeaseqWorker,
    out_counters: *mut LeaseqWorkerCounters,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let counters = unsafe { live(worker, "worker")? }.inner.counters();
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

/// Reports how the handler of `job` ended (`leaseq::Worker::finish`): `ok`, or failed with
/// `message` (UTF-8). False if the core no longer waited for it. Safe from any thread.
///
/// # Safety
/// A non-null `worker` must be live; `message` must point to `message_len` readable bytes (or
/// be null with length 0).
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_job_done(
    worker: *const LeaseqWorker,
    job: u64,
    ok: bool,
    message: *const u8,
    message_len: usize,
) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let Ok(worker) = (unsafe { live(worker, "worker") }) else {
            return false;
        };
        let message = unsafe { borrow_slice(message, message_len, "message") }.unwrap_or(b"");
        let outcome = ok
            .then_some(())
            .ok_or_else(|| String::from_utf8_lossy(message).into());
        worker.inner.finish(job, outcome)
    }))
    .unwrap_or(false)
}

#[cfg(test)]
#[path = "tests/worker.rs"]
mod tests;
