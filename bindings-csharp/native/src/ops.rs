//! The queue operations: one table ([`operation`]) and two entries over it,
//! [`leaseq_queue_call`], which blocks the calling thread, and [`leaseq_queue_start`], which runs
//! the operation on leaseq's runtime and completes through the callbacks of [`crate::leaseq_init`]
//! (see `async_ops.rs`). Same order and meaning as `leaseq::WorkQueue` (see its docs).
//!
//! # Safety
//! For both entries: `queue` must be a live handle from [`crate::leaseq_queue_new_with_options`];
//! `args` must be readable, with every `(pointer, length)` pair the operation reads readable (a
//! null pointer only with length 0); `out_value` must be writable and `out_error` null or
//! writable. The caller frees an `out_value` with [`leaseq_value_free`] and an `out_error` with
//! [`crate::leaseq_error_free`].

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, UNIX_EPOCH};

use leaseq::{CleanReport, Connection, DeadItem, Error, FailOutcome, Item, Result, WorkQueue};

use crate::async_ops::start;
use crate::boundary::{block_on, borrow_str, call, LeaseqError};
use crate::handles::{connection_into_raw, queue, LeaseqConnection, LeaseqQueue};
use crate::item::{
    dead_items_into_raw, free_dead_items, free_item, id_item, ids_from_raw, item_from_raw,
    item_into_raw, items_from_raw, LeaseqDeadItems, LeaseqItem, LeaseqStr,
};
use crate::options::{add_options, LeaseqAddOptions};

/// A queue operation's arguments, borrowed for the call (copied before it returns). Each
/// operation reads only the fields its `LEASEQ_OP_…` code names; flags are 0 or 1.
#[repr(C)]
pub struct LeaseqArgs {
    /// The item: id and data to add; id and `fence` (0: none) to renew, complete, fail, release.
    pub item: LeaseqItem,
    /// `add_items`: `count` items.
    pub items: *const LeaseqItem,
    /// `requeue_dead`, `purge_dead`: `count` ids.
    pub ids: *const LeaseqStr,
    /// How many `items` or `ids`; `dead_items`: the page size (1 to 1000).
    pub count: usize,
    /// `dead_items`: where the page starts.
    pub offset: u64,
    /// `fail`: the error recorded (UTF-8).
    pub message: LeaseqStr,
    /// `lease`, `renew`: the lease, in seconds.
    pub lease_secs: f64,
    /// `lease`: whether to wait for an item.
    pub block: u8,
    /// `lease`: whether the wait has a timeout (else it waits for ever).
    pub has_timeout: u8,
    /// `lease`: the wait's timeout, in seconds.
    pub timeout_secs: f64,
    /// `fail`: whether `retry_after_secs` is given (else the queue's backoff).
    pub has_retry_after: u8,
    /// `fail`: the delay before the retry, in seconds.
    pub retry_after_secs: f64,
    /// `add_item_with`: the priority and due time.
    pub add: LeaseqAddOptions,
}

/// What `fail` did with the item; see `leaseq::FailOutcome`.
#[repr(C)]
pub struct LeaseqFailOutcome {
    /// [`LEASEQ_FAIL_RETRY`]: the item will be leased again, not before `retry_at_unix_ms`;
    /// [`LEASEQ_FAIL_DEAD`]: that was its last attempt, it is in the dead letters;
    /// [`LEASEQ_FAIL_GONE`]: the item no longer exists (it was completed), nothing changed.
    pub kind: u32,
    /// For a retry: when it becomes due, in milliseconds since the Unix epoch (Redis server
    /// clock); 0 otherwise.
    pub retry_at_unix_ms: i64,
}

/// What a clean did; see `leaseq::CleanReport`.
#[repr(C)]
pub struct LeaseqCleanReport {
    /// Items whose lease had expired (or was never taken), returned to the queue.
    pub requeued: u64,
    /// Ids dropped from the lists because their item no longer exists.
    pub dropped: u64,
    /// Items whose lease expired on their last attempt, moved to the dead letters.
    pub dead: u64,
}

