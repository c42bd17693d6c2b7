//! Python values into core values. Durations are checked by the core's helpers, not here.

use std::time::{Duration, UNIX_EPOCH};

use leaseq::{AddOptions, ConnectionOptions, Error, QueueOptions, WorkerOptions, MAX_PRIORITY};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyString};

/// A `str` as UTF-8; one with a lone surrogate (which UTF-8 cannot hold) is the
/// InvalidArgument kind, not the builtin `UnicodeEncodeError`.
pub fn text_from_py(what: &str, text: &Bound<'_, PyString>) -> PyResult<String> {
    match text.to_cow() {
        Ok(text) => Ok(text.into_owned()),
        Err(_) => Err(crate::error::to_py(Error::invalid_argument(format!(
            "{what} must be valid Unicode: it holds a lone surrogate, which UTF-8 cannot encode"
        )))),
    }
}

/// An item id: a `str` (see [`text_from_py`]).
pub fn id_from_py(id: &Bound<'_, PyAny>) -> PyResult<String> {
    match id.cast::<PyString>() {
        Ok(text) => text_from_py("item id", text),
        Err(_) => Err(PyTypeError::new_err(format!(
            "item id must be str, not {}",
            id.get_type().name()?
        ))),
    }
}

/// Item data: `bytes` as is, `bytearray` copied, `str` encoded as UTF-8.
pub fn data_from_py(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        Ok(bytes.as_bytes().to_vec())
    } else if let Ok(text) = data.cast::<PyString>() {
        Ok(text_from_py("item data", text)?.into_bytes())
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
    optional_secs("timeout", timeout_secs)
}

/// A batch size as the core's (which refuses 0 and more than `MAX_BATCH`); negative here.
pub fn batch_count(count: i64) -> leaseq::Result<usize> {
    usize::try_from(count).map_err(|_| {
        Error::invalid_argument(format!(
            "a batch is 1 to {} items, not {count}",
            leaseq::MAX_BATCH
        ))
    })
}

/// An optional duration in float seconds, named `what` in the error.
pub fn optional_secs(what: &str, secs: Option<f64>) -> leaseq::Result<Option<Duration>> {
    secs.map(|secs| leaseq::from_secs_f64(what, secs))
        .transpose()
}

/// The core's default connect timeout, in float seconds (the default of `connect_timeout`).
pub fn default_connect_timeout() -> f64 {
    ConnectionOptions::default().connect_timeout.as_secs_f64()
}

/// The core's default response timeout, in float seconds (the default of `response_timeout`).
pub fn default_response_timeout() -> Option<f64> {
    ConnectionOptions::default()
        .response_timeout
        .map(|timeout| timeout.as_secs_f64())
}

/// The keyword arguments of `Connection(...)` as the core's options (zeros are refused by the
/// core when it opens the connection).
pub fn connection_options(
    connect_timeout: f64,
    response_timeout: Option<f64>,
) -> leaseq::Result<ConnectionOptions> {
    Ok(ConnectionOptions {
        connect_timeout: leaseq::from_secs_f64("connect_timeout", connect_timeout)?,
        response_timeout: optional_secs("response_timeout", response_timeout)?,
    })
}

/// The keyword arguments of `WorkQueue(...)`, in their order, as Python passes them.
pub struct QueueArgs {
    pub max_attempts: i64,
    pub backoff_base: f64,
    pub backoff_max: f64,
    pub unique_window: f64,
    pub clean_grace: f64,
    pub wait_replicas: i64,
    pub wait_timeout: f64,
    pub fencing: bool,
}

/// The keyword arguments of `WorkQueue(...)` as the core's options (checked by the core).
pub fn queue_options(args: QueueArgs) -> leaseq::Result<QueueOptions> {
    Ok(QueueOptions {
        max_attempts: u32_from("max_attempts", args.max_attempts, 1)?,
        backoff_base: leaseq::from_secs_f64("backoff_base", args.backoff_base)?,
        backoff_max: leaseq::from_secs_f64("backoff_max", args.backoff_max)?,
        unique_window: leaseq::from_secs_f64("unique_window", args.unique_window)?,
        clean_grace: leaseq::from_secs_f64("clean_grace", args.clean_grace)?,
        wait_replicas: u32_from("wait_replicas", args.wait_replicas, 0)?,
        wait_timeout: leaseq::from_secs_f64("wait_timeout", args.wait_timeout)?,
        fencing: args.fencing,
    })
}

