//! `Item` and `CleanReport`: immutable values, safe to share between threads.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::convert::data_from_py;
use crate::error::to_py;

/// An item of work: a unique id and opaque data.
///
/// The id names the item's keys in Redis; two items with the same id are the same item.
/// Items are immutable.
///
/// Args:
///     data: the item's data, stored as is (``str`` is encoded as UTF-8).
///     id: the item's id; None makes a random UUID (v4). The id is checked when the item is
///         added.
#[pyclass(frozen, module = "leaseq", name = "Item")]
pub struct Item {
    pub inner: leaseq::Item,
}

impl From<leaseq::Item> for Item {
    fn from(inner: leaseq::Item) -> Item {
        Item { inner }
    }
}

fn json_function<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    static JSON: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let json = JSON.get_or_try_init(py, || Ok::<_, PyErr>(py.import("json")?.unbind()))?;
    json.bind(py).getattr(name)
}

/// A Python exception from the json module, as the core reports JSON errors: InvalidArgument.
fn json_error(py: Python<'_>, err: PyErr) -> PyErr {
    let converted = to_py(leaseq::Error::invalid_argument(format!("json: {err}")));
    converted.set_cause(py, Some(err));
    converted
}

#[pymethods]
impl Item {
    #[new]
    #[pyo3(signature = (data, id = None))]
    fn new(data: &Bound<'_, PyAny>, id: Option<String>) -> PyResult<Item> {
        let data = data_from_py(data)?;
        Ok(Item::from(match id {
            Some(id) => leaseq::Item::with_id(id, data),
            None => leaseq::Item::new(data),
        }))
    }

    /// An item whose data is ``value`` serialized as JSON, with a new random id.
    ///
    /// The JSON is compact UTF-8 (``json.dumps`` with ``separators=(",", ":")``), and NaN or
    /// infinite floats are refused, as JSON has no such values.
    ///
    /// Args:
    ///     value: anything ``json.dumps`` accepts.
    ///
    /// Returns:
    ///     The new item.
    ///
    /// Raises:
    ///     InvalidArgumentError: if ``value`` cannot be serialized as JSON.
    #[staticmethod]
    fn from_json(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Item> {
        let options = PyDict::new(py);
        options.set_item("separators", (",", ":"))?;
        options.set_item("ensure_ascii", false)?;
        options.set_item("allow_nan", false)?;
        let text = json_function(py, "dumps")?
            .call((value,), Some(&options))
            .map_err(|err| json_error(py, err))?;
        Ok(Item::from(leaseq::Item::new(data_from_py(&text)?)))
    }

    /// The item's data parsed as JSON.
    ///
    /// Returns:
    ///     The parsed value (dict, list, str, int, float, bool or None).
    ///
    /// Raises:
    ///     InvalidArgumentError: if the data is not valid UTF-8 JSON.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_function(py, "loads")?
            .call1((PyBytes::new(py, &self.inner.data),))
            .map_err(|err| json_error(py, err))
    }

    /// The item's id; ``Item(data)`` makes a random UUID.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// The item's data, stored as is.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.data)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Item>()
            .is_ok_and(|other| other.get().inner == self.inner)
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut hasher = DefaultHasher::new();
        self.inner.id.hash(&mut hasher);
        self.inner.data.hash(&mut hasher);
        hasher.finish()
    }

    fn __repr__(&self) -> String {
        const SHOWN: usize = 64;
        let data = &self.inner.data;
        let shown = &data[..data.len().min(SHOWN)];
        let escaped: String = shown.escape_ascii().to_string();
        let more = if data.len() > SHOWN {
            format!("... ({} bytes)", data.len())
        } else {
            String::new()
        };
        format!("Item(b'{escaped}'{more}, id={:?})", self.inner.id)
    }

    /// Pickling (multiprocessing pools pass items between processes).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let item = &slf.get().inner;
        let arguments = (PyBytes::new(py, &item.data), item.id.as_str());
        PyTuple::new(
            py,
            [
                slf.get_type().into_any(),
                arguments.into_pyobject(py)?.into_any(),
            ],
        )
    }
}

/// What a clean did.
#[pyclass(frozen, module = "leaseq", name = "CleanReport")]
pub struct CleanReport {
    inner: leaseq::CleanReport,
}

impl From<leaseq::CleanReport> for CleanReport {
    fn from(inner: leaseq::CleanReport) -> CleanReport {
        CleanReport { inner }
    }
}

#[pymethods]
impl CleanReport {
    /// Items whose lease had expired (or was never taken), returned to the queue.
    #[getter]
    fn requeued(&self) -> u64 {
        self.inner.requeued
    }

    /// Ids dropped from the lists because their item no longer exists.
    #[getter]
    fn dropped(&self) -> u64 {
        self.inner.dropped
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<CleanReport>()
            .is_ok_and(|other| other.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "CleanReport(requeued={}, dropped={})",
            self.inner.requeued, self.inner.dropped
        )
    }
}
