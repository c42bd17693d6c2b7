//! `Item`, `CleanReport`, `FailOutcome` and `DeadItem`: immutable values, safe to share between
//! threads.

use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::convert::{data_from_py, id_from_py};
use crate::error::to_py;

/// An item of work: a unique id and opaque data.
///
/// The id names the item's keys in Redis; two items with the same id are the same item.
/// Items are immutable. Two items are equal when their ids and data are: ``attempts`` and
/// ``fence`` are about one delivery, so a leased item equals the item that was added.
///
/// Args:
///     data: the item's data, stored as is (``str`` is encoded as UTF-8).
///     id: the item's id; None makes a random UUID (v4). The id is checked when the item is
///         added.
///     attempts: how many times the item was leased; ``lease`` sets it. Only for rebuilding
///         an item (pickling does); adding an item never writes it.
///     fence: the fencing token of its delivery; ``lease`` sets it. Only for rebuilding a
///         leased item (pickling does), so that a process it was sent to acts on that
///         delivery.
#[pyclass(frozen, module = "leaseq", name = "Item")]
pub struct Item {
    pub inner: leaseq::Item,
}

impl From<leaseq::Item> for Item {
    fn from(inner: leaseq::Item) -> Item {
        Item { inner }
    }
}

/// `copyreg.__newobj_ex__`, which pickle turns into `cls.__new__(cls, *args, **kwargs)`.
fn new_object_ex(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static NEW_OBJECT_EX: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    NEW_OBJECT_EX.import(py, "copyreg", "__newobj_ex__")
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
    #[pyo3(signature = (data, id = None, *, attempts = 0, fence = 0))]
    fn new(
        data: &Bound<'_, PyAny>,
        id: Option<&Bound<'_, PyAny>>,
        attempts: u32,
        fence: u64,
    ) -> PyResult<Item> {
        let data = data_from_py(data)?;
        let mut item = match id {
            Some(id) => leaseq::Item::with_id(id_from_py(id)?, data),
            None => leaseq::Item::new(data),
        };
        item.attempts = attempts;
        item.fence = fence;
        Ok(Item::from(item))
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

    /// How many times the item has been leased, this lease included (1 on the first
    /// delivery); 0 for an item that did not come from ``lease``.
    #[getter]
    fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// The fencing token of this delivery: a number from a per-queue counter that only grows,
    /// so a later delivery of any item of the queue has a larger one. A handler can pass it to
    /// its own storage to refuse writes from a holder whose lease was superseded; with the
    /// queue's ``fencing`` on, ``renew``, ``complete``, ``fail`` and ``release`` of a
    /// superseded delivery raise LeaseLostError. 0 for an item that did not come from
    /// ``lease`` (those calls then do not check it).
    #[getter]
    fn fence(&self) -> u64 {
        self.inner.fence
    }

    /// The item's type: the string field ``"type"`` of its data, when that is a JSON object
    /// with one (``Item.from_json({"type": "email", ...})``); None otherwise. A worker with a
    /// handler per type routes the item by it.
    #[getter]
    fn type_name(&self) -> Option<String> {
        self.inner.type_name()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Item>().is_ok_and(|other| {
            let other = &other.get().inner;
            (&other.id, &other.data) == (&self.inner.id, &self.inner.data)
        })
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
        let attempts = match self.inner.attempts {
            0 => String::new(),
            attempts => format!(", attempts={attempts}"),
        };
        format!("Item(b'{escaped}'{more}, id={:?}{attempts})", self.inner.id)
    }

    /// Pickling (multiprocessing pools pass items between processes).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let item = &slf.get().inner;
        let arguments = (PyBytes::new(py, &item.data), item.id.as_str());
        let keywords = PyDict::new(py);
        keywords.set_item("attempts", item.attempts)?;
        keywords.set_item("fence", item.fence)?;
        // (copyreg.__newobj_ex__, (cls, args, kwargs)): the constructor's keyword-only arguments.
        let rebuild = (slf.get_type(), arguments, keywords);
        PyTuple::new(
            py,
            [
                new_object_ex(py)?.clone(),
                rebuild.into_pyobject(py)?.into_any(),
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

    /// Items whose lease expired on their last attempt, moved to the dead letters.
    #[getter]
    fn dead(&self) -> u64 {
        self.inner.dead
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<CleanReport>()
            .is_ok_and(|other| other.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "CleanReport(requeued={}, dropped={}, dead={})",
            self.inner.requeued, self.inner.dropped, self.inner.dead
        )
    }
}

/// Seconds since the Unix epoch, as Python's ``time.time()`` counts them.
fn unix_secs(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => since.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

/// What ``fail`` did with the item.
#[pyclass(frozen, module = "leaseq", name = "FailOutcome")]
pub struct FailOutcome {
    inner: leaseq::FailOutcome,
}

impl From<leaseq::FailOutcome> for FailOutcome {
    fn from(inner: leaseq::FailOutcome) -> FailOutcome {
        FailOutcome { inner }
    }
}

#[pymethods]
impl FailOutcome {
    /// ``"retry"``: it will be leased again, not before ``retry_at``; ``"dead"``: that was
    /// its last attempt, it is in the dead letters with the error; ``"gone"``: the item no
    /// longer exists (it was completed), nothing changed.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner {
            leaseq::FailOutcome::Retry { .. } => "retry",
            leaseq::FailOutcome::Dead => "dead",
            leaseq::FailOutcome::Gone => "gone",
        }
    }

    /// With ``kind`` ``"retry"``, when the retry becomes due (Unix seconds, Redis server
    /// clock); otherwise None.
    #[getter]
    fn retry_at(&self) -> Option<f64> {
        match self.inner {
            leaseq::FailOutcome::Retry { at } => Some(unix_secs(at)),
            _ => None,
        }
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<FailOutcome>()
            .is_ok_and(|other| other.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        match self.retry_at() {
            Some(at) => format!("FailOutcome(kind=\"retry\", retry_at={at})"),
            None => format!("FailOutcome(kind={:?})", self.kind()),
        }
    }
}

/// An item in the dead letters.
#[pyclass(frozen, module = "leaseq", name = "DeadItem")]
pub struct DeadItem {
    inner: leaseq::DeadItem,
}

impl From<leaseq::DeadItem> for DeadItem {
    fn from(inner: leaseq::DeadItem) -> DeadItem {
        DeadItem { inner }
    }
}

#[pymethods]
impl DeadItem {
    /// The item, its data as added; its ``attempts`` is how many leases it had.
    #[getter]
    fn item(&self) -> Item {
        Item::from(self.inner.item.clone())
    }

    /// The error of its last failure (``"lease expired"`` when its last lease ran out).
    #[getter]
    fn error(&self) -> &str {
        &self.inner.error
    }

    /// When it died (Unix seconds, Redis server clock).
    #[getter]
    fn died_at(&self) -> f64 {
        unix_secs(self.inner.died_at)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<DeadItem>()
            .is_ok_and(|other| other.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "DeadItem(item={}, error={:?}, died_at={})",
            self.item().__repr__(),
            self.inner.error,
            self.died_at()
        )
    }
}
