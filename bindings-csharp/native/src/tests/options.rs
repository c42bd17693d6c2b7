use std::time::{Duration, UNIX_EPOCH};

use leaseq::ConnectionOptions;

use crate::options::*;

/// Reads `raw` back with `read`: the core's defaults, as null reads too.
fn reads_as_default<Raw, Core: PartialEq + std::fmt::Debug + Default>(
    raw: &Raw,
    read: unsafe fn(*const Raw) -> leaseq::Result<Core>,
) {
    assert_eq!(unsafe { read(raw) }.unwrap(), Core::default());
    assert_eq!(unsafe { read(std::ptr::null()) }.unwrap(), Core::default());
}

#[test]
fn defaults_are_the_core_defaults_and_read_back_as_them() {
    let (mut connection, mut queue, mut worker) =
        unsafe { (std::mem::zeroed(), std::mem::zeroed(), std::mem::zeroed()) };
    unsafe { leaseq_options_default(&mut connection, &mut queue, &mut worker) };
    unsafe {
        leaseq_options_default(
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(connection.has_response_timeout, 1);
    reads_as_default(&connection, connection_options);
    reads_as_default(&queue, queue_options);
    reads_as_default(&worker, worker_options);
}

#[test]
fn values_the_core_types_cannot_hold_are_invalid_arguments() {
    let add = |priority: i32, at_unix_ms: i64| LeaseqAddOptions {
        priority,
        has_delay: 0,
        delay_secs: 0.0,
        has_at: 1,
        at_unix_ms,
    };
    assert!(unsafe { add_options(&add(-1, 0)) }.is_err());
    assert!(unsafe { add_options(&add(256, 0)) }.is_err());
    // 10 fits a u8: the core refuses it, not this layer.
    assert_eq!(unsafe { add_options(&add(10, 0)) }.unwrap().priority, 10);
    let before_1970 = unsafe { add_options(&add(0, -1000)) }.unwrap();
    assert_eq!(
        before_1970.at,
        Some(UNIX_EPOCH - Duration::from_secs(1)),
        "kept, for the core to refuse"
    );
    let negative_delay = LeaseqAddOptions {
        has_delay: 1,
        delay_secs: -1.0,
        ..add(0, 0)
    };
    assert!(unsafe { add_options(&negative_delay) }.is_err());

    let queue = LeaseqQueueOptions {
        max_attempts: -3,
        backoff_base_secs: 1.0,
        backoff_max_secs: 2.0,
        unique_window_secs: 0.0,
        clean_grace_secs: 0.5,
        wait_replicas: 2,
        wait_timeout_secs: 0.25,
        fencing: 1,
    };
    let copied = unsafe { queue_options(&queue) }.unwrap();
    assert_eq!(copied.max_attempts, 0);
    assert_eq!(
        (
            copied.clean_grace,
            copied.wait_replicas,
            copied.wait_timeout,
            copied.fencing
        ),
        (
            Duration::from_millis(500),
            2,
            Duration::from_millis(250),
            true
        )
    );
    for (bad, what) in [
        (
            LeaseqQueueOptions {
                wait_replicas: -1,
                ..queue
            },
            "wait_replicas",
        ),
        (
            LeaseqQueueOptions {
                clean_grace_secs: f64::NAN,
                ..queue
            },
            "clean_grace",
        ),
        (
            LeaseqQueueOptions {
                wait_timeout_secs: -1.0,
                ..queue
            },
            "wait_timeout",
        ),
    ] {
        let err = unsafe { queue_options(&bad) }.unwrap_err();
        assert_eq!(err.kind(), leaseq::ErrorKind::InvalidArgument);
        assert!(err.message().contains(what), "{}", err.message());
    }
}

#[test]
fn connection_options_read_the_flag_and_refuse_negatives() {
    let raw = |connect: f64, has_response: u8, response: f64| LeaseqConnectionOptions {
        connect_timeout_secs: connect,
        has_response_timeout: has_response,
        response_timeout_secs: response,
    };
    assert_eq!(
        unsafe { connection_options(&raw(0.25, 1, 0.2)) }.unwrap(),
        ConnectionOptions {
            connect_timeout: Duration::from_millis(250),
            response_timeout: Some(Duration::from_millis(200)),
        }
    );
    // Without the flag the value is ignored (even one that would be refused): wait for ever.
    assert_eq!(
        unsafe { connection_options(&raw(1.0, 0, -1.0)) }
            .unwrap()
            .response_timeout,
        None
    );
    for (options, what) in [
        (raw(-1.0, 1, 1.0), "connect timeout"),
        (raw(1.0, 1, -0.5), "response timeout"),
        (raw(f64::NAN, 0, 0.0), "connect timeout"),
    ] {
        let err = unsafe { connection_options(&options) }.unwrap_err();
        assert_eq!(err.kind(), leaseq::ErrorKind::InvalidArgument);
        assert!(err.message().contains(what), "{}", err.message());
    }
    // Zero fits a Duration: the core refuses it when the connection opens, not this layer.
    assert_eq!(
        unsafe { connection_options(&raw(0.0, 1, 0.0)) }.unwrap(),
        ConnectionOptions {
            connect_timeout: Duration::ZERO,
            response_timeout: Some(Duration::ZERO),
        }
    );
}
