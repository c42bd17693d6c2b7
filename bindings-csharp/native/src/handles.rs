//! Handles: a connection and a queue, each an owned box the caller frees once.

use std::panic::{catch_unwind, AssertUnwindSafe};

use leaseq::{Connection, Error, Result, WorkQueue};

use crate::boundary::{block_on, borrow_str, call, write_out, LeaseqError};
use crate::item::{owned_strs_into_raw, LeaseqOwnedStrs};
use crate::options::{
    connection_options, queue_options, LeaseqConnectionOptions, LeaseqQueueOptions,
};

/// A handle on a `leaseq::Connection` (opaque to the caller).
pub struct LeaseqConnection {
    pub(crate) inner: Connection,
}

/// A handle on a `leaseq::WorkQueue` (opaque to the caller).
pub struct LeaseqQueue {
    pub(crate) inner: WorkQueue,
}

/// Borrows the connection behind a handle.
///
/// # Safety
/// A non-null `handle` must be live (not yet freed).
pub(crate) unsafe fn connection<'a>(handle: *const LeaseqConnection) -> Result<&'a Connection> {
    // SAFETY: null or live per the contract.
    unsafe { handle.as_ref() }
        .map(|handle| &handle.inner)
        .ok_or_else(|| Error::invalid_argument("connection handle must not be null"))
}

/// Borrows the queue behind a handle.
///
/// # Safety
/// A non-null `handle` must be live (not yet freed).
pub(crate) unsafe fn queue<'a>(handle: *const LeaseqQueue) -> Result<&'a WorkQueue> {
    // SAFETY: null or live per the contract.
    unsafe { handle.as_ref() }
        .map(|handle| &handle.inner)
        .ok_or_else(|| Error::invalid_argument("queue handle must not be null"))
}

pub(crate) fn connection_into_raw(connection: Connection) -> *mut LeaseqConnection {
    Box::into_raw(Box::new(LeaseqConnection { inner: connection }))
}

/// Opens a connection from a URL (`redis://[user:password@]host:port[/db]`, `rediss://…` or
/// `unix:///path`), connecting at once, and writes its handle to `out_connection`.
///
/// # Safety
/// `url` must point to `url_len` readable bytes; `out_connection` must be writable; `out_error`
/// must be null or writable. The caller frees the handle with [`leaseq_connection_free`] and an
/// error with [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_open(
    url: *const u8,
    url_len: usize,
    out_connection: *mut *mut LeaseqConnection,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    // SAFETY: as this function's contract; null options are the defaults.
    unsafe {
        leaseq_connection_open_with_options(
            url,
            url_len,
            std::ptr::null(),
            out_connection,
            out_error,
        )
    }
}

/// Opens a connection as [`leaseq_connection_open`] does, with timeouts other than the defaults
/// (null `options`: the defaults). The core checks the options: a zero timeout is an
/// InvalidArgument error.
///
/// # Safety
/// As [`leaseq_connection_open`]; a non-null `options` must be readable (it is copied).
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_open_with_options(
    url: *const u8,
    url_len: usize,
    options: *const LeaseqConnectionOptions,
    out_connection: *mut *mut LeaseqConnection,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let url = unsafe { borrow_str(url, url_len, "url")? };
        let options = unsafe { connection_options(options)? };
        let opened = block_on(Connection::open_with(url, options))?;
        unsafe {
            write_out(
                out_connection,
                connection_into_raw(opened),
                "out_connection",
            )
        }
    })
}

/// Writes to `out_warnings` what the eviction check found when `connection` opened
/// (`leaseq::Connection::warnings`): one sentence per finding, naming the node, its
/// `maxmemory-policy` and the fix, when Redis may evict queue keys or its policy could not be
/// read; an empty list otherwise (and with `eviction=ignore` in the URL). The binding emits each
/// once at open.
///
/// # Safety
/// `connection` must be live; `out_warnings` must be writable; `out_error` must be null or
/// writable. The caller frees the list with [`crate::leaseq_owned_strs_free`] and an error with
/// [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_warnings(
    connection: *const LeaseqConnection,
    out_warnings: *mut *mut LeaseqOwnedStrs,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        // Checked before the list is made, which would leak if it could not be written.
        if out_warnings.is_null() {
            return Err(Error::invalid_argument("out_warnings must not be null"));
        }
        let connection = unsafe { self::connection(connection)? };
        let warnings = owned_strs_into_raw(connection.warnings());
        unsafe { write_out(out_warnings, warnings, "out_warnings") }
    })
}

