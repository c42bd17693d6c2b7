//! The async half of the boundary (valkey-glide's C# pattern): operations spawned on leaseq's
//! runtime ([`start`]), completed through the callbacks registered once with [`leaseq_init`].
//!
//! The callbacks run on the caller's own thread inside [`leaseq_dispatch`], not on the runtime's
//! threads: a .NET runtime attaches a foreign thread when it calls in, and Mono (before 6.12) then
//! waits at exit for that thread to end, which a runtime worker never does.
//!
//! Every async entry ([`crate::leaseq_queue_start`], [`leaseq_connection_open_with_options_async`],
//! [`crate::leaseq_worker_run_async`]) has the same contract:
//! - `index` is chosen by the caller and must not be in use by another running operation.
//! - It returns 0 when the operation was started: exactly one callback then follows for `index`,
//!   possibly before the function returns. It returns an error kind (and `out_error`, freed with
//!   [`crate::leaseq_error_free`]) when it was not started (bad argument, [`leaseq_init`] not
//!   called): no callback follows.
//! - Arguments are copied before it returns.

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{LazyLock, Mutex, MutexGuard, OnceLock};
use std::task::Poll;

use leaseq::{Connection, Error, ErrorKind, Result};
use tokio::task::AbortHandle;

use crate::boundary::{borrow_str, call, panic_error, LeaseqError};
pub(crate) use crate::ops::Outcome;
use crate::ops::{leaseq_value_free, LeaseqValue};
use crate::options::{connection_options, LeaseqConnectionOptions};
use crate::worker::WorkerEvent;

/// The failure-callback kind of an operation stopped by [`leaseq_cancel`]: not a core error kind
/// (those start at 1).
pub const LEASEQ_CANCELLED: u32 = 0;

/// Called once when an operation succeeds: its callback index and its result (borrowed for the
/// call, except a `connection`, which the caller then owns).
pub type LeaseqSuccessCallback = Option<extern "C" fn(index: u64, value: *const LeaseqValue)>;

/// Called once when an operation fails or is cancelled: its callback index, the error kind
/// ([`LEASEQ_CANCELLED`] for a cancelled one) and the UTF-8 message, borrowed for the call.
pub type LeaseqFailureCallback =
    Option<extern "C" fn(index: u64, kind: u32, message: *const u8, message_len: usize)>;

#[derive(Clone, Copy)]
struct Callbacks {
    success: extern "C" fn(u64, *const LeaseqValue),
    failure: extern "C" fn(u64, u32, *const u8, usize),
}

static CALLBACKS: OnceLock<Callbacks> = OnceLock::new();

fn registered_callbacks() -> Result<Callbacks> {
    CALLBACKS
        .get()
        .copied()
        .ok_or_else(|| Error::new(ErrorKind::Internal, "leaseq_init was not called"))
}

/// Running operations by callback index, so that [`leaseq_cancel`] can abort them.
static RUNNING: LazyLock<Mutex<HashMap<u64, AbortHandle>>> = LazyLock::new(Default::default);

fn running() -> MutexGuard<'static, HashMap<u64, AbortHandle>> {
    // Every critical section is one insert or remove: a poisoned map is still consistent.
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Finished operations and worker events on their way to [`leaseq_dispatch`], in the order they
/// were sent; `None` asks it to return.
type Deliveries = (Sender<Option<Delivery>>, Mutex<Receiver<Option<Delivery>>>);
static DELIVERIES: LazyLock<Deliveries> = LazyLock::new(|| {
    let (sender, receiver) = channel();
    (sender, Mutex::new(receiver))
});

/// Registers the callbacks every async operation completes through. Call it once per process,
/// before any `…_async` function, and run [`leaseq_dispatch`] on a thread of your own; calling it
/// again with the same callbacks is harmless, with others an InvalidArgument error.
///
/// # Safety
/// Both callbacks must stay callable for the life of the process.
#[no_mangle]
pub unsafe extern "C" fn leaseq_init(
    success: LeaseqSuccessCallback,
    failure: LeaseqFailureCallback,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let (Some(success), Some(failure)) = (success, failure) else {
            return Err(Error::invalid_argument("both callbacks are required"));
        };
        let registered = CALLBACKS.get_or_init(|| Callbacks { success, failure });
        if registered.success as usize != success as usize
            || registered.failure as usize != failure as usize
        {
            return Err(Error::invalid_argument(
                "leaseq_init was already called with other callbacks",
            ));
        }
        Ok(())
    })
}

/// Runs the callbacks of finished operations on the calling thread, one at a time, until
/// [`leaseq_dispatch_stop`] (then returns 0), or returns an error at once if [`leaseq_init`] was
/// not called. Run it on a thread of your own (the .NET binding's is a background thread);
/// callbacks must return quickly.
///
/// # Safety
/// `out_error` must be null or writable; the caller frees what it receives with
/// [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_dispatch(out_error: *mut *mut LeaseqError) -> u32 {
    call(out_error, || {
        let callbacks = registered_callbacks()?;
        loop {
            let next = DELIVERIES
                .1
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .recv();
            // The sender is a static, never dropped: `recv` never fails.
            let Ok(Some(delivery)) = next else {
                return Ok(());
            };
            // Contained to this one delivery, so that every later operation still completes.
            let _ = catch_unwind(AssertUnwindSafe(|| delivery.run(callbacks)));
        }
    })
}

