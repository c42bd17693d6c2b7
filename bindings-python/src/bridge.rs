//! Running core operations for Python.
//!
//! * `run`: a blocking call with the GIL released; a panic becomes a `leaseq.Error`.
//! * `run_interruptible`: the same for calls that may wait for ever (a blocking lease): the
//!   calling thread wakes every 100 ms to let Python handle signals, so Ctrl-C works.
//! * `Operation`: what asyncio methods return, a coroutine-like awaitable. When first awaited it
//!   starts the core future on `leaseq::runtime()` (fork-aware) and waits on an asyncio Future.
//!   When the core future ends, its outcome goes down a channel to one completer thread per
//!   process, which attaches to Python once per batch and resolves the Futures on their event
//!   loops with `loop.call_soon_threadsafe` (one call per loop per batch). No thread is parked per
//!   call, and tokio's workers never wait for the GIL. Cancelling the Future aborts the task;
//!   dropping a core future loses nothing (a blocking lease that is waiting takes nothing).

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::time::Duration;

use futures_util::FutureExt;
use pyo3::exceptions::PyRuntimeError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyCFunction, PyDict, PyList, PyTuple};
use pyo3::{intern, IntoPyObjectExt, PyTraverseError};

use crate::error::{panic_to_py, to_py};

/// How often a thread waiting in `run_interruptible` checks for signals (Ctrl-C).
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

type Outcome<T> = std::thread::Result<leaseq::Result<T>>;

/// Turns a finished operation's outcome into a Python value or exception (needs the GIL).
type IntoPython = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

pub fn settle<T>(outcome: Outcome<T>) -> PyResult<T> {
    match outcome {
        Ok(result) => result.map_err(to_py),
        Err(panic) => Err(panic_to_py(panic)),
    }
}

/// Runs a blocking core call with the GIL released.
pub fn run<T, F>(py: Python<'_>, call: F) -> PyResult<T>
where
    F: FnOnce() -> leaseq::Result<T> + Send,
    T: Send,
{
    settle(py.detach(|| catch_unwind(AssertUnwindSafe(call))))
}

/// Runs a core future on leaseq's runtime and waits for it with the GIL released, checking for
/// signals every 100 ms. A signal handler's exception (KeyboardInterrupt) aborts the future.
pub fn run_interruptible<T, F>(py: Python<'_>, future: F) -> PyResult<T>
where
    F: Future<Output = leaseq::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    wait_interruptible(py, future, |interrupted, task| {
        task.abort();
        Some(interrupted)
    })
}

/// Runs a core future on leaseq's runtime and waits for it with the GIL released, checking for
/// signals every 100 ms (so Python runs its signal handlers). When a handler raises,
/// `on_interrupt` decides: `Some(error)` stops waiting and raises it (the task may be aborted
/// through the handle it gets), `None` goes on waiting.
pub fn wait_interruptible<T, F>(
    py: Python<'_>,
    future: F,
    mut on_interrupt: impl FnMut(PyErr, &tokio::task::AbortHandle) -> Option<PyErr>,
) -> PyResult<T>
where
    F: Future<Output = leaseq::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let (sender, mut receiver) = mpsc::sync_channel(1);
    let task = leaseq::runtime().spawn(async move {
        let _ = sender.send(AssertUnwindSafe(future).catch_unwind().await);
    });
    loop {
        // The receiver moves in and out: `mpsc::Receiver` is Send but not Sync.
        let (received, returned) = py.detach(move || {
            let received = receiver.recv_timeout(SIGNAL_CHECK_INTERVAL);
            (received, receiver)
        });
        receiver = returned;
        match received {
            Ok(outcome) => return settle(outcome),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(interrupted) = py.check_signals() {
                    if let Some(raised) = on_interrupt(interrupted, &task.abort_handle()) {
                        return Err(raised);
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(to_py(leaseq::Error::new(
                    leaseq::ErrorKind::Internal,
                    "the leaseq runtime dropped the operation",
                )))
            }
        }
    }
}

/// The event loop and asyncio Future an operation resolves.
///
/// Dropped only on the completer thread, under the GIL: a tokio worker that dropped a `Py`
/// without it would take pyo3's reference-pool lock, and a `fork()` at that instant would leave
/// the child's copy of that lock held for ever. So an aborted operation sends its handles to the
/// completer thread to be dropped there.
struct Waiter {
    handles: Option<(Py<PyAny>, Py<PyAny>)>,
}

impl Waiter {
    /// The handles, for the one completion; `take` consumes the waiter, so this is always
    /// `Some` (made so in `start`), and nothing is left for `Drop` to dispose of.
    fn take(mut self) -> Option<(Py<PyAny>, Py<PyAny>)> {
        self.handles.take()
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        if let Some((event_loop, future)) = self.handles.take() {
            send_to_completer(Message::Dispose(vec![event_loop, future]));
        }
    }
}

enum Message {
    /// A finished operation: its event loop, its Future, and the conversion of its outcome to
    /// Python (which needs the GIL, so it runs on the completer thread).
    Complete(Py<PyAny>, Py<PyAny>, IntoPython),
    /// Python objects to drop under the GIL (those of an aborted operation, ...).
    Dispose(Vec<Py<PyAny>>),
    /// A short call into Python for code on leaseq's runtime (`on_python_thread`).
    Call(PythonCall),
    /// The interpreter exits (`close_gate`): finish what came before, then end the thread.
    Exit,
}

/// What `on_python_thread` runs.
pub type PythonCall = Box<dyn for<'py> FnOnce(Python<'py>) + Send>;

