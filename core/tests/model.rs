//! Model-based random testing (issue #13): random sequences of every `WorkQueue` operation from
//! several sessions, beside `redis-work-queue` 0.3 clients on the same queue, with per-queue keys
//! flipped to a wrong type for a few steps, poison items, unreadable attempt counts, orphans and
//! leases that expire; after each step the whole queue is read back and checked against a model:
//!
//! - every correctly added item (its data a string) is in exactly one place: the queue list or
//!   the prioritized set, the delayed set, processing, or the dead letters; or it was completed;
//! - its data is the data it was added with; a lease hands out only such items, with that data;
//! - `complete` returns true at most once per item (leaseq and the crate together), and never
//!   false for an item that exists;
//! - each operation moves only what it may: a clean or a lease never takes an item out of
//!   processing while its lease still runs, buries it only after its last attempt (the model
//!   counts them) or when its attempt count is not a number (a poison item), and requeues it at
//!   its own level; a lease takes the highest level first, the oldest item of the default level,
//!   and never returns nothing while an item waits (unpaused); the crate's lease pops the tail;
//!   `fail`/`release` move only their item, …;
//! - a call that fails (only expected while a key has the wrong type, or for a poison target:
//!   `release` of a held item whose attempt count is not a number is always refused) fails with
//!   the Internal kind and changes no key of the queue at all;
//! - at the end, with every worker gone: a drain leases and completes every item, poison items
//!   are all in the dead letters, and after purging them and a deep clean no key is left.
//!
//! `LEASEQ_MODEL_SEED` (decimal or 0x-hex) and `LEASEQ_MODEL_STEPS` choose the run; the seed, the
//! step count and per-operation counts are printed at the end. The seed fixes every random
//! choice; outcomes that depend on time (a 20 ms lease that did or did not run out yet) can make
//! two runs of one seed part ways, so a failure prints the steps that led to it (the log below the
//! panic message) as the reproduction. `make test-model-long` runs 100,000 steps.
//!
//! One file on purpose: the model, the steps and their checks share one state machine.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use leaseq::{AddOptions, Connection, ErrorKind, FailOutcome, Item, QueueOptions, WorkQueue};
use rand::rngs::ChaCha8Rng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use redis_work_queue::{Item as TheirItem, KeyPrefix, WorkQueue as TheirQueue};

const DEFAULT_SEED: u64 = 0x1ea5_e013;
const DEFAULT_STEPS: u64 = 5000;
const SESSIONS: usize = 3;
/// The session whose handle has the fencing option (the others have not).
const FENCED: usize = 0;
const MAX_ATTEMPTS: u32 = 3;
const GRACE: Duration = Duration::from_millis(30);
/// Above this many live items, adds give way to leases.
const MAX_LIVE: usize = 40;
/// How many lines of the step log a failure prints.
const LOG_LINES: usize = 80;

/// Per-queue keys a step may flip to another type, with the type they should have.
const FLIPPABLE: [(&str, &str); 11] = [
    ("queue", "list"),
    ("processing", "list"),
    ("cleaning", "list"),
    ("prioritized", "zset"),
    ("delayed", "zset"),
    ("deadlines", "zset"),
    ("attempts", "hash"),
    ("errors", "hash"),
    ("priority", "hash"),
    ("dead", "zset"),
    ("signal", "list"),
];

/// Where an id waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Queued,
    Prioritized,
    Delayed,
    Processing,
    Dead,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// Added correctly, its data a string, not completed: in exactly one place.
    Live,
    /// Data written, id pushed nowhere (a crashed producer, or a crate add whose push failed):
    /// the next deep clean adopts it.
    Orphan,
    /// Its item key is a list: the data cannot be read. It must end in the dead letters.
    Poison,
    /// A complete returned true for it, or a crate complete that failed half-way deleted it.
    Completed,
    /// Purged from the dead letters.
    Purged,
}

struct Tracked {
    data: Vec<u8>,
    status: Status,
    /// Completes that returned true, any client.
    trues: u32,
    /// Its entry in `<p>:attempts` was overwritten with a value that is not a number.
    bad_attempts: bool,
    /// Its level (0 when added by add_item or the crate).
    priority: u8,
    /// Leases by leaseq since it was added or requeued from the dead letters, releases not
    /// counted (the crate's leases count none).
    attempts: u32,
}

impl Tracked {
    /// Where a requeue puts it: its level.
    fn level(&self) -> Place {
        if self.priority > 0 {
            Place::Prioritized
        } else {
            Place::Queued
        }
    }
}

/// The queue as read back after a step.
#[derive(Clone, Default)]
struct Observed {
    places: BTreeMap<String, Vec<Place>>,
    /// The queue list, head first: leases pop the last.
    queue: Vec<String>,
    dead: Vec<String>,
    queue_len: usize,
    processing_len: usize,
    /// Item data of every tracked id not yet completed or purged (None: no string there).
    data: HashMap<String, Option<Vec<u8>>>,
    /// PTTL of the lease key of each id in processing (-2: none).
    lease_ttl: HashMap<String, i64>,
    paused: bool,
}

