//! `Worker`: the core's worker runtime (`leaseq::Worker`) with a Python handler and hooks.
//!
//! The core leases, heartbeats, times out, completes or fails, cleans and shuts down; this file
//! only supplies the handler and the hooks, and waits. No tokio worker thread ever waits for the
//! GIL, and no thread with Rust frames on its stack runs Python code that may outlive a run:
//!
//! * with a handler per item type, the core's `leaseq::Router` picks the handler (and makes the
//!   error for an untyped item or an unknown type); each route is one `PyHandler`, plain or
//!   async, so one worker may mix both kinds;
//! * a plain callable runs on a Python daemon thread (`leaseq/_worker.py`, `HandlerThreads`);
//!   the completer thread (`bridge::on_python_thread`) hands it the item, and the outcome comes
//!   back through a oneshot channel. CPython (before 3.14) ends a thread that wakes during
//!   interpreter shutdown with `pthread_exit`, which aborts a thread whose stack holds Rust
//!   frames; a handler the worker gave up on may well still be running then;
//! * an `async def` handler is scheduled, from the completer thread too, with
//!   `asyncio.run_coroutine_threadsafe` on the run's event loop; its done callback sends the
//!   outcome. If the core drops the job (timeout, shutdown), the coroutine's task is cancelled;
//! * the hooks are synchronous in the core, so they run in `block_in_place`, which hands the
//!   thread's other tasks to another thread while the hook waits for the GIL.
//!
//! Signals are Python's: with `stop_on_signals`, a run installs `signal` handlers that call
//! `stop()` (CPython delivers signals to its main thread), never the core's tokio signal path.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use leaseq::{JobOutcome, WorkerOptions};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCFunction, PyDict, PyMapping, PyString, PyTuple};
use pyo3::{intern, IntoPyObjectExt};

use crate::aio::AsyncWorkQueue;
use crate::bridge::{
    attach_from_rust, on_python_thread, running_loop, start, wait_interruptible, Operation,
};
use crate::convert::{lease_duration, optional_secs};
use crate::error::to_py;
use crate::item::Item;
use crate::queue::WorkQueue;

/// What the handlers and the hooks need, shared with the threads that call them.
///
/// Its last reference (and the handlers') normally goes with the Python `Worker` (under the
/// GIL, so pyo3 releases these objects at once); only a run still going after its `Worker` was
/// collected lets a runtime thread drop it, and pyo3 then defers the release to the next attach.
struct Shared {
    /// Some handler is a plain callable: a run needs `HandlerThreads`.
    any_plain: bool,
    /// Some handler is an `async def` one: a run needs an event loop.
    any_async: bool,
    before: Option<Py<PyAny>>,
    after: Option<Py<PyAny>>,
    /// Where the current run's handlers run.
    runners: Mutex<Runners>,
}

/// Where a run's handlers run; set when it starts.
#[derive(Default)]
struct Runners {
    /// The `HandlerThreads` of the plain handlers.
    threads: Option<Py<PyAny>>,
    /// The event loop of the `async def` handlers: `run`'s private loop, or the loop awaiting
    /// `run_async`.
    event_loop: Option<Py<PyAny>>,
}

impl Shared {
    fn runners(&self) -> MutexGuard<'_, Runners> {
        self.runners
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn current(
        &self,
        py: Python<'_>,
        which: impl FnOnce(&Runners) -> &Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        match which(&self.runners()) {
            Some(runner) => Ok(runner.clone_ref(py)),
            None => Err(PyRuntimeError::new_err("the worker is not running")),
        }
    }
}

/// `type(exc).__name__: exc`, the error text a failed item keeps (`_worker.error_text`).
fn error_text(py: Python<'_>, err: &PyErr) -> String {
    let name = err
        .get_type(py)
        .name()
        .map(|name| name.to_string())
        .unwrap_or_else(|_| "Exception".to_owned());
    let message = err
        .value(py)
        .str()
        .map(|text| text.to_string())
        .unwrap_or_else(|_| "<unprintable>".to_owned());
    format!("{name}: {message}")
}

/// An `async def` function, or an object whose `__call__` is one.
fn is_coroutine_function(handler: &Bound<'_, PyAny>) -> PyResult<bool> {
    static ISCOROUTINEFUNCTION: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = handler.py();
    let check = ISCOROUTINEFUNCTION.import(py, "inspect", "iscoroutinefunction")?;
    if check.call1((handler,))?.is_truthy()? {
        return Ok(true);
    }
    match handler.getattr(intern!(py, "__call__")) {
        Ok(call) => check.call1((call,))?.is_truthy(),
        Err(_) => Ok(false),
    }
}

