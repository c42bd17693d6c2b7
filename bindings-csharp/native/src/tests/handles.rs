use std::net::TcpListener;
use std::time::{Duration, Instant};

use leaseq::ErrorKind;

use crate::leaseq_error_free;
use crate::*;

fn options(connect: f64, has_response: u8, response: f64) -> LeaseqConnectionOptions {
    LeaseqConnectionOptions {
        connect_timeout_secs: connect,
        has_response_timeout: has_response,
        response_timeout_secs: response,
    }
}

/// Opens `url` with `options`: the status code and the error message (the handle is freed).
fn open(url: &str, options: *const LeaseqConnectionOptions) -> (u32, String) {
    let mut connection = std::ptr::null_mut();
    let mut error: *mut LeaseqError = std::ptr::null_mut();
    let code = unsafe {
        leaseq_connection_open_with_options(
            url.as_ptr(),
            url.len(),
            options,
            &mut connection,
            &mut error,
        )
    };
    let message = unsafe { error.as_ref() }.map_or_else(String::new, |error| {
        let bytes = unsafe { std::slice::from_raw_parts(error.message, error.message_len) };
        String::from_utf8(bytes.to_vec()).unwrap()
    });
    unsafe { leaseq_error_free(error) };
    unsafe { leaseq_connection_free(connection) };
    (code, message)
}

#[test]
fn warnings_need_a_connection_and_somewhere_to_write() {
    let warnings_of = |out_value: *mut LeaseqValue| {
        let mut error: *mut LeaseqError = std::ptr::null_mut();
        let code = unsafe { leaseq_connection_warnings(std::ptr::null(), out_value, &mut error) };
        let message = unsafe { error.as_ref() }.map_or_else(String::new, |error| {
            let bytes = unsafe { std::slice::from_raw_parts(error.message, error.message_len) };
            String::from_utf8(bytes.to_vec()).unwrap()
        });
        unsafe { leaseq_error_free(error) };
        (code, message)
    };
    let mut warnings: LeaseqValue = unsafe { std::mem::zeroed() };
    let (code, message) = warnings_of(&mut warnings);
    assert_eq!(code, ErrorKind::InvalidArgument.code());
    assert!(message.contains("connection handle"), "{message}");
    assert!(warnings.strings.is_null());
}

#[test]
fn timeouts_the_core_refuses_are_invalid_arguments_before_any_connect() {
    // Nothing listens on port 1: a connect would be a Connection error, not InvalidArgument.
    let url = "redis://127.0.0.1:1";
    for (raw, what) in [
        (options(0.0, 1, 1.0), "connect timeout"),
        (options(1.0, 1, 0.0), "response timeout"),
        (options(-1.0, 1, 1.0), "connect timeout"),
        (options(1.0, 1, -0.001), "response timeout"),
    ] {
        let (code, message) = open(url, &raw);
        assert_eq!(code, ErrorKind::InvalidArgument.code(), "{message}");
        assert!(message.contains(what), "{message}");
    }
    // Null options are the defaults; no response timeout (flag 0) is valid too.
    assert_eq!(open(url, std::ptr::null()).0, ErrorKind::Connection.code());
    assert_eq!(
        open(url, &options(1.0, 0, 0.0)).0,
        ErrorKind::Connection.code()
    );
}

#[test]
fn the_connect_timeout_bounds_an_open_on_a_server_that_never_answers() {
    // It covers the handshake too; the core tries 3 times (with the default 5 s, over 15 s).
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    let started = Instant::now();
    let (code, message) = open(&url, &options(0.3, 0, 0.0));
    let elapsed = started.elapsed();
    assert_eq!(code, ErrorKind::Connection.code(), "{message}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    drop(silent);
}