/// The keyword arguments of `Worker(...)` (concurrency, lease_secs, job_timeout,
/// shutdown_timeout, clean_every) as the core's options (checked by the core).
pub fn worker_options(
    (concurrency, lease_secs, job_timeout, shutdown_timeout, clean_every): (
        i64,
        f64,
        Option<f64>,
        f64,
        Option<f64>,
    ),
) -> leaseq::Result<WorkerOptions> {
    Ok(WorkerOptions {
        concurrency: usize::try_from(concurrency).unwrap_or(0),
        lease_duration: lease_duration(lease_secs)?,
        job_timeout: optional_secs("job_timeout", job_timeout)?,
        shutdown_timeout: leaseq::from_secs_f64("shutdown_timeout", shutdown_timeout)?,
        clean_every: optional_secs("clean_every", clean_every)?,
    })
}

/// A count option as the core's `u32`; `lowest` is only for the message (the core checks it).
fn u32_from(what: &str, value: i64, lowest: u32) -> leaseq::Result<u32> {
    u32::try_from(value).map_err(|_| {
        Error::invalid_argument(format!(
            "{what} must be between {lowest} and {}, got {value}",
            u32::MAX
        ))
    })
}

/// The keyword arguments of `add_item_with` as the core's options. `at` is Unix seconds or a
/// `datetime` (its `timestamp()`: a naive one is local time, as Python has it).
///
/// A value of the wrong type is a Python error (raised at the call); a refused value is a core
/// error (raised where the operation runs, as the core's own checks are).
pub fn add_options(
    priority: i64,
    delay: Option<f64>,
    at: Option<&Bound<'_, PyAny>>,
) -> PyResult<leaseq::Result<AddOptions>> {
    let at = match at {
        None => None,
        Some(at) => Some(unix_secs_from_py(at)?),
    };
    Ok((|| {
        let priority = u8::try_from(priority).map_err(|_| {
            Error::invalid_argument(format!(
                "priority must be between 0 and {MAX_PRIORITY}, got {priority}"
            ))
        })?;
        let at = match at {
            Some(secs) if secs.is_finite() && secs < 0.0 => {
                return Err(Error::invalid_argument("a due time before 1970"))
            }
            Some(secs) => Some(UNIX_EPOCH + leaseq::from_secs_f64("at", secs)?),
            None => None,
        };
        Ok(AddOptions {
            priority,
            delay: optional_secs("delay", delay)?,
            at,
        })
    })())
}

/// Unix seconds from a float or a `datetime`.
fn unix_secs_from_py(at: &Bound<'_, PyAny>) -> PyResult<f64> {
    static DATETIME: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let datetime = DATETIME.import(at.py(), "datetime", "datetime")?;
    if at.is_instance(datetime)? {
        at.call_method0("timestamp")?.extract()
    } else if let Ok(secs) = at.extract::<f64>() {
        Ok(secs)
    } else {
        Err(PyTypeError::new_err(format!(
            "at must be Unix seconds (a float) or a datetime, not {}",
            at.get_type().name()?
        )))
    }
}

/// Item ids from any iterable of `str` (a lone `str` is refused: it would be its characters).
pub fn ids_from_py(ids: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if ids.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "ids must be an iterable of str (a list, a tuple, ...), not a single str",
        ));
    }
    ids.try_iter()?.map(|id| id_from_py(&id?)).collect()
}

/// A page of `dead_items`: `offset` and `count` as the core takes them (it checks `count`).
pub fn page(offset: i64, count: i64) -> leaseq::Result<(u64, u64)> {
    let offset = u64::try_from(offset).map_err(|_| {
        Error::invalid_argument(format!("offset must not be negative, got {offset}"))
    })?;
    // A negative count is out of the core's range, as 0 is: let the core say so.
    Ok((offset, u64::try_from(count).unwrap_or(0)))
}
