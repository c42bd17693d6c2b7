//! The worker runtime: lease, run a handler with a concurrency limit, heartbeat, complete or
//! fail, clean on a schedule, shut down gracefully. The loop lives here so it behaves the same
//! in every language; bindings only supply the handler.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::complete::FailOutcome;
use crate::duration::lease_millis;
use crate::error::{Error, Result};
use crate::host::HostJobs;
use crate::item::Item;
use crate::lease::MAX_BATCH;
use crate::queue::WorkQueue;

/// What a handler returns: `Ok(())` completes the item, `Err(message)` fails it with that error.
pub type HandlerFuture = Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send>>;

/// Runs one item. Implemented for every `Fn(Item) -> impl Future<Output = Result<(), String>>`.
pub trait Handler: Send + Sync + 'static {
    /// Starts the work on `item`.
    fn handle(&self, item: Item) -> HandlerFuture;

    /// Whether the handler is usable: [`Worker::new`] refuses one that is not (a [`Router`]
    /// with an item type given twice or an empty one).
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

impl<F, Fut> Handler for F
where
    F: Fn(Item) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<(), String>> + Send + 'static,
{
    fn handle(&self, item: Item) -> HandlerFuture {
        Box::pin(self(item))
    }
}

/// A handler per item type: routes each item by [`Item::type_name`] (the string field `type` of
/// its JSON data) to the handler added for that name. An item with no type, or a type with no
/// handler, fails with an error that says so and names the types this router knows; it is
/// retried like any failure, so a worker deployed later with that handler can still run it.
pub struct Router<H = Arc<dyn Handler>> {
    routes: HashMap<String, H>,
    /// The first item type given twice (or empty): [`Handler::check`] refuses the router, so a
    /// second handler never silently replaces the first.
    refused: Option<String>,
}

impl<H> Default for Router<H> {
    fn default() -> Router<H> {
        Router {
            routes: HashMap::new(),
            refused: None,
        }
    }
}

impl Router<Arc<dyn Handler>> {
    /// A router with no routes yet.
    pub fn new() -> Router {
        Router::default()
    }

    /// Runs `handler` on items whose type is `type_name`. A name given twice, or an empty
    /// one, makes [`Worker::new`] refuse the router with an `InvalidArgument` error.
    pub fn route(self, type_name: impl Into<String>, handler: impl Handler) -> Router {
        self.route_to(type_name, Arc::new(handler) as Arc<dyn Handler>)
    }
}

impl<H> Router<H> {
    /// [`Router::route`] for a router over one handler type (what the bindings use: one
    /// foreign-function handler per route).
    pub fn route_to(mut self, type_name: impl Into<String>, handler: H) -> Router<H> {
        let type_name = type_name.into();
        if self.refused.is_none() && (type_name.is_empty() || self.routes.contains_key(&type_name))
        {
            self.refused = Some(type_name);
        } else {
            self.routes.entry(type_name).or_insert(handler);
        }
        self
    }

    /// The handler for `item`, or the error the item is failed with.
    pub fn handler_for(&self, item: &Item) -> std::result::Result<&H, String> {
        let known = || {
            let mut names: Vec<&str> = self.routes.keys().map(String::as_str).collect();
            names.sort_unstable();
            names.join(", ")
        };
        match item.type_name() {
            None => Err(format!(
                "item has no type (its data is not a JSON object with a string field \"type\"); \
                 this worker handles: {}",
                known()
            )),
            Some(name) => match self.routes.get(&name) {
                Some(handler) => Ok(handler),
                None => Err(format!(
                    "unknown item type \"{name}\"; this worker handles: {}",
                    known()
                )),
            },
        }
    }
}

impl<H: Handler> Handler for Router<H> {
    fn handle(&self, item: Item) -> HandlerFuture {
        match self.handler_for(&item) {
            Ok(handler) => handler.handle(item),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }

    fn check(&self) -> Result<()> {
        match &self.refused {
            None => Ok(()),
            Some(name) if name.is_empty() => Err(Error::invalid_argument(
                "an item type of a handler per item type is empty",
            )),
            Some(name) => Err(Error::invalid_argument(format!(
                "two handlers for item type \"{name}\": give each item type one handler"
            ))),
        }
    }
}

impl Handler for Arc<dyn Handler> {
    fn handle(&self, item: Item) -> HandlerFuture {
        (**self).handle(item)
    }