/// A core handler: runs one Python handler (the worker's, or one route's).
struct PyHandler {
    shared: Arc<Shared>,
    function: Arc<Py<PyAny>>,
    /// An `async def` function (a task on the run's event loop), or a plain one (on its
    /// `HandlerThreads`).
    is_async: bool,
}

impl PyHandler {
    fn new(shared: &Arc<Shared>, callback: Callback) -> PyHandler {
        PyHandler {
            shared: shared.clone(),
            function: Arc::new(callback.function),
            is_async: callback.is_async,
        }
    }
}

impl leaseq::Handler for PyHandler {
    fn handle(&self, item: leaseq::Item) -> leaseq::HandlerFuture {
        let (shared, function) = (self.shared.clone(), self.function.clone());
        if self.is_async {
            Box::pin(handle_async(shared, function, item))
        } else {
            Box::pin(handle_sync(shared, function, item))
        }
    }
}

/// A Python handler, checked: a callable, and whether it is an `async def` one.
struct Callback {
    function: Py<PyAny>,
    is_async: bool,
}

impl Callback {
    fn new(function: &Bound<'_, PyAny>) -> PyResult<Callback> {
        Ok(Callback {
            function: function.clone().unbind(),
            is_async: is_coroutine_function(function)?,
        })
    }
}

/// The Python handler(s) a `Worker` was given, checked.
enum Handlers {
    /// One callable for every item.
    One(Callback),
    /// A callable per item type, in the mapping's order.
    Routes(Vec<(String, Callback)>),
}

impl Handlers {
    fn from_py(handler: &Bound<'_, PyAny>) -> PyResult<Handlers> {
        if handler.is_callable() {
            return Ok(Handlers::One(Callback::new(handler)?));
        }
        let Ok(mapping) = handler.cast::<PyMapping>() else {
            return Err(PyTypeError::new_err(format!(
                "handler must be callable, or a mapping of item type names to callables, not {}",
                handler.get_type().name()?
            )));
        };
        let mut routes = Vec::new();
        for entry in mapping.items()?.iter() {
            let (name, function) = entry.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?;
            let Ok(name) = name.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "handler: an item type name must be a str, not {} ({})",
                    name.get_type().name()?,
                    name.repr()?
                )));
            };
            let name: String = name.extract()?;
            if !function.is_callable() {
                return Err(PyTypeError::new_err(format!(
                    "handler[{name:?}] must be callable, not {}",
                    function.get_type().name()?
                )));
            }
            routes.push((name, Callback::new(&function)?));
        }
        if routes.is_empty() {
            return Err(to_py(leaseq::Error::invalid_argument(
                "handler: the mapping of item types to handlers is empty; give at least one",
            )));
        }
        Ok(Handlers::Routes(routes))
    }

    /// Whether some handler is an `async def` one (`true`), or a plain one (`false`).
    fn any(&self, is_async: bool) -> bool {
        match self {
            Handlers::One(callback) => callback.is_async == is_async,
            Handlers::Routes(routes) => routes
                .iter()
                .any(|(_, callback)| callback.is_async == is_async),
        }
    }

    /// The core handler: one `PyHandler`, or the core's Router over one per route (it picks
    /// each item's handler, or fails the item).
    fn into_core(self, shared: &Arc<Shared>) -> Arc<dyn leaseq::Handler> {
        match self {
            Handlers::One(callback) => Arc::new(PyHandler::new(shared, callback)),
            Handlers::Routes(routes) => Arc::new(
                routes
                    .into_iter()
                    .fold(leaseq::Router::default(), |router, (name, callback)| {
                        router.route_to(name, PyHandler::new(shared, callback))
                    }),
            ),
        }
    }
}

/// A handler's outcome: `Err` carries the error text the item is failed with.
type Outcome = Result<(), String>;

/// Where a handler's outcome goes: to the core's job, unless it gave up on it meanwhile.
#[derive(Clone)]
struct OutcomeSender(Arc<Mutex<Option<tokio::sync::oneshot::Sender<Outcome>>>>);

/// What a job waits on: the outcome, or an error if its call never ran (the interpreter exits).
type OutcomeReceiver = tokio::sync::oneshot::Receiver<Outcome>;

impl OutcomeSender {
    fn new() -> (OutcomeSender, OutcomeReceiver) {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        (OutcomeSender(Arc::new(Mutex::new(Some(sender)))), receiver)
    }

