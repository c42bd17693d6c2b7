//! The Node binding's worker: host glue for the core's `Worker::for_host`.
//!
//! The core leases, routes, renews, times out, completes or fails, and shuts down; it numbers
//! each job and sends every call in order through one dispatch function. Here that function
//! queues the calls on one weak threadsafe function (it never keeps the process alive by
//! itself; a running worker does, through the Promise `run()` returned), which calls the
//! handlers and hooks on the JavaScript thread and answers each job with `Worker::finish` once
//! the handler returned or its Promise settled. Node owns signal delivery, so `stopOnSignals`
//! is done with `process.once` rather than by the core.

use std::ptr;
use std::sync::{Arc, OnceLock, Weak};

use napi::bindgen_prelude::{
    CallbackContext, Either, FnArgs, Function, JsObjectValue, JsValuesTupleIntoVec,
    KeyCollectionMode, KeyConversion, KeyFilter, Null, Object, PromiseRaw, Unknown,
};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Env, JsValue, Status, ValueType};
use napi_derive::napi;

use crate::convert::{
    from_js_object, read_optional, whole, Arg, FromJs, JsFunction, MAX_SAFE_INTEGER,
};
use crate::error::{guard, settle, to_napi, ErrorCode, Settled};
use crate::item::Item;
use crate::queue::WorkQueue;
use leaseq::HostCall;

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

from_js_object!(WorkerOptions {
    concurrency: get("concurrency"),
    lease_secs: get("leaseSecs"),
    job_timeout: get("jobTimeout"),
    shutdown_timeout: get("shutdownTimeout"),
    clean_every: get_nullable("cleanEvery"),
    before: get("before"),
    after: get("after"),
});

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
            Some(Either::A(secs)) => {
                options.clean_every = Some(leaseq::from_secs_f64("cleanEvery", secs)?)
            }
            Some(Either::B(Null)) => options.clean_every = None,
            None => {}
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

from_js_object!(RunOptions {
    stop_on_signals: get("stopOnSignals")
});

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

impl From<leaseq::JobOutcome> for JobOutcome {
    fn from(outcome: leaseq::JobOutcome) -> JobOutcome {
        let (name, completed, error) = match outcome {
            leaseq::JobOutcome::Completed(completed) => ("completed", Some(completed), None),
            leaseq::JobOutcome::Failed(error) => ("failed", None, Some(error)),
            leaseq::JobOutcome::Released => ("released", None, None),
            leaseq::JobOutcome::LeaseLost => ("leaseLost", None, None),
        };
        let outcome = name.to_owned();
        JobOutcome {
            outcome,
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
    /// Items held now: the handler running, or the complete on its way.
    pub in_flight: f64,
}

/// What a handler's run came to: `Err` carries the error text the item is failed with.
type Outcome = std::result::Result<(), String>;

/// The core's worker, once made: weak, as the worker owns the calls that answer through it.
type WorkerSlot = Arc<OnceLock<Weak<leaseq::Worker>>>;

/// The handler (route 0) or one per item type (in the order of the route names), and the hooks.
struct Functions {
    handlers: Vec<JsFunction>,
    before: Option<JsFunction>,
    after: Option<JsFunction>,
    worker: WorkerSlot,
}

impl Functions {
    /// On the JavaScript thread: makes one call the core asked for, in the order it asked.
    fn call(&self, env: &Env, call: HostCall) {
        let (hook, args) = match call {
            HostCall::Handle { job, route, item } => {
                let finish = answer(&self.worker, job);
                let args = Item::from(item).into_vec(env.raw());
                let error = match call_function(env, &self.handlers[route], args) {
                    Ok(returned) => return await_returned(env, returned, finish),
                    // SAFETY: the value was just taken from this environment.
                    Err(Some(thrown)) => {
                        failure_message(unsafe { Unknown::from_raw_unchecked(env.raw(), thrown) })
                    }
                    Err(None) => "the handler cannot be called".to_owned(),
                };
                finish(Err(error));
                return;
            }
            // JavaScript cannot cancel a Promise: the core no longer awaits it, nor its answer.
            HostCall::Cancel { .. } => return,
            HostCall::Before { item } => (&self.before, Item::from(item).into_vec(env.raw())),
            HostCall::After { item, outcome } => {
                let args = FnArgs::from((Item::from(item), JobOutcome::from(outcome)));
                (&self.after, args.into_vec(env.raw()))
            }
        };
        // The core sends a hook's calls only when it was given. One that threw: an uncaught
        // exception with its own error, as from an event listener.
        if let Some(Err(Some(thrown))) = hook.as_ref().map(|hook| call_function(env, hook, args)) {
            // SAFETY: on the JavaScript thread, with the value just taken from this environment.
            unsafe { sys::napi_fatal_exception(env.raw(), thrown) };
        }
    }
}

/// Answers `job`; false once the core gave up on it, or the worker is gone.
fn answer(worker: &WorkerSlot, job: u64) -> impl Fn(Outcome) -> bool + Clone + 'static {
    let worker = worker.clone();
    move |outcome| {
        (worker.get().and_then(Weak::upgrade)).is_some_and(|worker| worker.finish(job, outcome))
    }
}

/// Calls `function` with `args` and `this` undefined; `Err` carries what it threw, or `None` if
/// napi itself failed (converting the arguments, an environment shutting down).
fn call_function(
    env: &Env,
    function: &JsFunction,
    args: napi::Result<Vec<sys::napi_value>>,
) -> std::result::Result<sys::napi_value, Option<sys::napi_value>> {
    let function = function.borrow_back(env).map_err(|_| None)?.raw();
    let args = args.map_err(|_| None)?;
    let (mut this, mut returned, mut thrown) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    // SAFETY: on the JavaScript thread, with values of this environment; taking the exception
    // leaves the environment clean.
    unsafe {
        sys::napi_get_undefined(env.raw(), &mut this);
        let (count, args) = (args.len(), args.as_ptr());
        match sys::napi_call_function(env.raw(), this, function, count, args, &mut returned) {
            sys::Status::napi_ok => Ok(returned),
            sys::Status::napi_pending_exception => {
                let taken = sys::napi_get_and_clear_last_exception(env.raw(), &mut thrown);
                Err((taken == sys::Status::napi_ok).then_some(thrown))
            }
            _ => Err(None),
        }
    }
}

/// With what a handler returned: answers at once unless it is a Promise, else once it settles.
fn await_returned(env: &Env, value: sys::napi_value, finish: impl Fn(Outcome) -> bool + Clone) {
    let mut is_promise = false;
    // SAFETY: on the JavaScript thread, with a value of this environment.
    unsafe { sys::napi_is_promise(env.raw(), value, &mut is_promise) };
    if !is_promise {
        finish(Ok(()));
        return;
    }
    let (on_fulfilled, on_rejected) = (finish.clone(), finish.clone());
    let attached = PromiseRaw::<Unknown<'static>>::new(env.raw(), value)
        .then(move |_| Ok(on_fulfilled(Ok(()))))
        .and_then(|chained| {
            chained.catch(move |rejected: CallbackContext<Unknown<'_>>| {
                Ok(on_rejected(Err(failure_message(rejected.value))))
            })
        });
    if let Err(err) = attached {
        finish(Err(format!(
            "the handler's Promise cannot be awaited: {err}"
        )));
    }
}

