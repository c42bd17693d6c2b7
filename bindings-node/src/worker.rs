//! The worker runtime: the core's `Worker`, running a JavaScript handler.
//!
//! The core leases, renews, times out, completes or fails, cleans and shuts down; this file only
//! supplies the handler and the hooks, and stops the worker on SIGTERM/SIGINT when asked (Node
//! owns signal delivery, so that is done with `process.once` rather than by the core). The
//! handler and the hooks are JavaScript functions called on the JavaScript thread through weak
//! threadsafe functions: they never keep the process alive by themselves. A running worker
//! does, through the Promise `run()` returned, until it is stopped.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;

use napi::bindgen_prelude::{
    CallbackContext, Either, FnArgs, Function, FunctionRef, JsObjectValue, JsValuesTupleIntoVec,
    Null, Object, PromiseRaw, Unknown,
};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Env, JsValue, Status, ValueType};
use napi_derive::napi;
use tokio::sync::oneshot;

use crate::convert::{
    read_optional, whole, Arg, FromJs, JsFunction, JsObject, Mismatch, Nullable, MAX_SAFE_INTEGER,
};
use crate::error::{guard, settle, to_napi, ErrorCode, Result, Settled};
use crate::item::Item;
use crate::queue::WorkQueue;

/// How a {@link Worker} runs; each is optional.
#[napi(object, object_to_js = false)]
pub struct WorkerOptions {
    /// Items run at once. Default 1.
    pub concurrency: Option<f64>,
    /// Seconds: the lease taken on each item; renewed every third of it while the handler runs.
    /// Default 30.
    pub lease_secs: Option<f64>,
    /// Seconds: a handler running longer is abandoned and the item failed with a timeout (the
    /// handler's Promise is not cancelled, only no longer awaited). Default none.
    pub job_timeout: Option<f64>,
    /// Seconds: after {@link Worker.stop}, how long running handlers may still finish; the rest
    /// are released back to the queue at once. Default 10.
    pub shutdown_timeout: Option<f64>,
    /// Seconds: how often the worker runs a light clean (for leases of `redis-work-queue`
    /// clients and dead workers); `null` never. Default 5.
    #[napi(ts_type = "number | null")]
    pub clean_every: Option<Either<f64, Null>>,
    /// Middleware called before the handler runs on each item, e.g. for logging, metrics or
    /// tracing. Not awaited; an exception thrown in it is an uncaught exception, as in an event
    /// listener.
    #[napi(ts_type = "(item: Item) => void")]
    pub before: Option<JsFunction>,
    /// Middleware called after each item's run ended, with how it ended. Not awaited; an
    /// exception thrown in it is an uncaught exception, as in an event listener.
    #[napi(ts_type = "(item: Item, outcome: JobOutcome) => void")]
    pub after: Option<JsFunction>,
}

impl FromJs for WorkerOptions {
    unsafe fn from_js(
        env: sys::napi_env,
        value: sys::napi_value,
    ) -> std::result::Result<Self, Mismatch> {
        let object = unsafe { JsObject::new(env, value) }?;
        Ok(WorkerOptions {
            concurrency: object.get("concurrency")?,
            lease_secs: object.get("leaseSecs")?,
            job_timeout: object.get("jobTimeout")?,
            shutdown_timeout: object.get("shutdownTimeout")?,
            clean_every: object.get_nullable("cleanEvery")?.map(|every| match every {
                Nullable::Null => Either::B(Null),
                Nullable::Value(secs) => Either::A(secs),
            }),
            before: object.get("before")?,
            after: object.get("after")?,
        })
    }
}

