//! The Rust runner of the language-neutral conformance cases in `spec/conformance/`.
//!
//! `spec/conformance/driver.py` starts it once and sends one case per line on stdin:
//! `{"case": name, "url": redis_url, "prefix": p, "steps": [{"op", "args", "queue"?}, …]}`. It
//! runs the steps through leaseq's public async API only and answers with one line,
//! `{"results": [{"ok": value} | {"error": kind, "message": text}, …]}`, each result with the
//! step's wall time in `"ms"`; the driver does the
//! setup and checks the results and the keys left in Redis. See `spec/conformance/README.md`.
//!
//! `cargo run -q --release -p leaseq --example conformance` (the driver runs it this way).

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::time::UNIX_EPOCH;

use leaseq::{
    AddOptions, CleanReport, Connection, ErrorKind, FailOutcome, Handler, Hooks, Item, JobOutcome,
    QueueOptions, Router, WorkQueue, Worker, WorkerOptions,
};
use serde_json::{json, Map, Value};

/// Why a step did not return a value: an error from leaseq, or a case this runner cannot read
/// (reported as kind `Harness`, which no case expects, so the driver shows it as a failure).
enum StepError {
    Leaseq(leaseq::Error),
    Harness(String),
}

impl From<leaseq::Error> for StepError {
    fn from(err: leaseq::Error) -> StepError {
        StepError::Leaseq(err)
    }
}

type StepResult = Result<Value, StepError>;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("cannot start a tokio runtime");
    let mut stdout = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("cannot read stdin");
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Value>(&line) {
            Ok(case) => runtime.block_on(run_case(&case)),
            Err(err) => json!({ "fatal": format!("cannot parse the case line: {err}") }),
        };
        writeln!(stdout, "{reply}").expect("cannot write stdout");
        stdout.flush().expect("cannot flush stdout");
    }
}

async fn run_case(case: &Value) -> Value {
    let url = case["url"].as_str().unwrap_or_default();
    let prefix = case["prefix"].as_str().unwrap_or_default();
    let connection = match Connection::open(url).await {
        Ok(connection) => connection,
        Err(err) => return json!({ "fatal": format!("cannot open {url}: {err}") }),
    };
    let options = match queue_options(&case["queue_options"]) {
        Ok(options) => options,
        Err(message) => return json!({ "fatal": message }),
    };
    let mut case_run = CaseRun {
        connection: connection.clone(),
        prefix: prefix.to_owned(),
        options,
        queues: HashMap::new(),
        leased: Vec::new(),
    };
    let mut results = Vec::new();
    for step in case["steps"].as_array().into_iter().flatten() {
        let started = Instant::now();
        let mut result = match case_run.step(step).await {
            Ok(value) => json!({ "ok": value }),
            Err(StepError::Leaseq(err)) => {
                json!({ "error": kind_name(err.kind()), "message": err.message() })
            }
            Err(StepError::Harness(message)) => json!({ "error": "Harness", "message": message }),
        };
        result["ms"] = json!(started.elapsed().as_secs_f64() * 1000.0);
        results.push(result);
    }
    connection.close();
    json!({ "results": results })
}

/// The handles one case acts through: `"main"` and any other name (`"second"`, …) is a
/// `WorkQueue` of its own (its own session) on the case's prefix, made on first use, unless a
/// `new_queue` step registered that name for another prefix.
struct CaseRun {
    connection: Connection,
    prefix: String,
    options: QueueOptions,
    queues: HashMap<String, WorkQueue>,
    /// Every item a lease step returned, in order (`delivery: k` names the k-th, from 1).
    leased: Vec<Item>,
}

/// The case's `queue_options` (all optional, milliseconds for durations) as core options.
fn queue_options(value: &Value) -> Result<QueueOptions, String> {
    let mut options = QueueOptions::default();
    let Some(map) = value.as_object() else {
        return Ok(options);
    };
    let millis = |name: &str| {
        map.get(name)
            .and_then(Value::as_u64)
            .map(Duration::from_millis)
    };
    if let Some(max_attempts) = map.get("max_attempts").and_then(Value::as_u64) {
        options.max_attempts = u32::try_from(max_attempts).map_err(|_| "max_attempts too large")?;
    }
    if let Some(base) = millis("backoff_base_ms") {
        options.backoff_base = base;
    }
    if let Some(max) = millis("backoff_max_ms") {
        options.backoff_max = max;
    }
    if let Some(window) = millis("unique_window_ms") {
        options.unique_window = window;
    }
    if let Some(grace) = millis("clean_grace_ms") {
        options.clean_grace = grace;
    }
    if let Some(replicas) = map.get("wait_replicas").and_then(Value::as_u64) {
        options.wait_replicas = u32::try_from(replicas).map_err(|_| "wait_replicas too large")?;
    }
    if let Some(wait) = millis("wait_timeout_ms") {
        options.wait_timeout = wait;
    }
    if let Some(fencing) = map.get("fencing").and_then(Value::as_bool) {
        options.fencing = fencing;
    }
    Ok(options)
}