/// An operation's result; which field means something is said at its `LEASEQ_OP_…` code (a
/// connection open's is `connection`, a worker run's nothing). Written to `out_value` by
/// [`leaseq_queue_call`] and freed by the caller with [`leaseq_value_free`]; handed to the
/// success callback, it is borrowed for the callback's duration, except `connection`, a handle
/// the caller then owns and frees with [`crate::leaseq_connection_free`].
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

/// Frees the item and the page of dead letters a value holds (not the value itself, which is the
/// caller's, nor its connection), and sets them to null. Null is ignored.
///
/// # Safety
/// A non-null `value` must be one [`leaseq_queue_call`] wrote, freed once.
#[no_mangle]
pub unsafe extern "C" fn leaseq_value_free(value: *mut LeaseqValue) {
    // SAFETY: null or writable per the contract.
    let Some(value) = (unsafe { value.as_mut() }) else {
        return;
    };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
        free_item(std::mem::replace(&mut value.item, std::ptr::null()) as *mut LeaseqItem);
        free_dead_items(std::mem::replace(&mut value.dead_items, std::ptr::null()) as *mut _);
    }));
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

impl Outcome {
    fn nothing(_: ()) -> Outcome {
        Outcome::Nothing
    }

    /// Lays the outcome out for the caller, who owns what it points to.
    pub(crate) fn into_value(self) -> LeaseqValue {
        let mut value = LeaseqValue {
            number: 0,
            report: LeaseqCleanReport {
                requeued: 0,
                dropped: 0,
                dead: 0,
            },
            item: std::ptr::null(),
            connection: std::ptr::null_mut(),
            fail: fail_outcome(FailOutcome::Gone),
            dead_items: std::ptr::null(),
        };
        match self {
            Outcome::Nothing | Outcome::Leased(None) => {}
            Outcome::Flag(flag) => value.number = flag.into(),
            Outcome::Count(count) => value.number = count,
            Outcome::Report(report) => {
                let CleanReport {
                    requeued,
                    dropped,
                    dead,
                } = report;
                value.report = LeaseqCleanReport {
                    requeued,
                    dropped,
                    dead,
                };
            }
            Outcome::Leased(Some(item)) => value.item = item_into_raw(item),
            Outcome::Opened(connection) => value.connection = connection_into_raw(connection),
            Outcome::Failed(outcome) => value.fail = fail_outcome(outcome),
            Outcome::Dead(page) => value.dead_items = dead_items_into_raw(page),
        }
        value
    }
}

// [`LeaseqFailOutcome::kind`]s.
pub const LEASEQ_FAIL_RETRY: u32 = 1;
pub const LEASEQ_FAIL_DEAD: u32 = 2;
pub const LEASEQ_FAIL_GONE: u32 = 3;

fn fail_outcome(outcome: FailOutcome) -> LeaseqFailOutcome {
    let (kind, at) = match outcome {
        FailOutcome::Retry { at } => (LEASEQ_FAIL_RETRY, Some(at)),
        FailOutcome::Dead => (LEASEQ_FAIL_DEAD, None),
        FailOutcome::Gone => (LEASEQ_FAIL_GONE, None),
    };
    let since = at.and_then(|at| at.duration_since(UNIX_EPOCH).ok());
    LeaseqFailOutcome {
        kind,
        retry_at_unix_ms: since.map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        }),
    }
}