impl WorkerOptions {
    fn to_core(&self) -> leaseq::Result<leaseq::WorkerOptions> {
        let mut options = leaseq::WorkerOptions::default();
        if let Some(concurrency) = self.concurrency {
            options.concurrency = whole("concurrency", concurrency, MAX_SAFE_INTEGER)? as usize;
        }
        if let Some(secs) = self.lease_secs {
            options.lease_duration = leaseq::lease_from_secs_f64(secs)?;
        }
        if let Some(secs) = self.job_timeout {
            options.job_timeout = Some(leaseq::from_secs_f64("jobTimeout", secs)?);
        }
        if let Some(secs) = self.shutdown_timeout {
            options.shutdown_timeout = leaseq::from_secs_f64("shutdownTimeout", secs)?;
        }
        match self.clean_every {
            None => {}
            Some(Either::A(secs)) => {
                options.clean_every = Some(leaseq::from_secs_f64("cleanEvery", secs)?)
            }
            Some(Either::B(Null)) => options.clean_every = None,
        }
        Ok(options)
    }
}

/// How {@link Worker.run} runs.
#[napi(object)]
#[derive(Default)]
pub struct RunOptions {
    /// Stop gracefully on SIGTERM or SIGINT (as {@link Worker.stop} does), listening with
    /// `process.once` until the run ends. Default false. A second signal during the shutdown
    /// finds no listener left, so Node's default (ending the process) applies.
    pub stop_on_signals: Option<bool>,
}

impl FromJs for RunOptions {
    unsafe fn from_js(
        env: sys::napi_env,
        value: sys::napi_value,
    ) -> std::result::Result<Self, Mismatch> {
        let object = unsafe { JsObject::new(env, value) }?;
        Ok(RunOptions {
            stop_on_signals: object.get("stopOnSignals")?,
        })
    }
}

/// How an item's run ended, as the `after` hook sees it.
#[napi(object, object_from_js = false)]
pub struct JobOutcome {
    /// `'completed'`: the handler succeeded and the item was completed. `'failed'`: the handler
    /// threw, rejected or timed out; the item was retried or buried. `'released'`: the worker
    /// shut down before the handler finished: the item went back to the queue. `'leaseLost'`:
    /// the lease was lost (a renew failed): another worker may have the item.
    #[napi(ts_type = "'completed' | 'failed' | 'released' | 'leaseLost'")]
    pub outcome: String,
    /// For `'completed'` only: `true` if this worker's `complete` was the one that completed it.
    pub completed: Option<bool>,
    /// For `'failed'` only: the error the item was failed with.
    pub error: Option<String>,
}

impl From<&leaseq::JobOutcome> for JobOutcome {
    fn from(outcome: &leaseq::JobOutcome) -> JobOutcome {
        let (name, completed, error) = match outcome {
            leaseq::JobOutcome::Completed(completed) => ("completed", Some(*completed), None),
            leaseq::JobOutcome::Failed(error) => ("failed", None, Some(error.clone())),
            leaseq::JobOutcome::Released => ("released", None, None),
            leaseq::JobOutcome::LeaseLost => ("leaseLost", None, None),
        };
        JobOutcome {
            outcome: name.to_owned(),
            completed,
            error,
        }
    }
}

/// What a worker has done so far.
#[napi(object, object_from_js = false)]
pub struct WorkerCounters {
    /// Items leased.
    pub leased: f64,
    /// Items completed (handler succeeded and `complete` returned true).
    pub completed: f64,
    /// Handler failures and timeouts.
    pub failed: f64,
    /// Failures that were scheduled for a retry (the rest went to the dead letters).
    pub retried: f64,
    /// Successful lease renewals (heartbeats).
    pub renewed: f64,
    /// Items whose handler is running now.
    pub in_flight: f64,
}

/// What the core awaits for one item: `Err` carries the message `fail` records.
type Outcome = std::result::Result<(), String>;

/// What the core asks of JavaScript. All of a worker's calls go through one queue, in the order
/// the core makes them: a `before` runs before its handler, an item's `after` before the next
/// item's `before` (Node does not keep that order between two threadsafe functions).
enum Call {
    Before(leaseq::Item),
    /// Run the handler at this index of [`Functions::handlers`] on the item.
    Handle(leaseq::Item, usize, oneshot::Sender<Outcome>),
    After(leaseq::Item, leaseq::JobOutcome),
}

/// A worker's queue to the JavaScript thread: a weak threadsafe function (it never holds the
/// event loop open) around a function that does nothing; its callback makes the real calls.
type CallQueue = Arc<ThreadsafeFunction<Call, (), (), Status, false, true>>;