/// The error text for what a handler threw or rejected with: an `Error`'s message, a thrown
/// string itself; read without running any JavaScript (no getters, no `toString`).
fn failure_message(thrown: Unknown<'_>) -> String {
    let reason = napi::Error::from_unknown_without_coercion(thrown).reason;
    if reason.is_empty() {
        return "the handler failed without an error message".to_owned();
    }
    reason
}

/// Reads `new Worker`'s `handler`: a function (no route names), or an object whose own
/// enumerable string keys (as `Object.keys` lists them) are item types, each to a function.
type Handlers = (Option<Vec<String>>, Vec<JsFunction>);

fn read_handlers(env: &Env, handler: Unknown<'_>) -> crate::error::Result<Handlers> {
    let invalid = |message: String| napi::Error::new(ErrorCode::InvalidArgument, message);
    // SAFETY: on the JavaScript thread, with a value of this environment.
    let function = |value: &Unknown<'_>| unsafe { JsFunction::from_js(env.raw(), value.raw()) };
    if let Ok(function) = function(&handler) {
        return Ok((None, vec![function]));
    }
    if handler.get_type().map_err(internal)? != ValueType::Object
        || handler.is_array().map_err(internal)?
    {
        return Err(invalid(
            "the handler must be a function, or an object with a function per item type \
             (e.g. { email: sendEmail })"
                .to_owned(),
        ));
    }
    // SAFETY: just checked to be an object.
    let routes: Object<'_> = unsafe { handler.cast() }.map_err(internal)?;
    let keys = routes
        .get_all_property_names(
            KeyCollectionMode::OwnOnly,
            KeyFilter::Enumerable,
            KeyConversion::NumbersToStrings,
        )
        .map_err(internal)?;
    let (mut names, mut handlers) = (Vec::new(), Vec::new());
    for index in 0..keys.get_array_length().map_err(internal)? {
        let key: Unknown<'_> = keys.get_element(index).map_err(internal)?;
        if key.get_type().map_err(internal)? == ValueType::Symbol {
            continue;
        }
        // SAFETY: as above. A key with a lone surrogate is refused, as every string leaseq takes.
        let name = unsafe { String::from_js(env.raw(), key.raw()) }
            .map_err(|mismatch| to_napi(mismatch.into_error("the handler's item type")))?;
        let value: Unknown<'_> = routes.get_property(key).map_err(internal)?;
        handlers.push(function(&value).map_err(|_| {
            invalid(format!(
                "the handler for item type \"{name}\" must be a function"
            ))
        })?);
        names.push(name);
    }
    Ok((Some(names), handlers))
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
    inner: Arc<leaseq::Worker>,
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
    ) -> crate::error::Result<Worker> {
        let queue = queue.read("queue").map_err(to_napi)?;
        let (routes, handlers) = read_handlers(env, handler)?;
        let options = read_optional(options, "options").map_err(to_napi)?;
        let core_options = match &options {
            Some(options) => guard(|| options.to_core())?,
            None => leaseq::WorkerOptions::default(),
        };
        let (before, after) =
            options.map_or((None, None), |options| (options.before, options.after));
        let hooks = leaseq::HostHooks {
            before: before.is_some(),
            after: after.is_some(),
        };
        let worker = WorkerSlot::default();
        let functions = Functions {
            handlers,
            before,
            after,
            worker: worker.clone(),
        };
        let calls: ThreadsafeFunction<HostCall, (), (), Status, false, true> = env
            .create_function_from_closure::<(), (), _>("leaseqWorkerCalls", |_| Ok(()))
            .and_then(|calls| {
                calls
                    .build_threadsafe_function::<HostCall>()
                    .weak::<true>()
                    .build_callback(move |context| {
                        functions.call(&context.env, context.value);
                        Ok(())
                    })
            })
            .map_err(internal)?;
        let unanswered = worker.clone();
        // Called on the core's threads: queues the call for the JavaScript thread, in order.
        let dispatch = move |call: HostCall| {
            let job = match &call {
                HostCall::Handle { job, .. } => Some(*job),
                _ => None,
            };
            let status = calls.call(call, ThreadsafeFunctionCallMode::NonBlocking);
            if let (Some(job), false) = (job, status == Status::Ok) {
                answer(&unanswered, job)(Err(format!("the handler cannot be called: {status}")));
            }
        };
        let inner = guard(|| {
            leaseq::Worker::for_host(&queue.inner, routes, hooks, core_options, dispatch)
        })?;
        let inner = Arc::new(inner);
        let _ = worker.set(Arc::downgrade(&inner));
        // Stops the worker if its environment goes away while it runs (a worker thread is
        // terminated, the process exits): its handlers can no longer be called. The hook holds
        // only a weak reference, freed with the environment.
        let weak = Arc::downgrade(&inner);
        env.add_env_cleanup_hook(weak, |weak: Weak<leaseq::Worker>| {
            if let Some(worker) = weak.upgrade() {
                worker.stop();
            }
        })
        .map_err(internal)?;
        Ok(Worker { inner })
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
    ) -> crate::error::Result<PromiseRaw<'env, Settled<()>>> {
        let worker = self.inner.clone();
        let options = match read_optional(options, "options") {
            Ok(options) => options.unwrap_or_default(),
            Err(err) => {
                let settled = async move { Ok(settle::<()>(async { Err(err) }).await) };
                return env.spawn_future(settled).map_err(internal);
            }
        };
        let listener = match options.stop_on_signals {
            Some(true) => {
                let stop = (*worker).clone();
                let listener = env
                    .create_function_from_closure::<(), (), _>("stopLeaseqWorker", move |_| {
                        stop.stop();
                        Ok(())
                    })
                    .and_then(|listener| {
                        on_signals(env, "once", listener)?;
                        listener.create_ref()
                    })
                    .map_err(internal)?;
                Some(listener)
            }
            _ => None,
        };
        let run = async move { Ok(settle(async move { worker.run(false).await }).await) };
        env.spawn_future_with_callback(run, move |env, settled| {
            if let Some(listener) = listener {
                // Failing to remove them leaves listeners that only call stop(): harmless.
                let _ = listener
                    .borrow_back(env)
                    .and_then(|listener| on_signals(env, "removeListener", listener));
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
        self.inner.stop();
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

/// A function of no arguments returning nothing: the signal listener.
type Listener<'env> = Function<'env, (), ()>;

/// `process[method](signal, listener)` for SIGTERM and SIGINT.
fn on_signals(env: &Env, method: &str, listener: Listener<'_>) -> napi::Result<()> {
    let process: Object = env.get_global()?.get_named_property("process")?;
    let method: Function<'_, FnArgs<(&str, Listener<'_>)>, Unknown<'_>> =
        process.get_named_property(method)?;
    for signal in ["SIGTERM", "SIGINT"] {
        method.apply(process, FnArgs::from((signal, listener)))?;
    }
    Ok(())
}

/// A failure of napi itself (making a function, calling `process.once`) as an `EINTERNAL` error.
fn internal(err: napi::Error) -> napi::Error<ErrorCode> {
    napi::Error::new(ErrorCode::Internal, err.reason.clone())
}
