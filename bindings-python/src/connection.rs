//! `Connection` (blocking) and `AsyncConnection` (`leaseq.aio.Connection`): handles on one core
//! `leaseq::Connection`, closed by `close()` or by leaving a `with` / `async with` block.

use std::ffi::CString;

use pyo3::exceptions::PyRuntimeWarning;
use pyo3::prelude::*;
use pyo3::types::PyBool;

use crate::bridge::{run, Operation};
use crate::convert::{connection_options, default_connect_timeout, default_response_timeout};

/// A connection to one Redis server, shared by any number of WorkQueues.
///
/// Operations are multiplexed over one socket that reconnects by itself; a blocking lease waits
/// on a connection of its own so it never stalls the others. After ``os.fork()``, a child
/// reconnects on first use. Safe to share between threads. A context manager: leaving the
/// ``with`` block closes it.
///
/// Connects at once, so a server that cannot be reached raises ConnectionError here rather
/// than at the first operation.
///
/// Args:
///     url: ``redis://[user:password@]host:port[/db]``, ``rediss://...`` (TLS) or
///         ``unix:///path/to/redis.sock``; ``?eviction=refuse`` refuses a Redis that may evict
///         keys, ``?eviction=ignore`` skips that check.
///     connect_timeout: how long one attempt at opening a TCP/TLS connection may take, in
///         seconds; after three failed attempts it is a ConnectionError.
///     response_timeout: how long one operation may wait for Redis's answer, in seconds,
///         before it raises TimeoutError; None waits for ever. A blocking lease's wait is not
///         bounded by it (its own ``timeout`` is). After a timeout the operation's outcome is
///         unknown (it may still run, as after any lost answer); the connection stays usable.
///
/// Warns:
///     RuntimeWarning: once, if Redis's ``maxmemory-policy`` is not ``noeviction`` (it may evict
///         queue keys and lose items) or cannot be read; ``-W error::RuntimeWarning`` turns it
///         into an exception.
///
/// Raises:
///     ConnectionError: if the server cannot be reached, or may evict keys and the URL has
///         ``?eviction=refuse``.
///     InvalidArgumentError: if the URL is not a Redis URL, or a timeout is 0, negative, NaN,
///         infinite or too large.
#[pyclass(frozen, module = "leaseq", name = "Connection")]
pub struct Connection {
    pub inner: leaseq::blocking::Connection,
}

#[pymethods]
impl Connection {
    // The defaults are the core's; the text signature shows them (tests/test_timeouts.py
    // checks that it shows the core's).
    #[new]
    #[pyo3(
        signature = (
            url, *, connect_timeout = default_connect_timeout(),
            response_timeout = default_response_timeout()
        ),
        text_signature = "(url, *, connect_timeout=5.0, response_timeout=30.0)"
    )]
    fn new(
        py: Python<'_>,
        url: String,
        connect_timeout: f64,
        response_timeout: Option<f64>,
    ) -> PyResult<Connection> {
        let inner = run(py, || {
            let options = connection_options(connect_timeout, response_timeout)?;
            leaseq::blocking::Connection::open_with(&url, options)
        })?;
        warn_once(py, inner.as_async())?;
        Ok(Connection { inner })
    }

    #[doc = doc_connection_close!()]
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.inner.close());
    }

    #[doc = doc_connection_closed!()]
    #[getter]
    fn closed(&self) -> bool {
        self.inner.as_async().is_closed()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc_info))]
    fn __exit__(&self, py: Python<'_>, _exc_info: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { "closed" } else { "open" };
        format!("<leaseq.Connection {state}>")
    }
}

/// A connection to one Redis server, shared by any number of ``leaseq.aio.WorkQueue``s.
///
/// Make one with ``await Connection.open(url)``. Operations are multiplexed over one socket
/// that reconnects by itself; a blocking lease waits on a connection of its own so it never
/// stalls the others. An async context manager: leaving the ``async with`` block closes it.
#[pyclass(frozen, module = "leaseq.aio", name = "Connection")]
pub struct AsyncConnection {
    pub inner: leaseq::Connection,
}