impl CaseRun {
    fn queue(&mut self, name: &str) -> Result<WorkQueue, StepError> {
        if let Some(queue) = self.queues.get(name) {
            return Ok(queue.clone());
        }
        let queue = WorkQueue::with_options(&self.connection, &self.prefix, self.options.clone())?;
        self.queues.insert(name.to_owned(), queue.clone());
        Ok(queue)
    }

    async fn step(&mut self, step: &Value) -> StepResult {
        let op = step["op"].as_str().unwrap_or_default();
        let empty = Map::new();
        let args = step["args"].as_object().unwrap_or(&empty);
        let handle = step["queue"].as_str().unwrap_or("main");
        match op {
            "sleep" => {
                tokio::time::sleep(Duration::from_millis(uint(args, "ms")?)).await;
                Ok(Value::Null)
            }
            "new_queue" => {
                let queue = WorkQueue::with_options(
                    &self.connection,
                    string(args, "name")?,
                    self.options.clone(),
                )?;
                if let Some(name) = args.get("as").and_then(Value::as_str) {
                    self.queues.insert(name.to_owned(), queue);
                }
                Ok(Value::Null)
            }
            "open" => {
                Connection::open(string(args, "url")?).await?.close();
                Ok(Value::Null)
            }
            "close" => {
                self.connection.close();
                Ok(Value::Null)
            }
            _ => {
                let queue = self.queue(handle)?;
                queue_step(&queue, op, args, &mut self.leased).await
            }
        }
    }
}