/// The JavaScript functions of one worker.
struct Functions {
    /// The handler, or one per item type (the core's `Router` picks one by its index).
    handlers: Vec<JsFunction>,
    before: Option<JsFunction>,
    after: Option<JsFunction>,
}

impl Functions {
    /// On the JavaScript thread: makes one call the core asked for.
    fn dispatch(&self, env: &Env, call: Call) {
        match call {
            Call::Handle(item, index, sender) => {
                let returned = call_function(env, &self.handlers[index], Item::from(item));
                await_returned(env, returned, sender);
            }
            Call::Before(item) => {
                if let Some(before) = &self.before {
                    report_throw(env, call_function(env, before, Item::from(item)));
                }
            }
            Call::After(item, outcome) => {
                if let Some(after) = &self.after {
                    let args = FnArgs::from((Item::from(item), JobOutcome::from(&outcome)));
                    report_throw(env, call_function(env, after, args));
                }
            }
        }
    }
}

/// The `handler` argument of `new Worker`: one function for every item, or one per item type.
enum Handlers {
    One(JsFunction),
    ByType(Vec<(String, JsFunction)>),
}

/// Reads the `handler` argument: a function, or an object whose own enumerable string keys
/// (as `Object.keys` lists them) are item types and whose values are functions.
fn read_handlers(env: &Env, handler: Unknown<'_>) -> Result<Handlers> {
    let invalid = |message: String| napi::Error::new(ErrorCode::InvalidArgument, message);
    let kind = handler.get_type().map_err(internal)?;
    if kind == ValueType::Function {
        // SAFETY: just checked to be a function.
        let function: Function<'_, (), ()> = unsafe { handler.cast() }.map_err(internal)?;
        return Ok(Handlers::One(function.create_ref().map_err(internal)?));
    }
    if kind != ValueType::Object || handler.is_array().map_err(internal)? {
        return Err(invalid(
            "the handler must be a function, or an object with a function per item type \
             (e.g. { email: sendEmail })"
                .to_owned(),
        ));
    }
    // SAFETY: just checked to be an object.
    let routes: Object<'_> = unsafe { handler.cast() }.map_err(internal)?;
    let mut names = ptr::null_mut();
    // SAFETY: on the JavaScript thread, with a value of this environment.
    let status = unsafe {
        sys::napi_get_all_property_names(
            env.raw(),
            routes.raw(),
            sys::KeyCollectionMode::own_only,
            sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
            sys::KeyConversion::numbers_to_strings,
            &mut names,
        )
    };
    if status != sys::Status::napi_ok {
        return Err(napi::Error::new(
            ErrorCode::Internal,
            "cannot list the properties of the handler object",
        ));
    }
    // An array of strings (napi_get_all_property_names succeeded).
    let names = Object::from_raw(env.raw(), names);
    let count = names.get_array_length().map_err(internal)?;
    if count == 0 {
        return Err(invalid(
            "the handler object has no item types: give it a function per item type \
             (e.g. { email: sendEmail })"
                .to_owned(),
        ));
    }
    let mut handlers = Vec::with_capacity(count as usize);
    for index in 0..count {
        let name: Unknown<'_> = names.get_element(index).map_err(internal)?;
        let value: Unknown<'_> = routes.get_property(name).map_err(internal)?;
        // A key converted to a string (numbers_to_strings, no symbols); one with a lone
        // surrogate is refused, as every string leaseq takes.
        // SAFETY: on the JavaScript thread, with a value of this environment.
        let name = unsafe { String::from_js(env.raw(), name.raw()) }
            .map_err(|mismatch| to_napi(mismatch.into_error("the handler's item type")))?;
        if value.get_type().map_err(internal)? != ValueType::Function {
            return Err(invalid(format!(
                "the handler for item type \"{name}\" must be a function"
            )));
        }
        // SAFETY: just checked to be a function.
        let function: Function<'_, (), ()> = unsafe { value.cast() }.map_err(internal)?;
        handlers.push((name, function.create_ref().map_err(internal)?));
    }
    Ok(Handlers::ByType(handlers))
}

