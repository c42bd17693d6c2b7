//! Items across the boundary: borrowed in, owned (or borrowed, in a callback) out.

use std::panic::{catch_unwind, AssertUnwindSafe};

use leaseq::{Item, Result};

use crate::boundary::{borrow_bytes, call, free_bytes, into_raw_bytes, LeaseqError};

/// An item as bytes: a UTF-8 id and opaque data (neither NUL-terminated), and its attempts.
///
/// Passed in (an array for `add_items`), it is borrowed for the call. Returned by
/// [`crate::leaseq_queue_lease`], it is owned by the caller, who frees it with [`leaseq_item_free`].
/// Handed to the success callback, it is borrowed for the callback's duration.
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
}

/// Frees an item returned through an `out_item` parameter. Null is ignored.
///
/// # Safety
/// The caller that received `item` from [`crate::leaseq_queue_lease`] frees it, once, with this
/// function, after copying what it needs; `item` must not be used afterwards. Items handed to the
/// success callback are borrowed and must not be freed.
#[no_mangle]
pub unsafe extern "C" fn leaseq_item_free(item: *mut LeaseqItem) {
    if item.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: made by `item_into_raw` with Box::into_raw, its buffers with it.
        let item = unsafe { Box::from_raw(item) };
        unsafe {
            free_bytes(item.id, item.id_len);
            free_bytes(item.data, item.data_len);
        }
    }));
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

/// An item carrying only its id: `renew` and `complete` look at nothing else.
///
/// # Safety
/// The pair must be readable as [`borrow_bytes`] requires.
pub(crate) unsafe fn id_item(id: *const u8, id_len: usize) -> Result<Item> {
    Ok(Item::with_id(
        unsafe { id_from_raw(id, id_len)? },
        Vec::new(),
    ))
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

/// Hands an item to the caller, who frees it with [`leaseq_item_free`].
pub(crate) fn item_into_raw(item: Item) -> *mut LeaseqItem {
    let attempts = item.attempts;
    let (id, id_len) = into_raw_bytes(item.id.into_bytes());
    let (data, data_len) = into_raw_bytes(item.data);
    Box::into_raw(Box::new(LeaseqItem {
        id,
        id_len,
        data,
        data_len,
        attempts,
    }))
}

/// A view of `item` valid while `item` lives, for the success callback.
pub(crate) fn item_view(item: &Item) -> LeaseqItem {
    LeaseqItem {
        id: item.id.as_ptr(),
        id_len: item.id.len(),
        data: item.data.as_ptr(),
        data_len: item.data.len(),
        attempts: item.attempts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_through_raw_buffers() {
        let raw = item_into_raw(Item::with_id("a", b"data".to_vec()));
        let copied =
            unsafe { item_from_raw((*raw).id, (*raw).id_len, (*raw).data, (*raw).data_len) }
                .unwrap();
        assert_eq!(copied, Item::with_id("a", b"data".to_vec()));
        unsafe { leaseq_item_free(raw) };
        // Empty data is a valid item.
        let raw = item_into_raw(Item::with_id("b", Vec::new()));
        unsafe { leaseq_item_free(raw) };
    }

    #[test]
    fn ids_are_checked_by_the_core() {
        assert!(unsafe { id_item(std::ptr::null(), 0) }.is_err());
        assert!(unsafe { id_item(b"\xff".as_ptr(), 1) }.is_err());
        assert_eq!(unsafe { id_item(b"x".as_ptr(), 1) }.unwrap().id, "x");
    }

    #[test]
    fn json_is_checked_by_the_core() {
        let ok = br#"{"a": [1, 2]}"#;
        assert_eq!(
            unsafe { leaseq_json_check(ok.as_ptr(), ok.len(), std::ptr::null_mut()) },
            0
        );
        let bad = b"{nope";
        assert_eq!(
            unsafe { leaseq_json_check(bad.as_ptr(), bad.len(), std::ptr::null_mut()) },
            3
        );
    }
}