    fn send(&self, outcome: Outcome) {
        let sender = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(sender) = sender {
            let _ = sender.send(outcome); // the core may have dropped the job meanwhile
        }
    }

    /// `done(error)` for `HandlerThreads.submit`: None, or the error text.
    fn as_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCFunction>> {
        let sender = self.clone();
        PyCFunction::new_closure(
            py,
            Some(c"_leaseq_handler_done"),
            None,
            move |args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>| {
                let error: Option<String> = args.get_item(0)?.extract()?;
                sender.send(error.map_or(Ok(()), Err));
                PyResult::Ok(())
            },
        )
    }
}

async fn outcome(receiver: OutcomeReceiver) -> Outcome {
    receiver.await.unwrap_or_else(|_| {
        Err("the Python interpreter is exiting, or the handler's event loop closed".to_owned())
    })
}

/// A plain callable, on the run's `HandlerThreads`. If the core gives up on it (timeout,
/// shutdown), its thread still runs it to its end; the outcome is ignored.
async fn handle_sync(
    shared: Arc<Shared>,
    function: Arc<Py<PyAny>>,
    item: leaseq::Item,
) -> Result<(), String> {
    let (sender, receiver) = OutcomeSender::new();
    on_python_thread(Box::new(move |py| {
        let submitted = (|| {
            let threads = shared.current(py, |runners| &runners.threads)?;
            let item = Py::new(py, Item::from(item))?;
            threads.bind(py).call_method1(
                intern!(py, "submit"),
                (function.bind(py), item, sender.as_py(py)?),
            )?;
            PyResult::Ok(())
        })();
        if let Err(err) = submitted {
            sender.send(Err(error_text(py, &err)));
        }
    }));
    outcome(receiver).await
}

/// Where an async handler's submission to its event loop stands. The future it holds is only
/// ever released under the GIL: by the submitting call, the done callback, or `cancel`.
enum Submission {
    Pending,
    /// Running on the loop: the `concurrent.futures.Future` of `run_coroutine_threadsafe`.
    Running(Py<PyAny>),
    /// The core dropped the job before it ended: cancel it as soon as it is submitted.
    Abandoned,
    /// The coroutine ended (its done callback ran).
    Done,
}

fn lock(submission: &Mutex<Submission>) -> MutexGuard<'_, Submission> {
    submission
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Cancels a submitted coroutine (thread-safe: the task is cancelled on its own loop).
fn cancel(py: Python<'_>, future: Py<PyAny>) {
    let _ = future.bind(py).call_method0(intern!(py, "cancel"));
}

/// Cancels the coroutine's task if the core drops the job (timeout, shutdown) before it ends.
struct CancelOnDrop {
    submission: Arc<Mutex<Submission>>,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let previous = std::mem::replace(&mut *lock(&self.submission), Submission::Abandoned);
        if let Submission::Running(future) = previous {
            on_python_thread(Box::new(move |py| cancel(py, future)));
        }
    }
}

/// An `async def` handler, as a task on the run's event loop.
async fn handle_async(
    shared: Arc<Shared>,
    function: Arc<Py<PyAny>>,
    item: leaseq::Item,
) -> Result<(), String> {
    let (sender, receiver) = OutcomeSender::new();
    let submission = Arc::new(Mutex::new(Submission::Pending));
    let mut guard = CancelOnDrop {
        submission: submission.clone(),
        armed: true,
    };
    on_python_thread(Box::new(move |py| {
        if let Err(err) = submit(py, &shared, &function, item, sender.clone(), submission) {
            sender.send(Err(error_text(py, &err)));
        }
    }));
    let outcome = outcome(receiver).await;
    guard.armed = false;
    outcome
}