impl Observed {
    fn places(&self, id: &str) -> &[Place] {
        self.places.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    fn place(&self, id: &str) -> Option<Place> {
        self.places(id).first().copied()
    }
}

/// A per-queue key flipped to another type, its real value kept under `stash` meanwhile.
struct Flip {
    name: &'static str,
    stash: String,
    steps_left: u32,
}

struct Session {
    queue: WorkQueue,
    held: Vec<Item>,
}

struct Foreign {
    db: redis026::aio::MultiplexedConnection,
    queue: TheirQueue,
    held: Vec<TheirItem>,
}

type Check = Result<(), String>;

/// Every key of the queue: its DUMP, and whether it has a TTL.
type Snapshot = BTreeMap<Vec<u8>, (Vec<u8>, bool)>;

/// The queue list, prioritized, delayed, processing and dead ids, and whether it is paused.
type Lists = (
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    bool,
);

/// What the panic hook prints: the seed and step being run.
static CONTEXT: Mutex<String> = Mutex::new(String::new());

struct Run {
    rng: ChaCha8Rng,
    seed: u64,
    prefix: String,
    raw: redis::aio::MultiplexedConnection,
    sessions: Vec<Session>,
    foreign: Foreign,
    items: BTreeMap<String, Tracked>,
    next_id: u64,
    paused: bool,
    flip: Option<Flip>,
    observed: Observed,
    observed_at: Instant,
    counts: BTreeMap<&'static str, u64>,
    refused: u64,
    log: VecDeque<String>,
    step: u64,
    /// The largest fencing token any lease returned: every later one must be larger.
    last_fence: u64,
    /// The model of `<p>:fences`: the token of each id's latest lease by the fenced session.
    fences: HashMap<String, u64>,
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => {
            let text = text.trim();
            let parsed = match text.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
                None => text.replace('_', "").parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={text} is not a number"))
        }
        Err(_) => default,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_operations_never_lose_or_double_an_item() {
    let seed = env_u64("LEASEQ_MODEL_SEED", DEFAULT_SEED);
    let steps = env_u64("LEASEQ_MODEL_STEPS", DEFAULT_STEPS);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let context = CONTEXT.lock().unwrap().clone();
        if !context.is_empty() {
            eprintln!("model test panicked: {context}");
        }
        default_hook(info);
    }));
    let started = Instant::now();
    let mut run = Run::new(seed).await;
    let outcome = run.run(steps).await;
    let elapsed = started.elapsed();
    run.report(steps, elapsed);
    if let Err(failure) = outcome {
        CONTEXT.lock().unwrap().clear();
        let log: Vec<&String> = run.log.iter().collect();
        panic!(
            "model test failed: seed {seed:#x} (LEASEQ_MODEL_SEED={seed}), step {} of {steps}: \
             {failure}\nqueue {}\nlast steps:\n{}",
            run.step,
            run.prefix,
            log.iter()
                .map(|line| line.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

impl Run {
    async fn new(seed: u64) -> Run {
        let url = common::redis_url();
        let prefix = common::prefix("model");
        let options = QueueOptions {
            max_attempts: MAX_ATTEMPTS,
            backoff_base: Duration::from_millis(10),
            backoff_max: Duration::from_millis(80),
            clean_grace: GRACE,
            ..QueueOptions::default()
        };
        let mut sessions = Vec::new();
        for s in 0..SESSIONS {
            // A connection per session: several clients, not clones of one.
            let connection = Connection::open(&url).await.unwrap();
            let options = QueueOptions {
                fencing: s == FENCED,
                ..options.clone()
            };
            let queue = WorkQueue::with_options(&connection, &prefix, options).unwrap();
            sessions.push(Session {
                queue,
                held: Vec::new(),
            });
        }
        let client = redis026::Client::open(url.clone()).unwrap();
        let foreign = Foreign {
            db: client.get_multiplexed_async_connection().await.unwrap(),
            queue: TheirQueue::new(KeyPrefix::new(prefix.clone())),
            held: Vec::new(),
        };
        let raw = redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let mut run = Run {
            rng: ChaCha8Rng::seed_from_u64(seed),
            seed,
            prefix,
            raw,
            sessions,
            foreign,
            items: BTreeMap::new(),
            next_id: 0,
            paused: false,
            flip: None,
            observed: Observed::default(),
            observed_at: Instant::now(),
            counts: BTreeMap::new(),
            refused: 0,
            log: VecDeque::new(),
            step: 0,
            last_fence: 0,
            fences: HashMap::new(),
        };
        run.observed = run.observe().await;
        run
    }

    fn report(&self, steps: u64, elapsed: Duration) {
        let mut counts = String::new();
        for (name, count) in &self.counts {
            let _ = write!(counts, " {name}={count}");
        }
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        for item in self.items.values() {
            *statuses.entry(format!("{:?}", item.status)).or_default() += 1;
        }
        println!(
            "model test: seed {:#x}, {} of {steps} steps and the drain in {:.1} s; {} ids \
             ({statuses:?}); {} calls refused while a key had the wrong type or the item was \
             poison\noperations:{counts}",
            self.seed,
            self.step.min(steps),
            elapsed.as_secs_f64(),
            self.items.len(),
            self.refused,
        );
    }

    fn note(&mut self, line: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(format!("{:>6} {line}", self.step));
    }

    fn count(&mut self, name: &'static str) {
        *self.counts.entry(name).or_default() += 1;
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// The key where the value of per-queue key `name` lives now (its stash while flipped).
    fn live_key(&self, name: &str) -> String {
        match &self.flip {
            Some(flip) if flip.name == name => flip.stash.clone(),
            _ => self.key(name),
        }
    }

    fn fresh_id(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("{kind}{}", self.next_id)
    }

    fn fresh_data(&mut self) -> Vec<u8> {
        let n: u32 = self.rng.random_range(0..1_000_000);
        format!("data {n}").into_bytes()
    }

    fn live_ids(&self) -> Vec<String> {
        self.ids_with(|item| item.status == Status::Live)
    }

    fn ids_with(&self, keep: impl Fn(&Tracked) -> bool) -> Vec<String> {
        self.items
            .iter()
            .filter(|(_, item)| keep(item))
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn pick<T: Clone>(&mut self, from: &[T]) -> Option<T> {
        from.choose(&mut self.rng).cloned()
    }

    fn track(&mut self, id: &str, data: Vec<u8>, status: Status) {
        self.items.insert(
            id.to_string(),
            Tracked {
                data,
                status,
                trues: 0,
                bad_attempts: false,
                priority: 0,
                attempts: 0,
            },
        );
    }

    fn status(&self, id: &str) -> Option<Status> {
        self.items.get(id).map(|item| item.status)
    }

    // --- Reading the queue back ------------------------------------------------------------

    async fn observe(&mut self) -> Observed {
        let mut observed = Observed::default();
        let lists: Lists = redis::pipe()
            .cmd("LRANGE")
            .arg(self.live_key("queue"))
            .arg(0)
            .arg(-1)
            .cmd("ZRANGE")
            .arg(self.live_key("prioritized"))
            .arg(0)
            .arg(-1)
            .cmd("ZRANGE")
            .arg(self.live_key("delayed"))
            .arg(0)
            .arg(-1)
            .cmd("LRANGE")
            .arg(self.live_key("processing"))
            .arg(0)
            .arg(-1)
            .cmd("ZRANGE")
            .arg(self.live_key("dead"))
            .arg(0)
            .arg(-1)
            .cmd("EXISTS")
            .arg(self.key("paused"))
            .query_async(&mut self.raw)
            .await
            .unwrap();
        let (queue, prioritized, delayed, processing, dead, paused) = lists;
        observed.queue_len = queue.len();
        observed.processing_len = processing.len();
        observed.paused = paused;
        for (ids, place) in [
            (&queue, Place::Queued),
            (&prioritized, Place::Prioritized),
            (&delayed, Place::Delayed),
            (&processing, Place::Processing),
            (&dead, Place::Dead),
        ] {
            for id in ids {
                observed.places.entry(id.clone()).or_default().push(place);
            }
        }
        observed.dead = dead;
        observed.queue = queue;
        let open = self
            .ids_with(|item| matches!(item.status, Status::Live | Status::Orphan | Status::Poison));
        let mut reads = redis::pipe();
        if !open.is_empty() {
            reads.cmd("MGET");
            for id in &open {
                reads.arg(self.key(&format!("item:{id}")));
            }
        }
        for id in &processing {
            reads.cmd("PTTL").arg(self.key(&format!("lease:{id}")));
        }
        if open.is_empty() && processing.is_empty() {
            return observed;
        }
        let mut replies: Vec<redis::Value> = reads.query_async(&mut self.raw).await.unwrap();
        let ttls = replies.split_off(usize::from(!open.is_empty()));
        if let Some(values) = replies.pop() {
            let values: Vec<Option<Vec<u8>>> = redis::from_redis_value(values).unwrap();
            observed.data = open.into_iter().zip(values).collect();
        }
        for (id, ttl) in processing.iter().zip(ttls) {
            observed
                .lease_ttl
                .insert(id.clone(), redis::from_redis_value(ttl).unwrap());
        }
        observed
    }

    /// Every key of the queue with its serialized value, and whether it had a TTL.
    async fn snapshot(&mut self) -> Snapshot {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, found): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}:*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.raw)
                .await
                .unwrap();
            keys.extend(found);
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        if keys.is_empty() {
            return BTreeMap::new();
        }
        let mut reads = redis::pipe();
        for key in &keys {
            reads.cmd("DUMP").arg(key).cmd("PTTL").arg(key);
        }
        let values: Vec<(Option<Vec<u8>>, i64)> = reads.query_async(&mut self.raw).await.unwrap();
        keys.into_iter()
            .zip(values)
            .filter_map(|(key, (dump, ttl))| dump.map(|dump| (key, (dump, ttl >= 0))))
            .collect()
    }

    // --- The run ----------------------------------------------------------------------------

    async fn run(&mut self, steps: u64) -> Check {
        while self.step < steps {
            self.step += 1;
            *CONTEXT.lock().unwrap() = format!(
                "seed {:#x}, step {}, queue {}",
                self.seed, self.step, self.prefix
            );
            self.one_step().await?;
        }
        self.drain().await
    }

    async fn one_step(&mut self) -> Check {
        if let Some(flip) = &mut self.flip {
            if flip.steps_left == 0 {
                return self.restore().await;
            }
            flip.steps_left -= 1;
        }
        let live = self.live_ids().len();
        // (operation, weight): adds give way to leases while many items are live.
        let adding = if live > MAX_LIVE { 0 } else { 1 };
        let table: [(&str, u32); 32] = [
            ("add_item", 80 * adding),
            ("add_unique_item", 30 * adding),
            ("add_items", 40 * adding),
            ("add_item_with priority", 40 * adding),
            ("add_item_with delay", 30 * adding),
            ("lease", 150),
            ("renew", 40),
            ("complete", 90),
            ("fail", 40),
            ("fail retry_after", 30),
            ("release", 30),
            ("light_clean", 30),
            ("deep_clean", 12),
            ("dead_items", 20),
            ("requeue_dead", 20),
            ("requeue_all_dead", 5),
            ("purge_dead", 10),
            ("purge_all_dead", 2),
            ("pause", 10),
            ("resume", 20),
            ("queue_len", 10),
            ("processing", 10),
            ("crate add_item", 40 * adding),
            ("crate lease", 40),
            ("crate complete", 30),
            ("flip a key", if self.flip.is_some() { 0 } else { 20 }),
            ("poison an item", 7),
            ("bad attempt count", 5),
            ("expire a lease", 25),
            ("sleep", 20),
            ("orphan", 7 * adding),
            ("superseded delivery", 20),
        ];
        let total: u32 = table.iter().map(|(_, weight)| weight).sum();
        let mut draw = self.rng.random_range(0..total);
        let mut op = table[0].0;
        for (name, weight) in table {
            if draw < weight {
                op = name;
                break;
            }
            draw -= weight;
        }
        let outcome = match op {
            "add_item"
            | "add_unique_item"
            | "add_items"
            | "add_item_with priority"
            | "add_item_with delay" => self.add(op).await,
            "lease" => self.lease().await,
            "renew" => self.renew().await,
            "complete" => self.complete().await,
            "fail" | "fail retry_after" => self.fail(op == "fail retry_after").await,
            "release" => self.release().await,
            "superseded delivery" => self.superseded_delivery().await,
            "light_clean" | "deep_clean" => self.clean(op == "deep_clean").await,
            "dead_items" => self.dead_items().await,
            "requeue_dead" | "requeue_all_dead" | "purge_dead" | "purge_all_dead" => {
                self.dead_op(op).await
            }
            "pause" | "resume" => self.pause_resume(op == "pause").await,
            "queue_len" | "processing" => self.length(op == "queue_len").await,
            "crate add_item" => self.crate_add().await,
            "crate lease" => self.crate_lease().await,
            "crate complete" => self.crate_complete().await,
            "flip a key" => self.flip_key().await,
            "poison an item" => self.poison().await,
            "bad attempt count" => self.bad_attempts().await,
            "expire a lease" => self.expire_lease().await,
            "sleep" => {
                let ms = self.rng.random_range(5..60);
                self.note(format!("sleep {ms} ms"));
                tokio::time::sleep(Duration::from_millis(ms)).await;
                self.refresh().await;
                Ok(())
            }
            "orphan" => self.orphan().await,
            _ => unreachable!("{op}"),
        };
        self.count(op);
        outcome?;
        self.invariants()
    }

    /// Reads the queue back after a step, keeping what it was before for the step's checks.
    async fn refresh(&mut self) -> (Observed, Duration) {
        let elapsed = self.observed_at.elapsed();
        let after = self.observe().await;
        let before = std::mem::replace(&mut self.observed, after);
        self.observed_at = Instant::now();
        (before, elapsed)
    }

    /// What must hold after every step.
    fn invariants(&self) -> Check {
        let observed = &self.observed;
        if observed.paused != self.paused && !self.key_flipped("paused") {
            return Err(format!(
                "the queue is {}paused, the model says {}",
                if observed.paused { "" } else { "not " },
                self.paused
            ));
        }
        for (id, item) in &self.items {
            let places = observed.places(id);
            match item.status {
                Status::Live => {
                    if places.len() != 1 {
                        return Err(format!(
                            "item {id} must be in exactly one place, is in {places:?}"
                        ));
                    }
                    match observed.data.get(id) {
                        Some(Some(data)) if *data == item.data => {}
                        other => {
                            return Err(format!(
                                "item {id}: data {:?} expected, found {other:?}",
                                String::from_utf8_lossy(&item.data)
                            ))
                        }
                    }
                }
                Status::Orphan => {
                    if !places.is_empty() {
                        return Err(format!("orphan {id} is in {places:?} without a deep clean"));
                    }
                }
                Status::Poison => {
                    if places.len() > 1 {
                        return Err(format!("poison item {id} is in {places:?}"));
                    }
                }
                Status::Completed | Status::Purged => {}
            }
        }
        Ok(())
    }

    /// The place whose key is flipped to another type now, if any.
    fn stashed_place(&self) -> Option<Place> {
        match self.flip.as_ref()?.name {
            "queue" => Some(Place::Queued),
            "prioritized" => Some(Place::Prioritized),
            "delayed" => Some(Place::Delayed),
            "processing" => Some(Place::Processing),
            "dead" => Some(Place::Dead),
            _ => None,
        }
    }

    fn key_flipped(&self, name: &str) -> bool {
        self.flip.as_ref().is_some_and(|flip| flip.name == name)
    }

    /// Checks that, between `before` and now, every live item other than `exempt` moved only
    /// as `allowed` says; a move out of processing also needs the item's lease to have run out.
    fn moves(
        &self,
        before: &Observed,
        elapsed: Duration,
        exempt: &[&str],
        allowed: impl Fn(&Tracked, Place, Option<Place>) -> bool,
    ) -> Check {
        for (id, item) in &self.items {
            if item.status != Status::Live || exempt.contains(&id.as_str()) {
                continue;
            }
            let (from, to) = (before.place(id), self.observed.place(id));
            if from == to {
                continue;
            }
            let Some(from) = from else {
                return Err(format!("item {id} appeared in {to:?} from nowhere"));
            };
            if !allowed(item, from, to) {
                return Err(format!("item {id} moved from {from:?} to {to:?}"));
            }
            // A requeue goes back to the item's level; only a last attempt is buried.
            if matches!(to, Some(Place::Queued | Place::Prioritized)) && to != Some(item.level()) {
                return Err(format!(
                    "item {id} (level {}) moved from {from:?} to {to:?}",
                    item.priority
                ));
            }
            if from == Place::Processing && !item.bad_attempts {
                let last = item.attempts >= MAX_ATTEMPTS;
                if last != (to == Some(Place::Dead)) {
                    return Err(format!(
                        "item {id} after {} of {MAX_ATTEMPTS} attempts moved from processing \
                         to {to:?}",
                        item.attempts
                    ));
                }
            }
            if from == Place::Processing {
                let ttl = before.lease_ttl.get(id).copied().unwrap_or(-2);
                // A lease that still had this long to run when the step began cannot have run
                // out during it: its item was taken from a live lease.
                if ttl > elapsed.as_millis() as i64 + 25 {
                    return Err(format!(
                        "item {id} was taken out of processing to {to:?} while its lease had \
                         {ttl} ms to run (the step took {} ms)",
                        elapsed.as_millis()
                    ));
                }
            }
        }
        Ok(())
    }

    /// An error from leaseq: expected only while a key has the wrong type (or for a poison
    /// target), then of the Internal kind, and the call must have changed nothing.
    async fn refused(
        &mut self,
        what: &str,
        error: leaseq::Error,
        poison_target: bool,
        snapshot: Option<Snapshot>,
    ) -> Check {
        self.note(format!("{what} -> error {error}"));
        if self.flip.is_none() && !poison_target {
            return Err(format!(
                "{what} failed with no key of the wrong type: {error}"
            ));
        }
        // A wrong type, or (a poison target) an attempt count that is not a number.
        let expected = error.message().contains("WRONGTYPE")
            || (poison_target && error.message().contains("poison item"));
        if error.kind() != ErrorKind::Internal || !expected {
            return Err(format!("{what} failed with {:?}: {error}", error.kind()));
        }
        self.refused += 1;
        if let Some(before) = snapshot {
            let after = self.snapshot().await;
            let changed = diff(&before, &after);
            if !changed.is_empty() {
                return Err(format!("{what} failed ({error}) but changed {changed:?}"));
            }
        }
        let (before, _) = self.refresh().await;
        if before.places != self.observed.places {
            return Err(format!("{what} failed ({error}) but moved items"));
        }
        Ok(())
    }

    /// A snapshot to compare with after a call that may be refused.
    async fn guard(&mut self, poison_target: bool) -> Option<Snapshot> {
        if self.flip.is_some() || poison_target {
            Some(self.snapshot().await)
        } else {
            None
        }
    }

    /// An id whose data or attempt count cannot be read: fail refuses the first (WRONGTYPE) and
    /// buries the second, release refuses both.
    fn is_poison(&self, id: &str) -> bool {
        self.items
            .get(id)
            .is_some_and(|item| item.status == Status::Poison || item.bad_attempts)
    }

    fn session_index(&mut self) -> usize {
        self.rng.random_range(0..SESSIONS)
    }

    /// A held item of session `s` (mostly), or any id the model knows as a stale handle.
    fn held_or_any(&mut self, s: usize) -> Option<(Item, bool)> {
        if !self.sessions[s].held.is_empty() && self.rng.random_bool(0.85) {
            let index = self.rng.random_range(0..self.sessions[s].held.len());
            return Some((self.sessions[s].held[index].clone(), true));
        }
        let ids: Vec<String> = self.items.keys().cloned().collect();
        self.pick(&ids).map(|id| (Item::with_id(id, ""), false))
    }

    fn forget_held(&mut self, s: usize, id: &str) {
        self.sessions[s].held.retain(|item| item.id != id);
    }

    // --- Adding -------------------------------------------------------------------------------

    async fn add(&mut self, op: &str) -> Check {
        let s = self.session_index();
        let queue = self.sessions[s].queue.clone();
        // Now and then an id that exists: refused, changing nothing.
        let existing = if op != "add_unique_item" && self.rng.random_bool(0.1) {
            let live = self.live_ids();
            self.pick(&live)
        } else {
            None
        };
        let id = match &existing {
            Some(id) => id.clone(),
            None => self.fresh_id("i"),
        };
        let item = Item::with_id(id.clone(), self.fresh_data());
        let guard = self.guard(false).await;
        let mut expect = Place::Queued;
        let mut priority = 0;
        let (what, outcome) = match op {
            "add_item" => (
                format!("s{s} add_item({id})"),
                queue.add_item(&item).await.map(|added| added as u64),
            ),
            "add_unique_item" => (
                format!("s{s} add_unique_item({id})"),
                queue.add_unique_item(&item).await.map(|()| 1),
            ),
            "add_items" => {
                let mut batch = vec![item.clone()];
                for _ in 0..self.rng.random_range(0..4) {
                    let id = self.fresh_id("i");
                    batch.push(Item::with_id(id, self.fresh_data()));
                }
                let ids: Vec<&str> = batch.iter().map(|item| item.id.as_str()).collect();
                let what = format!("s{s} add_items({ids:?})");
                let outcome = queue.add_items(&batch).await;
                if let Ok(added) = outcome {
                    self.note(format!("{what} -> {added}"));
                    let wanted = batch.len() as u64 - u64::from(existing.is_some());
                    if added != wanted {
                        return Err(format!("{what} added {added}, expected {wanted}"));
                    }
                    for item in &batch[usize::from(existing.is_some())..] {
                        self.track(&item.id, item.data.clone(), Status::Live);
                    }
                    let (before, elapsed) = self.refresh().await;
                    let new = &batch[usize::from(existing.is_some())..];
                    for item in new {
                        self.expect_at(&item.id, &[Place::Queued])?;
                    }
                    let exempt: Vec<&str> = new.iter().map(|item| item.id.as_str()).collect();
                    return self.moves(&before, elapsed, &exempt, |_, _, _| false);
                }
                (what, outcome)
            }
            _ => {
                let mut options = AddOptions::default();
                if op == "add_item_with priority" {
                    options.priority = self.rng.random_range(1..=leaseq::MAX_PRIORITY);
                    priority = options.priority;
                    expect = Place::Prioritized;
                }
                if op == "add_item_with delay" || self.rng.random_bool(0.2) {
                    options.delay = Some(Duration::from_millis(self.rng.random_range(1..150)));
                    expect = Place::Delayed;
                }
                (
                    format!(
                        "s{s} add_item_with({id}, priority {}, delay {:?})",
                        options.priority, options.delay
                    ),
                    queue
                        .add_item_with(&item, &options)
                        .await
                        .map(|added| added as u64),
                )
            }
        };
        match outcome {
            Err(error) => self.refused(&what, error, false, guard).await,
            Ok(added) => {
                self.note(format!("{what} -> {added}"));
                if existing.is_some() {
                    if added != 0 {
                        return Err(format!("{what}: the id exists, yet it was added"));
                    }
                } else {
                    if added != 1 {
                        return Err(format!("{what}: a new id was refused"));
                    }
                    self.track(&id, item.data.clone(), Status::Live);
                    self.items.get_mut(&id).unwrap().priority = priority;
                }
                let (before, elapsed) = self.refresh().await;
                if existing.is_none() {
                    // A delay of a few ms may already be due; only a lease moves it, though.
                    self.expect_at(&id, &[expect])?;
                }
                self.moves(&before, elapsed, &[&id], |_, _, _| false)
            }
        }
    }

    fn expect_at(&self, id: &str, places: &[Place]) -> Check {
        let found = self.observed.place(id);
        if found.is_none_or(|place| !places.contains(&place)) {
            return Err(format!(
                "item {id} should be in {places:?}, is in {found:?}"
            ));
        }
        Ok(())
    }

    // --- Leasing, renewing, completing, failing, releasing -----------------------------------

    fn lease_duration(&mut self) -> Duration {
        Duration::from_millis(*[20u64, 150, 2_000, 30_000].choose(&mut self.rng).unwrap())
    }

    async fn lease(&mut self) -> Check {
        let s = self.session_index();
        let duration = self.lease_duration();
        let queue = self.sessions[s].queue.clone();
        let guard = self.guard(false).await;
        let what = format!("s{s} lease({duration:?})");
        let outcome = queue.lease(duration, false, None).await;
        let leased = match outcome {
            Err(error) => return self.refused(&what, error, false, guard).await,
            Ok(leased) => leased,
        };
        self.note(format!(
            "{what} -> {:?}",
            leased.as_ref().map(|item| (&item.id, item.attempts))
        ));
        let (before, elapsed) = self.refresh().await;
        // Ids a lease may bury without a failure of the caller: unreadable ones.
        let waiting_clean = |place: Place| {
            self.items.iter().any(|(id, item)| {
                item.status == Status::Live && !item.bad_attempts && before.place(id) == Some(place)
            })
        };
        let unflipped = self.flip.is_none();
        match &leased {
            None => {
                if !self.paused
                    && unflipped
                    && (waiting_clean(Place::Queued) || waiting_clean(Place::Prioritized))
                {
                    return Err(format!("{what} returned nothing while items waited"));
                }
            }
            Some(item) => {
                let Some(tracked) = self.items.get(&item.id) else {
                    return Err(format!("{what} returned an unknown id {}", item.id));
                };
                if tracked.status != Status::Live || tracked.bad_attempts {
                    return Err(format!(
                        "{what} returned {} ({:?}, bad attempts {})",
                        item.id, tracked.status, tracked.bad_attempts
                    ));
                }
                if self.paused {
                    return Err(format!("{what} leased {} from a paused queue", item.id));
                }
                if item.data != tracked.data {
                    return Err(format!("{what}: {} has the wrong data", item.id));
                }
                if !(1..=MAX_ATTEMPTS).contains(&item.attempts) {
                    return Err(format!("{what}: {} at attempt {}", item.id, item.attempts));
                }
                if !tracked.bad_attempts && item.attempts != tracked.attempts + 1 {
                    return Err(format!(
                        "{what}: {} at attempt {}, the model counts {} before",
                        item.id, item.attempts, tracked.attempts
                    ));
                }
                let from = before.place(&item.id);
                if from == Some(Place::Queued) && unflipped && waiting_clean(Place::Prioritized) {
                    return Err(format!(
                        "{what} took {} from the default level while a prioritized item waited",
                        item.id
                    ));
                }
                // FIFO at the default level: the oldest readable item, the one nearest the tail
                // (requeues and due items join at the head).
                let oldest = before.queue.iter().rev().find(|id| {
                    self.items
                        .get(*id)
                        .is_some_and(|item| item.status == Status::Live && !item.bad_attempts)
                });
                if let Some(oldest) = oldest {
                    if tracked.priority == 0 && unflipped && *oldest != item.id {
                        return Err(format!(
                            "{what} took {}, the oldest waiting item is {oldest}",
                            item.id
                        ));
                    }
                }
                self.expect_at(&item.id, &[Place::Processing])?;
                if item.fence <= self.last_fence {
                    return Err(format!(
                        "{what}: fencing token {} after {}",
                        item.fence, self.last_fence
                    ));
                }
                self.last_fence = item.fence;
                if s == FENCED {
                    self.fences.insert(item.id.clone(), item.fence);
                }
                self.items.get_mut(&item.id).unwrap().attempts = item.attempts;
                self.sessions[s].held.push(item.clone());
            }
        }
        let exempt: Vec<&str> = leased.iter().map(|item| item.id.as_str()).collect();
        // Housekeeping moves expired leases and due items; a lease buries an id whose attempt
        // count is not a number when it meets it.
        self.moves(&before, elapsed, &exempt, |item, from, to| {
            matches!(
                (from, to),
                (
                    Place::Processing,
                    Some(Place::Queued | Place::Prioritized | Place::Dead)
                ) | (Place::Delayed, Some(Place::Queued | Place::Prioritized))
            ) || (item.bad_attempts && to == Some(Place::Dead))
        })
    }

    /// Whether a call of session `s` with `item` must be refused as superseded: the fenced
    /// session, a leased item (token > 0), and a later fenced delivery recorded for the id.
    fn superseded(&self, s: usize, item: &Item) -> bool {
        s == FENCED
            && item.fence > 0
            && self
                .fences
                .get(&item.id)
                .is_some_and(|latest| *latest != item.fence)
    }

    /// After a superseded call: LeaseLost (or, while a key is flipped, the wrong-type refusal
    /// that comes first), and no item moved.
    async fn superseded_call<T: std::fmt::Debug>(
        &mut self,
        s: usize,
        what: &str,
        outcome: leaseq::Result<T>,
        allowed: impl Fn(&T) -> bool,
    ) -> Check {
        self.note(format!("{what} (superseded delivery) -> {outcome:?}"));
        self.count("superseded");
        let id = what
            .split(['(', ',', ')'])
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        // A key of the wrong type (a flipped one, or a poison item's) is refused before the token
        // is read.
        let wrong_type_first = self.flip.is_some() || self.is_poison(&id);
        match &outcome {
            Err(error) if error.kind() == ErrorKind::LeaseLost => {}
            Err(error)
                if wrong_type_first
                    && error.kind() == ErrorKind::Internal
                    && error.message().contains("WRONGTYPE") => {}
            Ok(value) if allowed(value) => {}
            other => return Err(format!("{what}: a superseded delivery got {other:?}")),
        }
        self.forget_held(s, &id);
        let (before, _) = self.refresh().await;
        if before.places(&id) != self.observed.places(&id) {
            return Err(format!("{what}: a superseded call moved the item"));
        }
        Ok(())
    }

    /// The fenced session acts with an older delivery of an id it leased (any smaller token is
    /// one: tokens only grow): renew, complete, fail or release must be refused.
    async fn superseded_delivery(&mut self) -> Check {
        let recorded: Vec<(String, u64)> = self
            .fences
            .iter()
            .filter(|(_, fence)| **fence > 1)
            .map(|(id, fence)| (id.clone(), *fence))
            .collect();
        let Some((id, fence)) = recorded.choose(&mut self.rng).cloned() else {
            return self.nothing("superseded delivery");
        };
        let stale = Item {
            fence: self.rng.random_range(1..fence),
            ..Item::with_id(id.clone(), "")
        };
        let queue = self.sessions[FENCED].queue.clone();
        let what = |op: &str| format!("s{FENCED} {op}({id})");
        match self.rng.random_range(0..4) {
            0 => {
                let outcome = queue.renew(&stale, LONG).await;
                self.superseded_call(FENCED, &what("renew"), outcome, |_| false)
                    .await
            }
            1 => {
                let outcome = queue.complete(&stale).await;
                self.superseded_call(FENCED, &what("complete"), outcome, |_| false)
                    .await
            }
            2 => {
                let gone_allowed = !matches!(
                    self.status(&id),
                    Some(Status::Live | Status::Orphan | Status::Poison)
                );
                let outcome = queue.fail(&stale, "late", None).await;
                self.superseded_call(FENCED, &what("fail"), outcome, |outcome| {
                    gone_allowed && *outcome == FailOutcome::Gone
                })
                .await
            }
            _ => {
                let outcome = queue.release(&stale).await;
                self.superseded_call(FENCED, &what("release"), outcome, |_| false)
                    .await
            }
        }
    }

    async fn renew(&mut self) -> Check {
        let s = self.session_index();
        let Some((item, _)) = self.held_or_any(s) else {
            return self.nothing("renew");
        };
        if self.superseded(s, &item) {
            let what = format!("s{s} renew({})", item.id);
            let outcome = self.sessions[s].queue.renew(&item, LONG).await;
            return self.superseded_call(s, &what, outcome, |_| false).await;
        }
        let duration = self.lease_duration();
        let queue = self.sessions[s].queue.clone();
        let guard = self.guard(false).await;
        let what = format!("s{s} renew({}, {duration:?})", item.id);
        match queue.renew(&item, duration).await {
            Err(error) => self.refused(&what, error, false, guard).await,
            Ok(renewed) => {
                self.note(format!("{what} -> {renewed}"));
                let (before, elapsed) = self.refresh().await;
                if renewed && self.observed.place(&item.id) != Some(Place::Processing) {
                    return Err(format!("{what} renewed an item not in processing"));
                }
                self.moves(&before, elapsed, &[], |_, _, _| false)
            }
        }
    }

    async fn complete(&mut self) -> Check {
        let s = self.session_index();
        let Some((item, _)) = self.held_or_any(s) else {
            return self.nothing("complete");
        };
        if self.superseded(s, &item) {
            let what = format!("s{s} complete({})", item.id);
            let outcome = self.sessions[s].queue.complete(&item).await;
            return self.superseded_call(s, &what, outcome, |_| false).await;
        }
        let queue = self.sessions[s].queue.clone();
        let guard = self.guard(false).await;
        let what = format!("s{s} complete({})", item.id);
        match queue.complete(&item).await {
            Err(error) => self.refused(&what, error, false, guard).await,
            Ok(completed) => {
                self.note(format!("{what} -> {completed}"));
                self.forget_held(s, &item.id);
                self.completed(&what, &item.id, completed)?;
                if completed && s == FENCED {
                    // A fenced handle's complete deletes the id's token with its data.
                    self.fences.remove(&item.id);
                }
                let (before, elapsed) = self.refresh().await;
                // A list or set flipped to another type is out of the script's reach: an id
                // there stays behind, dangling, until a lease drops it.
                let stashed = self.stashed_place();
                let left: Vec<&Place> = self
                    .observed
                    .places(&item.id)
                    .iter()
                    .filter(|place| Some(**place) != stashed)
                    .collect();
                if completed && !left.is_empty() {
                    return Err(format!(
                        "{what} returned true but the id is still in {left:?}"
                    ));
                }
                self.gone(&item.id, completed).await?;
                self.moves(&before, elapsed, &[], |_, _, _| false)
            }
        }
    }

    /// The model's side of a complete that returned `completed`, by any client.
    fn completed(&mut self, what: &str, id: &str, completed: bool) -> Check {
        let Some(tracked) = self.items.get_mut(id) else {
            return if completed {
                Err(format!("{what}: true for an id never added"))
            } else {
                Ok(())
            };
        };
        match (tracked.status, completed) {
            (Status::Live | Status::Orphan | Status::Poison, true) => {
                tracked.status = Status::Completed;
                tracked.trues += 1;
                Ok(())
            }
            (Status::Completed | Status::Purged, true) => {
                tracked.trues += 1;
                Err(format!(
                    "{what}: true again for an item already {:?} ({} trues)",
                    tracked.status, tracked.trues
                ))
            }
            (Status::Live | Status::Orphan | Status::Poison, false) => Err(format!(
                "{what}: false for an item that exists ({:?})",
                tracked.status
            )),
            (Status::Completed | Status::Purged, false) => Ok(()),
        }
    }

    /// After a complete returned true: the item key is gone.
    async fn gone(&mut self, id: &str, completed: bool) -> Check {
        if !completed {
            return Ok(());
        }
        let exists: bool = redis::cmd("EXISTS")
            .arg(self.key(&format!("item:{id}")))
            .query_async(&mut self.raw)
            .await
            .unwrap();
        if exists {
            return Err(format!("{id} was completed but its item key exists"));
        }
        Ok(())
    }

    async fn fail(&mut self, with_retry: bool) -> Check {
        let s = self.session_index();
        let Some((item, _)) = self.held_or_any(s) else {
            return self.nothing("fail");
        };
        if self.superseded(s, &item) {
            // Gone when the item no longer exists: fail looks at the data before the token.
            let gone_allowed = !matches!(
                self.status(&item.id),
                Some(Status::Live | Status::Orphan | Status::Poison)
            );
            let what = format!("s{s} fail({})", item.id);
            let outcome = self.sessions[s].queue.fail(&item, "late", None).await;
            return self
                .superseded_call(s, &what, outcome, |outcome| {
                    gone_allowed && *outcome == FailOutcome::Gone
                })
                .await;
        }
        let retry = if with_retry {
            Some(Duration::from_millis(
                *[0u64, 0, 5, 40, 120].choose(&mut self.rng).unwrap(),
            ))
        } else {
            None
        };
        let queue = self.sessions[s].queue.clone();
        let poison = self.is_poison(&item.id);
        let guard = self.guard(poison).await;
        let what = format!("s{s} fail({}, retry_after {retry:?})", item.id);
        let outcome = queue.fail(&item, "model failure", retry).await;
        if let Err(error) = &outcome {
            if error.kind() != ErrorKind::LeaseLost {
                return self.refused(&what, error.clone(), poison, guard).await;
            }
        }
        self.note(format!("{what} -> {outcome:?}"));
        self.forget_held(s, &item.id);
        let (before, elapsed) = self.refresh().await;
        let from = before.place(&item.id);
        let live = self.status(&item.id) == Some(Status::Live);
        match outcome {
            Ok(FailOutcome::Gone) => {
                if matches!(
                    self.status(&item.id),
                    Some(Status::Live | Status::Orphan | Status::Poison)
                ) {
                    return Err(format!("{what}: gone, but the item exists"));
                }
            }
            Ok(outcome @ (FailOutcome::Dead | FailOutcome::Retry { .. })) => {
                if from != Some(Place::Processing) {
                    return Err(format!("{what}: {outcome:?}, but it was in {from:?}"));
                }
                if live {
                    let tracked = &self.items[&item.id];
                    let dead = outcome == FailOutcome::Dead;
                    if !tracked.bad_attempts && dead != (tracked.attempts >= MAX_ATTEMPTS) {
                        return Err(format!(
                            "{what}: {outcome:?} after {} of {MAX_ATTEMPTS} attempts",
                            tracked.attempts
                        ));
                    }
                    let place = match retry {
                        _ if dead => Place::Dead,
                        Some(Duration::ZERO) => tracked.level(),
                        _ => Place::Delayed,
                    };
                    self.expect_at(&item.id, &[place])?;
                }
            }
            Err(_) => {
                if self.observed.place(&item.id) != from {
                    return Err(format!("{what}: lease lost, yet the item moved"));
                }
            }
        }
        self.moves(&before, elapsed, &[&item.id], |_, _, _| false)
    }

    async fn release(&mut self) -> Check {
        let s = self.session_index();
        let Some((item, _)) = self.held_or_any(s) else {
            return self.nothing("release");
        };
        if self.superseded(s, &item) {
            let what = format!("s{s} release({})", item.id);
            let outcome = self.sessions[s].queue.release(&item).await;
            return self.superseded_call(s, &what, outcome, |_| false).await;
        }
        let queue = self.sessions[s].queue.clone();
        let poison = self.is_poison(&item.id);
        let guard = self.guard(poison).await;
        let what = format!("s{s} release({})", item.id);
        match queue.release(&item).await {
            Err(error) => self.refused(&what, error, poison, guard).await,
            Ok(released) => {
                self.note(format!("{what} -> {released}"));
                self.forget_held(s, &item.id);
                let (before, elapsed) = self.refresh().await;
                let from = before.place(&item.id);
                if released {
                    if from != Some(Place::Processing) {
                        return Err(format!("{what}: released from {from:?}"));
                    }
                    if self
                        .items
                        .get(&item.id)
                        .is_some_and(|item| item.bad_attempts)
                    {
                        return Err(format!(
                            "{what}: released an item whose attempt count is not a number"
                        ));
                    }
                    if let Some(tracked) = self.items.get_mut(&item.id) {
                        // The attempt is given back.
                        tracked.attempts = tracked.attempts.saturating_sub(1);
                    }
                    if self.status(&item.id) == Some(Status::Live) {
                        self.expect_at(&item.id, &[self.items[&item.id].level()])?;
                    }
                } else if self.observed.place(&item.id) != from {
                    return Err(format!("{what}: false, yet the item moved"));
                }
                self.moves(&before, elapsed, &[&item.id], |_, _, _| false)
            }
        }
    }

    fn nothing(&mut self, what: &str) -> Check {
        self.note(format!("{what}: nothing to do"));
        Ok(())
    }

    // --- Cleans and dead letters ----------------------------------------------------------

    async fn clean(&mut self, deep: bool) -> Check {
        let s = self.session_index();
        let queue = self.sessions[s].queue.clone();
        let guard = self.guard(false).await;
        let what = format!("s{s} {}", if deep { "deep_clean" } else { "light_clean" });
        let outcome = if deep {
            queue.deep_clean().await
        } else {
            queue.light_clean().await
        };
        let report = match outcome {
            Err(error) => return self.refused(&what, error, false, guard).await,
            Ok(report) => report,
        };
        self.note(format!("{what} -> {report:?}"));
        if deep {
            // A deep clean drops the tokens of items that are gone.
            let items = &self.items;
            self.fences.retain(|id, _| {
                items
                    .get(id)
                    .is_some_and(|item| !matches!(item.status, Status::Completed | Status::Purged))
            });
        }
        let orphans = self.ids_with(|item| item.status == Status::Orphan);
        let (before, elapsed) = self.refresh().await;
        // The report counts every id moved (tracked or not): compare with what moved. Only the
        // clean writes to the lists meanwhile, and the light clean moves only out of processing.
        let count = |places: &[Place], wanted: &[Place]| {
            places.iter().filter(|place| wanted.contains(place)).count() as i64
        };
        let (mut requeued, mut buried, mut left_processing) = (0i64, 0i64, 0i64);
        let ids: BTreeSet<&String> = before
            .places
            .keys()
            .chain(self.observed.places.keys())
            .collect();
        for id in ids {
            let (from, to) = (before.places(id), self.observed.places(id));
            let waiting = [Place::Queued, Place::Prioritized];
            requeued += (count(to, &waiting) - count(from, &waiting)).max(0);
            buried += (count(to, &[Place::Dead]) - count(from, &[Place::Dead])).max(0);
            left_processing +=
                (count(from, &[Place::Processing]) - count(to, &[Place::Processing])).max(0);
        }
        let dropped = left_processing - requeued - buried;
        if report.requeued as i64 != requeued
            || report.dead as i64 != buried
            || (!deep && report.dropped as i64 != dropped)
        {
            return Err(format!(
                "{what} reported {report:?}, but {requeued} ids were requeued, {buried} buried \
                 and {dropped} dropped from processing"
            ));
        }
        if deep {
            for id in &orphans {
                let data = self.observed.data.get(id).cloned().flatten();
                if self.observed.place(id) != Some(Place::Queued) {
                    return Err(format!("{what} did not adopt orphan {id} ({data:?})"));
                }
                self.items.get_mut(id).unwrap().status = Status::Live;
            }
        }
        let exempt: Vec<&str> = orphans.iter().map(String::as_str).collect();
        self.moves(&before, elapsed, &exempt, |_, from, to| {
            from == Place::Processing
                && matches!(to, Some(Place::Queued | Place::Prioritized | Place::Dead))
        })
    }

    async fn dead_items(&mut self) -> Check {
        let s = self.session_index();
        let queue = self.sessions[s].queue.clone();
        let what = format!("s{s} dead_items(0, 1000)");
        let guard = self.guard(false).await;
        let page = match queue.dead_items(0, 1000).await {
            Err(error) => return self.refused(&what, error, false, guard).await,
            Ok(page) => page,
        };
        self.note(format!("{what} -> {} items", page.len()));
        let ids: Vec<&String> = page.iter().map(|dead| &dead.item.id).collect();
        let expected: Vec<&String> = self.observed.dead.iter().collect();
        if ids != expected {
            return Err(format!(
                "{what} gave {ids:?}, the dead letters hold {expected:?}"
            ));
        }
        // Every way into the dead letters keeps an error (an item poisoned once dead keeps the
        // one it died with); a field that cannot be read (errors flipped) reads as empty.
        let errors_readable = !self.key_flipped("errors");
        for dead in &page {
            let Some(tracked) = self.items.get(&dead.item.id) else {
                continue;
            };
            let open = matches!(tracked.status, Status::Live | Status::Poison);
            if tracked.status == Status::Live && dead.item.data != tracked.data {
                return Err(format!("{what}: {} has the wrong data", dead.item.id));
            }
            if open && errors_readable && dead.error.is_empty() {
                return Err(format!("{what}: {} has no error", dead.item.id));
            }
        }
        let (before, elapsed) = self.refresh().await;
        self.moves(&before, elapsed, &[], |_, _, _| false)
    }

    async fn dead_op(&mut self, op: &'static str) -> Check {
        let s = self.session_index();
        let queue = self.sessions[s].queue.clone();
        let dead_before: BTreeSet<String> = self.observed.dead.iter().cloned().collect();
        let all = op.ends_with("all_dead");
        let mut ids: Vec<String> = Vec::new();
        if !all {
            for id in &dead_before {
                if self.rng.random_bool(0.5) {
                    ids.push(id.clone());
                }
            }
            // And one that is not dead: untouched.
            let known: Vec<String> = self.items.keys().cloned().collect();
            if let Some(id) = self.pick(&known) {
                ids.push(id);
            }
        }
        let guard = self.guard(false).await;
        let what = if all {
            format!("s{s} {op}")
        } else {
            format!("s{s} {op}({ids:?})")
        };
        let outcome = match op {
            "requeue_dead" => queue.requeue_dead(&ids).await,
            "purge_dead" => queue.purge_dead(&ids).await,
            "requeue_all_dead" => queue.requeue_all_dead().await,
            _ => queue.purge_all_dead().await,
        };
        let count = match outcome {
            Err(error) => return self.refused(&what, error, false, guard).await,
            Ok(count) => count,
        };
        self.note(format!("{what} -> {count}"));
        let targets: BTreeSet<String> = if all {
            dead_before
        } else {
            ids.into_iter()
                .filter(|id| dead_before.contains(id))
                .collect()
        };
        if count != targets.len() as u64 {
            return Err(format!(
                "{what} returned {count}, {} were dead",
                targets.len()
            ));
        }
        let requeue = op.starts_with("requeue");
        for id in &targets {
            if requeue {
                if let Some(item) = self.items.get_mut(id) {
                    item.bad_attempts = false;
                    item.attempts = 0;
                }
            } else if let Some(item) = self.items.get_mut(id) {
                if matches!(item.status, Status::Live | Status::Poison) {
                    item.status = Status::Purged;
                    self.fences.remove(id);
                }
            }
        }
        let (before, elapsed) = self.refresh().await;
        for id in &targets {
            let place = self.observed.place(id);
            let ok = if requeue {
                match self.items.get(id) {
                    Some(item) if item.status == Status::Live => place == Some(item.level()),
                    _ => matches!(place, Some(Place::Queued | Place::Prioritized)),
                }
            } else {
                place.is_none()
            };
            if !ok && self.items.contains_key(id) {
                return Err(format!("{what}: {id} is in {place:?}"));
            }
        }
        if !requeue {
            for id in &targets {
                self.gone(id, true).await?;
            }
        }
        let exempt: Vec<&str> = targets.iter().map(String::as_str).collect();
        self.moves(&before, elapsed, &exempt, |_, _, _| false)
    }

    async fn pause_resume(&mut self, pause: bool) -> Check {
        let s = self.session_index();
        let queue = self.sessions[s].queue.clone();
        let what = format!("s{s} {}", if pause { "pause" } else { "resume" });
        if pause {
            queue
                .pause()
                .await
                .map_err(|error| format!("{what}: {error}"))?;
            self.note(what);
            self.paused = true;
        } else {
            let guard = self.guard(false).await;
            match queue.resume().await {
                Err(error) => return self.refused(&what, error, false, guard).await,
                Ok(was) => {
                    self.note(format!("{what} -> {was}"));
                    if was != self.paused {
                        return Err(format!("{what} said {was}, the model {}", self.paused));
                    }
                    self.paused = false;
                }
            }
        }
        let (before, elapsed) = self.refresh().await;
        self.moves(&before, elapsed, &[], |_, _, _| false)
    }

    async fn length(&mut self, queue_len: bool) -> Check {
        let s = self.session_index();
        let queue = self.sessions[s].queue.clone();
        let (what, outcome, expected) = if queue_len {
            (
                "queue_len",
                queue.queue_len().await,
                self.observed.queue_len,
            )
        } else {
            (
                "processing",
                queue.processing().await,
                self.observed.processing_len,
            )
        };
        let what = format!("s{s} {what}");
        match outcome {
            Err(error) => self.refused(&what, error, false, None).await,
            Ok(length) => {
                self.note(format!("{what} -> {length}"));
                if length != expected as u64 {
                    return Err(format!("{what} is {length}, {expected} ids are there"));
                }
                Ok(())
            }
        }
    }

    // --- redis-work-queue 0.3 on the same queue ---------------------------------------------

    async fn crate_add(&mut self) -> Check {
        let id = self.fresh_id("c");
        let data = self.fresh_data();
        let item = TheirItem {
            id: id.clone(),
            data: data.clone().into_boxed_slice(),
        };
        let outcome = self
            .foreign
            .queue
            .add_item(&mut self.foreign.db, &item)
            .await;
        let what = format!("crate add_item({id})");
        self.note(format!("{what} -> {outcome:?}"));
        match &outcome {
            Ok(true) => self.track(&id, data, Status::Live),
            Ok(false) => return Err(format!("{what}: a new id was refused")),
            Err(error) => {
                // SET NX, then LPUSH: with the queue list of the wrong type the data stays
                // behind in no list, an orphan for the deep clean.
                if self.flip.is_none() {
                    return Err(format!("{what} failed: {error}"));
                }
                self.refused += 1;
                self.track(&id, data, Status::Orphan);
            }
        }
        let (before, elapsed) = self.refresh().await;
        if outcome.is_ok() {
            self.expect_at(&id, &[Place::Queued])?;
        } else if self.observed.data.get(&id).cloned().flatten().is_none() {
            self.items.remove(&id);
        }
        self.moves(&before, elapsed, &[&id], |_, _, _| false)
    }

    async fn crate_lease(&mut self) -> Check {
        // The crate sets its lease in whole seconds: 1 s runs out within a few dozen steps.
        let duration = Duration::from_secs(*[1u64, 1, 30].choose(&mut self.rng).unwrap());
        let outcome = self
            .foreign
            .queue
            .lease(&mut self.foreign.db, Some(Duration::ZERO), duration)
            .await;
        let what = format!("crate lease({duration:?})");
        self.note(format!(
            "{what} -> {:?}",
            outcome
                .as_ref()
                .map(|leased| leased.as_ref().map(|item| item.id.clone()))
        ));
        let (before, elapsed) = self.refresh().await;
        let mut exempt = Vec::new();
        match outcome {
            Ok(Some(item)) => {
                let Some(tracked) = self.items.get(&item.id) else {
                    return Err(format!("{what} returned an unknown id {}", item.id));
                };
                if tracked.status != Status::Live || *tracked.data != *item.data {
                    return Err(format!(
                        "{what} returned {} ({:?})",
                        item.id, tracked.status
                    ));
                }
                // It pops the tail of the queue list, whatever that is.
                if before.queue.last() != Some(&item.id) {
                    return Err(format!(
                        "{what}: {} was in {:?}, the tail of the queue was {:?}",
                        item.id,
                        before.place(&item.id),
                        before.queue.last()
                    ));
                }
                self.expect_at(&item.id, &[Place::Processing])?;
                exempt.push(item.id.clone());
                self.foreign.held.push(item);
            }
            Ok(None) => {
                let tail = before.queue.last();
                if self.flip.is_none()
                    && tail.is_some_and(|id| self.status(id) == Some(Status::Live))
                {
                    return Err(format!("{what}: nothing, though {tail:?} was at the tail"));
                }
            }
            Err(error) => {
                // Expected with a key of the wrong type, or when it popped a poison id (GET
                // fails): that id then waits in processing without a lease for a clean.
                let popped_poison = self.items.iter().any(|(id, item)| {
                    item.status == Status::Poison
                        && before.place(id) == Some(Place::Queued)
                        && self.observed.place(id) == Some(Place::Processing)
                });
                if self.flip.is_none() && !popped_poison {
                    return Err(format!("{what} failed: {error}"));
                }
                self.refused += 1;
            }
        }
        let exempt: Vec<&str> = exempt.iter().map(String::as_str).collect();
        self.moves(&before, elapsed, &exempt, |_, _, _| false)
    }

    async fn crate_complete(&mut self) -> Check {
        let item = if !self.foreign.held.is_empty() && self.rng.random_bool(0.8) {
            let index = self.rng.random_range(0..self.foreign.held.len());
            self.foreign.held.swap_remove(index)
        } else {
            let known: Vec<String> = self.items.keys().cloned().collect();
            let Some(id) = self.pick(&known) else {
                return self.nothing("crate complete");
            };
            TheirItem {
                id,
                data: Box::new([]),
            }
        };
        let outcome = self
            .foreign
            .queue
            .complete(&mut self.foreign.db, &item)
            .await;
        let what = format!("crate complete({})", item.id);
        self.note(format!("{what} -> {outcome:?}"));
        match outcome {
            Ok(completed) => self.completed(&what, &item.id, completed)?,
            Err(error) => {
                // Its three commands are not atomic: with processing of the wrong type the data
                // is deleted and the LREM fails. The item is done all the same.
                if self.flip.is_none() {
                    return Err(format!("{what} failed: {error}"));
                }
                self.refused += 1;
                let exists: bool = redis::cmd("EXISTS")
                    .arg(self.key(&format!("item:{}", item.id)))
                    .query_async(&mut self.raw)
                    .await
                    .unwrap();
                if let Some(tracked) = self.items.get_mut(&item.id) {
                    if !exists && tracked.status != Status::Purged {
                        tracked.status = Status::Completed;
                    }
                }
            }
        }
        let (before, elapsed) = self.refresh().await;
        let exempt = [item.id.as_str()];
        // The crate's complete does not remove a queued copy: a completed id may stay listed.
        self.moves(&before, elapsed, &exempt, |_, _, _| false)
    }

    // --- Hostile edits ---------------------------------------------------------------------

    async fn flip_key(&mut self) -> Check {
        let (name, right) = *FLIPPABLE.choose(&mut self.rng).unwrap();
        let wrong = *["string", "list", "hash", "zset", "set"]
            .iter()
            .filter(|kind| **kind != right)
            .collect::<Vec<_>>()
            .choose(&mut self.rng)
            .unwrap();
        let steps_left = self.rng.random_range(1..8);
        let key = self.key(name);
        let stash = format!("model-stash:{}:{name}", uuid::Uuid::new_v4().simple());
        let exists: bool = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut self.raw)
            .await
            .unwrap();
        let mut edit = redis::pipe();
        edit.atomic();
        if exists {
            edit.cmd("RENAME").arg(&key).arg(&stash).ignore();
        }
        match *wrong {
            "string" => edit.cmd("SET").arg(&key).arg("wrong"),
            "list" => edit.cmd("RPUSH").arg(&key).arg("wrong"),
            "hash" => edit.cmd("HSET").arg(&key).arg("wrong").arg("1"),
            "zset" => edit.cmd("ZADD").arg(&key).arg(1).arg("wrong"),
            _ => edit.cmd("SADD").arg(&key).arg("wrong"),
        };
        let () = edit.ignore().query_async(&mut self.raw).await.unwrap();
        self.flip = Some(Flip {
            name,
            stash,
            steps_left,
        });
        self.note(format!("flip {name} to a {wrong} for {steps_left} steps"));
        let (before, _) = self.refresh().await;
        if before.places != self.observed.places {
            return Err("flipping a key moved items (in the model's reading)".into());
        }
        Ok(())
    }

    async fn restore(&mut self) -> Check {
        let flip = self.flip.take().unwrap();
        let key = self.key(flip.name);
        let exists: bool = redis::cmd("EXISTS")
            .arg(&flip.stash)
            .query_async(&mut self.raw)
            .await
            .unwrap();
        let mut edit = redis::pipe();
        edit.atomic().cmd("DEL").arg(&key).ignore();
        if exists {
            edit.cmd("RENAME").arg(&flip.stash).arg(&key).ignore();
        }
        let () = edit.query_async(&mut self.raw).await.unwrap();
        self.count("restore a key");
        self.note(format!("restore {}", flip.name));
        // The model read the stash meanwhile: nothing seems to move.
        let reading = self.observed.places.clone();
        self.refresh().await;
        if reading != self.observed.places {
            return Err("restoring a key moved items (in the model's reading)".into());
        }
        self.invariants()
    }

    async fn poison(&mut self) -> Check {
        let poisoned = self.ids_with(|item| item.status == Status::Poison).len();
        let live = self.live_ids();
        let Some(id) = self.pick(&live) else {
            return self.nothing("poison");
        };
        if poisoned >= 4 {
            return self.nothing("poison (enough poison)");
        }
        let key = self.key(&format!("item:{id}"));
        let () = redis::pipe()
            .atomic()
            .cmd("DEL")
            .arg(&key)
            .ignore()
            .cmd("RPUSH")
            .arg(&key)
            .arg("poison")
            .ignore()
            .query_async(&mut self.raw)
            .await
            .unwrap();
        self.note(format!(
            "poison {id} (in {:?}): its item key is now a list",
            self.observed.place(&id)
        ));
        self.items.get_mut(&id).unwrap().status = Status::Poison;
        self.refresh().await;
        Ok(())
    }

    async fn bad_attempts(&mut self) -> Check {
        // Any live item, wherever it waits: a lease buries it (its own, or the housekeeping of
        // an expired lease), so does a clean or a fail; a release of it is refused.
        let live = self.live_ids();
        if self.key_flipped("attempts") {
            return self.nothing("bad attempt count (attempts flipped)");
        }
        let Some(id) = self.pick(&live) else {
            return self.nothing("bad attempt count");
        };
        let () = redis::cmd("HSET")
            .arg(self.key("attempts"))
            .arg(&id)
            .arg("not a number")
            .query_async(&mut self.raw)
            .await
            .unwrap();
        self.note(format!(
            "bad attempt count for {id} (in {:?})",
            self.observed.place(&id)
        ));
        self.items.get_mut(&id).unwrap().bad_attempts = true;
        self.refresh().await;
        Ok(())
    }

    async fn expire_lease(&mut self) -> Check {
        let leased: Vec<String> = self.observed.lease_ttl.keys().cloned().collect();
        let Some(id) = self.pick(&leased) else {
            return self.nothing("expire a lease");
        };
        let () = redis::cmd("PEXPIRE")
            .arg(self.key(&format!("lease:{id}")))
            .arg(1)
            .query_async::<i64>(&mut self.raw)
            .await
            .map(|_| ())
            .unwrap();
        self.note(format!("expire the lease of {id}"));
        tokio::time::sleep(Duration::from_millis(2)).await;
        self.refresh().await;
        Ok(())
    }

    async fn orphan(&mut self) -> Check {
        let id = self.fresh_id("o");
        let data = self.fresh_data();
        let () = redis::cmd("SET")
            .arg(self.key(&format!("item:{id}")))
            .arg(&data)
            .query_async(&mut self.raw)
            .await
            .unwrap();
        self.note(format!("orphan {id}: data written, id pushed nowhere"));
        self.track(&id, data, Status::Orphan);
        self.refresh().await;
        Ok(())
    }

    // --- The end: every worker gone, drain ------------------------------------------------

    async fn drain(&mut self) -> Check {
        self.step += 1;
        if self.flip.is_some() {
            self.restore().await?;
        }
        let queue = self.sessions[0].queue.clone();
        queue.resume().await.map_err(|error| error.to_string())?;
        self.paused = false;
        // Every worker is gone: their leases run out now.
        let leased: Vec<String> = self.observed.lease_ttl.keys().cloned().collect();
        for id in leased {
            let _: i64 = redis::cmd("PEXPIRE")
                .arg(self.key(&format!("lease:{id}")))
                .arg(1)
                .query_async(&mut self.raw)
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.note("drain: every lease runs out".into());
        self.refresh().await;
        self.clean(true).await?;
        self.invariants()?;
        // Lease and complete until nothing is left to lease, the delayed included.
        for round in 0.. {
            if round > 10_000 {
                return Err("drain: the queue never emptied".into());
            }
            let leased = queue
                .lease(Duration::from_secs(30), false, None)
                .await
                .map_err(|error| format!("drain lease: {error}"))?;
            match leased {
                Some(item) => {
                    let completed = queue
                        .complete(&item)
                        .await
                        .map_err(|error| format!("drain complete: {error}"))?;
                    self.note(format!(
                        "drain: lease and complete {} -> {completed}",
                        item.id
                    ));
                    self.completed("drain complete", &item.id, completed)?;
                }
                None => {
                    self.refresh().await;
                    // Any id still waiting, dangling ones included: leases drop those.
                    let waiting = self.observed.places.values().flatten().any(|place| {
                        matches!(place, Place::Delayed | Place::Queued | Place::Prioritized)
                    });
                    if !waiting {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        self.refresh().await;
        self.invariants()?;
        for (id, item) in &self.items {
            let place = self.observed.place(id);
            match item.status {
                Status::Live if place != Some(Place::Dead) => {
                    return Err(format!("drain: live item {id} left in {place:?}"));
                }
                Status::Poison if place != Some(Place::Dead) => {
                    return Err(format!("drain: poison item {id} ended in {place:?}"));
                }
                _ => {}
            }
        }
        // The dead that can be read get another life, and are completed.
        let revivable = self.ids_with(|item| item.status == Status::Live);
        let requeued = queue
            .requeue_dead(&revivable)
            .await
            .map_err(|error| format!("drain requeue_dead: {error}"))?;
        self.note(format!(
            "drain: requeue_dead {} -> {requeued}",
            revivable.len()
        ));
        while let Some(item) = queue
            .lease(Duration::from_secs(30), false, None)
            .await
            .map_err(|error| format!("drain lease: {error}"))?
        {
            let completed = queue
                .complete(&item)
                .await
                .map_err(|error| format!("drain complete: {error}"))?;
            self.completed("drain complete", &item.id, completed)?;
        }
        let left = self.live_ids();
        if !left.is_empty() {
            return Err(format!("drain: {left:?} were never completed"));
        }
        let purged = queue
            .purge_all_dead()
            .await
            .map_err(|error| format!("drain purge_all_dead: {error}"))?;
        for item in self.items.values_mut() {
            if item.status == Status::Poison {
                item.status = Status::Purged;
            }
        }
        let report = queue
            .deep_clean()
            .await
            .map_err(|error| format!("drain deep_clean: {error}"))?;
        self.note(format!("drain: purged {purged}, deep clean {report:?}"));
        let doubled: Vec<&String> = self
            .items
            .iter()
            .filter(|(_, item)| item.trues > 1)
            .map(|(id, _)| id)
            .collect();
        if !doubled.is_empty() {
            return Err(format!("completed true twice: {doubled:?}"));
        }
        let left = common::keys_under(&self.prefix);
        let left: Vec<&String> = left
            .iter()
            .filter(|key| !key.ends_with(":signal"))
            .collect();
        if !left.is_empty() {
            return Err(format!("drain: keys left behind: {left:?}"));
        }
        Ok(())
    }
}

fn diff(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut keys: Vec<&Vec<u8>> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|key| {
            let (was, is) = (before.get(*key), after.get(*key));
            // A key with a TTL (a lease, the wake-up flag) may run out during the call.
            let expired = matches!((was, is), (Some((_, true)), None));
            was != is && !expired
        })
        .map(|key| String::from_utf8_lossy(key).into_owned())
        .collect()
}

// --- Found by the model test -------------------------------------------------------------------

/// Where `id` waits: every list and set of the queue that holds it.
fn places_of(prefix: &str, id: &str) -> Vec<&'static str> {
    let mut connection = common::raw();
    let mut found = Vec::new();
    for (name, list) in [
        ("queue", true),
        ("processing", true),
        ("prioritized", false),
        ("delayed", false),
        ("dead", false),
    ] {
        let key = format!("{prefix}:{name}");
        let here: bool = if list {
            redis::cmd("LPOS")
                .arg(&key)
                .arg(id)
                .query::<Option<i64>>(&mut connection)
                .unwrap()
                .is_some()
        } else {
            redis::cmd("ZSCORE")
                .arg(&key)
                .arg(id)
                .query::<Option<f64>>(&mut connection)
                .unwrap()
                .is_some()
        };
        if here {
            found.push(name);
        }
    }
    found
}

/// An attempt count that is not a number, on an item that is leased (a raw write, as the model
/// test's "bad attempt count" step makes): the light clean, the lease's housekeeping, `fail` and
/// `release` each removed the id from processing and then failed on the count, leaving the item
/// in no list (the model test, seed 0x1ea5e013, 500 steps, failed so in its drain). Now the
/// first three bury it as a poison item and `release` refuses it, changing nothing.
#[tokio::test]
async fn an_unreadable_attempt_count_of_a_leased_item_loses_nothing() {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let prefix = common::prefix("model-bad-attempts");
    let queue = WorkQueue::with_options(
        &connection,
        &prefix,
        QueueOptions {
            max_attempts: MAX_ATTEMPTS,
            clean_grace: GRACE,
            ..QueueOptions::default()
        },
    )
    .unwrap();
    let mut raw = common::raw();
    let mut lost = Vec::new();
    for call in ["light_clean", "lease", "fail", "release"] {
        let id = format!("bad-{call}");
        queue.add_item(&Item::with_id(&id, "data")).await.unwrap();
        // Whatever else waits is leased first, so the lease below takes this item.
        while let Some(other) = queue.lease(LONG, false, None).await.unwrap() {
            if other.id == id {
                break;
            }
            queue.complete(&other).await.unwrap();
        }
        let duration = if call == "fail" || call == "release" {
            LONG
        } else {
            Duration::from_millis(20)
        };
        queue.release(&Item::with_id(&id, "")).await.unwrap();
        let item = queue.lease(duration, false, None).await.unwrap().unwrap();
        assert_eq!(item.id, id);
        let () = redis::cmd("HSET")
            .arg(format!("{prefix}:attempts"))
            .arg(&id)
            .arg("not a number")
            .query(&mut raw)
            .unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        let outcome = match call {
            "light_clean" => queue
                .light_clean()
                .await
                .map(|report| format!("{report:?}")),
            "lease" => queue
                .lease(LONG, false, None)
                .await
                .map(|item| format!("{:?}", item.map(|item| item.id))),
            "fail" => queue
                .fail(&item, "boom", None)
                .await
                .map(|outcome| format!("{outcome:?}")),
            _ => queue
                .release(&item)
                .await
                .map(|released| format!("{released}")),
        };
        let places = places_of(&prefix, &id);
        println!("{call}: {outcome:?}; {id} is in {places:?}");
        if places.len() != 1 {
            lost.push(format!("{call} -> {outcome:?}: {id} is in {places:?}"));
        }
        let error: Option<String> = redis::cmd("HGET")
            .arg(format!("{prefix}:errors"))
            .arg(&id)
            .query(&mut raw)
            .unwrap();
        if call == "release" {
            // Refused with nothing written: still leased by this worker, count untouched.
            let refusal = outcome.expect_err("release of an unreadable count is refused");
            assert_eq!(refusal.kind(), ErrorKind::Internal, "{refusal}");
            assert!(
                refusal.message().contains(&format!(
                    "its attempt count (field {id} of {prefix}:attempts)"
                )),
                "{refusal}"
            );
            assert_eq!(places, ["processing"]);
            assert_eq!(error, None);
            let ttl: i64 = redis::cmd("PTTL")
                .arg(format!("{prefix}:lease:{id}"))
                .query(&mut raw)
                .unwrap();
            assert!(ttl > 0, "the lease of {id} is gone ({ttl})");
        } else {
            // Buried as a poison item, with an error naming the key and field.
            assert_eq!(places, ["dead"], "{call} -> {outcome:?}");
            let error = error.unwrap_or_default();
            assert!(
                error.starts_with(&format!(
                    "poison item: its attempt count (field {id} of {prefix}:attempts) is \
                     \"not a number\", not an integer"
                )),
                "{call}: {error}"
            );
            if call == "fail" {
                assert!(error.ends_with("the failure reported: boom"), "{error}");
            }
        }
        queue.complete(&Item::with_id(&id, "")).await.unwrap();
    }
    assert!(lost.is_empty(), "{}", lost.join("\n"));
}

/// A priority level that is not 1-9 (a raw write) on a leased, delayed or dead item: every
/// requeue (light clean, the lease's housekeeping, `fail`, `release`, `requeue_dead`) puts it at
/// the default level instead of failing half-way with the item in no list.
#[tokio::test]
async fn an_unreadable_priority_level_counts_as_the_default_level() {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let prefix = common::prefix("model-bad-priority");
    let queue = WorkQueue::with_options(
        &connection,
        &prefix,
        QueueOptions {
            max_attempts: MAX_ATTEMPTS,
            clean_grace: GRACE,
            ..QueueOptions::default()
        },
    )
    .unwrap();
    let mut raw = common::raw();
    for call in [
        "light_clean",
        "lease",
        "fail",
        "release",
        "due",
        "requeue_dead",
    ] {
        let id = format!("bad-{call}");
        let options = AddOptions {
            priority: 3,
            delay: (call == "due").then_some(Duration::from_millis(10)),
            ..AddOptions::default()
        };
        queue
            .add_item_with(&Item::with_id(&id, "data"), &options)
            .await
            .unwrap();
        let () = redis::cmd("HSET")
            .arg(format!("{prefix}:priority"))
            .arg(&id)
            .arg("high")
            .query(&mut raw)
            .unwrap();
        let item = if call == "due" {
            None
        } else {
            let duration = if matches!(call, "fail" | "release" | "requeue_dead") {
                LONG
            } else {
                Duration::from_millis(20)
            };
            let item = queue.lease(duration, false, None).await.unwrap().unwrap();
            assert_eq!(item.id, id);
            Some(item)
        };
        if call == "requeue_dead" {
            // Its last attempt fails: dead, with its level unreadable.
            let () = redis::cmd("HSET")
                .arg(format!("{prefix}:attempts"))
                .arg(&id)
                .arg(MAX_ATTEMPTS)
                .query(&mut raw)
                .unwrap();
            let outcome = queue.fail(item.as_ref().unwrap(), "boom", None).await;
            assert_eq!(outcome.unwrap(), FailOutcome::Dead);
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
        let outcome = match call {
            "light_clean" => queue
                .light_clean()
                .await
                .map(|report| format!("{report:?}")),
            // Its housekeeping requeues the item (an expired lease, or a due one), then leases
            // it: the queue holds nothing else.
            "lease" | "due" => queue
                .lease(LONG, false, None)
                .await
                .map(|item| format!("{:?}", item.map(|item| item.id))),
            "fail" => queue
                .fail(item.as_ref().unwrap(), "boom", Some(Duration::ZERO))
                .await
                .map(|outcome| format!("{outcome:?}")),
            "requeue_dead" => queue
                .requeue_dead(std::slice::from_ref(&id))
                .await
                .map(|requeued| format!("{requeued}")),
            _ => queue
                .release(item.as_ref().unwrap())
                .await
                .map(|released| format!("{released}")),
        };
        let places = places_of(&prefix, &id);
        println!("{call}: {outcome:?}; {id} is in {places:?}");
        let expected = if matches!(call, "lease" | "due") {
            "processing"
        } else {
            "queue"
        };
        assert_eq!(places, [expected], "{call} -> {outcome:?}");
        queue.complete(&Item::with_id(&id, "")).await.unwrap();
    }
}

const LONG: Duration = Duration::from_secs(30);
