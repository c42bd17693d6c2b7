use std::net::TcpListener;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::time::Duration;

use std::sync::Mutex;

use leaseq::ErrorKind;

use crate::async_ops::*;
use crate::*;

/// What the test callbacks saw: (index, kind, connection handle made).
static SEEN: Mutex<Option<SyncSender<(u64, u32, bool)>>> = Mutex::new(None);

extern "C" fn on_success(index: u64, value: *const LeaseqValue) {
    let connection = unsafe { (*value).connection };
    unsafe { crate::leaseq_connection_free(connection) };
    report(index, u32::MAX, !connection.is_null());
}

extern "C" fn on_failure(index: u64, kind: u32, _message: *const u8, _len: usize) {
    report(index, kind, false);
}

fn report(index: u64, kind: u32, made: bool) {
    if let Some(seen) = SEEN.lock().unwrap().as_ref() {
        seen.send((index, kind, made)).unwrap();
    }
}

/// Opens `url` asynchronously with the default options.
fn open_async(index: u64, url: &[u8], out_error: *mut *mut crate::LeaseqError) -> u32 {
    let options = std::ptr::null();
    unsafe {
        leaseq_connection_open_with_options_async(
            index,
            url.as_ptr(),
            url.len(),
            options,
            out_error,
        )
    }
}

/// One test, because the callbacks and the dispatcher are process-wide.
#[test]
fn every_started_operation_gets_exactly_one_callback() {
    let (sender, seen) = sync_channel(16);
    *SEEN.lock().unwrap() = Some(sender);
    let mut error = std::ptr::null_mut();
    // Nothing is started before init.
    let url = b"redis://127.0.0.1:1";
    let code = open_async(1, url, &mut error);
    assert_eq!(code, ErrorKind::Internal.code());
    unsafe { crate::leaseq_error_free(error) };

    assert_eq!(
        unsafe { leaseq_init(Some(on_success), Some(on_failure), std::ptr::null_mut()) },
        0
    );
    assert_eq!(
        unsafe { leaseq_init(Some(on_success), Some(on_failure), std::ptr::null_mut()) },
        0
    );
    assert_eq!(
        unsafe { leaseq_init(Some(on_success), None, std::ptr::null_mut()) },
        3
    );
    let dispatcher = std::thread::spawn(|| unsafe { leaseq_dispatch(std::ptr::null_mut()) });
    let wait = || seen.recv_timeout(Duration::from_secs(20)).unwrap();

    // A failure arrives with the core's kind.
    let bad = b"http://nope";
    assert_eq!(open_async(2, bad.as_ref(), std::ptr::null_mut()), 0);
    assert_eq!(wait(), (2, ErrorKind::InvalidArgument.code(), false));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = format!("redis://127.0.0.1:{port}");
    assert_eq!(open_async(3, refused.as_ref(), std::ptr::null_mut()), 0);
    assert_eq!(wait(), (3, ErrorKind::Connection.code(), false));

    // With options: a zero timeout is the core's to refuse (a failure callback), a negative one
    // this layer's (an error returned at once, and no callback).
    let options = |connect_timeout_secs: f64| LeaseqConnectionOptions {
        connect_timeout_secs,
        has_response_timeout: 0,
        response_timeout_secs: 0.0,
    };
    let open_with = |index: u64, options: &LeaseqConnectionOptions| unsafe {
        leaseq_connection_open_with_options_async(
            index,
            refused.as_ptr(),
            refused.len(),
            options,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(open_with(5, &options(0.0)), 0);
    assert_eq!(wait(), (5, ErrorKind::InvalidArgument.code(), false));
    assert_eq!(open_with(6, &options(1.0)), 0);
    assert_eq!(wait(), (6, ErrorKind::Connection.code(), false));
    assert_eq!(
        open_with(7, &options(-1.0)),
        ErrorKind::InvalidArgument.code()
    );

    // A server that accepts and never answers: the open waits, and cancelling it reports once.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("redis://{}", silent.local_addr().unwrap());
    assert_eq!(open_async(4, silent_url.as_ref(), std::ptr::null_mut()), 0);
    std::thread::sleep(Duration::from_millis(200));
    assert!(leaseq_cancel(4), "still running");
    assert_eq!(wait(), (4, LEASEQ_CANCELLED, false));
    assert!(!leaseq_cancel(4), "cancelled once");
    assert!(!leaseq_cancel(99), "never started");

    leaseq_dispatch_stop();
    assert_eq!(dispatcher.join().unwrap(), 0);
    assert!(seen.try_recv().is_err(), "no second callback");
    drop(silent);
}