/// Calls the handler and schedules its coroutine on the event loop; `sender` gets its outcome.
fn submit(
    py: Python<'_>,
    shared: &Shared,
    function: &Py<PyAny>,
    item: leaseq::Item,
    sender: OutcomeSender,
    submission: Arc<Mutex<Submission>>,
) -> PyResult<()> {
    if matches!(*lock(&submission), Submission::Abandoned) {
        return Ok(()); // the core gave up on it before it started
    }
    let event_loop = shared.current(py, |runners| &runners.event_loop)?;
    let item = Py::new(py, Item::from(item))?;
    let coroutine = function.bind(py).call1((item,))?;
    static RUN_COROUTINE_THREADSAFE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let scheduled = RUN_COROUTINE_THREADSAFE
        .import(py, "asyncio", "run_coroutine_threadsafe")
        .and_then(|schedule| schedule.call1((&coroutine, event_loop)));
    let future = match scheduled {
        Ok(future) => future,
        Err(err) => {
            if let Ok(close) = coroutine.getattr(intern!(py, "close")) {
                let _ = close.call0(); // the loop is closed: no "never awaited" warning
            }
            return Err(err);
        }
    };
    let on_done_submission = submission.clone();
    let on_done = PyCFunction::new_closure(
        py,
        Some(c"_leaseq_coroutine_done"),
        None,
        move |args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
            let outcome = outcome_of(&args.get_item(0)?);
            // Releases the future here, under the GIL, before the core learns the outcome.
            drop(std::mem::replace(
                &mut *lock(&on_done_submission),
                Submission::Done,
            ));
            sender.send(outcome);
            Ok(())
        },
    )?;
    future.call_method1(intern!(py, "add_done_callback"), (on_done,))?;
    let mut state = lock(&submission);
    match *state {
        Submission::Pending => *state = Submission::Running(future.unbind()),
        Submission::Abandoned => cancel(py, future.unbind()),
        // Done already (the GIL changed hands inside add_done_callback): nothing to keep.
        Submission::Running(_) | Submission::Done => {}
    }
    Ok(())
}

/// The outcome of a finished `concurrent.futures.Future`.
fn outcome_of(future: &Bound<'_, PyAny>) -> Outcome {
    let py = future.py();
    let text = |err: PyErr| error_text(py, &err);
    if future
        .call_method0(intern!(py, "cancelled"))
        .and_then(|cancelled| cancelled.is_truthy())
        .map_err(text)?
    {
        return Err("CancelledError: the handler's task was cancelled".to_owned());
    }
    let exception = future
        .call_method0(intern!(py, "exception"))
        .map_err(text)?;
    if exception.is_none() {
        Ok(())
    } else {
        Err(text(PyErr::from_value(exception)))
    }
}

/// The core hooks: call the Python ones.
struct PyHooks(Arc<Shared>);

/// The `after` hook's `leaseq.JobOutcome` (a `str` with details) for a core outcome.
fn outcome_to_py<'py>(py: Python<'py>, outcome: &JobOutcome) -> PyResult<Bound<'py, PyAny>> {
    static JOB_OUTCOME: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let class = JOB_OUTCOME.import(py, "leaseq._worker", "JobOutcome")?;
    match outcome {
        JobOutcome::Completed(completed) => class.call1(("completed", *completed)),
        JobOutcome::Failed(error) => class.call1(("failed", false, error.as_str())),
        JobOutcome::Released => class.call1(("released",)),
        JobOutcome::LeaseLost => class.call1(("lease_lost",)),
    }
}

/// Calls a hook; an exception it raises is reported (`sys.unraisablehook`) and ignored.
fn call_hook(
    hook: &Py<PyAny>,
    arguments: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>,
) {
    tokio::task::block_in_place(|| {
        attach_from_rust(|py| {
            let hook = hook.bind(py);
            if let Err(err) = arguments(py).and_then(|arguments| hook.call1(arguments)) {
                err.write_unraisable(py, Some(hook));
            }
        });
    });
}

impl leaseq::Hooks for PyHooks {
    fn before(&self, item: &leaseq::Item) {
        if let Some(hook) = &self.0.before {
            call_hook(hook, |py| {
                PyTuple::new(py, [Item::from(item.clone()).into_bound_py_any(py)?])
            });
        }
    }

    fn after(&self, item: &leaseq::Item, outcome: &JobOutcome) {
        if let Some(hook) = &self.0.after {
            call_hook(hook, |py| {
                PyTuple::new(
                    py,
                    [
                        Item::from(item.clone()).into_bound_py_any(py)?,
                        outcome_to_py(py, outcome)?,
                    ],
                )
            });
        }
    }
}

/// Set while a run is under way; cleared when the core's run ends.
struct Running(Arc<AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Stops a worker: the core's stop, remembered for a run that has not started yet (the core's
/// run clears any earlier stop when it starts; `Worker::core_run` makes this one again).
#[derive(Clone)]
struct Stopper {
    core: leaseq::Worker,
    requested: Arc<AtomicBool>,
}

impl Stopper {
    fn stop(&self) {
        self.requested.store(true, Ordering::Release);
        self.core.stop();
    }
}

/// Stops the worker if dropped before disarmed: a cancelled `run_async` shuts down gracefully.
struct StopOnDrop(Option<Stopper>);

impl StopOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(worker) = self.0.take() {
            worker.stop();
        }
    }
}