/// Runs `call` on the completer thread, attached to Python, after what was sent before it.
/// For short calls from leaseq's runtime, whose threads must never wait for the GIL; a call
/// that cannot run any more (the interpreter exits) is dropped unrun.
pub fn on_python_thread(call: PythonCall) {
    send_to_completer(Message::Call(call));
}

/// The gate the completer thread (the one thread of leaseq's that calls into Python, a worker's
/// calls included) attaches to Python through: see `attach_from_rust`. One per process, made
/// again in a forked child, as the completer is.
struct Gate {
    pid: u32,
    /// Threads inside: attached, or waiting for the GIL.
    inside: AtomicUsize,
    /// Set at exit: nobody enters any more.
    closed: AtomicBool,
}

static GATE: AtomicPtr<Gate> = AtomicPtr::new(std::ptr::null_mut());

fn gate() -> &'static Gate {
    let pid = std::process::id();
    loop {
        let current = GATE.load(Ordering::Acquire);
        // SAFETY: GATE only ever holds null or a leaked, never freed `Gate`.
        if let Some(gate) = unsafe { current.as_ref() } {
            if gate.pid == pid {
                return gate;
            }
        }
        let fresh = Box::into_raw(Box::new(Gate {
            pid,
            inside: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }));
        if GATE
            .compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // SAFETY: `fresh` was never published, so this is its only pointer.
            drop(unsafe { Box::from_raw(fresh) });
        }
    }
}

/// Attaches a thread of leaseq's (one that Python did not start) to run `call`, unless the
/// interpreter is exiting: then returns None without touching Python.
///
/// CPython before 3.14 ends a thread that takes the GIL once shutdown has begun with
/// `pthread_exit`, and its forced unwind aborts the process ("FATAL: exception not rethrown")
/// when it meets the frame that catches panics at the bottom of every Rust thread. So at exit an
/// `atexit` callback (`close_gate`, run before shutdown begins) closes this gate and waits, with
/// the GIL released, for the threads inside to leave.
fn attach_from_rust<R>(call: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    let gate = gate();
    gate.inside.fetch_add(1, Ordering::SeqCst);
    let result = if gate.closed.load(Ordering::SeqCst) {
        None
    } else {
        Python::try_attach(call)
    };
    gate.inside.fetch_sub(1, Ordering::SeqCst);
    result
}

/// The longest `close_gate` waits for threads inside the gate at exit.
const EXIT_WAIT: Duration = Duration::from_secs(5);

