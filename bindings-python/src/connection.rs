//! `Connection` (blocking) and `AsyncConnection` (`leaseq.aio.Connection`): handles on one core
//! `leaseq::Connection`, closed by `close()` or by leaving a `with` / `async with` block.

use pyo3::prelude::*;
use pyo3::types::PyBool;

use crate::bridge::{run, Operation};

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
///         ``unix:///path/to/redis.sock``.
///
/// Raises:
///     ConnectionError: if the server cannot be reached.
///     InvalidArgumentError: if the URL is not a Redis URL.
#[pyclass(frozen, module = "leaseq", name = "Connection")]
pub struct Connection {
    pub inner: leaseq::blocking::Connection,
}

#[pymethods]
impl Connection {
    #[new]
    fn new(py: Python<'_>, url: String) -> PyResult<Connection> {
        let inner = run(py, || leaseq::blocking::Connection::open(&url))?;
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
    ///         ``unix:///path/to/redis.sock``.
    ///
    /// Returns:
    ///     The open connection (a coroutine).
    ///
    /// Raises:
    ///     ConnectionError: if the server cannot be reached.
    ///     InvalidArgumentError: if the URL is not a Redis URL.
    #[staticmethod]
    fn open(url: String) -> Operation {
        Operation::new(async move {
            Ok(AsyncConnection {
                inner: leaseq::Connection::open(&url).await?,
            })
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