/// Why a call into JavaScript gave no value.
enum CallError {
    /// The function threw this value.
    Threw(sys::napi_value),
    /// napi itself failed (converting the arguments, an environment shutting down).
    Napi(napi::Error),
}

/// Calls `function` with `args` and `this` undefined; `Err` carries what it threw.
fn call_function(
    env: &Env,
    function: &JsFunction,
    args: impl JsValuesTupleIntoVec,
) -> std::result::Result<sys::napi_value, CallError> {
    let raw_env = env.raw();
    let function = function.borrow_back(env).map_err(CallError::Napi)?.raw();
    let args = args.into_vec(raw_env).map_err(CallError::Napi)?;
    let mut this = ptr::null_mut();
    let mut returned = ptr::null_mut();
    // SAFETY: on the JavaScript thread, with values of this environment.
    let status = unsafe {
        sys::napi_get_undefined(raw_env, &mut this);
        sys::napi_call_function(
            raw_env,
            this,
            function,
            args.len(),
            args.as_ptr(),
            &mut returned,
        )
    };
    if status == sys::Status::napi_ok {
        return Ok(returned);
    }
    let mut pending = false;
    let mut thrown = ptr::null_mut();
    // SAFETY: as above; taking the exception leaves the environment clean.
    unsafe {
        sys::napi_is_exception_pending(raw_env, &mut pending);
        if pending
            && sys::napi_get_and_clear_last_exception(raw_env, &mut thrown) == sys::Status::napi_ok
        {
            return Err(CallError::Threw(thrown));
        }
    }
    Err(CallError::Napi(napi::Error::new(
        Status::from(status),
        "calling the JavaScript function failed",
    )))
}

/// A hook that threw: an uncaught exception with the hook's own error, as from an event
/// listener (the process's `uncaughtException` handlers see it; without one, Node exits).
fn report_throw(env: &Env, called: std::result::Result<sys::napi_value, CallError>) {
    if let Err(CallError::Threw(thrown)) = called {
        // SAFETY: on the JavaScript thread, with the value just taken from this environment.
        unsafe { sys::napi_fatal_exception(env.raw(), thrown) };
    }
}

/// On the JavaScript thread, with what the handler returned (or threw): settles `sender` at once
/// for a throw or a value that is not a Promise, or when the returned Promise settles.
fn await_returned(
    env: &Env,
    returned: std::result::Result<sys::napi_value, CallError>,
    sender: oneshot::Sender<Outcome>,
) {
    let value = match returned {
        Ok(value) => value,
        Err(CallError::Threw(thrown)) => {
            // SAFETY: the value was just taken from this environment.
            let thrown = unsafe { Unknown::from_raw_unchecked(env.raw(), thrown) };
            let _ = sender.send(Err(failure_message(thrown)));
            return;
        }
        Err(CallError::Napi(err)) => {
            let _ = sender.send(Err(format!("the handler could not be called: {err}")));
            return;
        }
    };
    let mut is_promise = false;
    // SAFETY: on the JavaScript thread, with a value of this environment.
    unsafe { sys::napi_is_promise(env.raw(), value, &mut is_promise) };
    if !is_promise {
        let _ = sender.send(Ok(()));
        return;
    }
    let on_fulfilled = Rc::new(Cell::new(Some(sender)));
    let on_rejected = on_fulfilled.clone();
    let promise = PromiseRaw::<Unknown<'static>>::new(env.raw(), value);
    // If attaching fails the closures are dropped with the sender, and the core sees a failure.
    let _ = promise
        .then(move |_| {
            if let Some(sender) = on_fulfilled.take() {
                let _ = sender.send(Ok(()));
            }
            Ok(())
        })
        .and_then(|chained| {
            chained.catch(move |rejected: CallbackContext<Unknown<'_>>| {
                if let Some(sender) = on_rejected.take() {
                    let _ = sender.send(Err(failure_message(rejected.value)));
                }
                Ok(())
            })
        });
}

