//! The queue operations, synchronous: each blocks the calling thread until the core answers.
//!
//! Same order and meaning as `leaseq::WorkQueue` (see its docs). Every function here has the
//! same contract, not repeated on each:
//!
//! # Safety
//! `queue` must be a live handle from [`crate::leaseq_queue_new`]; every `(pointer, length)`
//! pair must be readable (a null pointer only with length 0); every `out_*` parameter must be
//! writable (`out_error` may be null). The caller frees an `out_item` with
//! [`crate::leaseq_item_free`], an `out_items` with [`crate::leaseq_dead_items_free`] and an
//! `out_error` with [`crate::leaseq_error_free`].

use std::time::UNIX_EPOCH;

use leaseq::{CleanReport, FailOutcome};

use crate::boundary::{block_on, borrow_str, call, write_out, LeaseqError};
use crate::handles::{queue, LeaseqQueue};
use crate::item::{
    dead_items_into_raw, id_item, ids_from_raw, item_from_raw, item_into_raw, items_from_raw,
    LeaseqDeadItems, LeaseqItem, LeaseqStr,
};
use crate::options::{add_options, LeaseqAddOptions};

/// [`LeaseqFailOutcome::kind`]: the item will be leased again, not before `retry_at_unix_ms`.
pub const LEASEQ_FAIL_RETRY: u32 = 1;
/// [`LeaseqFailOutcome::kind`]: that was its last attempt; it is in the dead letters.
pub const LEASEQ_FAIL_DEAD: u32 = 2;
/// [`LeaseqFailOutcome::kind`]: the item no longer exists (it was completed); nothing changed.
pub const LEASEQ_FAIL_GONE: u32 = 3;

/// What `fail` did with the item; see `leaseq::FailOutcome`.
#[repr(C)]
pub struct LeaseqFailOutcome {
    /// [`LEASEQ_FAIL_RETRY`], [`LEASEQ_FAIL_DEAD`] or [`LEASEQ_FAIL_GONE`].
    pub kind: u32,
    /// For a retry: when it becomes due, in milliseconds since the Unix epoch (Redis server
    /// clock); 0 otherwise.
    pub retry_at_unix_ms: i64,
}

impl From<FailOutcome> for LeaseqFailOutcome {
    fn from(outcome: FailOutcome) -> LeaseqFailOutcome {
        match outcome {
            FailOutcome::Retry { at } => LeaseqFailOutcome {
                kind: LEASEQ_FAIL_RETRY,
                retry_at_unix_ms: at.duration_since(UNIX_EPOCH).map_or(0, |since| {
                    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
                }),
            },
            FailOutcome::Dead => LeaseqFailOutcome {
                kind: LEASEQ_FAIL_DEAD,
                retry_at_unix_ms: 0,
            },
            FailOutcome::Gone => LeaseqFailOutcome {
                kind: LEASEQ_FAIL_GONE,
                retry_at_unix_ms: 0,
            },
        }
    }
}

/// `fail`'s optional delay as the core wants it; the core checks the float seconds.
pub(crate) fn retry_after(
    has_retry_after: bool,
    retry_after_secs: f64,
) -> leaseq::Result<Option<std::time::Duration>> {
    if has_retry_after {
        Ok(Some(leaseq::from_secs_f64(
            "retry_after",
            retry_after_secs,
        )?))
    } else {
        Ok(None)
    }
}

/// What a clean did: items requeued, and ids dropped because their item no longer exists.
#[repr(C)]
pub struct LeaseqCleanReport {
    /// Items whose lease had expired (or was never taken), returned to the queue.
    pub requeued: u64,
    /// Ids dropped from the lists because their item no longer exists.
    pub dropped: u64,
    /// Items whose lease expired on their last attempt, moved to the dead letters.
    pub dead: u64,
}

impl From<CleanReport> for LeaseqCleanReport {
    fn from(report: CleanReport) -> LeaseqCleanReport {
        LeaseqCleanReport {
            requeued: report.requeued,
            dropped: report.dropped,
            dead: report.dead,
        }
    }
}

/// Lease arguments as the core wants them; the core checks the float seconds.
pub(crate) fn lease_args(
    lease_secs: f64,
    has_timeout: bool,
    timeout_secs: f64,
) -> leaseq::Result<(std::time::Duration, Option<std::time::Duration>)> {
    let lease_duration = leaseq::lease_from_secs_f64(lease_secs)?;
    let timeout = if has_timeout {
        Some(leaseq::from_secs_f64("timeout", timeout_secs)?)
    } else {
        None
    };
    Ok((lease_duration, timeout))
}

/// Adds an item; `out_added` is false, changing nothing, if an item with this id already exists.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_add_item(
    queue: *const LeaseqQueue,
    id: *const u8,
    id_len: usize,
    data: *const u8,
    data_len: usize,
    out_added: *mut bool,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let item = unsafe { item_from_raw(id, id_len, data, data_len)? };
        let added = block_on(queue.add_item(&item))?;
        unsafe { write_out(out_added, added, "out_added") }
    })
}