    fn check(&self) -> Result<()> {
        (**self).check()
    }
}

/// How an item's run ended, as the `after` hook sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// The handler succeeded and the item was completed (`true` if this call completed it).
    Completed(bool),
    /// The handler failed (or timed out) with this error; the item was retried or buried.
    Failed(String),
    /// The worker shut down before the handler finished: the item went back to the queue.
    Released,
    /// The lease was lost (a renew failed): another worker may have the item.
    LeaseLost,
}

/// Middleware: called before and after every item, e.g. for logging, metrics or tracing.
pub trait Hooks: Send + Sync + 'static {
    /// Before the handler runs.
    fn before(&self, _item: &Item) {}
    /// After the item's run ended.
    fn after(&self, _item: &Item, _outcome: &JobOutcome) {}
    /// When an operation of the worker's loop failed (a lease, renew, complete, fail, release
    /// or clean): the worker retries it, so without this hook (or the `errors` counter) a
    /// worker that cannot reach Redis, or meets a key it cannot use, would just look idle.
    fn error(&self, _error: &Error) {}
}

/// How a [`Worker`] runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerOptions {
    /// Handlers run at once. Default 1. The worker leases only for free slots, so it never holds
    /// an item it has not started; finished items wait for their batched complete beside them.
    pub concurrency: usize,
    /// The lease taken on each item; renewed every third of it while the handler runs.
    /// Default 30 s.
    pub lease_duration: Duration,
    /// A handler running longer is abandoned and the item failed with a timeout. Default none.
    pub job_timeout: Option<Duration>,
    /// After [`Worker::stop`], how long running handlers may still finish; the rest are
    /// released back to the queue at once. Default 10 s.
    pub shutdown_timeout: Duration,
    /// How often the worker runs a light clean (for leases of `redis-work-queue` clients and
    /// dead workers); `None` never. Default 5 s.
    pub clean_every: Option<Duration>,
}

impl Default for WorkerOptions {
    fn default() -> WorkerOptions {
        WorkerOptions {
            concurrency: 1,
            lease_duration: Duration::from_secs(30),
            job_timeout: None,
            shutdown_timeout: Duration::from_secs(10),
            clean_every: Some(Duration::from_secs(5)),
        }
    }
}

/// What a worker has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerCounters {
    /// Items leased.
    pub leased: u64,
    /// Items completed (handler succeeded and `complete` returned true).
    pub completed: u64,
    /// Handler failures and timeouts.
    pub failed: u64,
    /// Failures that were scheduled for a retry (the rest went to the dead letters).
    pub retried: u64,
    /// Successful lease renewals (heartbeats).
    pub renewed: u64,
    /// Items this worker holds now: its handler running, or its complete on the way (a job's
    /// slot is free for the next item once its handler ends, so this may briefly pass
    /// `concurrency` by the completes of one batch).
    pub in_flight: u64,
    /// Operations of the worker's loop that failed (see [`Hooks::error`]).
    pub errors: u64,
}

#[derive(Default)]
struct Counters {
    leased: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    renewed: AtomicU64,
    in_flight: AtomicU64,
    errors: AtomicU64,
}

/// The error a run ends with when a job's task panicked (a handler's panic).
fn panicked(panic: tokio::task::JoinError) -> Error {
    Error::new(
        crate::ErrorKind::Internal,
        format!("a worker task panicked: {panic}"),
    )
}

/// Collects the jobs that have ended; the error of the first that panicked.
fn reap(jobs: &mut JoinSet<()>) -> Option<Error> {
    while let Some(joined) = jobs.try_join_next() {
        if let Err(panic) = joined {
            return Some(panicked(panic));
        }
    }
    None
}

/// An item whose handler succeeded, and where its complete's answer goes.
type Completion = (Item, oneshot::Sender<Result<bool>>);

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Runs a handler over a queue until stopped. Cheap to clone; clones control the same worker.
#[derive(Clone)]
pub struct Worker {
    queue: WorkQueue,
    options: Arc<WorkerOptions>,
    handler: Arc<dyn Handler>,
    hooks: Arc<Vec<Arc<dyn Hooks>>>,
    stop: Arc<watch::Sender<bool>>,
    counters: Arc<Counters>,
    /// Set while [`Worker::run`] runs: a second run at the same time is refused.
    running: Arc<AtomicBool>,
    /// A host worker's jobs ([`Worker::for_host`]), which [`Worker::finish`] answers.
    host: Option<Arc<HostJobs>>,
}

