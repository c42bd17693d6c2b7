//! The boundary itself: errors handed to the caller, the panic guard, and borrowed arguments.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};

use leaseq::{Error, ErrorKind, Result};

/// An error handed to the caller: the core's kind number and a UTF-8 message (not NUL-terminated).
#[repr(C)]
pub struct LeaseqError {
    /// The core's `ErrorKind` number (1 Connection, 2 Timeout, 3 InvalidArgument, 4 LeaseLost,
    /// 5 Internal), or [`crate::LEASEQ_CANCELLED`] in a failure callback.
    pub kind: u32,
    /// The message (`message_len` bytes), owned by this error.
    pub message: *const u8,
    pub message_len: usize,
}

/// Frees an error written to an `out_error` parameter. Null is ignored.
///
/// # Safety
/// The caller that received `error` from an `out_error` parameter frees it, once, with this
/// function; `error` must not be used afterwards. Errors passed to the failure callback are not
/// this kind: they are borrowed for the callback's duration and freed by Rust.
#[no_mangle]
pub unsafe extern "C" fn leaseq_error_free(error: *mut LeaseqError) {
    if error.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: made by `write_error` with Box::into_raw, and the message with it.
        let error = unsafe { Box::from_raw(error) };
        drop(unsafe { take_raw(error.message, error.message_len) });
    }));
}

/// Writes the core's error kind numbers, in order, into `out_codes` (room for `capacity`) and
/// returns how many there are, for the tests that check each maps to an exception class.
///
/// # Safety
/// `out_codes` must point to `capacity` writable `u32`s, or be null with `capacity` 0.
#[no_mangle]
pub unsafe extern "C" fn leaseq_error_kinds(out_codes: *mut u32, capacity: usize) -> usize {
    catch_unwind(|| {
        for (slot, kind) in ErrorKind::ALL.iter().take(capacity).enumerate() {
            // SAFETY: slot < capacity, which the caller vouches for.
            unsafe { *out_codes.add(slot) = kind.code() };
        }
        ErrorKind::ALL.len()
    })
    .unwrap_or(0)
}

/// The core's stable name of error kind `code` (`"ECONNECTION"`, `"EINVAL"`, …) as static
/// UTF-8 bytes, with their length in `out_len`; null (and length 0) for an unknown code.
///
/// # Safety
/// `out_len` must be writable. The returned bytes are static: never free them.
#[no_mangle]
pub unsafe extern "C" fn leaseq_error_kind_name(code: u32, out_len: *mut usize) -> *const u8 {
    let name = ErrorKind::from_code(code).map_or("", ErrorKind::name);
    // SAFETY: writable per the contract (null is skipped).
    let _ = unsafe { write_out(out_len, name.len(), "out_len") };
    if name.is_empty() {
        std::ptr::null()
    } else {
        name.as_ptr()
    }
}

/// Runs one synchronous entry: catches panics, reports the error, returns the status code.
pub(crate) fn call(out_error: *mut *mut LeaseqError, body: impl FnOnce() -> Result<()>) -> u32 {
    let outcome =
        catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| Err(panic_error(panic)));
    match outcome {
        Ok(()) => 0,
        Err(err) => {
            let code = err.kind().code();
            // SAFETY: `out_error` is null or writable, per every entry's contract.
            unsafe { write_error(out_error, err) };
            code
        }
    }
}

/// An Internal error carrying what a caught panic said.
pub(crate) fn panic_error(panic: Box<dyn Any + Send>) -> Error {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|message| message.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::new(
        ErrorKind::Internal,
        format!("panic in leaseq's native library: {detail}"),
    )
}

unsafe fn write_error(out_error: *mut *mut LeaseqError, err: Error) {
    if out_error.is_null() {
        return;
    }
    let (message, message_len) = into_raw(err.message().as_bytes().to_vec());
    let error = Box::new(LeaseqError {
        kind: err.kind().code(),
        message,
        message_len,
    });
    // SAFETY: checked non-null; writable per the contract.
    unsafe { *out_error = Box::into_raw(error) };
}

/// Hands a buffer to the caller; [`take_raw`] takes it back.
pub(crate) fn into_raw<T>(items: Vec<T>) -> (*const T, usize) {
    let items = items.into_boxed_slice();
    let len = items.len();
    (Box::into_raw(items) as *const T, len)
}

/// Takes back a buffer from [`into_raw`] (null: an empty one), to drop or read.
///
/// # Safety
/// `(ptr, len)` came from [`into_raw`] and is taken back once.
pub(crate) unsafe fn take_raw<T>(ptr: *const T, len: usize) -> Box<[T]> {
    if ptr.is_null() {
        return Box::new([]);
    }
    // SAFETY: the same pointer and length Box::into_raw gave.
    unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr as *mut T, len)) }
}

/// Borrows `len` values at `ptr` (bytes, items, strings). Null is accepted only with length 0.
///
/// # Safety
/// A non-null `ptr` must point to `len` readable values that outlive the returned slice.
pub(crate) unsafe fn borrow_slice<'a, T>(ptr: *const T, len: usize, what: &str) -> Result<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("{what} must not be null")));
    }
    // SAFETY: non-null, and `len` readable values per the contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows what a handle points to.
///
/// # Safety
/// A non-null `handle` must be live (not yet freed).
pub(crate) unsafe fn live<'a, T>(handle: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: null or live per the contract.
    unsafe { handle.as_ref() }
        .ok_or_else(|| Error::invalid_argument(format!("{what} handle must not be null")))
}

/// Frees a handle made with `Box::into_raw`. Null is ignored.
///
/// # Safety
/// `handle` is freed once, when no call using it is running.
pub(crate) unsafe fn free_handle<T>(handle: *mut T) {
    if !handle.is_null() {
        // SAFETY: made by Box::into_raw, freed once per the contract.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(handle) })));
    }
}

/// Borrows a UTF-8 string argument.
///
/// # Safety
/// As [`borrow_slice`].
pub(crate) unsafe fn borrow_str<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a str> {
    let bytes = unsafe { borrow_slice(ptr, len, what)? };
    std::str::from_utf8(bytes)
        .map_err(|_| Error::invalid_argument(format!("{what} must be valid UTF-8")))
}

/// Writes `value` to an out parameter the entry needs.
///
/// # Safety
/// A non-null `out` must be writable.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T, what: &str) -> Result<()> {
    if out.is_null() {
        return Err(Error::invalid_argument(format!("{what} must not be null")));
    }
    // SAFETY: checked non-null; writable per the contract.
    unsafe { out.write(value) };
    Ok(())
}

/// Runs a core future to completion on the calling thread, for the synchronous entries.
///
/// Mirrors `leaseq::blocking`'s guard (that module cannot wrap a connection opened asynchronously):
/// on one of the runtime's own threads, blocking would stall it, so that is an error.
pub(crate) fn block_on<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            ErrorKind::Internal,
            "a synchronous leaseq method was called on leaseq's runtime thread; use the Async method",
        ));
    }
    leaseq::runtime().block_on(future)
}