// The operation codes, in the core's order (`leaseq::WorkQueue`'s methods). Each reads the
// `LeaseqArgs` fields its row in `operation` names and answers in the `LeaseqValue` field its
// `Outcome` names: Flag in `number` (0 or 1), Count in `number`, Report in `report`, Leased in
// `item` (null: none), Failed in `fail`, Dead in `dead_items`; `nothing` leaves it empty.
pub const LEASEQ_OP_ADD_ITEM: u32 = 1;
pub const LEASEQ_OP_ADD_UNIQUE_ITEM: u32 = 2;
pub const LEASEQ_OP_ADD_ITEMS: u32 = 3;
pub const LEASEQ_OP_ADD_ITEM_WITH: u32 = 4;
pub const LEASEQ_OP_LEASE: u32 = 5;
pub const LEASEQ_OP_RENEW: u32 = 6;
pub const LEASEQ_OP_COMPLETE: u32 = 7;
pub const LEASEQ_OP_FAIL: u32 = 8;
pub const LEASEQ_OP_RELEASE: u32 = 9;
pub const LEASEQ_OP_LIGHT_CLEAN: u32 = 10;
pub const LEASEQ_OP_DEEP_CLEAN: u32 = 11;
pub const LEASEQ_OP_QUEUE_LEN: u32 = 12;
pub const LEASEQ_OP_PROCESSING: u32 = 13;
pub const LEASEQ_OP_PRIORITIZED_LEN: u32 = 14;
pub const LEASEQ_OP_DELAYED_LEN: u32 = 15;
pub const LEASEQ_OP_DEAD_LEN: u32 = 16;
pub const LEASEQ_OP_DEAD_ITEMS: u32 = 17;
pub const LEASEQ_OP_REQUEUE_DEAD: u32 = 18;
pub const LEASEQ_OP_PURGE_DEAD: u32 = 19;
pub const LEASEQ_OP_REQUEUE_ALL_DEAD: u32 = 20;
pub const LEASEQ_OP_PURGE_ALL_DEAD: u32 = 21;
pub const LEASEQ_OP_PAUSE: u32 = 22;
pub const LEASEQ_OP_RESUME: u32 = 23;
pub const LEASEQ_OP_IS_PAUSED: u32 = 24;

/// An operation ready to run: its arguments copied and checked.
pub(crate) type Operation = Pin<Box<dyn Future<Output = Result<Outcome>> + Send>>;

