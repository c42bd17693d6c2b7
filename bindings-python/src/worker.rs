//! `Worker`: the core's worker (`leaseq::Worker::for_host`) with Python handlers. The core
//! leases, routes, heartbeats, times out, completes or fails and numbers the jobs; its calls go,
//! in order, through the completer thread (`bridge::on_python_thread`: no tokio thread waits for
//! the GIL) to the run's `Host` (`leaseq/_worker.py`), which runs the handlers and answers with
//! `_finish`. Signals (`stop_on_signals`) are the Host's Python handlers, never tokio's.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::FutureExt;
use leaseq::{HostCall, HostHooks, JobOutcome};
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;

use crate::aio::AsyncWorkQueue;
use crate::bridge::{on_python_thread, running_loop, start, wait_interruptible, Operation};
use crate::convert::worker_options;
use crate::error::to_py;
use crate::item::Item;
use crate::queue::WorkQueue;

/// The current run's `Host`; None between runs. Locked only under the GIL.
type HostSlot = Arc<Mutex<Option<Py<PyAny>>>>;

fn lock(slot: &HostSlot) -> MutexGuard<'_, Option<Py<PyAny>>> {
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The core's dispatch function: on the completer thread, calls the current run's Host:
/// `handle(job, route, item)`, `cancel(job)`, `before(item)` or `after(item, kind, completed,
/// error)`. No Host: the call came from a run that has ended. An exception (a hook's) is
/// reported through `sys.unraisablehook`.
fn dispatch(slot: HostSlot) -> impl Fn(HostCall) + Send + Sync + 'static {
    move |call| {
        let slot = slot.clone();
        on_python_thread(Box::new(move |py| {
            let Some(host) = lock(&slot).as_ref().map(|host| host.clone_ref(py)) else {
                return;
            };
            let (name, arguments) = match call {
                HostCall::Handle { job, route, item } => {
                    ("handle", (job, route, Item::from(item)).into_pyobject(py))
                }
                HostCall::Cancel { job } => ("cancel", (job,).into_pyobject(py)),
                HostCall::Before { item } => ("before", (Item::from(item),).into_pyobject(py)),
                HostCall::After { item, outcome } => {
                    let (kind, completed, error) = match outcome {
                        JobOutcome::Completed(completed) => ("completed", completed, None),
                        JobOutcome::Failed(error) => ("failed", false, Some(error)),
                        JobOutcome::Released => ("released", false, None),
                        JobOutcome::LeaseLost => ("lease_lost", false, None),
                    };
                    (
                        "after",
                        (Item::from(item), kind, completed, error).into_pyobject(py),
                    )
                }
            };
            match host.bind(py).getattr(name) {
                Ok(function) => {
                    if let Err(err) = arguments.and_then(|arguments| function.call1(arguments)) {
                        err.write_unraisable(py, Some(&function));
                    }
                }
                Err(err) => err.write_unraisable(py, Some(host.bind(py))),
            }
        }));
    }
}

#[doc = doc_worker!()]
#[pyclass(frozen, module = "leaseq", name = "Worker")]
pub struct Worker {
    core: leaseq::Worker,
    /// The handlers and hooks, checked (`_worker.handlers`): what each run's Host is made with.
    handlers: Py<PyAny>,
    host: HostSlot,
    queue_name: String,
}

