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
use std::time::UNIX_EPOCH;

use leaseq::{CleanReport, Connection, DeadItem, Error, FailOutcome, Item, Result, WorkQueue};

use crate::async_ops::start;
use crate::boundary::{block_on, borrow_str, call, into_raw, live, take_raw, LeaseqError};
use crate::handles::{connection_into_raw, LeaseqConnection, LeaseqQueue};
use crate::item::{
    free_dead_item, free_item, item_from_raw, items_from_raw, owned_dead_item, owned_item,
    owned_str, strs_from_raw, LeaseqDeadItem, LeaseqItem, LeaseqStr,
};
use crate::options::{add_options, optional, LeaseqAddOptions};

/// A queue operation's arguments, borrowed for the call (copied before it returns). Each
/// operation reads only the fields its `LEASEQ_OP_…` code names; flags are 0 or 1.
#[repr(C)]
pub struct LeaseqArgs {
    /// The item: id and data to add; id and `fence` (0: none) to renew, complete (and lease),
    /// fail, release.
    pub item: LeaseqItem,
    /// `add_items`: `count` items to add; `complete_many`: `count` ids and fences.
    pub items: *const LeaseqItem,
    /// `requeue_dead`, `purge_dead`: `count` ids.
    pub ids: *const LeaseqStr,
    /// How many `items` or `ids`; `dead_items`: the page size; `lease_many`,
    /// `complete_and_lease`: at most how many to lease.
    pub count: usize,
    /// `dead_items`: where the page starts.
    pub offset: u64,
    /// `fail`: the error recorded (UTF-8).
    pub message: LeaseqStr,
    /// `lease`, `lease_many`, `complete_and_lease`, `renew`: the lease, in seconds.
    pub lease_secs: f64,
    /// `lease`, `lease_many`: whether to wait for an item.
    pub block: u8,
    /// `lease`, `lease_many`: whether the wait has a timeout (else it waits for ever).
    pub has_timeout: u8,
    /// `lease`, `lease_many`: the wait's timeout, in seconds.
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
    /// [`LEASEQ_FAIL_RETRY`], [`LEASEQ_FAIL_DEAD`] or [`LEASEQ_FAIL_GONE`].
    pub kind: u32,
    /// For a retry: when it becomes due, in milliseconds since the Unix epoch; 0 otherwise.
    pub retry_at_unix_ms: i64,
}

/// What a clean did; see `leaseq::CleanReport`.
#[repr(C)]
pub struct LeaseqCleanReport {
    pub requeued: u64,
    pub dropped: u64,
    pub dead: u64,
}

/// An operation's result; which field means something is said at its `LEASEQ_OP_…` code (a
/// connection open's is `connection`, a worker run's nothing). Written to an `out_value` and
/// freed by the caller with [`leaseq_value_free`]; handed to the success callback, it is borrowed
/// for the callback's duration, except `connection`, a handle the caller then owns and frees
/// with [`crate::leaseq_connection_free`].
#[repr(C)]
pub struct LeaseqValue {
    /// A flag (0 or 1) or a count.
    pub number: u64,
    pub report: LeaseqCleanReport,
    pub fail: LeaseqFailOutcome,
    pub connection: *mut LeaseqConnection,
    /// How many entries the list below that is set holds (the others are null).
    pub count: usize,
    /// Leased items (`lease`: none or one).
    pub items: *const LeaseqItem,
    /// `complete_many`: one flag (0 or 1) per item.
    pub flags: *const u8,
    /// A page of dead letters.
    pub dead_items: *const LeaseqDeadItem,
    /// Strings: a connection's warnings, an item's type.
    pub strings: *const LeaseqStr,
}

