//! The operations, asynchronously: spawned on leaseq's runtime, completed through the callbacks
//! registered once with [`leaseq_init`] (valkey-glide's C# pattern).
//!
//! The callbacks run on the caller's own thread inside [`leaseq_dispatch`], not on the runtime's
//! threads: a .NET runtime attaches a foreign thread when it calls in, and Mono (before 6.12) then
//! waits at exit for that thread to end, which a runtime worker never does.
//!
//! Every `…_async` function has the same contract, not repeated on each:
//! - `index` is chosen by the caller and must not be in use by another running operation.
//! - It returns 0 when the operation was started: exactly one callback then follows for `index`,
//!   possibly before the function returns. It returns an error kind (and `out_error`, freed with
//!   [`crate::leaseq_error_free`]) when it was not started (bad argument, [`leaseq_init`] not
//!   called): no callback follows.
//! - Arguments are copied before it returns; the queue handle may be freed while it runs.
//!
//! # Safety
//! `queue` must be a live handle from [`crate::leaseq_queue_new`]; every `(pointer, length)` pair
//! must be readable (a null pointer only with length 0); `out_error` must be null or writable.

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{LazyLock, Mutex, MutexGuard, OnceLock};
use std::task::Poll;

use leaseq::{CleanReport, Connection, DeadItem, Error, ErrorKind, FailOutcome, Item, Result};
use tokio::task::AbortHandle;

use crate::boundary::{borrow_str, call, panic_error, LeaseqError};
use crate::handles::{connection_into_raw, queue, LeaseqConnection, LeaseqQueue};
use crate::item::{
    dead_items_into_raw, id_item, ids_from_raw, item_from_raw, item_view, items_from_raw,
    leaseq_dead_items_free, LeaseqDeadItems, LeaseqItem, LeaseqStr,
};
use crate::options::{add_options, connection_options, LeaseqAddOptions, LeaseqConnectionOptions};
use crate::sync_ops::{lease_args, retry_after, LeaseqCleanReport, LeaseqFailOutcome};
use crate::worker::WorkerEvent;

/// The failure-callback kind of an operation stopped by [`leaseq_cancel`]: not a core error kind
/// (those start at 1).
pub const LEASEQ_CANCELLED: u32 = 0;

/// The result handed to the success callback, borrowed for the callback's duration. Which fields
/// mean something depends on the operation:
/// - `add_item`, `add_item_with`, `renew`, `complete`, `release`, `resume`, `is_paused`:
///   `number` is 1 (true) or 0 (false);
/// - `add_items`, `queue_len`, `processing`, `prioritized_len`, `delayed_len`, `dead_len`,
///   `requeue_dead`, `purge_dead`, `requeue_all_dead`, `purge_all_dead`: `number` is the count;
/// - `light_clean`, `deep_clean`: `report`;
/// - `lease`: `item`, null if there was none (borrowed: copy it, do not free it);
/// - `fail`: `fail`;
/// - `dead_items`: `dead_items` (borrowed: copy it, do not free it);
/// - `connection_open`: `connection`, a handle now owned by the caller, who frees it with
///   [`crate::leaseq_connection_free`];
/// - `add_unique_item`, `pause`, `worker_run`: nothing.
#[repr(C)]
pub struct LeaseqValue {
    /// A flag (0 or 1) or a count.
    pub number: u64,
    /// A clean's report.
    pub report: LeaseqCleanReport,
    /// A leased item, or null.
    pub item: *const LeaseqItem,
    /// An opened connection, or null.
    pub connection: *mut LeaseqConnection,
    /// What `fail` did.
    pub fail: LeaseqFailOutcome,
    /// A page of dead letters, or null.
    pub dead_items: *const LeaseqDeadItems,
}

/// Called once when an operation succeeds: its callback index and its result.
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

/// Makes one running [`leaseq_dispatch`] return once it has run the callbacks already due.
/// Operations finishing later wait for the next `leaseq_dispatch`.
///
/// The .NET binding calls it as the process exits (or its AppDomain unloads): a thread blocked in
/// native code cannot be aborted, and Mono waits for its background threads at exit.
#[no_mangle]
pub extern "C" fn leaseq_dispatch_stop() {
    let _ = catch_unwind(|| DELIVERIES.0.send(None));
}

/// Asks the operation started with `index` to stop. Returns true if it was still running: its
/// failure callback then comes with [`LEASEQ_CANCELLED`], unless it had already finished, in which
/// case its result is delivered as usual. Returns false if no operation with `index` is running.
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

/// What an operation produced, before it is laid out as a [`LeaseqValue`].
pub(crate) enum Outcome {
    Nothing,
    Flag(bool),
    Count(u64),
    Report(CleanReport),
    Leased(Option<Item>),
    Opened(Connection),
    Failed(FailOutcome),
    Dead(Vec<DeadItem>),
}

