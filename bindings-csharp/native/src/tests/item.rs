use std::time::UNIX_EPOCH;

use leaseq::{DeadItem, Item};

use crate::item::*;
use crate::*;

#[test]
fn items_round_trip_through_raw_buffers() {
    let raw = item_into_raw(Item::with_id("a", b"data".to_vec()));
    let copied =
        unsafe { item_from_raw((*raw).id, (*raw).id_len, (*raw).data, (*raw).data_len) }.unwrap();
    assert_eq!(copied, Item::with_id("a", b"data".to_vec()));
    unsafe { free_item(raw) };
    // Empty data is a valid item.
    let raw = item_into_raw(Item::with_id("b", Vec::new()));
    unsafe { free_item(raw) };
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
    unsafe { free_dead_items(raw) };
    unsafe { free_dead_items(dead_items_into_raw(Vec::new())) };
    unsafe { free_dead_items(std::ptr::null_mut()) };
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
