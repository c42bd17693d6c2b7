//! The worker's host interface: how a binding runs a [`Worker`] whose handlers and hooks live in
//! another language (Python, JavaScript, .NET).
//!
//! The core keeps the whole protocol: it picks the handler (by route), numbers each job, keeps
//! the job's answer channel, gives up on a job when its timeout passes or the worker stops, and
//! says so. The host sees one ordered stream of [`HostCall`]s through one function it gives
//! ([`Worker::for_host`]) and answers each [`HostCall::Handle`] once with [`Worker::finish`].
//! A host's worker code is then only: call the function or coroutine, turn what it returned into
//! `Ok(())` or an error text, and cancel what [`HostCall::Cancel`] names.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::item::Item;
use crate::queue::WorkQueue;
use crate::worker::{Handler, HandlerFuture, Hooks, JobOutcome, Router, Worker, WorkerOptions};

/// A job's end as the host reports it: `Err` carries the error text the item is failed with.
pub type HostOutcome = std::result::Result<(), String>;

/// What a worker asks of its host, in the order the core makes the calls: an item's `Before`
/// comes before its `Handle`, its `After` once its run ended. The host's dispatch function is
/// called on the core's threads and must not block: it queues the call for the host's thread.
#[derive(Debug)]
pub enum HostCall {
    /// Run the handler at index `route` (of the route names given to [`Worker::for_host`], or
    /// 0 without routes) on `item`, then answer with [`Worker::finish`]`(job, …)`.
    Handle {
        /// The job's number, unique within the worker.
        job: u64,
        /// Which handler.
        route: usize,
        /// The item (its `attempts` counts this lease, its `fence` is this delivery's).
        item: Item,
    },
    /// The core no longer waits for `job` (its timeout passed, the worker stopped and released
    /// the item, or the lease was lost): cancel its handler if the host can. A later
    /// [`Worker::finish`] for it is ignored and returns false.
    Cancel {
        /// The job given up on.
        job: u64,
    },
    /// The `before` hook, for an item about to run.
    Before {
        /// The item.
        item: Item,
    },
    /// The `after` hook: how the item's run ended.
    After {
        /// The item.
        item: Item,
        /// How its run ended.
        outcome: JobOutcome,
    },
}

/// Which hooks the host has: the core sends [`HostCall::Before`] and [`HostCall::After`] only
/// when asked for, so a host without hooks pays nothing for them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostHooks {
    /// Send [`HostCall::Before`].
    pub before: bool,
    /// Send [`HostCall::After`].
    pub after: bool,
}

type Dispatch = Box<dyn Fn(HostCall) + Send + Sync>;

/// The jobs a host worker waits on, and the host's dispatch function.
pub(crate) struct HostJobs {
    dispatch: Dispatch,
    pending: Mutex<HashMap<u64, oneshot::Sender<HostOutcome>>>,
    last_job: AtomicU64,
}

impl HostJobs {
    fn pending(&self) -> MutexGuard<'_, HashMap<u64, oneshot::Sender<HostOutcome>>> {
        // A panic while holding this lock leaves the map consistent (single inserts/removes).
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Delivers the host's answer; false if the core no longer waits for `job`.
    pub(crate) fn finish(&self, job: u64, outcome: HostOutcome) -> bool {
        let waiting = self.pending().remove(&job);
        // The receiver is gone only if its job future was dropped, which removes it first.
        waiting.is_some_and(|sender| sender.send(outcome).is_ok())
    }
}

/// One route's handler: hands the item to the host and awaits its answer.
struct HostHandler {
    jobs: Arc<HostJobs>,
    route: usize,
}

/// Tells the host that the core gave up on a job (its future was dropped before the answer).
struct GiveUpOnDrop {
    jobs: Arc<HostJobs>,
    job: u64,
}

impl Drop for GiveUpOnDrop {
    fn drop(&mut self) {
        if self.jobs.pending().remove(&self.job).is_some() {
            (self.jobs.dispatch)(HostCall::Cancel { job: self.job });
        }
    }
}

impl Handler for HostHandler {
    fn handle(&self, item: Item) -> HandlerFuture {
        let job = self.jobs.last_job.fetch_add(1, Ordering::Relaxed) + 1;
        let (sender, answer) = oneshot::channel();
        self.jobs.pending().insert(job, sender);
        let give_up = GiveUpOnDrop {
            jobs: self.jobs.clone(),
            job,
        };
        (self.jobs.dispatch)(HostCall::Handle {
            job,
            route: self.route,
            item,
        });
        Box::pin(async move {
            let outcome = answer.await;
            drop(give_up);
            // The sender lives in the map until answered or given up on, so this is an answer.
            outcome.unwrap_or_else(|_| Err("the host dropped the job without an answer".into()))
        })
    }
}

/// The host's hooks as the core's [`Hooks`].
struct HostHookCalls {
    jobs: Arc<HostJobs>,
    wanted: HostHooks,
}

impl Hooks for HostHookCalls {
    fn before(&self, item: &Item) {
        if self.wanted.before {
            (self.jobs.dispatch)(HostCall::Before { item: item.clone() });
        }
    }

    fn after(&self, item: &Item, outcome: &JobOutcome) {
        if self.wanted.after {
            (self.jobs.dispatch)(HostCall::After {
                item: item.clone(),
                outcome: outcome.clone(),
            });
        }
    }
}

impl Worker {
    /// A worker whose handlers and hooks run in a host language: every call to them is a
    /// [`HostCall`] passed to `dispatch`, and each [`HostCall::Handle`] is answered with
    /// [`Worker::finish`].
    ///
    /// `routes`: `None` for one handler for every item (route 0); `Some(names)` for a handler
    /// per item type, `names[i]` being route `i`: the core's [`Router`] picks the route by the
    /// item's type and fails untyped items and unknown types with an error naming the known
    /// ones. No names, an empty name or a name given twice is an `InvalidArgument` error, as
    /// are the [`Worker::new`] option checks.
    pub fn for_host(
        queue: &WorkQueue,
        routes: Option<Vec<String>>,
        hooks: HostHooks,
        options: WorkerOptions,
        dispatch: impl Fn(HostCall) + Send + Sync + 'static,
    ) -> Result<Worker> {
        let jobs = Arc::new(HostJobs {
            dispatch: Box::new(dispatch),
            pending: Mutex::default(),
            last_job: AtomicU64::new(0),
        });
        let handler = |route| HostHandler {
            jobs: jobs.clone(),
            route,
        };
        let worker = match routes {
            None => Worker::new(queue, handler(0), options)?,
            Some(names) => {
                if names.is_empty() {
                    return Err(Error::invalid_argument(
                        "a worker with a handler per item type needs at least one item type",
                    ));
                }
                let mut router = Router::default();
                for (route, name) in names.into_iter().enumerate() {
                    router = router.route_to(name, handler(route));
                }
                Worker::new(queue, router, options)?
            }
        };
        let worker = if hooks == HostHooks::default() {
            worker
        } else {
            worker.with_hooks(HostHookCalls {
                jobs: jobs.clone(),
                wanted: hooks,
            })
        };
        Ok(worker.with_host_jobs(jobs))
    }
}