/// Makes one running [`leaseq_dispatch`] return once it has run the callbacks already due (the
/// .NET binding's exit: Mono waits for its background threads, and cannot abort one in native code).
#[no_mangle]
pub extern "C" fn leaseq_dispatch_stop() {
    let _ = catch_unwind(|| DELIVERIES.0.send(None));
}

/// Asks the operation started with `index` to stop: true if it was running (its failure callback
/// then comes with [`LEASEQ_CANCELLED`], unless it had just finished: then its result does).
///
/// A blocking lease is cancel-safe: stopping it while it waits loses nothing.
#[no_mangle]
pub extern "C" fn leaseq_cancel(index: u64) -> bool {
    catch_unwind(|| {
        let handle = running().remove(&index);
        // Aborted outside the lock: the task's completion takes the lock too.
        handle.map(|handle| handle.abort()).is_some()
    })
    .unwrap_or(false)
}

/// One callback owed on the dispatcher thread.
pub(crate) enum Delivery {
    /// An operation's result, for the callbacks of [`leaseq_init`].
    Operation(Finished),
    /// A worker's event, for the callback given to [`crate::leaseq_worker_new`].
    Worker(WorkerEvent),
}

impl Delivery {
    fn run(self, callbacks: Callbacks) {
        match self {
            Delivery::Operation(finished) => finished.run(callbacks),
            Delivery::Worker(event) => event.run(),
        }
    }
}

/// Queues `delivery` for [`leaseq_dispatch`], after everything sent before it.
pub(crate) fn deliver(delivery: Delivery) {
    // Cannot fail: the receiver is a static too.
    let _ = DELIVERIES.0.send(Some(delivery));
}

/// One finished operation and the callback it is owed: a result, or a failure's kind and message.
pub(crate) struct Finished {
    index: u64,
    outcome: std::result::Result<Outcome, (u32, String)>,
}

impl Finished {
    fn run(self, callbacks: Callbacks) {
        let outcome = match self.outcome {
            Ok(outcome) => outcome,
            Err((kind, message)) => {
                (callbacks.failure)(self.index, kind, message.as_ptr(), message.len());
                return;
            }
        };
        let mut value = outcome.into_value();
        (callbacks.success)(self.index, &value);
        // SAFETY: made just above, borrowed by the callback only while it ran.
        unsafe { leaseq_value_free(&mut value) };
    }
}

/// Owes exactly one delivery for `index`: `finish` with the result or, if the task is dropped
/// first (aborted by [`leaseq_cancel`], or unwinding from a panic), a failure.
struct Completion {
    index: u64,
    finished: bool,
}

impl Completion {
    fn finish(mut self, result: Result<Outcome>) {
        self.finished = true;
        self.deliver(result.map_err(|err| (err.kind().code(), err.message().to_owned())));
    }

    fn deliver(&self, outcome: std::result::Result<Outcome, (u32, String)>) {
        running().remove(&self.index);
        deliver(Delivery::Operation(Finished {
            index: self.index,
            outcome,
        }));
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let failure = if std::thread::panicking() {
            let message = "panic in leaseq's native library";
            (ErrorKind::Internal.code(), message.to_owned())
        } else {
            (LEASEQ_CANCELLED, "the operation was cancelled".to_owned())
        };
        self.deliver(Err(failure));
    }
}

/// Spawns `operation` on leaseq's runtime, to be delivered to the callbacks with `index`.
pub(crate) fn start(
    index: u64,
    operation: impl Future<Output = Result<Outcome>> + Send + 'static,
) -> Result<()> {
    registered_callbacks()?;
    // Made before the task, so that a task aborted before its first poll still reports.
    let completion = Completion {
        index,
        finished: false,
    };
    let mut operation = Box::pin(operation);
    let runtime = leaseq::runtime();
    // Held across spawn so the task cannot finish (and remove its entry) before it is inserted.
    let mut running = running();
    let task = runtime.spawn(async move {
        let completion = completion;
        let result =
            poll_fn(
                |cx| match catch_unwind(AssertUnwindSafe(|| operation.as_mut().poll(cx))) {
                    Ok(poll) => poll,
                    Err(panic) => Poll::Ready(Err(panic_error(panic))),
                },
            )
            .await;
        completion.finish(result);
    });
    running.insert(index, task.abort_handle());
    Ok(())
}

/// [`crate::leaseq_connection_open_with_options`], asynchronously: the success callback's
/// `connection` is the new handle. A negative timeout is an error returned here; a zero one, which
/// the core refuses as it opens, a failure callback.
///
/// # Safety
/// See the module documentation; a non-null `options` must be readable (it is copied).
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_open_with_options_async(
    index: u64,
    url: *const u8,
    url_len: usize,
    options: *const LeaseqConnectionOptions,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let url = unsafe { borrow_str(url, url_len, "url")? }.to_owned();
        let options = unsafe { connection_options(options)? };
        start(index, async move {
            Ok(Outcome::Opened(Connection::open_with(&url, options).await?))
        })
    })
}