async fn queue_step(
    queue: &WorkQueue,
    op: &str,
    args: &Map<String, Value>,
    leased: &mut Vec<Item>,
) -> StepResult {
    Ok(match op {
        "add_item" => json!(queue.add_item(&item(args)?).await?),
        "add_unique_item" => {
            queue.add_unique_item(&item(args)?).await?;
            Value::Null
        }
        "add_items" => {
            let items = args
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| harness("add_items needs args.items"))?
                .iter()
                .map(|entry| item(entry.as_object().unwrap_or(&Map::new())))
                .collect::<Result<Vec<Item>, StepError>>()?;
            json!(queue.add_items(&items).await?)
        }
        "lease" => {
            let (lease_duration, block, timeout) = lease_args(args)?;
            match queue.lease(lease_duration, block, timeout).await? {
                Some(item) => leased_json(args, item, leased),
                None => Value::Null,
            }
        }
        "lease_many" => {
            let (lease_duration, block, timeout) = lease_args(args)?;
            let count = usize::try_from(uint(args, "count")?).unwrap_or(usize::MAX);
            let items = queue
                .lease_many(lease_duration, count, block, timeout)
                .await?;
            let values = items
                .into_iter()
                .map(|item| leased_json(args, item, leased))
                .collect();
            Value::Array(values)
        }
        "complete_and_lease" => {
            let item = target(args, leased)?;
            let lease_duration = lease_duration(number(args, "lease_ms")?)?;
            let count = usize::try_from(uint(args, "count")?).unwrap_or(usize::MAX);
            let (completed, items) = queue
                .complete_and_lease(&item, lease_duration, count)
                .await?;
            let values: Vec<Value> = items
                .into_iter()
                .map(|item| leased_json(args, item, leased))
                .collect();
            json!({ "completed": completed, "leased": values })
        }
        "complete_many" => {
            let items = args
                .get("items")
                .and_then(Value::as_array)
                .ok_or_else(|| harness("complete_many needs args.items"))?
                .iter()
                .map(|entry| match entry {
                    Value::String(id) => Ok(Item::with_id(id.clone(), Vec::new())),
                    delivery => delivered(delivery.as_u64(), leased),
                })
                .collect::<Result<Vec<Item>, StepError>>()?;
            json!(queue.complete_many(&items).await?)
        }
        "renew" => {
            let lease_duration = lease_duration(number(args, "lease_ms")?)?;
            json!(queue.renew(&target(args, leased)?, lease_duration).await?)
        }
        "complete" => json!(queue.complete(&target(args, leased)?).await?),
        "light_clean" => report_json(queue.light_clean().await?),
        "deep_clean" => report_json(queue.deep_clean().await?),
        "queue_len" => json!(queue.queue_len().await?),
        "processing" => json!(queue.processing().await?),
        "add_item_with" => {
            let options = AddOptions {
                priority: match args.get("priority").and_then(Value::as_u64) {
                    None => 0,
                    Some(priority) => u8::try_from(priority).unwrap_or(u8::MAX),
                },
                delay: args
                    .get("delay_ms")
                    .and_then(Value::as_u64)
                    .map(Duration::from_millis),
                at: args
                    .get("at_ms")
                    .and_then(Value::as_u64)
                    .map(|at| UNIX_EPOCH + Duration::from_millis(at)),
            };
            json!(queue.add_item_with(&item(args)?, &options).await?)
        }
        "fail" => {
            let retry_after = args
                .get("retry_after_ms")
                .and_then(Value::as_u64)
                .map(Duration::from_millis);
            let error = string(args, "error")?;
            json!(match queue
                .fail(&target(args, leased)?, error, retry_after)
                .await?
            {
                FailOutcome::Retry { .. } => "retry",
                FailOutcome::Dead => "dead",
                FailOutcome::Gone => "gone",
            })
        }
        "release" => json!(queue.release(&target(args, leased)?).await?),
        "dead_len" => json!(queue.dead_len().await?),
        "dead_items" => {
            let page = queue
                .dead_items(uint(args, "offset")?, uint(args, "count")?)
                .await?;
            Value::Array(
                page.iter()
                    .map(|dead| {
                        json!({
                            "id": dead.item.id,
                            "data": String::from_utf8_lossy(&dead.item.data),
                            "attempts": dead.item.attempts,
                            "error": dead.error,
                        })
                    })
                    .collect(),
            )
        }
        "requeue_dead" => json!(queue.requeue_dead(&ids(args)?).await?),
        "purge_dead" => json!(queue.purge_dead(&ids(args)?).await?),
        "requeue_all_dead" => json!(queue.requeue_all_dead().await?),
        "purge_all_dead" => json!(queue.purge_all_dead().await?),
        "pause" => {
            queue.pause().await?;
            Value::Null
        }
        "resume" => json!(queue.resume().await?),
        "is_paused" => json!(queue.is_paused().await?),
        "prioritized_len" => json!(queue.prioritized_len().await?),
        "delayed_len" => json!(queue.delayed_len().await?),
        "run_worker" => run_worker(queue, args).await?,
        other => return Err(harness(format!("unknown op {other:?}"))),
    })
}

/// A lease duration in milliseconds as a Rust caller would pass it. `Duration` cannot be
/// negative, so a negative value goes through the core's own float-seconds check, which is what
/// the other bindings call with the same number.
fn lease_duration(millis: f64) -> Result<Duration, StepError> {
    if millis < 0.0 {
        return Ok(leaseq::lease_from_secs_f64(millis / 1000.0)?);
    }
    Ok(millis_duration(millis))
}

/// A lease timeout in milliseconds; a negative one goes through the core's float-seconds check.
fn timeout(millis: f64) -> Result<Duration, StepError> {
    if millis < 0.0 {
        return Ok(leaseq::from_secs_f64("timeout", millis / 1000.0)?);
    }
    Ok(millis_duration(millis))
}

fn millis_duration(millis: f64) -> Duration {
    Duration::from_nanos((millis * 1_000_000.0).round() as u64)
}

fn item(args: &Map<String, Value>) -> Result<Item, StepError> {
    let data = string(args, "data")?.as_bytes().to_vec();
    Ok(match args.get("id") {
        None | Some(Value::Null) => Item::new(data),
        Some(_) => Item::with_id(string(args, "id")?, data),
    })
}

/// renew and complete need only the id; the data an item carries plays no part in them.
fn id_only(args: &Map<String, Value>) -> Result<Item, StepError> {
    Ok(Item::with_id(string(args, "id")?, Vec::new()))
}