/// The Python signal handlers `stop_on_signals` installs, and the ones they replaced.
struct SignalHandlers {
    previous: Vec<(Py<PyAny>, Py<PyAny>)>,
}

impl SignalHandlers {
    /// Installs a SIGTERM and a SIGINT handler that stop `worker`. Only the main thread can.
    fn install(py: Python<'_>, worker: Stopper) -> PyResult<SignalHandlers> {
        let signal = py.import("signal")?;
        let stop = PyCFunction::new_closure(
            py,
            Some(c"_leaseq_stop_worker"),
            None,
            move |_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>| worker.stop(),
        )?;
        let mut installed = SignalHandlers {
            previous: Vec::new(),
        };
        for name in ["SIGTERM", "SIGINT"] {
            let number = signal.getattr(name)?;
            match signal.call_method1("signal", (&number, &stop)) {
                Ok(previous) => installed
                    .previous
                    .push((number.unbind(), previous.unbind())),
                Err(err) => {
                    installed.restore(py)?;
                    let refused = to_py(leaseq::Error::invalid_argument(format!(
                        "stop_on_signals needs the main thread, where Python handles signals: {}",
                        err.value(py)
                    )));
                    refused.set_cause(py, Some(err));
                    return Err(refused);
                }
            }
        }
        Ok(installed)
    }

    /// Puts the replaced handlers back (a handler not set from Python comes back as SIG_DFL).
    fn restore(&mut self, py: Python<'_>) -> PyResult<()> {
        let signal = py.import("signal")?;
        for (number, previous) in self.previous.drain(..).rev() {
            let previous = if previous.is_none(py) {
                signal.getattr("SIG_DFL")?.unbind()
            } else {
                previous
            };
            signal.call_method1("signal", (number, previous))?;
        }
        Ok(())
    }
}

/// Runs a handler over a queue until stopped: leases items, runs the handler on each (up to
/// ``concurrency`` at once), renews their leases while it runs, completes an item when the
/// handler returns and fails it when the handler raises or times out. The loop is the core's,
/// the same in every language.
///
/// A plain function runs on daemon threads the worker keeps for the run, so up to
/// ``concurrency`` run in parallel (the GIL allowing). An ``async def`` function runs as a task
/// on an asyncio event
/// loop: the one awaiting ``run_async``, or a private one on a thread of its own for ``run``.
/// An exception fails the item with the error ``f"{type(exc).__name__}: {exc}"``: it is
/// retried after the queue's backoff, or goes to the dead letters on its last attempt.
///
/// Routing by type: with a mapping ``{type_name: handler}``, each item runs on the handler of
/// its ``Item.type_name`` (the string field ``"type"`` of its JSON object data); each handler
/// may be a function or an ``async def`` one. An item with no type, or of a type with no
/// handler, fails with an error that says so and names the types handled, e.g.
/// ``unknown item type "fax"; this worker handles: email, resize``; it is retried like any
/// failure, so a worker deployed later with that handler can still run it.
///
/// Graceful shutdown: after ``stop()``, the worker leases nothing more, lets running handlers
/// finish within ``shutdown_timeout``, and releases the rest back to the queue at once. A plain
/// handler given up on (timed out, or past the shutdown timeout) still runs on its thread to
/// its end; its result is ignored. An async one is cancelled.
///
/// Args:
///     queue: the queue to work (a ``leaseq.WorkQueue`` or a ``leaseq.aio.WorkQueue``).
///     handler: called with each Item: a function, or an ``async def`` function; or a
///         mapping of item type names to such functions, one per type.
///     concurrency: items run at once.
///     lease_secs: the lease taken on each item, renewed every third of it while the handler
///         runs.
///     job_timeout: seconds after which a handler is given up on and its item failed with a
///         timeout; None never.
///     shutdown_timeout: after ``stop()``, how many seconds running handlers may still
///         finish.
///     clean_every: how often, in seconds, the worker runs a light clean (for leases of
///         redis-work-queue clients and dead workers); None never.
///     before: called with each item before its handler runs (middleware: logging, metrics,
///         tracing).
///     after: called with each item and how its run ended, a JobOutcome: a ``str``,
///         ``"completed"``, ``"failed"``, ``"released"`` (the worker stopped first) or
///         ``"lease_lost"``, with ``completed`` (this worker's ``complete`` was the one) and
///         ``error`` (the failure's). Hooks run on leaseq's threads; an exception in one is
///         reported through ``sys.unraisablehook`` and ignored.
///
/// Raises:
///     InvalidArgumentError: if ``concurrency`` is below 1, a duration is 0 (where refused),
///         negative, NaN, infinite or too large, or ``handler`` is an empty mapping.
///     TypeError: if ``queue`` is not a WorkQueue, ``handler`` is neither callable nor a
///         mapping, a type name in it is not a ``str`` or a handler in it not callable, or a
///         hook is not callable.
#[pyclass(frozen, module = "leaseq", name = "Worker")]
pub struct Worker {
    core: leaseq::Worker,
    shared: Arc<Shared>,
    running: Arc<AtomicBool>,
    /// `stop()` was called during this run. The core's run clears any earlier stop when it
    /// starts, so a stop that came between `run()` and that start is made again after it.
    stop_requested: Arc<AtomicBool>,
    queue_name: String,
}

