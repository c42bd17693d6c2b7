//! Items across the boundary: borrowed in, owned (or borrowed, in a callback) out.

use std::panic::{catch_unwind, AssertUnwindSafe};

use std::time::UNIX_EPOCH;

use leaseq::{DeadItem, Item, Result};

use crate::boundary::{
    borrow_bytes, borrow_str, call, free_bytes, into_raw_bytes, write_out, LeaseqError,
};

/// An item as bytes: a UTF-8 id and opaque data (neither NUL-terminated), its attempts and the
/// fencing token of its delivery.
///
/// Passed in (an array for `add_items`), it is borrowed for the call; as a lease's result, it is
/// part of a [`crate::LeaseqValue`] (the worker's events borrow it for the callback).
#[repr(C)]
pub struct LeaseqItem {
    /// The id bytes.
    pub id: *const u8,
    /// The id length in bytes.
    pub id_len: usize,
    /// The data bytes.
    pub data: *const u8,
    /// The data length in bytes.
    pub data_len: usize,
    /// How many times the item has been leased, this lease included; ignored in arguments.
    pub attempts: u32,
    /// The fencing token of this delivery (0 when the item did not come from a lease); ignored
    /// in arguments (renew, complete, fail and release take it as a parameter of their own).
    pub fence: u64,
}

/// Frees an item made by [`item_into_raw`] (a [`crate::LeaseqValue`]'s). Null is ignored.
///
/// # Safety
/// `item` came from [`item_into_raw`] and is freed once.
pub(crate) unsafe fn free_item(item: *mut LeaseqItem) {
    if !item.is_null() {
        // SAFETY: made by Box::into_raw, its buffers with it.
        let item = unsafe { Box::from_raw(item) };
        unsafe { free_bytes(item.id, item.id_len) };
        unsafe { free_bytes(item.data, item.data_len) };
    }
}

/// A UTF-8 string argument (not NUL-terminated), borrowed for the call: an id in an array of ids.
#[repr(C)]
pub struct LeaseqStr {
    /// The bytes.
    pub bytes: *const u8,
    /// The length in bytes.
    pub len: usize,
}

/// An item in the dead letters; see `leaseq::DeadItem`.
#[repr(C)]
pub struct LeaseqDeadItem {
    /// The item, its data as added; `attempts` is how many leases it had.
    pub item: LeaseqItem,
    /// The error of its last failure (UTF-8, not NUL-terminated).
    pub error: *const u8,
    /// The error length in bytes.
    pub error_len: usize,
    /// When it died, in milliseconds since the Unix epoch (Redis server clock).
    pub died_at_unix_ms: i64,
}

/// A page of dead letters: `len` items at `items`, all owned by this page.
///
/// Part of a [`crate::LeaseqValue`], freed with it.
#[repr(C)]
pub struct LeaseqDeadItems {
    /// The items, oldest death first.
    pub items: *const LeaseqDeadItem,
    /// How many there are.
    pub len: usize,
}

/// Frees a page made by [`dead_items_into_raw`] (a [`crate::LeaseqValue`]'s). Null is ignored.
///
/// # Safety
/// `page` came from [`dead_items_into_raw`] and is freed once.
pub(crate) unsafe fn free_dead_items(page: *mut LeaseqDeadItems) {
    if page.is_null() {
        return;
    }
    // SAFETY: made by Box::into_raw, the entries and their buffers with it.
    let page = unsafe { Box::from_raw(page) };
    let entries = std::ptr::slice_from_raw_parts_mut(page.items as *mut LeaseqDeadItem, page.len);
    for entry in unsafe { Box::from_raw(entries) }.iter() {
        unsafe { free_bytes(entry.item.id, entry.item.id_len) };
        unsafe { free_bytes(entry.item.data, entry.item.data_len) };
        unsafe { free_bytes(entry.error, entry.error_len) };
    }
}

/// Checks, with the core's JSON parser, that `(json, json_len)` is one JSON document; returns 0
/// or InvalidArgument (3). The .NET `Item.FromJson` and `item.Json()` call it so that every
/// language accepts and refuses the same data.
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
        let bytes = unsafe { borrow_bytes(json, json_len, "json")? };
        let _: serde::de::IgnoredAny = Item::with_id("json", bytes.to_vec()).json()?;
        Ok(())
    })
}

