//! Handles: a connection and a queue, each an owned box the caller frees once.

use leaseq::{Connection, WorkQueue};

use crate::boundary::{block_on, borrow_str, call, free_handle, live, write_out, LeaseqError};
use crate::ops::{LeaseqValue, Outcome};
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

pub(crate) fn connection_into_raw(connection: Connection) -> *mut LeaseqConnection {
    Box::into_raw(Box::new(LeaseqConnection { inner: connection }))
}

/// Opens a connection from a URL (`redis://[user:password@]host:port[/db]`, `rediss://…` or
/// `unix:///path`), connecting at once, with `options` (null: the defaults, which the core
/// checks), and writes its handle to `out_connection`.
///
/// # Safety
/// `url` must point to `url_len` readable bytes; a non-null `options` must be readable (it is
/// copied); `out_connection` must be writable; `out_error` must be null or writable. The caller
/// frees the handle with [`leaseq_connection_free`] and an error with [`crate::leaseq_error_free`].
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

/// Writes to `out_value`'s `strings` what the eviction check found when `connection` opened
/// (`leaseq::Connection::warnings`): one sentence per finding; none otherwise. The binding
/// emits each once at open.
///
/// # Safety
/// `connection` must be live; `out_value` must be writable; `out_error` must be null or
/// writable. The caller frees the value with [`crate::leaseq_value_free`] and an error with
/// [`crate::leaseq_error_free`].
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_warnings(
    connection: *const LeaseqConnection,
    out_value: *mut LeaseqValue,
    out_error: *mut *mut LeaseqError,
) -> u32 {
    call(out_error, || {
        let connection = unsafe { live(connection, "connection")? };
        unsafe { Outcome::Strings(connection.inner.warnings()).write_to(out_value) }
    })
}

/// Closes the connection for every queue that uses it (a Connection error from then on); the
/// handle stays valid until [`leaseq_connection_free`]. Null is ignored.
///
/// # Safety
/// A non-null `connection` must be live.
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_close(connection: *const LeaseqConnection) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if let Ok(connection) = unsafe { live(connection, "connection") } {
            connection.inner.close();
        }
    }));
}

/// Frees a connection handle. Queues made from it keep working: they hold the connection too,
/// and it closes when the last of them is freed. Null is ignored.
///
/// # Safety
/// The caller that received `connection` (from an open, or a success callback's value) frees
/// it, once, with this function, when no call using it is running.
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_free(connection: *mut LeaseqConnection) {
    unsafe { free_handle(connection) }
}

/// Makes a queue whose keys start with `name` on `connection`, with retry and uniqueness
/// `options` (null: the defaults; the core checks them), and writes its handle to `out_queue`.
/// Each queue handle gets a fresh session id.
///
/// # Safety
/// `connection` must be live; `name` must point to `name_len` readable bytes; a non-null
/// `options` must be readable (it is copied); `out_queue` must be writable; `out_error` must be
/// null or writable. The caller frees the handle with [`leaseq_queue_free`] and an error with
/// [`crate::leaseq_error_free`].
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
        let connection = &unsafe { live(connection, "connection")? }.inner;
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
/// The caller that received `queue` from [`leaseq_queue_new_with_options`] frees it, once, with
/// this function, when no synchronous call using it is running.
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_free(queue: *mut LeaseqQueue) {
    unsafe { free_handle(queue) }
}