impl Worker {
    fn stopper(&self) -> Stopper {
        Stopper {
            core: self.core.clone(),
            requested: self.stop_requested.clone(),
        }
    }
}

fn callable(name: &str, value: Option<Bound<'_, PyAny>>) -> PyResult<Option<Py<PyAny>>> {
    match value {
        None => Ok(None),
        Some(value) if value.is_callable() => Ok(Some(value.unbind())),
        Some(value) => Err(PyTypeError::new_err(format!(
            "{name} must be callable, not {}",
            value.get_type().name()?
        ))),
    }
}

/// What a run undoes when it ends: the runners it made (`HandlerThreads`, `run`'s private
/// `LoopThread`; not the loop awaiting `run_async`, the caller's), closed under the GIL, and the
/// signal handlers it installed.
struct Teardown {
    owned: Vec<Py<PyAny>>,
    signals: Option<SignalHandlers>,
}

impl Teardown {
    fn run(mut self, py: Python<'_>) -> PyResult<()> {
        let mut closed = Ok(());
        for runner in self.owned.drain(..) {
            let result = runner.bind(py).call_method0(intern!(py, "close"));
            closed = closed.and(result.map(drop));
        }
        let restored = match &mut self.signals {
            Some(signals) => signals.restore(py),
            None => Ok(()),
        };
        closed.and(restored)
    }
}

impl Worker {
    fn start_running(&self) -> PyResult<Running> {
        if self.running.swap(true, Ordering::AcqRel) {
            return Err(PyRuntimeError::new_err("this worker is already running"));
        }
        self.stop_requested.store(false, Ordering::Release);
        Ok(Running(self.running.clone()))
    }

    /// Makes the run's runners and hands them to the handlers: `HandlerThreads` if a handler
    /// is plain; if one is async, `event_loop` (the loop awaiting `run_async`) or a private
    /// `LoopThread`. Then, with `stop_on_signals`, installs the signal handlers.
    fn start_run(
        &self,
        py: Python<'_>,
        event_loop: Option<Bound<'_, PyAny>>,
        stop_on_signals: bool,
    ) -> PyResult<Teardown> {
        let helpers = py.import("leaseq._worker")?;
        let mut teardown = Teardown {
            owned: Vec::new(),
            signals: None,
        };
        let made = (|| {
            let mut runners = Runners::default();
            if self.shared.any_plain {
                let threads = helpers.getattr("HandlerThreads")?.call0()?;
                runners.threads = Some(threads.clone().unbind());
                teardown.owned.push(threads.unbind());
            }
            if self.shared.any_async {
                let event_loop = match &event_loop {
                    Some(event_loop) => event_loop.clone(),
                    None => {
                        let private = helpers.getattr("LoopThread")?.call0()?;
                        teardown.owned.push(private.clone().unbind());
                        private.getattr("loop")?
                    }
                };
                runners.event_loop = Some(event_loop.unbind());
            }
            PyResult::Ok(runners)
        })();
        match made {
            Ok(runners) => *self.shared.runners() = runners,
            Err(err) => {
                let _ = teardown.run(py);
                return Err(err);
            }
        }
        if stop_on_signals {
            match SignalHandlers::install(py, self.stopper()) {
                Ok(signals) => teardown.signals = Some(signals),
                Err(err) => {
                    let _ = teardown.run(py);
                    return Err(err);
                }
            }
        }
        Ok(teardown)
    }

    /// The core run, on leaseq's runtime; ends the `Running` mark when it ends.
    fn core_run(&self, running: Running) -> impl Future<Output = leaseq::Result<()>> + Send {
        let worker = self.core.clone();
        let stop_requested = self.stop_requested.clone();
        async move {
            let _running = running;
            let ended = {
                let mut run = std::pin::pin!(worker.run(false));
                // The first poll starts the run, which forgets any stop made before it.
                match std::future::poll_fn(|cx| Poll::Ready(run.as_mut().poll(cx))).await {
                    Poll::Ready(ended) => ended,
                    Poll::Pending => {
                        if stop_requested.load(Ordering::Acquire) {
                            worker.stop();
                        }
                        run.await
                    }
                }
            };
            ended
        }
    }