/// The item renew, complete, fail and release act on: the `delivery`-th leased item (from 1)
/// when the step names one, so its fencing token travels; else one made from `id` alone.
fn target(args: &Map<String, Value>, leased: &[Item]) -> Result<Item, StepError> {
    match args.get("delivery") {
        None => id_only(args),
        Some(k) => delivered(k.as_u64(), leased),
    }
}

/// The k-th item the case's leases returned (from 1).
fn delivered(k: Option<u64>, leased: &[Item]) -> Result<Item, StepError> {
    k.and_then(|k| usize::try_from(k).ok())
        .and_then(|k| k.checked_sub(1))
        .and_then(|index| leased.get(index))
        .cloned()
        .ok_or_else(|| harness(format!("no delivery {k:?}: {} leases so far", leased.len())))
}

/// A lease step's `lease_ms`, `block` and `timeout_ms` (absent: none).
fn lease_args(args: &Map<String, Value>) -> Result<(Duration, bool, Option<Duration>), StepError> {
    let lease_duration = lease_duration(number(args, "lease_ms")?)?;
    let block = args.get("block").and_then(Value::as_bool).unwrap_or(false);
    let timeout = match args.get("timeout_ms") {
        None | Some(Value::Null) => None,
        Some(_) => Some(timeout(number(args, "timeout_ms")?)?),
    };
    Ok((lease_duration, block, timeout))
}

/// A leased item as the step answers it (with `attempts`, `fence` when asked), kept as the
/// case's next delivery.
fn leased_json(args: &Map<String, Value>, item: Item, leased: &mut Vec<Item>) -> Value {
    let asked = |name: &str| args.get(name).and_then(Value::as_bool) == Some(true);
    let mut value = item_json(&item);
    if asked("with_attempts") {
        value["attempts"] = json!(item.attempts);
    }
    if asked("with_fence") {
        value["fence"] = json!(item.fence);
    }
    leased.push(item);
    value
}

fn item_json(item: &Item) -> Value {
    json!({ "id": item.id, "data": String::from_utf8_lossy(&item.data) })
}

fn report_json(report: CleanReport) -> Value {
    json!({ "requeued": report.requeued, "dropped": report.dropped, "dead": report.dead })
}

fn ids(args: &Map<String, Value>) -> Result<Vec<String>, StepError> {
    args.get("ids")
        .and_then(Value::as_array)
        .and_then(|ids| {
            ids.iter()
                .map(|id| id.as_str().map(str::to_owned))
                .collect()
        })
        .ok_or_else(|| harness("args.ids must be an array of strings"))
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Connection => "Connection",
        ErrorKind::Timeout => "Timeout",
        ErrorKind::InvalidArgument => "InvalidArgument",
        ErrorKind::LeaseLost => "LeaseLost",
        ErrorKind::Internal => "Internal",
    }
}

fn harness(message: impl Into<String>) -> StepError {
    StepError::Harness(message.into())
}

fn string<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a str, StepError> {
    args.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| harness(format!("args.{name} must be a string")))
}

fn number(args: &Map<String, Value>, name: &str) -> Result<f64, StepError> {
    args.get(name)
        .and_then(Value::as_f64)
        .ok_or_else(|| harness(format!("args.{name} must be a number")))
}

fn uint(args: &Map<String, Value>, name: &str) -> Result<u64, StepError> {
    args.get(name)
        .and_then(Value::as_u64)
        .ok_or_else(|| harness(format!("args.{name} must be a non-negative integer")))
}

// ---------------------------------------------------------------------------------------------
// run_worker: a Worker with a scripted handler (spec/conformance/README.md, "Worker cases")

/// What a scripted handler does with an item: sleep `sleep_ms` (if given), then fail with
/// `raise` (if given), else succeed. `"ok"` is neither.
#[derive(Clone, Debug, Default)]
struct Action {
    sleep_ms: u64,
    raise: Option<String>,
}

fn action(value: &Value) -> Result<Action, StepError> {
    match value {
        Value::String(ok) if ok == "ok" => Ok(Action::default()),
        Value::Object(map) => {
            if let Some(unknown) = map
                .keys()
                .find(|key| !["sleep_ms", "raise"].contains(&key.as_str()))
            {
                return Err(harness(format!("unknown action field {unknown:?}")));
            }
            Ok(Action {
                sleep_ms: map.get("sleep_ms").and_then(Value::as_u64).unwrap_or(0),
                raise: map.get("raise").and_then(Value::as_str).map(str::to_owned),
            })
        }
        other => Err(harness(format!(
            "an action is \"ok\" or an object, not {other}"
        ))),
    }
}

