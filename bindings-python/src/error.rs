//! The one mapping from the core's `leaseq::ErrorKind` to the Python exception classes of
//! `leaseq/exceptions.py`. The `match` is exhaustive, so a new core kind fails to compile here
//! until it has a class; `tests/test_errors.py` checks every code against the classes.

use std::any::Any;

use leaseq::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule, PyType};

/// The class in `leaseq.exceptions` that a core kind raises.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Connection => "ConnectionError",
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::InvalidArgument => "InvalidArgumentError",
        ErrorKind::LeaseLost => "LeaseLostError",
        ErrorKind::Internal => "Error",
    }
}

fn class_of<'py>(py: Python<'py>, kind: ErrorKind) -> PyResult<Bound<'py, PyType>> {
    static EXCEPTIONS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = EXCEPTIONS.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("leaseq.exceptions")?.unbind())
    })?;
    Ok(module.bind(py).getattr(class_name(kind))?.cast_into()?)
}

/// A core error as the matching Python exception.
pub fn to_py(err: Error) -> PyErr {
    Python::attach(|py| match class_of(py, err.kind()) {
        Ok(class) => PyErr::from_type(class, err.message().to_owned()),
        Err(import_failed) => import_failed,
    })
}

/// A panic caught at the binding boundary, as a `leaseq.Error` (never an aborted interpreter,
/// and never pyo3's PanicException, which `except Exception` does not catch).
pub fn panic_to_py(payload: Box<dyn Any + Send>) -> PyErr {
    let message = payload
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    to_py(Error::new(
        ErrorKind::Internal,
        format!("leaseq panicked (a bug; please report it): {message}"),
    ))
}

/// `ERROR_KINDS`: every core kind, code -> name (`{1: "ECONNECTION", ...}`).
pub fn error_kinds(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let kinds = PyDict::new(py);
    for kind in ErrorKind::ALL {
        kinds.set_item(kind.code(), kind.name())?;
    }
    Ok(kinds)
}

/// The exception class raised for the core error kind numbered ``code``.
///
/// Args:
///     code: a key of ``ERROR_KINDS``.
///
/// Returns:
///     ``leaseq.Error`` or one of its subclasses.
///
/// Raises:
///     InvalidArgumentError: if no core kind has this number.
#[pyfunction]
pub fn exception_class(py: Python<'_>, code: u32) -> PyResult<Bound<'_, PyType>> {
    match ErrorKind::from_code(code) {
        Some(kind) => class_of(py, kind),
        None => Err(to_py(Error::invalid_argument(format!(
            "no leaseq error kind has code {code}"
        )))),
    }
}