    /// `run` with the GIL released: a signal handler's exception (KeyboardInterrupt) stops the
    /// worker gracefully and is raised once it has stopped; a second one stops the wait.
    fn run_blocking(&self, py: Python<'_>, running: Running) -> PyResult<()> {
        let mut interrupted: Option<PyErr> = None;
        let run = self.core_run(running);
        let result = wait_interruptible(py, run, |err, _task| {
            if interrupted.is_some() {
                return Some(err);
            }
            self.stopper().stop();
            interrupted = Some(err);
            None
        });
        match interrupted {
            Some(err) if result.is_ok() => Err(err),
            _ => result,
        }
    }
}

#[pymethods]
impl Worker {
    #[new]
    #[pyo3(signature = (
        queue, handler, *, concurrency = 1, lease_secs = 30.0, job_timeout = None,
        shutdown_timeout = 10.0, clean_every = Some(5.0), before = None, after = None
    ))]
    #[pyo3(
        text_signature = "(queue, handler, *, concurrency=1, lease_secs=30.0, \
        job_timeout=None, shutdown_timeout=10.0, clean_every=5.0, before=None, after=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        queue: &Bound<'_, PyAny>,
        handler: Bound<'_, PyAny>,
        concurrency: i64,
        lease_secs: f64,
        job_timeout: Option<f64>,
        shutdown_timeout: f64,
        clean_every: Option<f64>,
        before: Option<Bound<'_, PyAny>>,
        after: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Worker> {
        let queue = if let Ok(queue) = queue.cast::<WorkQueue>() {
            queue.get().core().clone()
        } else if let Ok(queue) = queue.cast::<AsyncWorkQueue>() {
            queue.get().core().clone()
        } else {
            return Err(PyTypeError::new_err(format!(
                "queue must be a leaseq.WorkQueue or a leaseq.aio.WorkQueue, not {}",
                queue.get_type().name()?
            )));
        };
        let handlers = Handlers::from_py(&handler)?;
        let shared = Arc::new(Shared {
            any_plain: handlers.any(false),
            any_async: handlers.any(true),
            before: callable("before", before)?,
            after: callable("after", after)?,
            runners: Mutex::default(),
        });
        let options = (|| {
            Ok(WorkerOptions {
                concurrency: usize::try_from(concurrency).unwrap_or(0),
                lease_duration: lease_duration(lease_secs)?,
                job_timeout: optional_secs("job_timeout", job_timeout)?,
                shutdown_timeout: leaseq::from_secs_f64("shutdown_timeout", shutdown_timeout)?,
                clean_every: optional_secs("clean_every", clean_every)?,
            })
        })()
        .map_err(to_py)?;
        let mut core =
            leaseq::Worker::new(&queue, handlers.into_core(&shared), options).map_err(to_py)?;
        if shared.before.is_some() || shared.after.is_some() {
            core = core.with_hooks(PyHooks(shared.clone()));
        }
        Ok(Worker {
            core,
            shared,
            running: Arc::new(AtomicBool::new(false)),
            stop_requested: Arc::new(AtomicBool::new(false)),
            queue_name: queue.name().to_owned(),
        })
    }

    /// Runs until ``stop()``: blocks the calling thread (with the GIL released, so other
    /// threads and the handlers run). Returns once the worker has shut down: handlers
    /// finished, or their items released after the shutdown timeout.
    ///
    /// Ctrl-C (KeyboardInterrupt) stops the worker the same way, then is raised. Errors
    /// talking to Redis are retried after a short pause rather than ending the run.
    ///
    /// Args:
    ///     stop_on_signals: also stop gracefully on SIGTERM and SIGINT (and return normally):
    ///         installs Python signal handlers for the run, so call it from the main thread.
    ///         The previous handlers are put back when it returns.
    ///
    /// Raises:
    ///     InvalidArgumentError: if ``stop_on_signals`` is true off the main thread.
    ///     RuntimeError: if the worker is already running.
    #[pyo3(signature = (stop_on_signals = false))]
    fn run(&self, py: Python<'_>, stop_on_signals: bool) -> PyResult<()> {
        let running = self.start_running()?;
        let teardown = self.start_run(py, None, stop_on_signals)?;
        let result = self.run_blocking(py, running);
        let undone = teardown.run(py);
        result.and(undone)
    }

    /// Runs until ``stop()``, as a coroutine on the running event loop (where an ``async def``
    /// handler runs too). Cancelling it stops the worker gracefully.
    ///
    /// Args:
    ///     stop_on_signals: also stop gracefully on SIGTERM and SIGINT: installs Python
    ///         signal handlers for the run, so await it on the main thread. The previous
    ///         handlers are put back when it ends.
    ///
    /// Returns:
    ///     A coroutine that ends once the worker has shut down.
    ///
    /// Raises:
    ///     InvalidArgumentError: if ``stop_on_signals`` is true off the main thread.
    ///     RuntimeError: if the worker is already running.
    #[pyo3(signature = (stop_on_signals = false))]
    fn run_async(slf: &Bound<'_, Self>, stop_on_signals: bool) -> Operation {
        let this = slf.clone().unbind();
        Operation::with_starter(Box::new(move |py| {
            let this = this.bind(py).get();
            let running = this.start_running()?;
            let teardown = this.start_run(py, Some(running_loop(py)?), stop_on_signals)?;
            // The core run goes on by itself: cancelling the awaiting task only asks it to stop.
            let run = leaseq::runtime().spawn(this.core_run(running));
            let stop_on_drop = StopOnDrop(Some(this.stopper()));
            let started = start(py, async move {
                let ended = run.await;
                stop_on_drop.disarm();
                match ended {
                    Ok(result) => result.map(|()| None::<()>),
                    Err(join) => Err(leaseq::Error::new(
                        leaseq::ErrorKind::Internal,
                        format!("the worker's run ended abnormally: {join}"),
                    )),
                }
            });
            let future = match started {
                Ok(future) => future,
                Err(err) => {
                    this.stopper().stop();
                    let _ = teardown.run(py);
                    return Err(err);
                }
            };
            // Done callbacks run on the loop's thread: the one that installed the handlers.
            let teardown = Mutex::new(Some(teardown));
            let undo = PyCFunction::new_closure(
                py,
                Some(c"_leaseq_end_run"),
                None,
                move |args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>| {
                    let taken = teardown
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .take();
                    taken.map_or(Ok(()), |teardown| teardown.run(args.py()))
                },
            )?;
            future.call_method1(intern!(py, "add_done_callback"), (undo,))?;
            Ok(future)
        }))
    }

    /// Asks the worker to stop: it leases nothing more, lets running handlers finish within
    /// the shutdown timeout, and releases the rest. ``run`` returns once that is done. Safe
    /// to call from any thread and from a signal handler.
    fn stop(&self) {
        self.stopper().stop();
    }

    /// What the worker has done so far (a WorkerCounters snapshot).
    #[getter]
    fn counters(&self) -> WorkerCounters {
        WorkerCounters {
            inner: self.core.counters(),
        }
    }

    fn __repr__(&self) -> String {
        let state = if self.running.load(Ordering::Acquire) {
            "running"
        } else {
            "idle"
        };
        format!("<leaseq.Worker on {:?} {state}>", self.queue_name)
    }
}