/// A UTF-8 string (not NUL-terminated) handed to the caller, who frees it with
/// [`leaseq_owned_str_free`].
#[repr(C)]
pub struct LeaseqOwnedStr {
    /// The bytes, owned by this string.
    pub bytes: *const u8,
    /// The length in bytes.
    pub len: usize,
}

/// Frees a string written to an `out_…` parameter (e.g. by [`leaseq_item_type_name`]). Null is
/// ignored.
///
/// # Safety
/// The caller that received `text` frees it, once, with this function; `text` must not be used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn leaseq_owned_str_free(text: *mut LeaseqOwnedStr) {
    if text.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: made by `owned_str_into_raw` with Box::into_raw, its bytes with it.
        let text = unsafe { Box::from_raw(text) };
        unsafe { free_bytes(text.bytes, text.len) };
    }));
}

/// A list of UTF-8 strings handed to the caller: `len` strings at `items`, all owned by this list,
/// which the caller frees (and every string in it) with [`leaseq_owned_strs_free`].
#[repr(C)]
pub struct LeaseqOwnedStrs {
    /// The strings, in order.
    pub items: *const LeaseqOwnedStr,
    /// How many there are.
    pub len: usize,
}

/// Frees a list of strings written to an `out_…` parameter (e.g. by
/// [`crate::leaseq_connection_warnings`]). Null is ignored.
///
/// # Safety
/// The caller that received `list` frees it, once, with this function, after copying what it
/// needs; `list` must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn leaseq_owned_strs_free(list: *mut LeaseqOwnedStrs) {
    if list.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: made by `owned_strs_into_raw` with Box::into_raw, its buffers with it.
        let list = unsafe { Box::from_raw(list) };
        let items = unsafe {
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                list.items as *mut LeaseqOwnedStr,
                list.len,
            ))
        };
        for text in items.iter() {
            unsafe { free_bytes(text.bytes, text.len) };
        }
    }));
}

/// Hands a string to the caller, who frees it with [`leaseq_owned_str_free`].
fn owned_str_into_raw(text: String) -> *mut LeaseqOwnedStr {
    let (bytes, len) = into_raw_bytes(text.into_bytes());
    Box::into_raw(Box::new(LeaseqOwnedStr { bytes, len }))
}

/// Hands a list of strings to the caller, who frees it with [`leaseq_owned_strs_free`].
pub(crate) fn owned_strs_into_raw(texts: Vec<String>) -> *mut LeaseqOwnedStrs {
    let items: Box<[LeaseqOwnedStr]> = texts
        .into_iter()
        .map(|text| {
            let (bytes, len) = into_raw_bytes(text.into_bytes());
            LeaseqOwnedStr { bytes, len }
        })
        .collect();
    let len = items.len();
    Box::into_raw(Box::new(LeaseqOwnedStrs {
        items: Box::into_raw(items) as *const LeaseqOwnedStr,
        len,
    }))
}

/// The type of an item whose data is `(data, data_len)`, as the core's `Item::type_name` reads
/// it (the string field `type` of JSON object data), which is what a worker's routes match.
/// Writes to `out_name` a string the caller frees with [`leaseq_owned_str_free`], or null when
/// the item has no type (data that is not a JSON object with a string field `type`).
///
/// # Safety
/// `data` must point to `data_len` readable bytes (or be null with length 0); `out_name` must be
/// writable; `out_error` must be null or writable, and the caller frees what it receives with
/// [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_item_type_name(
    data: *const u8,
    data_len: usize,
    out_name: *mut *mut LeaseqOwnedStr,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let bytes = unsafe { borrow_bytes(data, data_len, "item data")? };
        let name = Item::with_id("type", bytes.to_vec())
            .type_name()
            .map(owned_str_into_raw)
            .unwrap_or(std::ptr::null_mut());
        let written = unsafe { write_out(out_name, name, "out_name") };
        if written.is_err() {
            unsafe { leaseq_owned_str_free(name) };
        }
        written
    })
}

/// Copies an item argument. The id is checked (UTF-8, not empty) by the core.
///
/// # Safety
/// Both pairs must be readable as [`borrow_bytes`] requires.
pub(crate) unsafe fn item_from_raw(
    id: *const u8,
    id_len: usize,
    data: *const u8,
    data_len: usize,
) -> Result<Item> {
    let id = unsafe { id_from_raw(id, id_len)? };
    let data = unsafe { borrow_bytes(data, data_len, "item data")? };
    Ok(Item::with_id(id, data.to_vec()))
}