/// One callback owed on the dispatcher thread.
pub(crate) enum Delivery {
    /// An operation's result, for the callbacks of [`leaseq_init`].
    Operation(Finished),
    /// A worker's event, for the callback of [`crate::leaseq_worker_init`].
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
        let mut value = LeaseqValue {
            number: 0,
            report: CleanReport::default().into(),
            item: std::ptr::null(),
            connection: std::ptr::null_mut(),
            fail: FailOutcome::Gone.into(),
            dead_items: std::ptr::null(),
        };
        // The value borrows the item (and the page): both live until the callback returns.
        let leased;
        let mut page = std::ptr::null_mut();
        match outcome {
            Outcome::Nothing | Outcome::Leased(None) => {}
            Outcome::Flag(flag) => value.number = flag.into(),
            Outcome::Count(count) => value.number = count,
            Outcome::Report(report) => value.report = report.into(),
            Outcome::Leased(Some(item)) => {
                leased = (item_view(&item), item);
                value.item = &leased.0;
            }
            Outcome::Opened(connection) => value.connection = connection_into_raw(connection),
            Outcome::Failed(outcome) => value.fail = outcome.into(),
            Outcome::Dead(dead) => {
                page = dead_items_into_raw(dead);
                value.dead_items = page;
            }
        }
        (callbacks.success)(self.index, &value);
        // SAFETY: made just above, borrowed by the callback only while it ran.
        unsafe { leaseq_dead_items_free(page) };
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

/// Opens a connection; the success callback's `connection` is the new handle. See
/// [`crate::leaseq_connection_open`].
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_open_async(
    index: u64,
    url: *const u8,
    url_len: usize,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    // SAFETY: as this function's contract; null options are the defaults.
    unsafe {
        leaseq_connection_open_with_options_async(index, url, url_len, std::ptr::null(), out_error)
    }
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

/// [`crate::leaseq_queue_add_item`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_add_item_async(
    queue: *const LeaseqQueue,
    index: u64,
    id: *const u8,
    id_len: usize,
    data: *const u8,
    data_len: usize,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let item = unsafe { item_from_raw(id, id_len, data, data_len)? };
        start(index, async move {
            Ok(Outcome::Flag(queue.add_item(&item).await?))
        })
    })
}

/// [`crate::leaseq_queue_add_unique_item`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_add_unique_item_async(
    queue: *const LeaseqQueue,
    index: u64,
    id: *const u8,
    id_len: usize,
    data: *const u8,
    data_len: usize,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let item = unsafe { item_from_raw(id, id_len, data, data_len)? };
        start(index, async move {
            queue.add_unique_item(&item).await?;
            Ok(Outcome::Nothing)
        })
    })
}

/// [`crate::leaseq_queue_add_items`], asynchronously.
///
/// # Safety
/// See the module documentation; `items` must point to `count` readable [`LeaseqItem`]s.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_add_items_async(
    queue: *const LeaseqQueue,
    index: u64,
    items: *const LeaseqItem,
    count: usize,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let items = unsafe { items_from_raw(items, count)? };
        start(index, async move {
            Ok(Outcome::Count(queue.add_items(&items).await?))
        })
    })
}

/// [`crate::leaseq_queue_add_item_with`], asynchronously.
///
/// # Safety
/// See the module documentation; a non-null `options` must be readable.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_add_item_with_async(
    queue: *const LeaseqQueue,
    index: u64,
    id: *const u8,
    id_len: usize,
    data: *const u8,
    data_len: usize,
    options: *const LeaseqAddOptions,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let item = unsafe { item_from_raw(id, id_len, data, data_len)? };
        let options = unsafe { add_options(options)? };
        start(index, async move {
            Ok(Outcome::Flag(queue.add_item_with(&item, &options).await?))
        })
    })
}

/// [`crate::leaseq_queue_lease`], asynchronously; [`leaseq_cancel`] stops a blocking wait.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_lease_async(
    queue: *const LeaseqQueue,
    index: u64,
    lease_secs: f64,
    block: bool,
    has_timeout: bool,
    timeout_secs: f64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let (lease_duration, timeout) = lease_args(lease_secs, has_timeout, timeout_secs)?;
        start(index, async move {
            Ok(Outcome::Leased(
                queue.lease(lease_duration, block, timeout).await?,
            ))
        })
    })
}

/// [`crate::leaseq_queue_renew`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_renew_async(
    queue: *const LeaseqQueue,
    index: u64,
    id: *const u8,
    id_len: usize,
    fence: u64,
    lease_secs: f64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let item = unsafe { id_item(id, id_len, fence)? };
        let lease_duration = leaseq::lease_from_secs_f64(lease_secs)?;
        start(index, async move {
            Ok(Outcome::Flag(queue.renew(&item, lease_duration).await?))
        })
    })
}