/// Frees the lists a value holds (not the value itself, which is the caller's, nor its
/// connection), and sets them to null. Null is ignored.
///
/// # Safety
/// A non-null `value` must be one written to an `out_value`, freed once.
#[no_mangle]
pub unsafe extern "C" fn leaseq_value_free(value: *mut LeaseqValue) {
    // SAFETY: null or writable per the contract.
    let Some(value) = (unsafe { value.as_mut() }) else {
        return;
    };
    let count = std::mem::take(&mut value.count);
    /// Takes a list back (at most one is not null), leaving null.
    unsafe fn take<T>(list: &mut *const T, count: usize) -> Box<[T]> {
        unsafe { take_raw(std::mem::replace(list, std::ptr::null()), count) }
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
        drop(take(&mut value.flags, count));
        take(&mut value.items, count)
            .iter()
            .for_each(|x| free_item(x));
        take(&mut value.dead_items, count)
            .iter()
            .for_each(|x| free_dead_item(x));
        take(&mut value.strings, count)
            .iter()
            .for_each(|x| drop(take_raw(x.bytes, x.len)));
    }));
}

/// What an operation produced, before it is laid out as a [`LeaseqValue`].
pub(crate) enum Outcome {
    Nothing,
    Flag(bool),
    Count(u64),
    Report(CleanReport),
    Items(Vec<Item>),
    /// `complete_and_lease`: whether it completed, and the items leased.
    FlagAndItems((bool, Vec<Item>)),
    Flags(Vec<bool>),
    Opened(Connection),
    Failed(FailOutcome),
    Dead(Vec<DeadItem>),
    Strings(Vec<String>),
}

impl Outcome {
    /// Lays the outcome out for the caller, who owns what it points to.
    pub(crate) fn into_value(self) -> LeaseqValue {
        // SAFETY: numbers and null pointers: all-zero is a valid, empty value.
        let mut value: LeaseqValue = unsafe { std::mem::zeroed() };
        fn list<T, U>(list: Vec<T>, each: fn(T) -> U, count: &mut usize) -> *const U {
            let (raw, len) = into_raw(list.into_iter().map(each).collect());
            *count = len;
            raw
        }
        match self {
            Outcome::Nothing => {}
            Outcome::Flag(flag) => value.number = flag.into(),
            Outcome::Count(count) => value.number = count,
            Outcome::Report(report) => {
                value.report.requeued = report.requeued;
                value.report.dropped = report.dropped;
                value.report.dead = report.dead;
            }
            Outcome::Items(items) => value.items = list(items, owned_item, &mut value.count),
            Outcome::FlagAndItems((flag, items)) => {
                value.number = flag.into();
                value.items = list(items, owned_item, &mut value.count);
            }
            Outcome::Flags(flags) => value.flags = list(flags, u8::from, &mut value.count),
            Outcome::Opened(connection) => value.connection = connection_into_raw(connection),
            Outcome::Failed(outcome) => value.fail = fail_outcome(outcome),
            Outcome::Dead(page) => value.dead_items = list(page, owned_dead_item, &mut value.count),
            Outcome::Strings(texts) => value.strings = list(texts, owned_str, &mut value.count),
        }
        value
    }

