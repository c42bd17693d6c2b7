//! The queue operations, synchronous: each blocks the calling thread until the core answers.
//!
//! Same order and meaning as `leaseq::WorkQueue` (see its docs). Every function here has the
//! same contract, not repeated on each:
//!
//! # Safety
//! `queue` must be a live handle from [`crate::leaseq_queue_new`]; every `(pointer, length)`
//! pair must be readable (a null pointer only with length 0); every `out_*` parameter must be
//! writable (`out_error` may be null). The caller frees an `out_item` with
//! [`crate::leaseq_item_free`] and an `out_error` with [`crate::leaseq_error_free`].

use leaseq::CleanReport;

use crate::boundary::{block_on, call, write_out, LeaseqError};
use crate::handles::{queue, LeaseqQueue};
use crate::item::{id_item, item_from_raw, item_into_raw, items_from_raw, LeaseqItem};

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
/// it; `out_renewed` says whether it did.
///
/// # Safety
/// See the module documentation.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_renew(
    queue: *const LeaseqQueue,
    id: *const u8,
    id_len: usize,
    lease_secs: f64,
    out_renewed: *mut bool,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let item = unsafe { id_item(id, id_len)? };
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
    out_completed: *mut bool,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let queue = unsafe { self::queue(queue)? };
        let item = unsafe { id_item(id, id_len)? };
        let completed = block_on(queue.complete(&item))?;
        unsafe { write_out(out_completed, completed, "out_completed") }
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