/// Run by `atexit`: closes the gate, ends the completer thread once it has done what it was
/// sent, and lets the other threads inside the gate finish.
fn close_gate(py: Python<'_>) {
    let gate = gate();
    gate.closed.store(true, Ordering::SeqCst);
    let pid = std::process::id();
    // SAFETY: COMPLETER only ever holds null or a leaked, never freed `Completer`.
    if let Some(completer) = unsafe { COMPLETER.load(Ordering::Acquire).as_ref() } {
        if completer.pid == pid {
            let _ = completer.sender.send(Message::Exit);
        }
    }
    py.detach(|| {
        let deadline = std::time::Instant::now() + EXIT_WAIT;
        while gate.inside.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// The completer thread of one process.
struct Completer {
    pid: u32,
    sender: Sender<Message>,
}

/// This process's completer, made again in a forked child (threads do not survive `fork()`).
/// An atomic pointer rather than a Mutex: a child must never wait on a lock that a thread of its
/// parent held at the fork. A published `Completer` is leaked on purpose, never freed.
static COMPLETER: AtomicPtr<Completer> = AtomicPtr::new(std::ptr::null_mut());

fn send_to_completer(message: Message) {
    let pid = std::process::id();
    loop {
        let current = COMPLETER.load(Ordering::Acquire);
        // SAFETY: COMPLETER only ever holds null or a leaked, never freed `Completer`.
        if let Some(completer) = unsafe { current.as_ref() } {
            if completer.pid == pid {
                // Fails only if the thread is gone; nothing could await the Future then.
                let _ = completer.sender.send(message);
                return;
            }
        }
        // None yet, or the parent's (whose thread is not in this forked child): make ours.
        let (sender, receiver) = mpsc::channel();
        let fresh = Box::into_raw(Box::new(Completer { pid, sender }));
        if COMPLETER
            .compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let spawned = std::thread::Builder::new()
                .name("leaseq-asyncio".into())
                .spawn(move || complete_forever(receiver));
            if spawned.is_err() {
                return; // Out of threads: this Future stays pending.
            }
        } else {
            // SAFETY: `fresh` was never published, so this is its only pointer.
            drop(unsafe { Box::from_raw(fresh) });
        }
    }
}

/// The completer thread's life: attached to Python once, with one thread state throughout,
/// releasing the GIL while it waits. (A thread state made per batch would take CPython's runtime
/// lock each time, and a `fork()` at that instant hangs the child: CPython 3.11 takes that lock
/// in `PyOS_AfterFork_Child` before it resets it.) It leaves at exit, on `Message::Exit`.
fn complete_forever(mut receiver: Receiver<Message>) {
    // If the interpreter is exiting already, the closure (and what was sent) is dropped unrun;
    // pyo3 defers releasing any Python object in it, so none is touched.
    attach_from_rust(move |py| loop {
        let (received, returned) = py.detach(move || (receiver.recv(), receiver));
        receiver = returned;
        let Ok(first) = received else { return };
        let batch: Vec<Message> = std::iter::once(first).chain(receiver.try_iter()).collect();
        let exit = batch.iter().any(|message| matches!(message, Message::Exit));
        // This thread serves every later operation too: it must outlive any panic.
        let _ = catch_unwind(AssertUnwindSafe(|| deliver(py, batch)));
        if exit {
            return;
        }
    });
}

/// Resolves a batch: one `call_soon_threadsafe` per event loop.
fn deliver(py: Python<'_>, batch: Vec<Message>) {
    let mut per_loop: Vec<(Py<PyAny>, Bound<'_, PyList>)> = Vec::new();
    for message in batch {
        let (event_loop, future, into_python) = match message {
            Message::Complete(event_loop, future, into_python) => (event_loop, future, into_python),
            Message::Dispose(handles) => {
                drop(handles);
                continue;
            }
            Message::Call(call) => {
                // A panic in one call must not lose the rest of the batch.
                let _ = catch_unwind(AssertUnwindSafe(|| call(py)));
                continue;
            }
            Message::Exit => continue,
        };
        let (succeeded, value) = match into_python(py) {
            Ok(value) => (true, value),
            Err(err) => (false, err.into_value(py).into_any()),
        };
        let Ok(entry) = PyTuple::new(
            py,
            [
                future.into_bound(py),
                PyBool::new(py, succeeded).to_owned().into_any(),
                value.into_bound(py),
            ],
        ) else {
            continue; // Out of memory: this Future stays pending; the others go on.
        };
        let position = per_loop.iter().position(|(known, _)| known.is(&event_loop));
        let list = match position {
            Some(index) => &per_loop[index].1,
            None => {
                per_loop.push((event_loop, PyList::empty(py)));
                &per_loop[per_loop.len() - 1].1
            }
        };
        let _ = list.append(entry);
    }
    for (event_loop, entries) in per_loop {
        let Ok(resolve) = resolver(py) else { continue };
        // Fails if the loop was closed; nothing can await its Futures any more.
        let _ = event_loop
            .bind(py)
            .call_method1(intern!(py, "call_soon_threadsafe"), (resolve, entries));
    }
}

/// `_resolve(entries)`, run on the event loop's thread: sets each Future's result or exception,
/// unless it was cancelled meanwhile.
fn resolver(py: Python<'_>) -> PyResult<&Bound<'_, PyCFunction>> {
    static RESOLVE: PyOnceLock<Py<PyCFunction>> = PyOnceLock::new();
    RESOLVE
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(
                PyCFunction::new_closure(
                    py,
                    Some(c"_resolve"),
                    None,
                    |args: &Bound<'_, PyTuple>, _kwargs| -> PyResult<()> {
                        let py = args.py();
                        let entries = args.get_item(0)?;
                        for entry in entries.try_iter()? {
                            let (future, succeeded, value): (
                                Bound<'_, PyAny>,
                                bool,
                                Bound<'_, PyAny>,
                            ) = entry?.extract()?;
                            if future.call_method0(intern!(py, "done"))?.is_truthy()? {
                                continue;
                            }
                            let method = if succeeded {
                                intern!(py, "set_result")
                            } else {
                                intern!(py, "set_exception")
                            };
                            future.call_method1(method, (value,))?;
                        }
                        Ok(())
                    },
                )?
                .unbind(),
            )
        })
        .map(|resolve| resolve.bind(py))
}

pub fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    GET_RUNNING_LOOP
        .import(py, "asyncio", "get_running_loop")?
        .call0()
}