/// An item carrying only its id and the fencing token of its delivery: renew, complete, fail
/// and release look at nothing else (a `fence` of 0 is not checked).
///
/// # Safety
/// The pair must be readable as [`borrow_bytes`] requires.
pub(crate) unsafe fn id_item(id: *const u8, id_len: usize, fence: u64) -> Result<Item> {
    let mut item = Item::with_id(unsafe { id_from_raw(id, id_len)? }, Vec::new());
    item.fence = fence;
    Ok(item)
}

unsafe fn id_from_raw(id: *const u8, id_len: usize) -> Result<String> {
    let bytes = unsafe { borrow_bytes(id, id_len, "item id")? };
    leaseq::id_from_bytes(bytes.to_vec())
}

/// Copies an array of `count` items.
///
/// # Safety
/// `items` must point to `count` readable [`LeaseqItem`]s whose buffers are readable.
pub(crate) unsafe fn items_from_raw(items: *const LeaseqItem, count: usize) -> Result<Vec<Item>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(leaseq::Error::invalid_argument("items must not be null"));
    }
    // SAFETY: non-null and `count` items per the contract.
    let items = unsafe { std::slice::from_raw_parts(items, count) };
    items
        .iter()
        .map(|item| unsafe { item_from_raw(item.id, item.id_len, item.data, item.data_len) })
        .collect()
}

/// Hands an item to the caller; [`free_item`] frees it.
pub(crate) fn item_into_raw(item: Item) -> *mut LeaseqItem {
    Box::into_raw(Box::new(owned_item(item)))
}

/// An item whose buffers the caller owns (freed with the struct that holds it).
fn owned_item(item: Item) -> LeaseqItem {
    let (attempts, fence) = (item.attempts, item.fence);
    let (id, id_len) = into_raw_bytes(item.id.into_bytes());
    let (data, data_len) = into_raw_bytes(item.data);
    LeaseqItem {
        id,
        id_len,
        data,
        data_len,
        attempts,
        fence,
    }
}

/// Hands a page of dead letters to the caller; [`free_dead_items`] frees it.
pub(crate) fn dead_items_into_raw(page: Vec<DeadItem>) -> *mut LeaseqDeadItems {
    let entries: Box<[LeaseqDeadItem]> = page
        .into_iter()
        .map(|dead| {
            let died_at_unix_ms = match dead.died_at.duration_since(UNIX_EPOCH) {
                Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
                Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
            };
            let (error, error_len) = into_raw_bytes(dead.error.into_bytes());
            LeaseqDeadItem {
                item: owned_item(dead.item),
                error,
                error_len,
                died_at_unix_ms,
            }
        })
        .collect();
    let len = entries.len();
    Box::into_raw(Box::new(LeaseqDeadItems {
        items: Box::into_raw(entries) as *const LeaseqDeadItem,
        len,
    }))
}

/// Copies an array of `count` ids (UTF-8; the core decides what an id it does not know means).
///
/// # Safety
/// `ids` must point to `count` readable [`LeaseqStr`]s whose bytes are readable.
pub(crate) unsafe fn ids_from_raw(ids: *const LeaseqStr, count: usize) -> Result<Vec<String>> {
    unsafe { strs_from_raw(ids, count, "ids", "item id") }
}

/// Copies an array of `count` UTF-8 strings; `array` and `each` name them in errors.
///
/// # Safety
/// `strs` must point to `count` readable [`LeaseqStr`]s whose bytes are readable.
pub(crate) unsafe fn strs_from_raw(
    strs: *const LeaseqStr,
    count: usize,
    array: &str,
    each: &str,
) -> Result<Vec<String>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if strs.is_null() {
        return Err(leaseq::Error::invalid_argument(format!(
            "{array} must not be null"
        )));
    }
    // SAFETY: non-null and `count` entries per the contract.
    let strs = unsafe { std::slice::from_raw_parts(strs, count) };
    strs.iter()
        .map(|raw| unsafe { borrow_str(raw.bytes, raw.len, each) }.map(str::to_owned))
        .collect()
}

/// A view of `item` valid while `item` lives, for the success callback.
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
