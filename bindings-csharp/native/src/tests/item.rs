use std::time::UNIX_EPOCH;

use leaseq::{DeadItem, Item};

use crate::item::*;
use crate::ops::Outcome;
use crate::*;

/// Lays `outcome` out as a value, hands it to `read`, then frees it (twice: once is a no-op).
fn with_value<T>(outcome: Outcome, read: impl FnOnce(&LeaseqValue) -> T) -> T {
    let mut value = outcome.into_value();
    let read = read(&value);
    unsafe { leaseq_value_free(&mut value) };
    assert!(value.items.is_null() && value.dead_items.is_null() && value.strings.is_null());
    unsafe { leaseq_value_free(&mut value) };
    unsafe { leaseq_value_free(std::ptr::null_mut()) };
    read
}

fn text(bytes: *const u8, len: usize) -> String {
    String::from_utf8(unsafe { std::slice::from_raw_parts(bytes, len) }.to_vec()).unwrap()
}

#[test]
fn items_round_trip_through_raw_buffers() {
    let items = vec![
        Item::with_id("a", b"data".to_vec()),
        Item::with_id("b", Vec::new()),
    ];
    let copied = with_value(Outcome::Items(items.clone()), |value| {
        assert_eq!(value.count, 2);
        unsafe { items_from_raw(value.items, value.count) }.unwrap()
    });
    assert_eq!(copied, items);
    with_value(Outcome::Items(Vec::new()), |value| {
        assert_eq!(value.count, 0)
    });
    let flags = with_value(Outcome::Flags(vec![true, false]), |value| unsafe {
        std::slice::from_raw_parts(value.flags, value.count).to_vec()
    });
    assert_eq!(flags, [1, 0]);
}

#[test]
fn string_lists_round_trip_and_free() {
    let texts = vec!["one".to_owned(), String::new(), "drei ü".to_owned()];
    let copied: Vec<String> = with_value(Outcome::Strings(texts.clone()), |value| unsafe {
        std::slice::from_raw_parts(value.strings, value.count)
            .iter()
            .map(|raw| text(raw.bytes, raw.len))
            .collect()
    });
    assert_eq!(copied, texts);
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
    with_value(Outcome::Dead(page), |value| {
        let entries = unsafe { std::slice::from_raw_parts(value.dead_items, value.count) };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].item.attempts, 3);
        assert_eq!(entries[0].item.fence, 41);
        assert_eq!(entries[0].died_at_unix_ms, 1_700_000_000_123);
        assert_eq!(text(entries[0].error, entries[0].error_len), "boom");
    });
    with_value(Outcome::Dead(Vec::new()), |value| {
        assert_eq!(value.count, 0)
    });
}

#[test]
fn id_arrays_must_be_utf8() {
    let good = [LeaseqStr {
        bytes: b"a".as_ptr(),
        len: 1,
    }];
    assert_eq!(
        unsafe { strs_from_raw(good.as_ptr(), 1, "id") }.unwrap(),
        ["a"]
    );
    let bad = [LeaseqStr {
        bytes: b"\xff".as_ptr(),
        len: 1,
    }];
    assert!(unsafe { strs_from_raw(bad.as_ptr(), 1, "id") }.is_err());
    assert!(unsafe { strs_from_raw(std::ptr::null(), 1, "id") }.is_err());
    assert!(unsafe { strs_from_raw(std::ptr::null(), 0, "id") }
        .unwrap()
        .is_empty());
}

#[test]
fn ids_are_checked_by_the_core() {
    let raw = |id: &[u8], fence| LeaseqItem {
        id: id.as_ptr(),
        id_len: id.len(),
        data: std::ptr::null(),
        data_len: 0,
        attempts: 0,
        fence,
    };
    assert!(unsafe { item_from_raw(&raw(b"", 0)) }.is_err());
    assert!(unsafe { item_from_raw(&raw(b"\xff", 0)) }.is_err());
    let item = unsafe { item_from_raw(&raw(b"x", 7)) }.unwrap();
    assert_eq!((item.id.as_str(), item.fence), ("x", 7));
}

/// What `leaseq_item_type_name` says of `data`: `Some(name)` or `None` (untyped).
fn type_name_of(data: &[u8]) -> Option<String> {
    let mut value: LeaseqValue = unsafe { std::mem::zeroed() };
    let code = unsafe {
        leaseq_item_type_name(data.as_ptr(), data.len(), &mut value, std::ptr::null_mut())
    };
    assert_eq!(code, 0);
    let names = unsafe { std::slice::from_raw_parts(value.strings, value.count) }
        .iter()
        .map(|raw| text(raw.bytes, raw.len))
        .collect::<Vec<_>>();
    unsafe { leaseq_value_free(&mut value) };
    assert!(names.len() <= 1, "{names:?}");
    names.into_iter().next()
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
    let mut name: LeaseqValue = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { leaseq_item_type_name(std::ptr::null(), 3, &mut name, &mut error) },
        3
    );
    assert!(name.strings.is_null());
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