/// Aborts the core task when its Future is done: a no-op if the task already finished, and the
/// cancellation path when the Future was cancelled.
#[pyclass(frozen)]
struct AbortTask {
    task: tokio::task::AbortHandle,
}

#[pymethods]
impl AbortTask {
    fn __call__(&self, _future: &Bound<'_, PyAny>) {
        self.task.abort();
    }
}

/// Starts `future` on leaseq's runtime and returns an asyncio Future, on the running loop, that
/// its outcome resolves.
pub fn start<'py, T, F>(py: Python<'py>, future: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = leaseq::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let event_loop = running_loop(py)?;
    let py_future = event_loop.call_method0(intern!(py, "create_future"))?;
    let waiter = Waiter {
        handles: Some((event_loop.unbind(), py_future.clone().unbind())),
    };
    let task = leaseq::runtime().spawn(async move {
        let outcome = AssertUnwindSafe(future).catch_unwind().await;
        let Some((event_loop, py_future)) = waiter.take() else {
            return;
        };
        let into_python: IntoPython = Box::new(move |py| settle(outcome)?.into_py_any(py));
        send_to_completer(Message::Complete(event_loop, py_future, into_python));
    });
    py_future.call_method1(
        intern!(py, "add_done_callback"),
        (AbortTask {
            task: task.abort_handle(),
        },),
    )?;
    Ok(py_future)
}

/// Makes the asyncio Future when the operation is first awaited (on the loop that awaits it).
pub type Starter = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>> + Send>;

/// What every asyncio method returns: a coroutine-like awaitable (registered as a
/// `collections.abc.Coroutine`, so `asyncio.run`, `create_task` and `gather` take it).
///
/// Like a coroutine, it starts its operation only when first awaited, in the running loop; it
/// then waits on an asyncio Future that leaseq's runtime resolves. Cancelling the task cancels
/// that Future, which aborts the core operation.
#[pyclass(frozen, module = "leaseq")]
pub struct Operation {
    /// Locked only to read or swap fields, never across a call into Python.
    state: Mutex<OperationState>,
}

struct OperationState {
    starter: Option<Starter>,
    /// Once started: the asyncio Future, and its `__await__()` iterator that this delegates to.
    started: Option<(Py<PyAny>, Py<PyAny>)>,
}

impl Operation {
    /// An operation that runs `starter` when first awaited: it returns the asyncio Future to
    /// wait on (`start` makes one for a core future).
    pub fn with_starter(starter: Starter) -> Operation {
        Operation {
            state: Mutex::new(OperationState {
                starter: Some(starter),
                started: None,
            }),
        }
    }

    /// An operation that runs `future` on leaseq's runtime.
    pub fn new<T, F>(future: F) -> Operation
    where
        F: Future<Output = leaseq::Result<T>> + Send + 'static,
        T: for<'a> IntoPyObject<'a> + Send + 'static,
    {
        Operation::with_starter(Box::new(move |py| start(py, future)))
    }