/// The error `fail` records for what a handler threw or rejected with: an `Error`'s message, a
/// thrown string itself; read without running any JavaScript (no getters, no `toString`).
fn failure_message(thrown: Unknown<'_>) -> String {
    let reason = napi::Error::from_unknown_without_coercion(thrown).reason;
    if reason.is_empty() {
        "the handler failed without an error message".to_owned()
    } else {
        reason
    }
}

/// A JavaScript handler (the one at `index` in [`Functions::handlers`]), as the core's
/// `Handler`.
struct JsHandler {
    calls: CallQueue,
    index: usize,
}

impl leaseq::Handler for JsHandler {
    fn handle(&self, item: leaseq::Item) -> leaseq::HandlerFuture {
        let (sender, receiver) = oneshot::channel();
        let status = self.calls.call(
            Call::Handle(item, self.index, sender),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
        Box::pin(async move {
            if status != Status::Ok {
                return Err(format!(
                    "the JavaScript handler could not be called: {status}"
                ));
            }
            receiver.await.unwrap_or_else(|_| {
                Err("the handler's Promise was dropped without settling".to_owned())
            })
        })
    }
}

/// The JavaScript hooks, as the core's `Hooks`: queued for the JavaScript thread, never awaited.
struct JsHooks(CallQueue);

impl leaseq::Hooks for JsHooks {
    fn before(&self, item: &leaseq::Item) {
        self.0.call(
            Call::Before(item.clone()),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }

    fn after(&self, item: &leaseq::Item, outcome: &leaseq::JobOutcome) {
        self.0.call(
            Call::After(item.clone(), outcome.clone()),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }
}

/// Runs a handler over a queue until stopped: leases items (up to `concurrency` at once), calls
/// the handler on each, completes it when the handler's Promise resolves, and calls
/// {@link WorkQueue.fail} with the error's message when it rejects, throws or times out. The
/// lease of every running item is renewed before it expires (heartbeat), so a long job is never
/// handed to a second worker.
///
/// The handler runs on the JavaScript thread, never blocked by the worker; all the rest (leases,
/// heartbeats, timeouts, cleans) runs in the core. A worker that is not running does not keep
/// the process alive.
#[napi]
pub struct Worker {
    inner: leaseq::Worker,
    /// Set by `stop()` and cleared by `run()`: the core's run clears a stop asked for before it
    /// started, so one asked for between `run()` and that start is applied again after it.
    stop_asked: Arc<AtomicBool>,
}

#[napi]
impl Worker {
    /// A worker for `queue` that runs `handler` on every item, with `options` other than the
    /// defaults if given. It does nothing until {@link Worker.run}.
    ///
    /// `handler` may also be an object with a handler per item type, e.g.
    /// `{ email: sendEmail, resize: resizePhoto }`: each item runs on the handler of its type
    /// (the string field `type` of its JSON data, {@link Item.typeName}). An item with no type,
    /// or a type with no handler, fails with an error that says so (and is retried like any
    /// failure, so a worker deployed later with that handler can run it).
    ///
    /// Throws an `EINVAL` error if an option is out of range (a `concurrency` of 0, a lease that
    /// is not positive, a `jobTimeout` or `cleanEvery` of 0, …), or if `handler` is neither a
    /// function nor an object of functions (or has no item types).
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "queue: WorkQueue, handler: ((item: Item) => Promise<void> | void) | { [typeName: string]: (item: Item) => Promise<void> | void }, options?: WorkerOptions"
    )]
    pub fn new(
        env: &Env,
        queue: Arg<&'static WorkQueue>,
        handler: Unknown<'_>,
        options: Option<Arg<WorkerOptions>>,
    ) -> Result<Worker> {
        let queue = queue.read("queue").map_err(to_napi)?;
        let handlers = read_handlers(env, handler)?;
        let options = read_optional(options, "options").map_err(to_napi)?;
        let core_options = match &options {
            Some(options) => guard(|| options.to_core())?,
            None => leaseq::WorkerOptions::default(),
        };
        let (before, after) = match options {
            Some(WorkerOptions { before, after, .. }) => (before, after),
            None => (None, None),
        };
        let with_hooks = before.is_some() || after.is_some();
        let (names, handlers): (Option<Vec<String>>, Vec<JsFunction>) = match handlers {
            Handlers::One(handler) => (None, vec![handler]),
            Handlers::ByType(routes) => {
                let (names, handlers) = routes.into_iter().unzip();
                (Some(names), handlers)
            }
        };
        let functions = Functions {
            handlers,
            before,
            after,
        };
        let calls: CallQueue = Arc::new(
            env.create_function_from_closure::<(), (), _>("leaseqWorkerCalls", |_| Ok(()))
                .and_then(|calls| {
                    calls
                        .build_threadsafe_function::<Call>()
                        .weak::<true>()
                        .build_callback(move |context| {
                            functions.dispatch(&context.env, context.value);
                            Ok(())
                        })
                })
                .map_err(internal)?,
        );
        let handler = |index| JsHandler {
            calls: calls.clone(),
            index,
        };
        let mut inner = guard(|| match names {
            None => leaseq::Worker::new(&queue.inner, handler(0), core_options),
            // The core routes each item and makes the error for an untyped or unknown one.
            Some(names) => {
                let router = names
                    .into_iter()
                    .enumerate()
                    .fold(leaseq::Router::default(), |router, (index, name)| {
                        router.route_to(name, handler(index))
                    });
                leaseq::Worker::new(&queue.inner, router, core_options)
            }
        })?;
        if with_hooks {
            inner = inner.with_hooks(JsHooks(calls));
        }
        Ok(Worker {
            inner,
            stop_asked: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Runs until {@link Worker.stop} (or, with `stopOnSignals`, SIGTERM or SIGINT); resolves
    /// once stopped, in-flight items finished or released.
    ///
    /// Errors talking to Redis are retried after a short pause rather than ending the run. The
    /// process stays alive while the worker runs.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn run<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "RunOptions | undefined | null")] options: Option<Arg<RunOptions>>,
    ) -> Result<PromiseRaw<'env, Settled<()>>> {
        let options = match read_optional(options, "options") {
            Ok(options) => options.unwrap_or_default(),
            Err(err) => {
                let settled = async move { Ok(settle::<()>(async { Err(err) }).await) };
                return env.spawn_future(settled).map_err(internal);
            }
        };
        self.stop_asked.store(false, Ordering::SeqCst);
        let teardown = StopOnTeardown::add(env, self.inner.clone()).map_err(internal)?;
        let listeners = if options.stop_on_signals.unwrap_or(false) {
            match SignalListeners::add(env, self.stop_handle()) {
                Ok(listeners) => Some(listeners),
                Err(err) => {
                    teardown.remove();
                    return Err(internal(err));
                }
            }
        } else {
            None
        };
        let worker = self.inner.clone();
        let stop_asked = self.stop_asked.clone();
        let run = async move {
            Ok(settle(async move {
                let mut run = pin!(worker.run(false));
                // The first poll clears any earlier stop and starts the run's tasks.
                if let Poll::Ready(result) = poll_fn(|cx| Poll::Ready(run.as_mut().poll(cx))).await
                {
                    return result;
                }
                if stop_asked.load(Ordering::SeqCst) {
                    worker.stop();
                }
                run.await
            })
            .await)
        };
        env.spawn_future_with_callback(run, move |env, settled| {
            teardown.remove();
            if let Some(listeners) = listeners {
                // Failing to remove them leaves listeners that only call stop(): harmless.
                let _ = listeners.remove(env);
            }
            Ok(settled)
        })
        .map_err(internal)
    }

    /// Asks the worker to stop: it leases nothing more, lets running handlers finish within the
    /// shutdown timeout, and releases the rest. The Promise {@link Worker.run} returned resolves
    /// once that is done.
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        (self.stop_handle())();
    }