impl Action {
    /// The handler's work: what a Rust handler returns is its error text as is.
    async fn perform(self) -> Result<(), String> {
        if self.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
        }
        match self.raise {
            Some(message) => Err(message),
            None => Ok(()),
        }
    }
}

/// `handler`: the action per item id, `"*"` for any other id (default `"ok"`).
struct ByItemId(HashMap<String, Action>);

impl ByItemId {
    fn for_item(&self, item: &Item) -> Action {
        let found = self.0.get(&item.id).or_else(|| self.0.get("*"));
        found.cloned().unwrap_or_default()
    }
}

/// Records every hook call: the `after` outcomes in order, and which items had their `before`.
#[derive(Default)]
struct Recorder {
    before: Mutex<Vec<String>>,
    outcomes: Mutex<Vec<(String, Value)>>,
}

struct RecordingHooks(Arc<Recorder>);

impl Hooks for RecordingHooks {
    fn before(&self, item: &Item) {
        lock(&self.0.before).push(item.id.clone());
    }

    fn after(&self, item: &Item, outcome: &JobOutcome) {
        let mut record = match outcome {
            JobOutcome::Completed(completed) => {
                json!({ "id": item.id, "outcome": "completed", "completed": completed })
            }
            JobOutcome::Failed(error) => {
                json!({ "id": item.id, "outcome": "failed", "error": error })
            }
            JobOutcome::Released => json!({ "id": item.id, "outcome": "released" }),
            JobOutcome::LeaseLost => json!({ "id": item.id, "outcome": "lease_lost" }),
        };
        // Hook order: an item's before hook comes before its after hook.
        let mut before = lock(&self.0.before);
        match before.iter().position(|id| *id == item.id) {
            Some(index) => {
                before.remove(index);
            }
            None => record["hooks"] = json!("after without before"),
        }
        lock(&self.0.outcomes).push((item.id.clone(), record));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn worker_options(args: &Map<String, Value>) -> Result<WorkerOptions, StepError> {
    let empty = Map::new();
    let given = args
        .get("options")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let known = [
        "concurrency",
        "lease_ms",
        "job_timeout_ms",
        "shutdown_timeout_ms",
        "clean_every_ms",
    ];
    if let Some(unknown) = given.keys().find(|key| !known.contains(&key.as_str())) {
        return Err(harness(format!("unknown worker option {unknown:?}")));
    }
    let millis = |name: &str| {
        given
            .get(name)
            .and_then(Value::as_u64)
            .map(Duration::from_millis)
    };
    let defaults = WorkerOptions::default();
    Ok(WorkerOptions {
        concurrency: match given.get("concurrency").and_then(Value::as_u64) {
            Some(concurrency) => usize::try_from(concurrency).unwrap_or(usize::MAX),
            None => defaults.concurrency,
        },
        lease_duration: millis("lease_ms").unwrap_or(defaults.lease_duration),
        job_timeout: millis("job_timeout_ms"),
        shutdown_timeout: millis("shutdown_timeout_ms").unwrap_or(defaults.shutdown_timeout),
        // Never unless asked for: a light clean in the middle of a case would change its keys.
        clean_every: millis("clean_every_ms"),
    })
}

/// The worker's handler: one scripted by item id, or a `Router` over the case's routes (a type
/// may be given twice: the Router refuses that, which the case checks).
fn scripted_handler(args: &Map<String, Value>) -> Result<Arc<dyn Handler>, StepError> {
    if let Some(routes) = args.get("routes") {
        let routes = routes
            .as_array()
            .ok_or_else(|| harness("routes must be a list of [type, action]"))?;
        let mut router = Router::new();
        for route in routes {
            let (Some(type_name), Some(route_action)) =
                (route.get(0).and_then(Value::as_str), route.get(1))
            else {
                return Err(harness("a route is [type, action]"));
            };
            let route_action = action(route_action)?;
            router = router.route(type_name, move |_item: Item| route_action.clone().perform());
        }
        return Ok(Arc::new(router));
    }
    let mut by_id = HashMap::new();
    if let Some(script) = args.get("handler") {
        let script = script
            .as_object()
            .ok_or_else(|| harness("handler must be an object of item id -> action"))?;
        for (id, scripted) in script {
            by_id.insert(id.clone(), action(scripted)?);
        }
    }
    let by_id = Arc::new(ByItemId(by_id));
    Ok(Arc::new(move |item: Item| by_id.for_item(&item).perform()))
}

/// How long a run may go at most when the case gives no `stop_after_ms`.
const DEFAULT_STOP_AFTER_MS: u64 = 5000;
/// How long the runner waits, after a run returned, for `after` hooks still on their way.
const LATE_HOOKS_MS: u64 = 1000;
/// How long a `run` after a `stop` may take before the runner calls it not returned at once.
const STOPPED_RUN_LIMIT_MS: u64 = 2000;
/// How long a second `run` has to refuse before the runner calls it running.
const SECOND_RUN_WAIT_MS: u64 = 500;

async fn run_worker(queue: &WorkQueue, args: &Map<String, Value>) -> StepResult {
    let options = worker_options(args)?;
    let handler = scripted_handler(args)?;
    let empty = Map::new();
    let until = args
        .get("until")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let wanted = until
        .get("outcomes")
        .and_then(Value::as_u64)
        .map(|n| n as usize);
    let stop_after = Duration::from_millis(
        until
            .get("stop_after_ms")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_STOP_AFTER_MS),
    );
    let recorder = Arc::new(Recorder::default());
    let worker = Worker::new(queue, handler, options)?.with_hooks(RecordingHooks(recorder.clone()));
    let mut result = Map::new();

    if args.get("stop_first").and_then(Value::as_bool) == Some(true) {
        worker.stop();
        let started = Instant::now();
        let run = worker.run(false);
        let returned = tokio::time::timeout(Duration::from_millis(STOPPED_RUN_LIMIT_MS), run).await;
        if returned.is_err() {
            // Not returned at once: stop it again (the time says so) and go on.
            worker.stop();
            worker.run(false).await.ok();
        }
        result.insert(
            "stopped_run_ms".into(),
            json!(started.elapsed().as_secs_f64() * 1000.0),
        );
        if let Ok(Err(err)) = returned {
            return Err(err.into());
        }
    }

    let started = Instant::now();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    let mut second = None;
    if args.get("second_run").and_then(Value::as_bool) == Some(true) {
        // Once an item's before hook ran, the first run is surely going.
        while lock(&recorder.before).is_empty()
            && lock(&recorder.outcomes).is_empty()
            && started.elapsed() < stop_after
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut second_run = tokio::spawn({
            let worker = worker.clone();
            async move { worker.run(false).await }
        });
        let verdict =
            match tokio::time::timeout(Duration::from_millis(SECOND_RUN_WAIT_MS), &mut second_run)
                .await
            {
                Ok(Ok(Ok(()))) => json!("ok"),
                Ok(Ok(Err(err))) => json!(kind_name(err.kind())),
                Ok(Err(join)) => json!(format!("Unexpected panic: {join}")),
                Err(_) => {
                    second = Some(second_run);
                    json!("running")
                }
            };
        result.insert("second_run".into(), verdict);
    }
    while started.elapsed() < stop_after
        && wanted.is_none_or(|wanted| lock(&recorder.outcomes).len() < wanted)
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Stopped until every run ended: a worker that let a second run start may end the first,
    // which readies it to run again, while the second still goes.
    while !running.is_finished() || second.as_ref().is_some_and(|second| !second.is_finished()) {
        worker.stop();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running
        .await
        .map_err(|join| harness(format!("the run panicked: {join}")))??;
    let late = Instant::now();
    while late.elapsed() < Duration::from_millis(LATE_HOOKS_MS)
        && wanted.is_some_and(|wanted| lock(&recorder.outcomes).len() < wanted)
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut outcomes = std::mem::take(&mut *lock(&recorder.outcomes));
    // By id; one item's outcomes (a retried item) stay in the order they came.
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    result.insert(
        "outcomes".into(),
        Value::Array(outcomes.into_iter().map(|(_, record)| record).collect()),
    );
    let counters = worker.counters();
    result.insert(
        "counters".into(),
        json!({
            "leased": counters.leased,
            "completed": counters.completed,
            "failed": counters.failed,
            "retried": counters.retried,
            "renewed": counters.renewed,
            "in_flight": counters.in_flight,
        }),
    );
    Ok(Value::Object(result))
}