    /// Writes the outcome to an `out_value` the entry needs (null: an error; the outcome is dropped).
    ///
    /// # Safety
    /// A non-null `out_value` must be writable.
    pub(crate) unsafe fn write_to(self, out_value: *mut LeaseqValue) -> Result<()> {
        if out_value.is_null() {
            return Err(Error::invalid_argument("out_value must not be null"));
        }
        // SAFETY: checked non-null; writable per the contract.
        unsafe { out_value.write(self.into_value()) };
        Ok(())
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
// `Outcome` names: Flag and Count in `number`, Report in `report`, Items in `items` (`count`
// of them; `lease`: 0 or 1), FlagAndItems in both, Flags in `flags`, Failed in `fail`, Dead in
// `dead_items`; Nothing leaves it empty.
pub const LEASEQ_OP_ADD_ITEM: u32 = 1;
pub const LEASEQ_OP_ADD_UNIQUE_ITEM: u32 = 2;
pub const LEASEQ_OP_ADD_ITEMS: u32 = 3;
pub const LEASEQ_OP_ADD_ITEM_WITH: u32 = 4;
pub const LEASEQ_OP_LEASE: u32 = 5;
pub const LEASEQ_OP_LEASE_MANY: u32 = 6;
pub const LEASEQ_OP_RENEW: u32 = 7;
pub const LEASEQ_OP_COMPLETE: u32 = 8;
pub const LEASEQ_OP_COMPLETE_MANY: u32 = 9;
pub const LEASEQ_OP_COMPLETE_AND_LEASE: u32 = 10;
pub const LEASEQ_OP_FAIL: u32 = 11;
pub const LEASEQ_OP_RELEASE: u32 = 12;
pub const LEASEQ_OP_LIGHT_CLEAN: u32 = 13;
pub const LEASEQ_OP_DEEP_CLEAN: u32 = 14;
pub const LEASEQ_OP_QUEUE_LEN: u32 = 15;
pub const LEASEQ_OP_PROCESSING: u32 = 16;
pub const LEASEQ_OP_PRIORITIZED_LEN: u32 = 17;
pub const LEASEQ_OP_DELAYED_LEN: u32 = 18;
pub const LEASEQ_OP_DEAD_LEN: u32 = 19;
pub const LEASEQ_OP_DEAD_ITEMS: u32 = 20;
pub const LEASEQ_OP_REQUEUE_DEAD: u32 = 21;
pub const LEASEQ_OP_PURGE_DEAD: u32 = 22;
pub const LEASEQ_OP_REQUEUE_ALL_DEAD: u32 = 23;
pub const LEASEQ_OP_PURGE_ALL_DEAD: u32 = 24;
pub const LEASEQ_OP_PAUSE: u32 = 25;
pub const LEASEQ_OP_RESUME: u32 = 26;
pub const LEASEQ_OP_IS_PAUSED: u32 = 27;

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
    let item = || unsafe { item_from_raw(&args.item) };
    let items = || unsafe { items_from_raw(args.items, args.count) };
    let ids = || unsafe { strs_from_raw(args.ids, args.count, "item id") };
    let lease = || leaseq::lease_from_secs_f64(args.lease_secs);
    let timeout = || optional(args.has_timeout, "timeout", args.timeout_secs);
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
                |()| Outcome::Nothing,
                queue.add_unique_item(&item),
                item = item()?
            )
        }
        LEASEQ_OP_ADD_ITEMS => run!(Outcome::Count, queue.add_items(&items), items = items()?),
        LEASEQ_OP_ADD_ITEM_WITH => run!(
            Outcome::Flag,
            queue.add_item_with(&item, &options),
            item = item()?,
            options = unsafe { add_options(&args.add)? }
        ),
        LEASEQ_OP_LEASE => run!(
            |item: Option<Item>| Outcome::Items(item.into_iter().collect()),
            queue.lease(lease, block, timeout),
            lease = lease()?,
            block = args.block != 0,
            timeout = timeout()?
        ),
        LEASEQ_OP_LEASE_MANY => run!(
            Outcome::Items,
            queue.lease_many(lease, count, block, timeout),
            lease = lease()?,
            count = args.count,
            block = args.block != 0,
            timeout = timeout()?
        ),
        LEASEQ_OP_RENEW => run!(
            Outcome::Flag,
            queue.renew(&item, lease),
            item = item()?,
            lease = lease()?
        ),
        LEASEQ_OP_COMPLETE => run!(Outcome::Flag, queue.complete(&item), item = item()?),
        LEASEQ_OP_COMPLETE_MANY => run!(Outcome::Flags, queue.complete_many(&ids), ids = items()?),
        LEASEQ_OP_COMPLETE_AND_LEASE => run!(
            Outcome::FlagAndItems,
            queue.complete_and_lease(&item, lease, count),
            item = item()?,
            lease = lease()?,
            count = args.count
        ),
        LEASEQ_OP_FAIL => run!(
            Outcome::Failed,
            queue.fail(&item, &message, retry_after),
            item = item()?,
            message =
                unsafe { borrow_str(args.message.bytes, args.message.len, "error")? }.to_owned(),
            retry_after = optional(args.has_retry_after, "retry_after", args.retry_after_secs)?
        ),
        LEASEQ_OP_RELEASE => run!(Outcome::Flag, queue.release(&item), item = item()?),
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
        LEASEQ_OP_PAUSE => run!(|()| Outcome::Nothing, queue.pause()),
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
        let operation = unsafe { operation(&live(queue, "queue")?.inner, op, args)? };
        unsafe { block_on(operation)?.write_to(out_value) }
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
        let operation = unsafe { operation(&live(queue, "queue")?.inner, op, args)? };
        start(index, operation)
    })
}