    /// The counters so far.
    #[napi(catch_unwind)]
    pub fn counters(&self) -> WorkerCounters {
        let counters = self.inner.counters();
        WorkerCounters {
            leased: counters.leased as f64,
            completed: counters.completed as f64,
            failed: counters.failed as f64,
            retried: counters.retried as f64,
            renewed: counters.renewed as f64,
            in_flight: counters.in_flight as f64,
        }
    }
}

impl Worker {
    fn stop_handle(&self) -> impl Fn() + Send + 'static {
        let (worker, stop_asked) = (self.inner.clone(), self.stop_asked.clone());
        move || {
            stop_asked.store(true, Ordering::SeqCst);
            worker.stop();
        }
    }
}

/// A failure of napi itself (making a function, calling `process.once`) as an `EINTERNAL` error.
fn internal(err: napi::Error) -> napi::Error<ErrorCode> {
    napi::Error::new(ErrorCode::Internal, err.reason.clone())
}

/// Stops a running worker when its JavaScript environment goes away (a worker thread is
/// terminated, the process exits): the core's run loop would otherwise go on leasing items for a
/// handler that can no longer be called. Registered for the length of one run.
struct StopOnTeardown {
    env: sys::napi_env,
    worker: *mut leaseq::Worker,
}

impl StopOnTeardown {
    fn add(env: &Env, worker: leaseq::Worker) -> napi::Result<StopOnTeardown> {
        let worker = Box::into_raw(Box::new(worker));
        // SAFETY: on the JavaScript thread; the hook owns `worker` until it runs or is removed.
        let status = unsafe {
            sys::napi_add_env_cleanup_hook(env.raw(), Some(stop_on_teardown), worker.cast())
        };
        if status != sys::Status::napi_ok {
            // SAFETY: not registered, so still ours.
            drop(unsafe { Box::from_raw(worker) });
            return Err(napi::Error::new(
                Status::from(status),
                "cannot add an environment cleanup hook",
            ));
        }
        Ok(StopOnTeardown {
            env: env.raw(),
            worker,
        })
    }