/// Adds an item whose id the caller knows is new, skipping the existence check.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_add_unique_item(
    queue: *const LeaseqQueue,
    id: *const u8,
    id_len: usize,
    data: *const u8,
    data_len: usize,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let item = unsafe { item_from_raw(id, id_len, data, data_len)? };
        block_on(queue.add_unique_item(&item))
    })
}

/// Adds `count` items atomically; `out_added` is how many were added (ids that exist are skipped).
///
/// # Safety
/// See the module documentation; `items` must point to `count` readable [`LeaseqItem`]s.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_add_items(
    queue: *const LeaseqQueue,
    items: *const LeaseqItem,
    count: usize,
    out_added: *mut u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let items = unsafe { items_from_raw(items, count)? };
        let added = block_on(queue.add_items(&items))?;
        unsafe { write_out(out_added, added, "out_added") }
    })
}

/// Adds an item at a priority level, and/or not leasable before a delay or a time (null
/// `options`: as [`leaseq_queue_add_item`]). `out_added` is false, changing nothing, if the id
/// exists (or was completed within the uniqueness window).
///
/// # Safety
/// See the module documentation; a non-null `options` must be readable.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_add_item_with(
    queue: *const LeaseqQueue,
    id: *const u8,
    id_len: usize,
    data: *const u8,
    data_len: usize,
    options: *const LeaseqAddOptions,
    out_added: *mut bool,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let item = unsafe { item_from_raw(id, id_len, data, data_len)? };
        let options = unsafe { add_options(options)? };
        let added = block_on(queue.add_item_with(&item, &options))?;
        unsafe { write_out(out_added, added, "out_added") }
    })
}

/// Leases the next item for `lease_secs` seconds; `out_item` is null if there was none. With
/// `block`, waits for one, for at most `timeout_secs` if `has_timeout` (else for ever).
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_lease(
    queue: *const LeaseqQueue,
    lease_secs: f64,
    block: bool,
    has_timeout: bool,
    timeout_secs: f64,
    out_item: *mut *mut LeaseqItem,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        // Checked first: an item leased and then dropped here would wait out its lease.
        if out_item.is_null() {
            return Err(leaseq::Error::invalid_argument("out_item must not be null"));
        }
        let (lease_duration, timeout) = lease_args(lease_secs, has_timeout, timeout_secs)?;
        let leased = block_on(queue.lease(lease_duration, block, timeout))?;
        let item = leased.map_or(std::ptr::null_mut(), item_into_raw);
        // SAFETY: checked non-null; writable per the contract.
        unsafe { out_item.write(item) };
        Ok(())
    })
}

/// Extends the lease on item `id` to `lease_secs` from now, only while this queue's session holds
/// it; `out_renewed` says whether it did. `fence` is the fencing token of the delivery acted on
/// (0: none): with the queue's `fencing` on, a superseded one is LeaseLost (4), as it is for
/// complete, fail and release.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_renew(
    queue: *const LeaseqQueue,
    id: *const u8,
    id_len: usize,
    fence: u64,
    lease_secs: f64,
    out_renewed: *mut bool,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let item = unsafe { id_item(id, id_len, fence)? };
        let lease_duration = leaseq::lease_from_secs_f64(lease_secs)?;
        let renewed = block_on(queue.renew(&item, lease_duration))?;
        unsafe { write_out(out_renewed, renewed, "out_renewed") }
    })
}

/// Marks item `id` done; `out_completed` is true for exactly one call per item.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_complete(
    queue: *const LeaseqQueue,
    id: *const u8,
    id_len: usize,
    fence: u64,
    out_completed: *mut bool,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let item = unsafe { id_item(id, id_len, fence)? };
        let completed = block_on(queue.complete(&item))?;
        unsafe { write_out(out_completed, completed, "out_completed") }
    })
}

/// Ends the lease on item `id` with a failure, recording `error` (UTF-8): it is retried after
/// `retry_after_secs` if `has_retry_after`, else after the queue's backoff, until its attempts
/// reach the queue's `max_attempts`; then it moves to the dead letters. LeaseLost (4) if this
/// queue's session no longer holds the item.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_fail(
    queue: *const LeaseqQueue,
    id: *const u8,
    id_len: usize,
    fence: u64,
    error: *const u8,
    error_len: usize,
    has_retry_after: bool,
    retry_after_secs: f64,
    out_outcome: *mut LeaseqFailOutcome,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let item = unsafe { id_item(id, id_len, fence)? };
        let message = unsafe { borrow_str(error, error_len, "error")? };
        let retry_after = retry_after(has_retry_after, retry_after_secs)?;
        let outcome = block_on(queue.fail(&item, message, retry_after))?;
        unsafe { write_out(out_outcome, outcome.into(), "out_outcome") }
    })
}

/// Gives a leased item back at once, first in line at its level, without counting the attempt;
/// `out_released` is false if this queue's session no longer holds it.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_release(
    queue: *const LeaseqQueue,
    id: *const u8,
    id_len: usize,
    fence: u64,
    out_released: *mut bool,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let item = unsafe { id_item(id, id_len, fence)? };
        let released = block_on(queue.release(&item))?;
        unsafe { write_out(out_released, released, "out_released") }
    })
}