/// [`crate::leaseq_queue_complete`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_complete_async(
    queue: *const LeaseqQueue,
    index: u64,
    id: *const u8,
    id_len: usize,
    fence: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let item = unsafe { id_item(id, id_len, fence)? };
        start(index, async move {
            Ok(Outcome::Flag(queue.complete(&item).await?))
        })
    })
}

/// [`crate::leaseq_queue_fail`], asynchronously; the success callback's `fail` is the outcome.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_fail_async(
    queue: *const LeaseqQueue,
    index: u64,
    id: *const u8,
    id_len: usize,
    fence: u64,
    error: *const u8,
    error_len: usize,
    has_retry_after: bool,
    retry_after_secs: f64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let item = unsafe { id_item(id, id_len, fence)? };
        let message = unsafe { borrow_str(error, error_len, "error")? }.to_owned();
        let retry_after = retry_after(has_retry_after, retry_after_secs)?;
        start(index, async move {
            Ok(Outcome::Failed(
                queue.fail(&item, &message, retry_after).await?,
            ))
        })
    })
}

/// [`crate::leaseq_queue_release`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_release_async(
    queue: *const LeaseqQueue,
    index: u64,
    id: *const u8,
    id_len: usize,
    fence: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let item = unsafe { id_item(id, id_len, fence)? };
        start(index, async move {
            Ok(Outcome::Flag(queue.release(&item).await?))
        })
    })
}

/// [`crate::leaseq_queue_light_clean`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_light_clean_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(index, async move {
            Ok(Outcome::Report(queue.light_clean().await?))
        })
    })
}

/// [`crate::leaseq_queue_deep_clean`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_deep_clean_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(index, async move {
            Ok(Outcome::Report(queue.deep_clean().await?))
        })
    })
}

/// [`crate::leaseq_queue_len`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_len_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(index, async move {
            Ok(Outcome::Count(queue.queue_len().await?))
        })
    })
}

/// [`crate::leaseq_queue_processing`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_processing_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(index, async move {
            Ok(Outcome::Count(queue.processing().await?))
        })
    })
}

/// [`crate::leaseq_queue_prioritized_len`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_prioritized_len_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(index, async move {
            Ok(Outcome::Count(queue.prioritized_len().await?))
        })
    })
}

/// [`crate::leaseq_queue_delayed_len`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_delayed_len_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(index, async move {
            Ok(Outcome::Count(queue.delayed_len().await?))
        })
    })
}

/// [`crate::leaseq_queue_dead_len`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_dead_len_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(
            index,
            async move { Ok(Outcome::Count(queue.dead_len().await?)) },
        )
    })
}

/// [`crate::leaseq_queue_dead_items`], asynchronously; the success callback's `dead_items` is
/// the page (borrowed).
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_dead_items_async(
    queue: *const LeaseqQueue,
    index: u64,
    offset: u64,
    count: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(index, async move {
            Ok(Outcome::Dead(queue.dead_items(offset, count).await?))
        })
    })
}

/// [`crate::leaseq_queue_requeue_dead`], asynchronously.
///
/// # Safety
/// See the module documentation; `ids` must point to `count` readable [`LeaseqStr`]s.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_requeue_dead_async(
    queue: *const LeaseqQueue,
    index: u64,
    ids: *const LeaseqStr,
    count: usize,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let ids = unsafe { ids_from_raw(ids, count)? };
        start(index, async move {
            Ok(Outcome::Count(queue.requeue_dead(&ids).await?))
        })
    })
}

/// [`crate::leaseq_queue_purge_dead`], asynchronously.
///
/// # Safety
/// See the module documentation; `ids` must point to `count` readable [`LeaseqStr`]s.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_purge_dead_async(
    queue: *const LeaseqQueue,
    index: u64,
    ids: *const LeaseqStr,
    count: usize,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        let ids = unsafe { ids_from_raw(ids, count)? };
        start(index, async move {
            Ok(Outcome::Count(queue.purge_dead(&ids).await?))
        })
    })
}

/// [`crate::leaseq_queue_requeue_all_dead`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_requeue_all_dead_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(index, async move {
            Ok(Outcome::Count(queue.requeue_all_dead().await?))
        })
    })
}

/// [`crate::leaseq_queue_purge_all_dead`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_purge_all_dead_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(index, async move {
            Ok(Outcome::Count(queue.purge_all_dead().await?))
        })
    })
}

/// [`crate::leaseq_queue_pause`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_pause_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(index, async move {
            queue.pause().await?;
            Ok(Outcome::Nothing)
        })
    })
}

/// [`crate::leaseq_queue_resume`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_resume_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(
            index,
            async move { Ok(Outcome::Flag(queue.resume().await?)) },
        )
    })
}