    /// On the JavaScript thread, once the run ended with the environment still there.
    fn remove(self) {
        // SAFETY: registered by `add` with these arguments, and not run (the environment lives).
        let status = unsafe {
            sys::napi_remove_env_cleanup_hook(self.env, Some(stop_on_teardown), self.worker.cast())
        };
        if status == sys::Status::napi_ok {
            // SAFETY: unregistered, so the hook will never free it.
            drop(unsafe { Box::from_raw(self.worker) });
        }
    }
}

unsafe extern "C" fn stop_on_teardown(worker: *mut std::ffi::c_void) {
    // SAFETY: the pointer `StopOnTeardown::add` registered; a hook runs at most once.
    let worker = unsafe { Box::from_raw(worker.cast::<leaseq::Worker>()) };
    worker.stop();
}

const SIGNALS: [&str; 2] = ["SIGTERM", "SIGINT"];

/// The `process.once` listeners of one run with `stopOnSignals`.
struct SignalListeners {
    listener: FunctionRef<(), ()>,
}

impl SignalListeners {
    fn add(env: &Env, stop: impl Fn() + Send + 'static) -> napi::Result<SignalListeners> {
        let listener =
            env.create_function_from_closure::<(), (), _>("stopLeaseqWorker", move |_| {
                stop();
                Ok(())
            })?;
        call_on_process(env, "once", listener)?;
        Ok(SignalListeners {
            listener: listener.create_ref()?,
        })
    }

    fn remove(self, env: &Env) -> napi::Result<()> {
        call_on_process(env, "removeListener", self.listener.borrow_back(env)?)
    }
}

/// A function of no arguments returning nothing: the signal listener.
type Listener<'env> = Function<'env, (), ()>;

/// `process[method](signal, listener)` for each signal.
fn call_on_process(env: &Env, method: &str, listener: Listener<'_>) -> napi::Result<()> {
    let process: Object = env.get_global()?.get_named_property("process")?;
    let method: Function<'_, FnArgs<(&str, Listener<'_>)>, Unknown<'_>> =
        process.get_named_property(method)?;
    for signal in SIGNALS {
        method.apply(process, FnArgs::from((signal, listener)))?;
    }
    Ok(())
}