/// What a worker has done so far: a snapshot.
#[pyclass(frozen, module = "leaseq", name = "WorkerCounters")]
pub struct WorkerCounters {
    inner: leaseq::WorkerCounters,
}

#[pymethods]
impl WorkerCounters {
    /// Items leased.
    #[getter]
    fn leased(&self) -> u64 {
        self.inner.leased
    }

    /// Items completed (the handler succeeded and ``complete`` returned True).
    #[getter]
    fn completed(&self) -> u64 {
        self.inner.completed
    }

    /// Handler failures and timeouts.
    #[getter]
    fn failed(&self) -> u64 {
        self.inner.failed
    }

    /// Failures that were scheduled for a retry (the rest went to the dead letters).
    #[getter]
    fn retried(&self) -> u64 {
        self.inner.retried
    }

    /// Successful lease renewals (heartbeats).
    #[getter]
    fn renewed(&self) -> u64 {
        self.inner.renewed
    }

    /// Items whose handler is running now.
    #[getter]
    fn in_flight(&self) -> u64 {
        self.inner.in_flight
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<WorkerCounters>()
            .is_ok_and(|other| other.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        let c = &self.inner;
        format!(
            "WorkerCounters(leased={}, completed={}, failed={}, retried={}, renewed={}, \
             in_flight={})",
            c.leased, c.completed, c.failed, c.retried, c.renewed, c.in_flight
        )
    }
}