/// Returns expired leases to the queue and drops ids whose item is gone.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_light_clean(
    queue: *const LeaseqQueue,
    out_report: *mut LeaseqCleanReport,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let report = block_on(queue.light_clean())?;
        unsafe { write_out(out_report, report.into(), "out_report") }
    })
}

/// A light clean, then requeues items that are in no list and hold no lease.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_deep_clean(
    queue: *const LeaseqQueue,
    out_report: *mut LeaseqCleanReport,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let report = block_on(queue.deep_clean())?;
        unsafe { write_out(out_report, report.into(), "out_report") }
    })
}

/// The number of items waiting to be leased.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_len(
    queue: *const LeaseqQueue,
    out_len: *mut u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let len = block_on(queue.queue_len())?;
        unsafe { write_out(out_len, len, "out_len") }
    })
}

/// The number of items currently leased.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_processing(
    queue: *const LeaseqQueue,
    out_count: *mut u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let count = block_on(queue.processing())?;
        unsafe { write_out(out_count, count, "out_count") }
    })
}

/// The number of items waiting at a priority above the default.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_prioritized_len(
    queue: *const LeaseqQueue,
    out_len: *mut u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let len = block_on(queue.prioritized_len())?;
        unsafe { write_out(out_len, len, "out_len") }
    })
}

/// The number of items added with a delay (or scheduled) or waiting to be retried, not yet due.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_delayed_len(
    queue: *const LeaseqQueue,
    out_len: *mut u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let len = block_on(queue.delayed_len())?;
        unsafe { write_out(out_len, len, "out_len") }
    })
}

/// The number of items in the dead letters.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_dead_len(
    queue: *const LeaseqQueue,
    out_len: *mut u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let len = block_on(queue.dead_len())?;
        unsafe { write_out(out_len, len, "out_len") }
    })
}

/// A page of dead letters, oldest death first: `count` (1 to 1000) from `offset`. The caller
/// frees `out_items` with [`crate::leaseq_dead_items_free`].
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_dead_items(
    queue: *const LeaseqQueue,
    offset: u64,
    count: u64,
    out_items: *mut *mut LeaseqDeadItems,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        if out_items.is_null() {
            return Err(leaseq::Error::invalid_argument(
                "out_items must not be null",
            ));
        }
        let page = block_on(queue.dead_items(offset, count))?;
        // SAFETY: checked non-null; writable per the contract.
        unsafe { out_items.write(dead_items_into_raw(page)) };
        Ok(())
    })
}

/// Puts the dead items with these `count` ids back in the queue at their priority, attempts
/// reset; `out_count` is how many were dead.
///
/// # Safety
/// See the module documentation; `ids` must point to `count` readable [`LeaseqStr`]s.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_requeue_dead(
    queue: *const LeaseqQueue,
    ids: *const LeaseqStr,
    count: usize,
    out_count: *mut u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let ids = unsafe { ids_from_raw(ids, count)? };
        let requeued = block_on(queue.requeue_dead(&ids))?;
        unsafe { write_out(out_count, requeued, "out_count") }
    })
}

/// Deletes the dead items with these `count` ids for good; `out_count` is how many were dead.
///
/// # Safety
/// See the module documentation; `ids` must point to `count` readable [`LeaseqStr`]s.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_purge_dead(
    queue: *const LeaseqQueue,
    ids: *const LeaseqStr,
    count: usize,
    out_count: *mut u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let ids = unsafe { ids_from_raw(ids, count)? };
        let purged = block_on(queue.purge_dead(&ids))?;
        unsafe { write_out(out_count, purged, "out_count") }
    })
}

/// Requeues every dead item, 1000 per round trip; `out_count` is how many.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_requeue_all_dead(
    queue: *const LeaseqQueue,
    out_count: *mut u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let requeued = block_on(queue.requeue_all_dead())?;
        unsafe { write_out(out_count, requeued, "out_count") }
    })
}

/// Deletes every dead item, 1000 per round trip; `out_count` is how many.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_purge_all_dead(
    queue: *const LeaseqQueue,
    out_count: *mut u64,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let purged = block_on(queue.purge_all_dead())?;
        unsafe { write_out(out_count, purged, "out_count") }
    })
}

/// Pauses the queue: leases return nothing until [`leaseq_queue_resume`]; adds still succeed.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_pause(
    queue: *const LeaseqQueue,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        block_on(queue.pause())
    })
}

/// Resumes a paused queue and wakes its blocked leases; `out_was_paused` says whether it was.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_resume(
    queue: *const LeaseqQueue,
    out_was_paused: *mut bool,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let was_paused = block_on(queue.resume())?;
        unsafe { write_out(out_was_paused, was_paused, "out_was_paused") }
    })
}

/// Whether the queue is paused.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_is_paused(
    queue: *const LeaseqQueue,
    out_paused: *mut bool,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let paused = block_on(queue.is_paused())?;
        unsafe { write_out(out_paused, paused, "out_paused") }
    })
}