/// Clears [`Worker::running`] when a run ends, however it ends (returned or dropped).
struct RunningGuard(Arc<AtomicBool>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Worker {
    /// A worker for `queue` that runs `handler` on every item.
    pub fn new(queue: &WorkQueue, handler: impl Handler, options: WorkerOptions) -> Result<Worker> {
        if options.concurrency == 0 {
            return Err(Error::invalid_argument("concurrency must be at least 1"));
        }
        lease_millis(options.lease_duration)?;
        if options.job_timeout == Some(Duration::ZERO) {
            return Err(Error::invalid_argument("job timeout must be positive"));
        }
        if options.clean_every == Some(Duration::ZERO) {
            return Err(Error::invalid_argument("clean interval must be positive"));
        }
        handler.check()?;
        Ok(Worker {
            queue: queue.clone(),
            options: Arc::new(options),
            handler: Arc::new(handler),
            hooks: Arc::new(Vec::new()),
            stop: Arc::new(watch::Sender::new(false)),
            counters: Arc::default(),
            running: Arc::default(),
            host: None,
        })
    }

    pub(crate) fn with_host_jobs(mut self, jobs: Arc<HostJobs>) -> Worker {
        self.host = Some(jobs);
        self
    }

    /// A host's answer to [`crate::HostCall::Handle`] `job` of a worker made with
    /// [`Worker::for_host`]: `Ok(())` completes the item, `Err(text)` fails it with that error.
    /// Returns false if the core no longer waits for the job (it was given up on, answered
    /// already, or this is not a host worker).
    pub fn finish(&self, job: u64, outcome: std::result::Result<(), String>) -> bool {
        self.host
            .as_ref()
            .is_some_and(|jobs| jobs.finish(job, outcome))
    }

    /// Adds middleware, called in the order added.
    pub fn with_hooks(mut self, hooks: impl Hooks) -> Worker {
        Arc::make_mut(&mut self.hooks).push(Arc::new(hooks));
        self
    }

    /// The counters so far.
    pub fn counters(&self) -> WorkerCounters {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        WorkerCounters {
            leased: read(&self.counters.leased),
            completed: read(&self.counters.completed),
            failed: read(&self.counters.failed),
            retried: read(&self.counters.retried),
            renewed: read(&self.counters.renewed),
            in_flight: read(&self.counters.in_flight),
            errors: read(&self.counters.errors),
        }
    }

    /// Asks the worker to stop: it leases nothing more, lets running handlers finish within the
    /// shutdown timeout, and releases the rest. [`Worker::run`] returns once that is done.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Runs until [`Worker::stop`] (or, with `stop_on_signals`, SIGTERM or SIGINT).
    ///
    /// Errors talking to Redis are retried after a short pause rather than ending the run; each
    /// is counted and passed to [`Hooks::error`]. Once the queue's [`crate::Connection`] is
    /// closed, `run` stops and ends with the connection error. A stop asked for before `run`
    /// starts is kept (`run` then returns at once); once `run` returns, the worker can be run
    /// again. A `run` while another is going (on this worker or a clone) is refused with an
    /// `InvalidArgument` error.
    pub async fn run(&self, stop_on_signals: bool) -> Result<()> {
        if self
            .running
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(Error::invalid_argument("this worker is already running"));
        }
        let _running = RunningGuard(self.running.clone());
        let mut tasks = JoinSet::new();
        let (completions, inbox) = mpsc::unbounded_channel();
        let worker = self.clone();
        tasks.spawn(async move { worker.lease_loop(completions).await });
        let worker = self.clone();
        tasks.spawn(async move {
            worker.complete_loop(inbox).await;
            Ok(())
        });
        if let Some(every) = self.options.clean_every {
            let worker = self.clone();
            tasks.spawn(async move {
                let mut stop = worker.stop.subscribe();
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(every) => {
                            if let Err(error) = worker.queue.light_clean().await {
                                worker.operation_failed(&error)?;
                            }
                        }
                        _ = stopped(&mut stop) => return Ok(()),
                    }
                }
            });
        }
        if stop_on_signals {
            let worker = self.clone();
            tasks.spawn(async move {
                use tokio::signal::unix::{signal, SignalKind};
                let (Ok(mut term), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) else {
                    return Ok(());
                };
                let mut stop = worker.stop.subscribe();
                tokio::select! {
                    _ = term.recv() => worker.stop(),
                    _ = int.recv() => worker.stop(),
                    _ = stopped(&mut stop) => {}
                }
                Ok(())
            });
        }
        let mut outcome = Ok(());
        while let Some(joined) = tasks.join_next().await {
            let failed = match joined {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(error),
                Err(panic) => Some(panicked(panic)),
            };
            if let Some(error) = failed {
                self.stop();
                if outcome.is_ok() {
                    outcome = Err(error);
                }
            }
        }
        // Ready for another run.
        self.stop.send_replace(false);
        outcome
    }

    /// Counts a failed operation and tells the hooks; an error once the connection is closed
    /// ends the run (nothing can succeed any more).
    fn operation_failed(&self, error: &Error) -> Result<()> {
        if self.queue.connection.is_closed() {
            return Err(error.clone());
        }
        bump(&self.counters.errors);
        for hooks in self.hooks.iter() {
            hooks.error(error);
        }
        Ok(())
    }

    /// Leases as many items as there are free slots, in one round trip, and starts a job for
    /// each; never holds an item it has no slot for, so no item waits out its lease unstarted.
    /// When stopped, leases nothing more and waits for its jobs (they finish, or are released
    /// after the shutdown timeout).
    async fn lease_loop(&self, completions: mpsc::UnboundedSender<Completion>) -> Result<()> {
        let mut stop = self.stop.subscribe();
        let free = Arc::new(Semaphore::new(self.options.concurrency));
        let mut jobs = JoinSet::new();
        let mut outcome = loop {
            if *stop.borrow() {
                break Ok(());
            }
            if let Some(panicked) = reap(&mut jobs) {
                break Err(panicked);
            }
            let first = tokio::select! {
                permit = free.clone().acquire_owned() => permit,
                _ = stopped(&mut stop) => break Ok(()),
            };
            // The semaphore is never closed, so acquiring only waits.
            let Ok(first) = first else { break Ok(()) };
            // Jobs end in groups (a completed batch ends them together): let the others of the
            // group give back their slots, so one round trip leases for all of them.
            tokio::task::yield_now().await;
            let mut slots = vec![first];
            while slots.len() < MAX_BATCH {
                match free.clone().try_acquire_owned() {
                    Ok(slot) => slots.push(slot),
                    Err(_) => break,
                }
            }
            let leased = tokio::select! {
                leased = self.queue.lease_many(self.options.lease_duration, slots.len(), true, Some(Duration::from_secs(1))) => leased,
                _ = stopped(&mut stop) => break Ok(()),
            };
            let items = match leased {
                Ok(items) => items,
                Err(error) => {
                    if let Err(fatal) = self.operation_failed(&error) {
                        break Err(fatal);
                    }
                    // Redis unreachable: the connection reconnects by itself; wait a little.
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(200)) => continue,
                        _ = stopped(&mut stop) => break Ok(()),
                    }
                }
            };
            // Slots without an item go back to the semaphore when `slots` drops.
            for (item, slot) in items.into_iter().zip(slots.drain(..)) {
                let worker = self.clone();
                let completions = completions.clone();
                jobs.spawn(async move { worker.job(item, slot, &completions).await });
            }
        };
        drop(completions);
        if outcome.is_err() {
            self.stop();
        }
        while let Some(joined) = jobs.join_next().await {
            if let (Err(panic), Ok(())) = (joined, &outcome) {
                outcome = Err(panicked(panic));
            }
        }
        outcome
    }

    /// Completes what the jobs hand in, in batches: whatever arrived while the previous batch
    /// was in flight goes in the next, so a busy worker completes many items per round trip
    /// and an idle one sends each at once. Ends once every job and the lease loop are done.
    async fn complete_loop(&self, mut inbox: mpsc::UnboundedReceiver<Completion>) {
        // Items and their answer channels side by side: the items are moved in, never copied.
        let (mut items, mut replies) = (Vec::new(), Vec::new());
        while let Some((item, reply)) = inbox.recv().await {
            items.push(item);
            replies.push(reply);
            while items.len() < MAX_BATCH {
                match inbox.try_recv() {
                    Ok((item, reply)) => {
                        items.push(item);
                        replies.push(reply);
                    }
                    Err(_) => break,
                }
            }
            let completed = self.queue.complete_many(&items).await;
            items.clear();
            match completed {
                Ok(completed) => {
                    for (reply, completed) in replies.drain(..).zip(completed) {
                        let _ = reply.send(Ok(completed));
                    }
                }
                Err(error) => {
                    for reply in replies.drain(..) {
                        let _ = reply.send(Err(error.clone()));
                    }
                }
            }
        }
    }

    /// One leased item: hooks, the handler, then its settling. The slot is free again once the
    /// handler has ended, so the next lease overlaps this item's complete.
    async fn job(
        &self,
        item: Item,
        slot: OwnedSemaphorePermit,
        completions: &mpsc::UnboundedSender<Completion>,
    ) {
        let mut stop = self.stop.subscribe();
        bump(&self.counters.leased);
        self.counters.in_flight.fetch_add(1, Ordering::Relaxed);
        for hooks in self.hooks.iter() {
            hooks.before(&item);
        }
        let outcome = self.run_one(&item, slot, &mut stop, completions).await;
        self.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        for hooks in self.hooks.iter() {
            hooks.after(&item, &outcome);
        }
    }

    /// Completes `item` through the batching complete loop.
    async fn complete(
        &self,
        item: &Item,
        completions: &mpsc::UnboundedSender<Completion>,
    ) -> Result<bool> {
        let (reply, answer) = oneshot::channel();
        // A complete reads only the id and the fencing token: the data is not copied.
        let handle = Item {
            id: item.id.clone(),
            data: Vec::new(),
            attempts: item.attempts,
            fence: item.fence,
        };
        if completions.send((handle, reply)).is_err() {
            return self.queue.complete(item).await;
        }
        answer.await.unwrap_or_else(|_| {
            Err(Error::new(
                crate::ErrorKind::Internal,
                "the worker's complete loop ended before completing the item",
            ))
        })
    }

    async fn run_one(
        &self,
        item: &Item,
        slot: OwnedSemaphorePermit,
        stop: &mut watch::Receiver<bool>,
        completions: &mpsc::UnboundedSender<Completion>,
    ) -> JobOutcome {
        let lease = self.options.lease_duration;
        let heartbeat = async {
            loop {
                tokio::time::sleep(lease / 3).await;
                match self.queue.renew(item, lease).await {
                    Ok(true) => bump(&self.counters.renewed),
                    Ok(false) => return,
                    // A blip: the next beat tries again, well before the lease ends.
                    Err(error) => {
                        let _ = self.operation_failed(&error);
                    }
                }
            }
        };
        let job = async {
            match self.options.job_timeout {
                None => self.handler.handle(item.clone()).await,
                Some(limit) => {
                    match tokio::time::timeout(limit, self.handler.handle(item.clone())).await {
                        Ok(result) => result,
                        Err(_) => Err(format!("timed out after {limit:?}")),
                    }
                }
            }
        };
        let shutdown = async {
            stopped(stop).await;
            tokio::time::sleep(self.options.shutdown_timeout).await;
        };
        let result = tokio::select! {
            result = job => Some(result),
            () = heartbeat => return JobOutcome::LeaseLost,
            () = shutdown => None,
        };
        drop(slot);
        match result {
            None => {
                if let Err(error) = self.queue.release(item).await {
                    let _ = self.operation_failed(&error);
                }
                JobOutcome::Released
            }
            Some(Ok(())) => {
                let completed = match self.complete(item, completions).await {
                    Ok(completed) => completed,
                    Err(error) => {
                        let _ = self.operation_failed(&error);
                        false
                    }
                };
                if completed {
                    bump(&self.counters.completed);
                }
                JobOutcome::Completed(completed)
            }
            Some(Err(error)) => {
                bump(&self.counters.failed);
                match self.queue.fail(item, &error, None).await {
                    Ok(FailOutcome::Retry { .. }) => bump(&self.counters.retried),
                    Ok(_) => {}
                    Err(failed) if failed.kind() == crate::ErrorKind::LeaseLost => {}
                    Err(failed) => {
                        let _ = self.operation_failed(&failed);
                    }
                }
                JobOutcome::Failed(error)
            }
        }
    }
}

/// Resolves once the worker is asked to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which cannot happen while the worker holds it.
    let _ = stop.wait_for(|stop| *stop).await;
}