#[pymethods]
impl AsyncConnection {
    /// Opens a connection from a URL.
    ///
    /// Connects at once, so a server that cannot be reached raises ConnectionError here
    /// rather than at the first operation.
    ///
    /// Args:
    ///     url: ``redis://[user:password@]host:port[/db]``, ``rediss://...`` (TLS) or
    ///         ``unix:///path/to/redis.sock``; ``?eviction=refuse`` refuses a Redis that may
    ///         evict keys, ``?eviction=ignore`` skips that check.
    ///     connect_timeout: how long one attempt at opening a TCP/TLS connection may take, in
    ///         seconds; after three failed attempts it is a ConnectionError.
    ///     response_timeout: how long one operation may wait for Redis's answer, in seconds,
    ///         before it raises TimeoutError; None waits for ever. A blocking lease's wait is
    ///         not bounded by it (its own ``timeout`` is). After a timeout the operation's
    ///         outcome is unknown (it may still run, as after any lost answer); the connection
    ///         stays usable.
    ///
    /// Returns:
    ///     The open connection (a coroutine).
    ///
    /// Warns:
    ///     RuntimeWarning: once, if Redis's ``maxmemory-policy`` is not ``noeviction`` (it may
    ///         evict queue keys and lose items) or cannot be read.
    ///
    /// Raises:
    ///     ConnectionError: if the server cannot be reached, or may evict keys and the URL has
    ///         ``?eviction=refuse``.
    ///     InvalidArgumentError: if the URL is not a Redis URL, or a timeout is 0, negative,
    ///         NaN, infinite or too large.
    #[staticmethod]
    #[pyo3(
        signature = (
            url, *, connect_timeout = default_connect_timeout(),
            response_timeout = default_response_timeout()
        ),
        text_signature = "(url, *, connect_timeout=5.0, response_timeout=30.0)"
    )]
    fn open(url: String, connect_timeout: f64, response_timeout: Option<f64>) -> Operation {
        Operation::new(async move {
            let options = connection_options(connect_timeout, response_timeout)?;
            let inner = leaseq::Connection::open_with(&url, options).await?;
            // A warning filter that turns it into an exception refuses the server, as
            // `?eviction=refuse` does.
            Python::attach(|py| warn_once(py, &inner)).map_err(|err| {
                leaseq::Error::new(leaseq::ErrorKind::Connection, err.to_string())
            })?;
            Ok(AsyncConnection { inner })
        })
    }

    #[doc = doc_connection_close!()]
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.inner.close());
    }

    #[doc = doc_connection_closed!()]
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    fn __aenter__(slf: Bound<'_, Self>) -> Operation {
        Operation::ready(slf.into_any().unbind())
    }

    #[pyo3(signature = (*_exc_info))]
    fn __aexit__(&self, py: Python<'_>, _exc_info: &Bound<'_, pyo3::types::PyTuple>) -> Operation {
        self.close(py);
        Operation::ready(PyBool::new(py, false).to_owned().into_any().unbind())
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { "closed" } else { "open" };
        format!("<leaseq.aio.Connection {state}>")
    }
}

/// Emits what opening `connection` found (`leaseq::Connection::warnings`: Redis may evict keys,
/// or its policy could not be read) as a `RuntimeWarning` each.
///
/// The `warnings` module rather than `logging`: this is a configuration hazard found once at
/// start-up, which the application can avoid (fix the server's policy, or say `eviction=ignore`),
/// the case Python's logging HOWTO gives to `warnings.warn`, as urllib3 does for its
/// `InsecureRequestWarning`. Users get the usual controls: shown once per place, reported by
/// pytest, silenced by `warnings.filterwarnings`, made an exception by `-W error::RuntimeWarning`.
fn warn_once(py: Python<'_>, connection: &leaseq::Connection) -> PyResult<()> {
    for warning in connection.warnings() {
        let message = CString::new(warning.replace('\0', " ")).unwrap_or_default();
        PyErr::warn(py, &py.get_type::<PyRuntimeWarning>(), &message, 1)?;
    }
    Ok(())
}
