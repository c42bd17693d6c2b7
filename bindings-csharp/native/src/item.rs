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
    /// The fencing token of this delivery (0 when the item did not come from a lease); ignored
    /// in arguments (renew, complete, fail and release take it as a parameter of their own).
    pub fence: u64,
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
/// Returned by [`crate::leaseq_queue_dead_items`], it is owned by the caller, who frees it (and
/// everything in it) with [`leaseq_dead_items_free`]. Handed to the success callback, it is
/// borrowed for the callback's duration.
#[repr(C)]
pub struct LeaseqDeadItems {
    /// The items, oldest death first.
    pub items: *const LeaseqDeadItem,
    /// How many there are.
    pub len: usize,
}

/// Frees a page of dead letters returned through an `out_items` parameter. Null is ignored.
///
/// # Safety
/// The caller that received `items` from [`crate::leaseq_queue_dead_items`] frees it, once, with
/// this function, after copying what it needs. Pages handed to the success callback are
/// borrowed and must not be freed.
#[no_mangle]
pub unsafe extern "C" fn leaseq_dead_items_free(items: *mut LeaseqDeadItems) {
    if items.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: made by `dead_items_into_raw` with Box::into_raw, its buffers with it.
        let page = unsafe { Box::from_raw(items) };
        let entries = unsafe {
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                page.items as *mut LeaseqDeadItem,
                page.len,
            ))
        };
        for entry in entries.iter() {
            unsafe {
                free_bytes(entry.item.id, entry.item.id_len);
                free_bytes(entry.item.data, entry.item.data_len);
                free_bytes(entry.error, entry.error_len);
            }
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

/// Hands an item to the caller, who frees it with [`leaseq_item_free`].
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

/// Hands a page of dead letters to the caller, who frees it with [`leaseq_dead_items_free`].
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
    fn string_lists_round_trip_and_free() {
        let texts = vec!["one".to_owned(), String::new(), "drei ü".to_owned()];
        let list = owned_strs_into_raw(texts.clone());
        let copied: Vec<String> = unsafe {
            std::slice::from_raw_parts((*list).items, (*list).len)
                .iter()
                .map(|text| {
                    String::from_utf8(std::slice::from_raw_parts(text.bytes, text.len).to_vec())
                        .unwrap()
                })
                .collect()
        };
        assert_eq!(copied, texts);
        unsafe { leaseq_owned_strs_free(list) };
        // An empty list is a list, not null; null is ignored.
        let empty = owned_strs_into_raw(Vec::new());
        assert_eq!(unsafe { (*empty).len }, 0);
        unsafe { leaseq_owned_strs_free(empty) };
        unsafe { leaseq_owned_strs_free(std::ptr::null_mut()) };
    }

    #[test]
    fn dead_letters_round_trip_and_free() {
        let died_at = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        let page = vec![
            DeadItem {
                item: Item {
                    id: "a".into(),
                    data: b"one".to_vec(),
                    attempts: 3,
                    fence: 41,
                },
                error: "boom".into(),
                died_at,
            },
            DeadItem {
                item: Item::with_id("b", Vec::new()),
                error: String::new(),
                died_at: UNIX_EPOCH,
            },
        ];
        let raw = dead_items_into_raw(page);
        let entries = unsafe { std::slice::from_raw_parts((*raw).items, (*raw).len) };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].item.attempts, 3);
        assert_eq!(entries[0].item.fence, 41);
        assert_eq!(entries[0].died_at_unix_ms, 1_700_000_000_123);
        let error = unsafe { std::slice::from_raw_parts(entries[0].error, entries[0].error_len) };
        assert_eq!(error, b"boom");
        unsafe { leaseq_dead_items_free(raw) };
        unsafe { leaseq_dead_items_free(dead_items_into_raw(Vec::new())) };
        unsafe { leaseq_dead_items_free(std::ptr::null_mut()) };
    }

    #[test]
    fn id_arrays_must_be_utf8() {
        let good = [LeaseqStr {
            bytes: b"a".as_ptr(),
            len: 1,
        }];
        assert_eq!(unsafe { ids_from_raw(good.as_ptr(), 1) }.unwrap(), ["a"]);
        let bad = [LeaseqStr {
            bytes: b"\xff".as_ptr(),
            len: 1,
        }];
        assert!(unsafe { ids_from_raw(bad.as_ptr(), 1) }.is_err());
        assert!(unsafe { ids_from_raw(std::ptr::null(), 1) }.is_err());
        assert!(unsafe { ids_from_raw(std::ptr::null(), 0) }
            .unwrap()
            .is_empty());
    }

    #[test]
    fn ids_are_checked_by_the_core() {
        assert!(unsafe { id_item(std::ptr::null(), 0, 0) }.is_err());
        assert!(unsafe { id_item(b"\xff".as_ptr(), 1, 0) }.is_err());
        let item = unsafe { id_item(b"x".as_ptr(), 1, 7) }.unwrap();
        assert_eq!((item.id.as_str(), item.fence), ("x", 7));
    }

    /// What `leaseq_item_type_name` says of `data`: `Some(name)` or `None` (untyped).
    fn type_name_of(data: &[u8]) -> Option<String> {
        let mut name: *mut LeaseqOwnedStr = std::ptr::dangling_mut();
        let code = unsafe {
            leaseq_item_type_name(data.as_ptr(), data.len(), &mut name, std::ptr::null_mut())
        };
        assert_eq!(code, 0);
        if name.is_null() {
            return None;
        }
        let text = unsafe { std::slice::from_raw_parts((*name).bytes, (*name).len) };
        let text = String::from_utf8(text.to_vec()).unwrap();
        unsafe { leaseq_owned_str_free(name) };
        Some(text)
    }

    #[test]
    fn the_type_name_is_the_cores() {
        assert_eq!(
            type_name_of(br#"{"type": "email", "to": "a@b.c"}"#).as_deref(),
            Some("email")
        );
        assert_eq!(
            type_name_of(br#"{"to": 1, "type": "r\u00e9size \u2713"}"#).as_deref(),
            Some("r\u{e9}size \u{2713}")
        );
        assert_eq!(type_name_of(br#"{"type": ""}"#).as_deref(), Some(""));
        for untyped in [
            &br#"{"kind": "email"}"#[..],
            br#"{"type": 7}"#,
            br#"{"type": null}"#,
            br#""email""#,
            b"not json",
            b"",
        ] {
            assert_eq!(type_name_of(untyped), None, "{untyped:?}");
        }
        // Whatever the core answers, e.g. for a JSON array (serde reads a struct from one).
        for data in [&br#"{"type": "resize"}"#[..], br#"["email"]"#, br#"[7]"#] {
            assert_eq!(
                type_name_of(data),
                Item::with_id("x", data.to_vec()).type_name()
            );
        }
    }

    #[test]
    fn the_type_name_needs_its_arguments() {
        let mut error: *mut LeaseqError = std::ptr::null_mut();
        let mut name: *mut LeaseqOwnedStr = std::ptr::null_mut();
        assert_eq!(
            unsafe { leaseq_item_type_name(std::ptr::null(), 3, &mut name, &mut error) },
            3
        );
        assert!(name.is_null());
        unsafe { crate::leaseq_error_free(error) };
        let data = br#"{"type": "email"}"#;
        assert_eq!(
            unsafe {
                leaseq_item_type_name(
                    data.as_ptr(),
                    data.len(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            },
            3
        );
        unsafe { leaseq_owned_str_free(std::ptr::null_mut()) };
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