/// Closes the connection for every handle and queue that uses it (they fail with a Connection
/// error from then on). The handle itself stays valid until [`leaseq_connection_free`]. Null is
/// ignored.
///
/// # Safety
/// A non-null `connection` must be live.
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_close(connection: *const LeaseqConnection) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if let Ok(connection) = unsafe { self::connection(connection) } {
            connection.close();
        }
    }));
}

/// Frees a connection handle. Queues made from it keep working: they hold the connection too,
/// and it closes when the last of them is freed. Null is ignored.
///
/// # Safety
/// The caller that received `connection` from [`leaseq_connection_open`] (or
/// [`leaseq_connection_open_with_options`]) or the success callback of
/// [`crate::leaseq_connection_open_async`] (or its `_with_options` form) frees it, once, with this
/// function, when no call using it is running.
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_free(connection: *mut LeaseqConnection) {
    if connection.is_null() {
        return;
    }
    // SAFETY: made by Box::into_raw in `connection_into_raw`, freed once per the contract.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        drop(unsafe { Box::from_raw(connection) })
    }));
}

/// Makes a queue whose keys start with `name` on `connection`, and writes its handle to
/// `out_queue`. Each queue handle gets a fresh session id.
///
/// # Safety
/// `connection` must be live; `name` must point to `name_len` readable bytes; `out_queue` must be
/// writable; `out_error` must be null or writable. The caller frees the handle with
/// [`leaseq_queue_free`] and an error with [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_new(
    connection: *const LeaseqConnection,
    name: *const u8,
    name_len: usize,
    out_queue: *mut *mut LeaseqQueue,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let connection = unsafe { self::connection(connection)? };
        let name = unsafe { borrow_str(name, name_len, "queue name")? };
        let queue = Box::new(LeaseqQueue {
            inner: WorkQueue::new(connection, name)?,
        });
        unsafe { write_out(out_queue, Box::into_raw(queue), "out_queue") }
    })
}

/// Makes a queue as [`leaseq_queue_new`] does, with retry and uniqueness options other than the
/// defaults (null `options`: the defaults). The core checks the options.
///
/// # Safety
/// As [`leaseq_queue_new`]; a non-null `options` must be readable (it is copied).
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_new_with_options(
    connection: *const LeaseqConnection,
    name: *const u8,
    name_len: usize,
    options: *const LeaseqQueueOptions,
    out_queue: *mut *mut LeaseqQueue,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let connection = unsafe { self::connection(connection)? };
        let name = unsafe { borrow_str(name, name_len, "queue name")? };
        let options = unsafe { queue_options(options)? };
        let queue = Box::new(LeaseqQueue {
            inner: WorkQueue::with_options(connection, name, options)?,
        });
        unsafe { write_out(out_queue, Box::into_raw(queue), "out_queue") }
    })
}

/// Frees a queue handle. Async operations already started on it finish normally. Null is ignored.
///
/// # Safety
/// The caller that received `queue` from [`leaseq_queue_new`] (or
/// [`leaseq_queue_new_with_options`]) frees it, once, with this function,
/// when no synchronous call using it is running.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_free(queue: *mut LeaseqQueue) {
    if queue.is_null() {
        return;
    }
    // SAFETY: made by Box::into_raw in `leaseq_queue_new`, freed once per the contract.
    let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(queue) })));
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    use leaseq::ErrorKind;

    use super::*;
    use crate::leaseq_error_free;

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
        let warnings_of = |out_warnings: *mut *mut LeaseqOwnedStrs| {
            let mut error: *mut LeaseqError = std::ptr::null_mut();
            let code =
                unsafe { leaseq_connection_warnings(std::ptr::null(), out_warnings, &mut error) };
            let message = unsafe { error.as_ref() }.map_or_else(String::new, |error| {
                let bytes = unsafe { std::slice::from_raw_parts(error.message, error.message_len) };
                String::from_utf8(bytes.to_vec()).unwrap()
            });
            unsafe { leaseq_error_free(error) };
            (code, message)
        };
        let mut warnings: *mut LeaseqOwnedStrs = std::ptr::null_mut();
        let (code, message) = warnings_of(&mut warnings);
        assert_eq!(code, ErrorKind::InvalidArgument.code());
        assert!(message.contains("connection handle"), "{message}");
        assert!(warnings.is_null());
        let (code, message) = warnings_of(std::ptr::null_mut());
        assert_eq!(code, ErrorKind::InvalidArgument.code());
        assert!(message.contains("out_warnings"), "{message}");
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
}