/// [`crate::leaseq_queue_is_paused`], asynchronously.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_is_paused_async(
    queue: *const LeaseqQueue,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? }.clone();
        start(
            index,
            async move { Ok(Outcome::Flag(queue.is_paused().await?)) },
        )
    })
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::mpsc::{sync_channel, SyncSender};
    use std::time::Duration;

    use super::*;

    /// What the test callbacks saw: (index, kind, connection handle made).
    static SEEN: Mutex<Option<SyncSender<(u64, u32, bool)>>> = Mutex::new(None);

    extern "C" fn on_success(index: u64, value: *const LeaseqValue) {
        let connection = unsafe { (*value).connection };
        unsafe { crate::leaseq_connection_free(connection) };
        report(index, u32::MAX, !connection.is_null());
    }

    extern "C" fn on_failure(index: u64, kind: u32, _message: *const u8, _len: usize) {
        report(index, kind, false);
    }

    fn report(index: u64, kind: u32, made: bool) {
        if let Some(seen) = SEEN.lock().unwrap().as_ref() {
            seen.send((index, kind, made)).unwrap();
        }
    }

    /// One test, because the callbacks and the dispatcher are process-wide.
    #[test]
    fn every_started_operation_gets_exactly_one_callback() {
        let (sender, seen) = sync_channel(16);
        *SEEN.lock().unwrap() = Some(sender);
        let mut error = std::ptr::null_mut();
        // Nothing is started before init.
        let url = b"redis://127.0.0.1:1";
        let code = unsafe { leaseq_connection_open_async(1, url.as_ptr(), url.len(), &mut error) };
        assert_eq!(code, ErrorKind::Internal.code());
        unsafe { crate::leaseq_error_free(error) };

        assert_eq!(
            unsafe { leaseq_init(Some(on_success), Some(on_failure), std::ptr::null_mut()) },
            0
        );
        assert_eq!(
            unsafe { leaseq_init(Some(on_success), Some(on_failure), std::ptr::null_mut()) },
            0
        );
        assert_eq!(
            unsafe { leaseq_init(Some(on_success), None, std::ptr::null_mut()) },
            3
        );
        let dispatcher = std::thread::spawn(|| unsafe { leaseq_dispatch(std::ptr::null_mut()) });
        let wait = || seen.recv_timeout(Duration::from_secs(20)).unwrap();

        // A failure arrives with the core's kind.
        let bad = b"http://nope";
        assert_eq!(
            unsafe {
                leaseq_connection_open_async(2, bad.as_ptr(), bad.len(), std::ptr::null_mut())
            },
            0
        );
        assert_eq!(wait(), (2, ErrorKind::InvalidArgument.code(), false));
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let refused = format!("redis://127.0.0.1:{port}");
        assert_eq!(
            unsafe {
                leaseq_connection_open_async(
                    3,
                    refused.as_ptr(),
                    refused.len(),
                    std::ptr::null_mut(),
                )
            },
            0
        );
        assert_eq!(wait(), (3, ErrorKind::Connection.code(), false));

        // With options: a zero timeout is the core's to refuse (a failure callback), a negative one
        // this layer's (an error returned at once, and no callback).
        let options = |connect_timeout_secs: f64| LeaseqConnectionOptions {
            connect_timeout_secs,
            has_response_timeout: 0,
            response_timeout_secs: 0.0,
        };
        let open_with = |index: u64, options: &LeaseqConnectionOptions| unsafe {
            leaseq_connection_open_with_options_async(
                index,
                refused.as_ptr(),
                refused.len(),
                options,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(open_with(5, &options(0.0)), 0);
        assert_eq!(wait(), (5, ErrorKind::InvalidArgument.code(), false));
        assert_eq!(open_with(6, &options(1.0)), 0);
        assert_eq!(wait(), (6, ErrorKind::Connection.code(), false));
        assert_eq!(
            open_with(7, &options(-1.0)),
            ErrorKind::InvalidArgument.code()
        );

        // A server that accepts and never answers: the open waits, and cancelling it reports once.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let silent_url = format!("redis://{}", silent.local_addr().unwrap());
        assert_eq!(
            unsafe {
                leaseq_connection_open_async(
                    4,
                    silent_url.as_ptr(),
                    silent_url.len(),
                    std::ptr::null_mut(),
                )
            },
            0
        );
        std::thread::sleep(Duration::from_millis(200));
        assert!(leaseq_cancel(4), "still running");
        assert_eq!(wait(), (4, LEASEQ_CANCELLED, false));
        assert!(!leaseq_cancel(4), "cancelled once");
        assert!(!leaseq_cancel(99), "never started");

        leaseq_dispatch_stop();
        assert_eq!(dispatcher.join().unwrap(), 0);
        assert!(seen.try_recv().is_err(), "no second callback");
        drop(silent);
    }
}