impl Worker {
    /// Starts a run: makes its Host (runners, signal handlers), then the core run, holding the
    /// GIL. The core refuses it at once (InvalidArgumentError: another run is going) or starts
    /// tasks whose calls wait for the completer, so for the GIL: the Host is in the slot first.
    /// The future ends once the run has ended and the completer has passed on all its calls;
    /// then the slot is emptied (unless a later run's Host is there already).
    fn start_run<'py>(
        slf: &Bound<'py, Worker>,
        event_loop: Option<Bound<'py, PyAny>>,
        stop_on_signals: bool,
    ) -> PyResult<(
        Bound<'py, PyAny>,
        impl Future<Output = leaseq::Result<()>> + Send,
    )> {
        let (py, this) = (slf.py(), slf.get());
        let host = py.import("leaseq._worker")?.getattr("Host")?;
        let host = host.call1((slf, this.handlers.bind(py), event_loop, stop_on_signals))?;
        let worker = this.core.clone();
        let mut run = Box::pin(async move { worker.run(false).await });
        let first = {
            let _runtime = leaseq::runtime().enter();
            (&mut run).now_or_never()
        };
        if let Some(Err(refused)) = first {
            host.call_method0(intern!(py, "close"))?;
            return Err(to_py(refused));
        }
        *lock(&this.host) = Some(host.clone().unbind());
        let (slot, ours) = (this.host.clone(), host.clone().unbind());
        let run = async move {
            let ended = match first {
                Some(ended) => ended,
                None => run.await,
            };
            let (passed_on, all_passed_on) = tokio::sync::oneshot::channel();
            on_python_thread(Box::new(move |_py| {
                let mut current = lock(&slot);
                if current.as_ref().is_some_and(|host| host.is(&ours)) {
                    *current = None;
                }
                let _ = passed_on.send(());
            }));
            let _ = all_passed_on.await; // an error: the interpreter exits
            ended
        };
        Ok((host, run))
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
    #[allow(clippy::too_many_arguments)] // the keyword arguments of the constructor
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
        let py = queue.py();
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
        let handlers = py.import("leaseq._worker")?.getattr("handlers")?;
        let handlers = handlers.call1((handler, before, after))?;
        type Checked<'py> = (
            Option<Vec<String>>,
            Bound<'py, PyAny>,
            Bound<'py, PyAny>,
            Bound<'py, PyAny>,
        );
        let (routes, _, before, after): Checked<'_> = handlers.extract()?;
        let hooks = HostHooks {
            before: !before.is_none(),
            after: !after.is_none(),
        };
        let options = (
            concurrency,
            lease_secs,
            job_timeout,
            shutdown_timeout,
            clean_every,
        );
        let host = HostSlot::default();
        let core = worker_options(options)
            .and_then(|options| {
                leaseq::Worker::for_host(&queue, routes, hooks, options, dispatch(host.clone()))
            })
            .map_err(to_py)?;
        let (handlers, queue_name) = (handlers.unbind(), queue.name().to_owned());
        Ok(Worker {
            core,
            handlers,
            host,
            queue_name,
        })
    }

    #[doc = doc_worker_run!()]
    #[pyo3(signature = (stop_on_signals = false))]
    fn run(slf: &Bound<'_, Self>, stop_on_signals: bool) -> PyResult<()> {
        let py = slf.py();
        let (host, run) = Worker::start_run(slf, None, stop_on_signals)?;
        // A signal handler's exception (KeyboardInterrupt) stops the worker gracefully and is
        // raised once it has stopped; a second one stops the wait.
        let mut interrupted: Option<PyErr> = None;
        let result = wait_interruptible(py, run, |err, _task| {
            if interrupted.is_some() {
                return Some(err);
            }
            slf.get().core.stop();
            interrupted = Some(err);
            None
        });
        let closed = host.call_method0(intern!(py, "close")).map(drop);
        match interrupted {
            Some(err) if result.is_ok() => Err(err),
            _ => result,
        }
        .and(closed)
    }

    #[doc = doc_worker_run_async!()]
    #[pyo3(signature = (stop_on_signals = false))]
    fn run_async(slf: &Bound<'_, Self>, stop_on_signals: bool) -> Operation {
        let this = slf.clone().unbind();
        Operation::with_starter(Box::new(move |py| {
            let slf = this.bind(py);
            let (host, run) = Worker::start_run(slf, Some(running_loop(py)?), stop_on_signals)?;
            // The core run goes on by itself: cancelling the awaiting task only asks it to stop
            // (`Host.close`, the Future's done callback, which also undoes the run's set-up).
            let run = leaseq::runtime().spawn(run);
            let started = start(py, async move {
                let ended = run.await.unwrap_or_else(|join| {
                    let message = format!("the worker's run ended abnormally: {join}");
                    Err(leaseq::Error::new(leaseq::ErrorKind::Internal, message))
                });
                ended.map(|()| None::<()>)
            });
            let closed = host.getattr(intern!(py, "close"))?;
            match started {
                Ok(future) => {
                    future.call_method1(intern!(py, "add_done_callback"), (closed,))?;
                    Ok(future)
                }
                Err(err) => {
                    slf.get().core.stop();
                    closed.call0()?;
                    Err(err)
                }
            }
        }))
    }

    // The Host's answer for `job`: None completes its item, an error text fails it. Not public
    // (no docstring: tests/test_stub.py wants every documented attribute in the stub).
    fn _finish(&self, job: u64, error: Option<String>) -> bool {
        self.core.finish(job, error.map_or(Ok(()), Err))
    }

    #[doc = doc_worker_stop!()]
    fn stop(&self) {
        self.core.stop();
    }

    /// What the worker has done so far (a WorkerCounters snapshot).
    #[getter]
    fn counters(&self) -> WorkerCounters {
        let c = self.core.counters();
        let (leased, completed, failed, retried) = (c.leased, c.completed, c.failed, c.retried);
        let (renewed, in_flight) = (c.renewed, c.in_flight);
        WorkerCounters {
            leased,
            completed,
            failed,
            retried,
            renewed,
            in_flight,
        }
    }

    fn __repr__(&self) -> String {
        let state = if lock(&self.host).is_some() {
            "running"
        } else {
            "idle"
        };
        format!("<leaseq.Worker on {:?} {state}>", self.queue_name)
    }
}

/// What a worker has done so far: a snapshot.
#[pyclass(frozen, eq, get_all, module = "leaseq", name = "WorkerCounters")]
#[derive(PartialEq)]
pub struct WorkerCounters {
    /// Items leased.
    leased: u64,
    /// Items completed (the handler succeeded and ``complete`` returned True).
    completed: u64,
    /// Handler failures and timeouts.
    failed: u64,
    /// Failures that were scheduled for a retry (the rest went to the dead letters).
    retried: u64,
    /// Successful lease renewals (heartbeats).
    renewed: u64,
    /// Items held now: the handler running, or the complete on its way.
    in_flight: u64,
}

#[pymethods]
impl WorkerCounters {
    fn __repr__(&self) -> String {
        format!(
            "WorkerCounters(leased={}, completed={}, failed={}, retried={}, renewed={}, \
             in_flight={})",
            self.leased, self.completed, self.failed, self.retried, self.renewed, self.in_flight
        )
    }
}
