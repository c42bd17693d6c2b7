//! The core's error table as JavaScript `Error`s with a stable `code`, and the panic guard.
//!
//! napi-rs puts an error's status string in `err.code`, but an `async fn` can only reject with
//! napi's own `Status` codes (the rejection is built on a tokio thread, from `napi::Error<Status>`).
//! So async methods return [`Settled`], whose conversion runs on the JavaScript thread: there it
//! builds the `Error` with our code and hands it to napi as the rejection value.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::Poll;

use leaseq::ErrorKind;
use napi::bindgen_prelude::{JsError, ToNapiValue, Unknown};
use napi::sys;
use napi_derive::napi;

/// The `code` of every error leaseq throws or rejects with: one per core error kind.
#[napi(string_enum)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// Redis could not be reached, the connection broke, or it was closed.
    #[napi(value = "ECONNECTION")]
    Connection,
    /// Redis did not answer within the configured time.
    #[napi(value = "ETIMEOUT")]
    Timeout,
    /// The caller passed a value leaseq refuses (empty prefix, bad duration, oversized item, …).
    #[napi(value = "EINVAL")]
    InvalidArgument,
    /// The caller's lease on an item is gone (expired and taken by another worker, or completed).
    #[napi(value = "ELEASE_LOST")]
    LeaseLost,
    /// Anything else: a Redis error reply, a bug, a panic caught at the binding boundary.
    #[napi(value = "EINTERNAL")]
    Internal,
}

impl From<ErrorKind> for ErrorCode {
    // Exhaustive on purpose: a new core kind does not compile until it has a code here.
    fn from(kind: ErrorKind) -> ErrorCode {
        match kind {
            ErrorKind::Connection => ErrorCode::Connection,
            ErrorKind::Timeout => ErrorCode::Timeout,
            ErrorKind::InvalidArgument => ErrorCode::InvalidArgument,
            ErrorKind::LeaseLost => ErrorCode::LeaseLost,
            ErrorKind::Internal => ErrorCode::Internal,
        }
    }
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        match self {
            ErrorCode::Connection => ErrorKind::Connection.name(),
            ErrorCode::Timeout => ErrorKind::Timeout.name(),
            ErrorCode::InvalidArgument => ErrorKind::InvalidArgument.name(),
            ErrorCode::LeaseLost => ErrorKind::LeaseLost.name(),
            ErrorCode::Internal => ErrorKind::Internal.name(),
        }
    }
}

/// The core's error kinds as `{ kind, code }`, in number order, read from the core's own table.
#[napi(object)]
pub struct ErrorKindInfo {
    /// The fixed number of the kind (part of the spec and the C ABI).
    pub kind: u32,
    /// The `code` errors of this kind carry.
    pub code: String,
}

/// Every core error kind with its `code`: tests assert each has a member in {@link ErrorCode}.
#[napi(catch_unwind)]
pub fn error_kinds() -> Vec<ErrorKindInfo> {
    ErrorKind::ALL
        .into_iter()
        .map(|kind| ErrorKindInfo {
            kind: kind.code(),
            code: ErrorCode::from(kind).as_ref().to_owned(),
        })
        .collect()
}

/// What sync methods return: thrown with `err.code` set from the core's kind.
pub type Result<T> = napi::Result<T, ErrorCode>;

/// A core error as a napi error whose status becomes `err.code`.
pub fn to_napi(err: leaseq::Error) -> napi::Error<ErrorCode> {
    napi::Error::new(ErrorCode::from(err.kind()), err.message())
}

/// Runs a synchronous core call, turning its error or its panic into a coded error.
///
/// `#[napi(catch_unwind)]` stays on every method as the backstop for napi's own conversions,
/// but it reports a panic with napi's `GenericFailure` code instead of `EINTERNAL`.
pub fn guard<T>(call: impl FnOnce() -> leaseq::Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(call))
        .unwrap_or_else(|panic| Err(panic_error(panic)))
        .map_err(to_napi)
}

/// The outcome of a core call, turned into a resolved value or a coded rejection on the
/// JavaScript thread. Declare the method's `ts_return_type` as `Promise<T>`.
pub struct Settled<T>(leaseq::Result<T>);

impl<T: ToNapiValue> ToNapiValue for Settled<T> {
    unsafe fn to_napi_value(env: sys::napi_env, settled: Self) -> napi::Result<sys::napi_value> {
        match settled.0 {
            Ok(value) => unsafe { T::to_napi_value(env, value) },
            Err(err) => {
                // napi rejects with the JavaScript value an error refers to, unchanged.
                let error = unsafe { JsError::from(to_napi(err)).into_value(env) };
                Err(napi::Error::from(unsafe {
                    Unknown::from_raw_unchecked(env, error)
                }))
            }
        }
    }
}

/// Awaits a core call, turning a panic inside it into an [`ErrorKind::Internal`] error.
///
/// `#[napi(catch_unwind)]` covers only the synchronous part of an async method, and napi's own
/// guard for the spawned future rejects with a napi code instead of `EINTERNAL`.
pub async fn settle<T>(future: impl Future<Output = leaseq::Result<T>>) -> Settled<T> {
    let mut future = pin!(future);
    let outcome = std::future::poll_fn(|cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => Poll::Ready(result),
            Err(panic) => Poll::Ready(Err(panic_error(panic))),
        }
    })
    .await;
    Settled(outcome)
}

fn panic_error(panic: Box<dyn Any + Send>) -> leaseq::Error {
    let message = panic
        .downcast_ref::<&str>()
        .map(|message| message.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_owned());
    leaseq::Error::new(
        ErrorKind::Internal,
        format!("leaseq panicked (a bug, please report it): {message}"),
    )
}

/// Hooks for the binding's own tests; not in the typings and not part of the API.
pub mod testing {
    use super::*;

    /// Rejects with an error of the core kind numbered `kind`.
    #[napi(catch_unwind, skip_typescript, js_name = "__rejectWithKind")]
    pub async fn reject_with_kind(kind: u32) -> Settled<()> {
        settle(async move {
            let kind = ErrorKind::from_code(kind)
                .ok_or_else(|| leaseq::Error::invalid_argument(format!("no error kind {kind}")))?;
            Err(leaseq::Error::new(
                kind,
                format!("a test error of kind {}", kind.name()),
            ))
        })
        .await
    }

    /// Panics inside the awaited future.
    #[napi(catch_unwind, skip_typescript, js_name = "__panicInFuture")]
    pub async fn panic_in_future() -> Settled<()> {
        settle(async { explode() }).await
    }

    fn explode() -> leaseq::Result<()> {
        panic!("test panic inside a future")
    }

    /// Panics in a synchronous call.
    #[napi(catch_unwind, skip_typescript, js_name = "__panicInCall")]
    pub fn panic_in_call() -> Result<()> {
        guard(|| panic!("test panic in a synchronous call"))
    }
}
