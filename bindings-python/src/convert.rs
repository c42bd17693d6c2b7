//! Python values into core values. Durations are checked by the core's helpers, not here.

use std::time::Duration;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

/// Item data: `bytes` as is, `bytearray` copied, `str` encoded as UTF-8.
pub fn data_from_py(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        Ok(bytes.as_bytes().to_vec())
    } else if let Ok(text) = data.cast::<PyString>() {
        Ok(text.to_cow()?.as_bytes().to_vec())
    } else if let Ok(array) = data.cast::<PyByteArray>() {
        Ok(array.to_vec())
    } else {
        Err(PyTypeError::new_err(format!(
            "item data must be bytes or str, not {}",
            data.get_type().name()?
        )))
    }
}

/// A lease duration in float seconds.
pub fn lease_duration(lease_secs: f64) -> leaseq::Result<Duration> {
    leaseq::lease_from_secs_f64(lease_secs)
}

/// An optional timeout in float seconds (`None` waits for ever).
pub fn timeout(timeout_secs: Option<f64>) -> leaseq::Result<Option<Duration>> {
    timeout_secs
        .map(|secs| leaseq::from_secs_f64("timeout", secs))
        .transpose()
}