/// One row per operation: what it copies out of `args` (checked here, so that a bad argument is
/// an error before anything runs) and the core call it makes.
///
/// # Safety
/// As the module documentation says of `args`.
unsafe fn operation(queue: &WorkQueue, op: u32, args: *const LeaseqArgs) -> Result<Operation> {
    // SAFETY: null or readable per the contract.
    let args =
        unsafe { args.as_ref() }.ok_or_else(|| Error::invalid_argument("args must not be null"))?;
    let queue = queue.clone();
    let raw = &args.item;
    let item = || unsafe { item_from_raw(raw.id, raw.id_len, raw.data, raw.data_len) };
    let id = || unsafe { id_item(raw.id, raw.id_len, raw.fence) };
    let ids = || unsafe { ids_from_raw(args.ids, args.count) };
    let optional = |given: u8, what: &str, secs: f64| -> Result<Option<Duration>> {
        (given != 0)
            .then(|| leaseq::from_secs_f64(what, secs))
            .transpose()
    };
    // Copies the named values, then runs `call` on them and wraps its result as `outcome`.
    macro_rules! run {
        ($outcome:expr, $call:expr $(, $name:ident = $value:expr)*) => {{
            $(let $name = $value;)*
            Box::pin(async move { Ok($outcome($call.await?)) }) as Operation
        }};
    }
    Ok(match op {
        LEASEQ_OP_ADD_ITEM => run!(Outcome::Flag, queue.add_item(&item), item = item()?),
        LEASEQ_OP_ADD_UNIQUE_ITEM => {
            run!(
                Outcome::nothing,
                queue.add_unique_item(&item),
                item = item()?
            )
        }
        LEASEQ_OP_ADD_ITEMS => run!(
            Outcome::Count,
            queue.add_items(&items),
            items = unsafe { items_from_raw(args.items, args.count)? }
        ),
        LEASEQ_OP_ADD_ITEM_WITH => run!(
            Outcome::Flag,
            queue.add_item_with(&item, &options),
            item = item()?,
            options = unsafe { add_options(&args.add)? }
        ),
        LEASEQ_OP_LEASE => run!(
            Outcome::Leased,
            queue.lease(lease, block, timeout),
            lease = leaseq::lease_from_secs_f64(args.lease_secs)?,
            block = args.block != 0,
            timeout = optional(args.has_timeout, "timeout", args.timeout_secs)?
        ),
        LEASEQ_OP_RENEW => run!(
            Outcome::Flag,
            queue.renew(&item, lease),
            item = id()?,
            lease = leaseq::lease_from_secs_f64(args.lease_secs)?
        ),
        LEASEQ_OP_COMPLETE => run!(Outcome::Flag, queue.complete(&item), item = id()?),
        LEASEQ_OP_FAIL => run!(
            Outcome::Failed,
            queue.fail(&item, &message, retry_after),
            item = id()?,
            message =
                unsafe { borrow_str(args.message.bytes, args.message.len, "error")? }.to_owned(),
            retry_after = optional(args.has_retry_after, "retry_after", args.retry_after_secs)?
        ),
        LEASEQ_OP_RELEASE => run!(Outcome::Flag, queue.release(&item), item = id()?),
        // Cleans and counts: no arguments.
        LEASEQ_OP_LIGHT_CLEAN => run!(Outcome::Report, queue.light_clean()),
        LEASEQ_OP_DEEP_CLEAN => run!(Outcome::Report, queue.deep_clean()),
        LEASEQ_OP_QUEUE_LEN => run!(Outcome::Count, queue.queue_len()),
        LEASEQ_OP_PROCESSING => run!(Outcome::Count, queue.processing()),
        LEASEQ_OP_PRIORITIZED_LEN => run!(Outcome::Count, queue.prioritized_len()),
        LEASEQ_OP_DELAYED_LEN => run!(Outcome::Count, queue.delayed_len()),
        LEASEQ_OP_DEAD_LEN => run!(Outcome::Count, queue.dead_len()),
        // The dead letters: by id, a page of them, all of them.
        LEASEQ_OP_REQUEUE_DEAD => run!(Outcome::Count, queue.requeue_dead(&ids), ids = ids()?),
        LEASEQ_OP_PURGE_DEAD => run!(Outcome::Count, queue.purge_dead(&ids), ids = ids()?),
        LEASEQ_OP_DEAD_ITEMS => run!(
            Outcome::Dead,
            queue.dead_items(offset, count),
            offset = args.offset,
            count = args.count as u64
        ),
        LEASEQ_OP_REQUEUE_ALL_DEAD => run!(Outcome::Count, queue.requeue_all_dead()),
        LEASEQ_OP_PURGE_ALL_DEAD => run!(Outcome::Count, queue.purge_all_dead()),
        LEASEQ_OP_PAUSE => run!(Outcome::nothing, queue.pause()),
        LEASEQ_OP_RESUME => run!(Outcome::Flag, queue.resume()),
        LEASEQ_OP_IS_PAUSED => run!(Outcome::Flag, queue.is_paused()),
        _ => {
            return Err(Error::invalid_argument(format!(
                "unknown queue operation {op}"
            )))
        }
    })
}

/// Runs queue operation `op` (a `LEASEQ_OP_…` code) with `args`, blocking the calling thread
/// until the core answers, and writes its result to `out_value`.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_call(
    queue: *const LeaseqQueue,
    op: u32,
    args: *const LeaseqArgs,
    out_value: *mut LeaseqValue,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        // Checked first: an item leased and then dropped here would wait out its lease.
        if out_value.is_null() {
            return Err(Error::invalid_argument("out_value must not be null"));
        }
        let operation = unsafe { operation(self::queue(queue)?, op, args)? };
        let value = block_on(operation)?.into_value();
        // SAFETY: checked non-null; writable per the contract.
        unsafe { out_value.write(value) };
        Ok(())
    })
}

/// Starts queue operation `op` (a `LEASEQ_OP_…` code) with `args` on leaseq's runtime, to be
/// delivered to the callbacks of [`crate::leaseq_init`] with `index` (see `async_ops.rs` for that
/// contract); the queue handle may be freed while it runs.
///
/// # Safety
/// See the module documentation (there is no `out_value`).
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_start(
    queue: *const LeaseqQueue,
    op: u32,
    args: *const LeaseqArgs,
    index: u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let operation = unsafe { operation(self::queue(queue)?, op, args)? };
        start(index, operation)
    })
}