    /// An operation whose result is already known.
    pub fn ready(value: Py<PyAny>) -> Operation {
        Operation::with_starter(Box::new(move |py| {
            let py_future = running_loop(py)?.call_method0(intern!(py, "create_future"))?;
            py_future.call_method1(intern!(py, "set_result"), (value,))?;
            Ok(py_future)
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, OperationState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An error (StopIteration with the result included) ends the operation, as it ends a
    /// coroutine: awaiting it again is an error.
    fn finish_on_error<'py>(
        &self,
        step: PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if step.is_err() {
            self.state().started = None;
        }
        step
    }

    /// The started operation's `future.__await__()`, starting it on first use.
    fn waiting<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let starter = {
            let mut state = self.state();
            if let Some((_, waiting)) = &state.started {
                return Ok(Some(waiting.bind(py).clone()));
            }
            state.starter.take()
        };
        let Some(starter) = starter else {
            return Ok(None);
        };
        let future = starter(py)?;
        let waiting = future.call_method0(intern!(py, "__await__"))?;
        self.state().started = Some((future.unbind(), waiting.clone().unbind()));
        Ok(Some(waiting))
    }
}

#[pymethods]
impl Operation {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    // While it waits, an operation is in a cycle (task -> operation -> Future -> task's wake-up
    // callback); the GC must see it to collect a task abandoned with its event loop.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Ok(state) = self.state.try_lock() {
            if let Some((future, waiting)) = &state.started {
                visit.call(future)?;
                visit.call(waiting)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        if let Ok(mut state) = self.state.try_lock() {
            state.starter = None;
            state.started = None;
        }
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.send(py, &py.None().into_bound(py))
    }

    /// Starts the operation if needed, then passes `value` to the Future it waits on.
    fn send<'py>(&self, py: Python<'py>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        match self.waiting(py)? {
            Some(waiting) => {
                self.finish_on_error(waiting.call_method1(intern!(py, "send"), (value,)))
            }
            None => Err(PyRuntimeError::new_err(
                "cannot reuse an already awaited leaseq operation",
            )),
        }
    }

    /// Raises `error` where the operation waits (a task's cancellation comes this way).
    #[pyo3(signature = (error, value = None, traceback = None))]
    fn throw<'py>(
        &self,
        py: Python<'py>,
        error: &Bound<'py, PyAny>,
        value: Option<&Bound<'py, PyAny>>,
        traceback: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let waiting = {
            let mut state = self.state();
            // Never started: there is nothing to cancel, and it never will be.
            state.starter = None;
            state
                .started
                .as_ref()
                .map(|(_, waiting)| waiting.clone_ref(py))
        };
        match waiting {
            Some(waiting) => {
                let arguments: Vec<Bound<'py, PyAny>> = [Some(error), value, traceback]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect();
                let thrown = waiting
                    .bind(py)
                    .call_method1(intern!(py, "throw"), PyTuple::new(py, arguments)?);
                self.finish_on_error(thrown)
            }
            None => Err(match value {
                Some(value) if !value.is_none() => PyErr::from_value(value.clone()),
                _ => PyErr::from_value(error.clone()),
            }),
        }
    }

    /// Stops waiting (an abandoned coroutine is closed this way); a started operation's Future
    /// is cancelled, which aborts the core operation.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let started = {
            let mut state = self.state();
            state.starter = None;
            state.started.take()
        };
        if let Some((future, waiting)) = started {
            waiting.bind(py).call_method0(intern!(py, "close"))?;
            future.bind(py).call_method0(intern!(py, "cancel"))?;
        }
        Ok(())
    }
}

/// Registers `Operation` as a `collections.abc.Coroutine`, and `close_gate` with `atexit`.
pub fn register(py: Python<'_>) -> PyResult<()> {
    py.import("collections.abc")?
        .getattr("Coroutine")?
        .call_method1("register", (py.get_type::<Operation>(),))?;
    let at_exit = PyCFunction::new_closure(
        py,
        Some(c"_leaseq_at_exit"),
        None,
        |args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>| close_gate(args.py()),
    )?;
    py.import("atexit")?.call_method1("register", (at_exit,))?;
    Ok(())
}

/// Panics inside the binding, for the tests: with ``asynchronous`` true, inside an asyncio
/// operation (returns its awaitable), otherwise in a blocking call.
#[pyfunction]
pub fn _panic_for_tests(py: Python<'_>, asynchronous: bool) -> PyResult<Option<Operation>> {
    if asynchronous {
        Ok(Some(Operation::new(async {
            panic!("a test panic") as leaseq::Result<()>
        })))
    } else {
        run(py, || -> leaseq::Result<()> { panic!("a test panic") })?;
        Ok(None)
    }
}
