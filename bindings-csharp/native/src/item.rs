//! Items across the boundary: borrowed in, owned (or borrowed, in a callback) out.

use std::time::UNIX_EPOCH;

use leaseq::{DeadItem, Item, Result};

use crate::boundary::{borrow_slice, borrow_str, call, into_raw, take_raw, LeaseqError};
use crate::ops::{LeaseqValue, Outcome};

/// An item as bytes: a UTF-8 id and opaque data (neither NUL-terminated), its attempts and the
/// fencing token of its delivery. Passed in, it is borrowed for the call; in a [`LeaseqValue`]
/// it is owned by the value (the worker's events borrow it for the callback).
#[repr(C)]
pub struct LeaseqItem {
    pub id: *const u8,
    pub id_len: usize,
    pub data: *const u8,
    pub data_len: usize,
    /// How many times the item has been leased, this lease included; ignored in arguments.
    pub attempts: u32,
    /// The fencing token of this delivery (0: none, not checked); in arguments, what renew,
    /// complete, fail and release check.
    pub fence: u64,
}

/// A UTF-8 string (not NUL-terminated): borrowed in arguments, owned by the value in results.
#[repr(C)]
pub struct LeaseqStr {
    pub bytes: *const u8,
    pub len: usize,
}

/// An item in the dead letters, its error (UTF-8) and when it died (milliseconds since the Unix
/// epoch); see `leaseq::DeadItem`.
#[repr(C)]
pub struct LeaseqDeadItem {
    pub item: LeaseqItem,
    pub error: *const u8,
    pub error_len: usize,
    pub died_at_unix_ms: i64,
}

/// Checks with the core's JSON parser that `(json, json_len)` is one JSON document (else an
/// InvalidArgument error), so that every language accepts and refuses the same data.
///
/// # Safety
/// `json` must point to `json_len` readable bytes (or be null with length 0); `out_error` must
/// be null or writable, and the caller frees what it receives with [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_json_check(
    json: *const u8,
    json_len: usize,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let bytes = unsafe { borrow_slice(json, json_len, "json")? };
        let _: serde::de::IgnoredAny = Item::with_id("json", bytes.to_vec()).json()?;
        Ok(())
    })
}

/// The type of an item whose data is `(data, data_len)`, as the core's `Item::type_name` reads
/// it, which is what a worker's routes match: written to `out_value`'s `strings`, one (the type)
/// or none (an untyped item).
///
/// # Safety
/// `data` must point to `data_len` readable bytes (or be null with length 0); `out_value` must be
/// writable; `out_error` must be null or writable. The caller frees the value with
/// [`crate::leaseq_value_free`] and an error with [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_item_type_name(
    data: *const u8,
    data_len: usize,
    out_value: *mut LeaseqValue,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let bytes = unsafe { borrow_slice(data, data_len, "item data")? };
        let name = Item::with_id("type", bytes.to_vec()).type_name();
        unsafe { Outcome::Strings(name.into_iter().collect()).write_to(out_value) }
    })
}

/// Copies an item argument: id (checked by the core), data and fencing token.
///
/// # Safety
/// Both buffers of `raw` must be readable as [`borrow_slice`] requires.
pub(crate) unsafe fn item_from_raw(raw: &LeaseqItem) -> Result<Item> {
    let id = unsafe { borrow_slice(raw.id, raw.id_len, "item id")? };
    let data = unsafe { borrow_slice(raw.data, raw.data_len, "item data")? };
    let mut item = Item::with_id(leaseq::id_from_bytes(id.to_vec())?, data.to_vec());
    item.fence = raw.fence;
    Ok(item)
}

/// Copies an array of `count` items.
///
/// # Safety
/// `items` must point to `count` readable [`LeaseqItem`]s whose buffers are readable.
pub(crate) unsafe fn items_from_raw(items: *const LeaseqItem, count: usize) -> Result<Vec<Item>> {
    let items = unsafe { borrow_slice(items, count, "items")? };
    items
        .iter()
        .map(|item| unsafe { item_from_raw(item) })
        .collect()
}

/// Copies an array of `count` UTF-8 strings (ids, route names); `what` names one in errors.
///
/// # Safety
/// `strs` must point to `count` readable [`LeaseqStr`]s whose bytes are readable.
pub(crate) unsafe fn strs_from_raw(
    strs: *const LeaseqStr,
    count: usize,
    what: &str,
) -> Result<Vec<String>> {
    let strs = unsafe { borrow_slice(strs, count, what)? };
    strs.iter()
        .map(|raw| unsafe { borrow_str(raw.bytes, raw.len, what) }.map(str::to_owned))
        .collect()
}

/// An item whose buffers the caller owns; [`free_item`] frees them.
pub(crate) fn owned_item(item: Item) -> LeaseqItem {
    let (id, id_len) = into_raw(item.id.into_bytes());
    let (data, data_len) = into_raw(item.data);
    let (attempts, fence) = (item.attempts, item.fence);
    LeaseqItem {
        id,
        id_len,
        data,
        data_len,
        attempts,
        fence,
    }
}

/// # Safety
/// `item` came from [`owned_item`] and is freed once.
pub(crate) unsafe fn free_item(item: &LeaseqItem) {
    drop(unsafe { take_raw(item.id, item.id_len) });
    drop(unsafe { take_raw(item.data, item.data_len) });
}

/// A string whose bytes the caller owns; freed with `take_raw`.
pub(crate) fn owned_str(text: String) -> LeaseqStr {
    let (bytes, len) = into_raw(text.into_bytes());
    LeaseqStr { bytes, len }
}

/// A dead letter whose buffers the caller owns; [`free_dead_item`] frees them.
pub(crate) fn owned_dead_item(dead: DeadItem) -> LeaseqDeadItem {
    let died_at_unix_ms = match dead.died_at.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    };
    let (error, error_len) = into_raw(dead.error.into_bytes());
    LeaseqDeadItem {
        item: owned_item(dead.item),
        error,
        error_len,
        died_at_unix_ms,
    }
}

/// # Safety
/// `dead` came from [`owned_dead_item`] and is freed once.
pub(crate) unsafe fn free_dead_item(dead: &LeaseqDeadItem) {
    unsafe { free_item(&dead.item) };
    drop(unsafe { take_raw(dead.error, dead.error_len) });
}

/// A view of `item` valid while `item` lives, for a worker event.
pub(crate) fn item_view(item: &Item) -> LeaseqItem {
    LeaseqItem {
        id: item.id.as_ptr(),
        id_len: item.id.len(),
        data: item.data.as_ptr(),
        data_len: item.data.len(),
        attempts: item.attempts,
        fence: item.fence,
    }
}
