use leaseq::{ErrorKind, Item};

use crate::ops::*;
use crate::{leaseq_error_free, LeaseqError, LeaseqQueue};

/// Arguments that name nothing: each test sets what its operation reads.
fn no_args() -> LeaseqArgs {
    // SAFETY: every field is a number, a null pointer or a struct of those: all-zero is valid.
    unsafe { std::mem::zeroed() }
}

/// Runs `op` both ways on `queue`: the sync entry's code and value, and the async entry's code.
fn both(queue: *const LeaseqQueue, op: u32, args: &LeaseqArgs) -> (u32, LeaseqValue, u32) {
    let mut value: LeaseqValue = unsafe { std::mem::zeroed() };
    let mut error: *mut LeaseqError = std::ptr::null_mut();
    let sync = unsafe { leaseq_queue_call(queue, op, args, &mut value, &mut error) };
    unsafe { leaseq_error_free(error) };
    // An index no callback waits for: these tests only look at what is refused at once.
    let started = unsafe { leaseq_queue_start(queue, op, args, u64::MAX, std::ptr::null_mut()) };
    (sync, value, started)
}

#[test]
fn both_entries_refuse_a_missing_queue_before_anything_runs() {
    let (sync, _, started) = both(std::ptr::null(), LEASEQ_OP_QUEUE_LEN, &no_args());
    assert_eq!((sync, started), (3, 3));
}

/// The table against a real Redis (`LEASEQ_REDIS_URL`, which `test.sh` sets); skipped without one.
#[test]
fn every_row_runs_its_core_operation() {
    let Ok(url) = std::env::var("LEASEQ_REDIS_URL") else {
        eprintln!("LEASEQ_REDIS_URL is not set: skipped");
        return;
    };
    let mut connection = std::ptr::null_mut();
    let mut queue = std::ptr::null_mut();
    let name = format!("native-ops-{}", std::process::id());
    unsafe {
        let options = std::ptr::null();
        let none = std::ptr::null_mut();
        let (url, len) = (url.as_ptr(), url.len());
        assert_eq!(
            crate::leaseq_connection_open_with_options(url, len, options, &mut connection, none),
            0
        );
        let (name, len) = (name.as_ptr(), name.len());
        assert_eq!(
            crate::leaseq_queue_new_with_options(
                connection,
                name,
                len,
                std::ptr::null(),
                &mut queue,
                none
            ),
            0
        );
    }
    let call = |op: u32, args: &LeaseqArgs| {
        let mut value: LeaseqValue = unsafe { std::mem::zeroed() };
        let code = unsafe { leaseq_queue_call(queue, op, args, &mut value, std::ptr::null_mut()) };
        assert_eq!(code, 0, "operation {op}");
        value
    };
    let mut args = no_args();
    let item = Item::with_id("one", b"data".to_vec());
    args.item = crate::item::item_view(&item);
    assert_eq!(call(LEASEQ_OP_ADD_ITEM, &args).number, 1);
    assert_eq!(call(LEASEQ_OP_ADD_ITEM, &args).number, 0, "the id exists");
    assert_eq!(call(LEASEQ_OP_QUEUE_LEN, &no_args()).number, 1);
    args.lease_secs = 30.0;
    let mut leased = call(LEASEQ_OP_LEASE, &args);
    assert_eq!(leased.count, 1);
    let fence = unsafe { (*leased.items).fence };
    assert_eq!(unsafe { (*leased.items).attempts }, 1);
    unsafe { leaseq_value_free(&mut leased) };
    assert!(leased.items.is_null(), "freed once");
    unsafe { leaseq_value_free(&mut leased) };
    assert_eq!(call(LEASEQ_OP_PROCESSING, &no_args()).number, 1);
    args.item.fence = fence;
    assert_eq!(call(LEASEQ_OP_COMPLETE, &args).number, 1);
    assert_eq!(call(LEASEQ_OP_COMPLETE, &args).number, 0, "once");
    let mut empty = call(LEASEQ_OP_LEASE, &args);
    assert_eq!(empty.count, 0, "no item, no block");
    unsafe { leaseq_value_free(&mut empty) };

    // Batches: leased in order, completed once each, in one crossing.
    let batch = [b"m1", b"m2", b"m3"]
        .map(|id| Item::with_id(std::str::from_utf8(id).unwrap(), b"x".to_vec()));
    let views = batch.each_ref().map(crate::item::item_view);
    let mut many = no_args();
    (many.items, many.count) = (views.as_ptr(), views.len());
    assert_eq!(call(LEASEQ_OP_ADD_ITEMS, &many).number, 3);
    (many.lease_secs, many.count) = (30.0, 5);
    let mut leased = call(LEASEQ_OP_LEASE_MANY, &many);
    let items = unsafe { crate::item::items_from_raw(leased.items, leased.count) }.unwrap();
    assert_eq!(
        items
            .iter()
            .map(|item| item.id.as_str())
            .collect::<Vec<_>>(),
        ["m1", "m2", "m3"]
    );
    (many.items, many.count) = (leased.items, leased.count);
    for expected in [1, 0] {
        let mut done = call(LEASEQ_OP_COMPLETE_MANY, &many);
        assert_eq!(
            unsafe { std::slice::from_raw_parts(done.flags, done.count) },
            [expected; 3]
        );
        unsafe { leaseq_value_free(&mut done) };
    }
    unsafe { leaseq_value_free(&mut leased) };
    for count in [0, 1001] {
        many.count = count;
        let mut value: LeaseqValue = unsafe { std::mem::zeroed() };
        let code = unsafe {
            leaseq_queue_call(
                queue,
                LEASEQ_OP_LEASE_MANY,
                &many,
                &mut value,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(code, 3, "lease_many of {count}");
    }
    assert_eq!(call(LEASEQ_OP_DEAD_LEN, &no_args()).number, 0);

    // Argument errors come back at once from either entry, before anything runs.
    args.lease_secs = -1.0;
    for op in [LEASEQ_OP_LEASE, LEASEQ_OP_RENEW] {
        let (sync, _, started) = both(queue, op, &args);
        assert_eq!((sync, started), (3, 3), "operation {op}");
    }
    let (sync, _, started) = both(queue, 99, &args);
    assert_eq!((sync, started), (ErrorKind::InvalidArgument.code(), 3));
    let mut error: *mut LeaseqError = std::ptr::null_mut();
    let code = unsafe {
        leaseq_queue_call(
            queue,
            LEASEQ_OP_QUEUE_LEN,
            &args,
            std::ptr::null_mut(),
            &mut error,
        )
    };
    assert_eq!(code, 3, "out_value is required");
    unsafe { leaseq_error_free(error) };

    assert_eq!(call(LEASEQ_OP_PURGE_ALL_DEAD, &no_args()).number, 0);
    unsafe { crate::leaseq_queue_free(queue) };
    unsafe { crate::leaseq_connection_free(connection) };
}
