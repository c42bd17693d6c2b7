//! Issue #13: no neighbour queue, stray key or foreign client can wedge a queue, lose an item or
//! double it. One test (or more) per case of the issue; each failed before the fix.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{lrange, raw, LEASE};
use leaseq::{
    AddOptions, Connection, Error, ErrorKind, Hooks, Item, QueueOptions, WorkQueue, Worker,
    WorkerOptions,
};

fn options(grace: Duration) -> QueueOptions {
    QueueOptions {
        clean_grace: grace,
        ..QueueOptions::default()
    }
}

async fn queue_named(connection: &Connection, name: &str, grace: Duration) -> WorkQueue {
    WorkQueue::with_options(connection, name, options(grace)).unwrap()
}

thread_local! {
    static RAW: std::cell::RefCell<Option<redis::Connection>> = const { std::cell::RefCell::new(None) };
}

/// Runs a raw command on this thread's own connection (opened once).
fn query<T: redis::FromRedisValue>(command: &redis::Cmd) -> T {
    RAW.with(|cell| {
        let mut cell = cell.borrow_mut();
        let connection = cell.get_or_insert_with(raw);
        command.query(connection).unwrap()
    })
}

fn cmd(args: &[&[u8]]) -> redis::Value {
    let mut command = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for arg in &args[1..] {
        command.arg(*arg);
    }
    query(&command)
}

// --- Case 1: nested queue names -----------------------------------------------------------------

/// A deep clean of `n` never adopts the keys of a queue named `n:item:x` (nor `n:item`), whatever
/// characters the names hold (plain, glob characters, a hash tag).
#[tokio::test]
async fn deep_clean_never_adopts_a_nested_queues_keys() {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    for outer in [
        common::prefix("nest"),
        format!("{}*[a]?", common::prefix("nest-glob")),
        format!("{{{}}}", common::prefix("nest-tag")),
    ] {
        let n = queue_named(&connection, &outer, Duration::from_millis(20)).await;
        for inner_name in [format!("{outer}:item:x"), format!("{outer}:item")] {
            let inner = queue_named(&connection, &inner_name, Duration::from_millis(20)).await;
            // Every kind of key the inner queue has: queued, leased, dead, prioritized, delayed.
            let queued = Item::with_id("queued", "q");
            let leased = Item::with_id("leased", "l");
            inner.add_item(&leased).await.unwrap();
            let leased = inner.lease(LEASE, false, None).await.unwrap().unwrap();
            inner.add_item(&queued).await.unwrap();
            let prioritized = AddOptions {
                priority: 3,
                ..AddOptions::default()
            };
            inner
                .add_item_with(&Item::with_id("high", "h"), &prioritized)
                .await
                .unwrap();

            let report = n.deep_clean().await.unwrap();
            assert_eq!(report.requeued, 0, "{inner_name}: {report:?}");
            assert_eq!(n.queue_len().await.unwrap(), 0, "{inner_name}");
            assert_eq!(n.processing().await.unwrap(), 0, "{inner_name}");
            // n still works, and the inner queue lost nothing.
            assert!(n.lease(LEASE, false, None).await.unwrap().is_none());
            let high = inner.lease(LEASE, false, None).await.unwrap().unwrap();
            assert_eq!(high.id, "high");
            let next = inner.lease(LEASE, false, None).await.unwrap().unwrap();
            assert_eq!(next.id, "queued");
            for item in [leased, high, next] {
                assert!(inner.complete(&item).await.unwrap(), "{inner_name}");
            }
        }
    }
}

/// The outer queue's own orphan is still adopted beside a nested queue.
#[tokio::test]
async fn deep_clean_still_adopts_its_own_orphans() {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let outer = common::prefix("own-orphan");
    let n = queue_named(&connection, &outer, Duration::from_millis(20)).await;
    let inner = queue_named(&connection, &format!("{outer}:item:x"), Duration::ZERO).await;
    inner.add_item(&Item::new("theirs")).await.unwrap();
    cmd(&[b"SET", format!("{outer}:item:user:17").as_bytes(), b"mine"]);
    let report = n.deep_clean().await.unwrap();
    assert_eq!(report.requeued, 1);
    assert_eq!(lrange(&format!("{outer}:queue")), vec!["user:17"]);
}

// --- Case 2: a key of the wrong type wedges a queue ---------------------------------------------

#[tokio::test]
async fn a_poison_item_key_goes_to_the_dead_letters_and_the_queue_moves_on() {
    let (_connection, queue, prefix) = common::queue("poison").await;
    queue.add_item(&Item::with_id("a", "one")).await.unwrap();
    queue.add_item(&Item::with_id("b", "two")).await.unwrap();
    cmd(&[b"DEL", format!("{prefix}:item:a").as_bytes()]);
    cmd(&[b"HSET", format!("{prefix}:item:a").as_bytes(), b"f", b"v"]);

    let leased = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(leased.id, "b");
    let dead = queue.dead_items(0, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].item.id, "a");
    assert!(
        dead[0].error.contains("hash") && dead[0].error.contains(&format!("{prefix}:item:a")),
        "{}",
        dead[0].error
    );
    assert_eq!(queue.processing().await.unwrap(), 1);
    assert!(queue.complete(&leased).await.unwrap());
    assert_eq!(queue.purge_all_dead().await.unwrap(), 1);
    assert!(common::keys_under(&prefix).is_empty());
}

#[tokio::test]
async fn a_worker_gets_past_a_poison_item_and_counts_errors() {
    let (_connection, queue, prefix) = common::queue("poison-worker").await;
    queue.add_item(&Item::with_id("a", "one")).await.unwrap();
    queue.add_item(&Item::with_id("b", "two")).await.unwrap();
    cmd(&[b"DEL", format!("{prefix}:item:a").as_bytes()]);
    cmd(&[b"SADD", format!("{prefix}:item:a").as_bytes(), b"x"]);
    let done = Arc::new(AtomicU64::new(0));
    let seen = done.clone();
    let worker = Worker::new(
        &queue,
        move |_item: Item| {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        },
        WorkerOptions::default(),
    )
    .unwrap();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    for _ in 0..100 {
        if done.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(done.load(Ordering::SeqCst), 1);
    assert_eq!(queue.dead_len().await.unwrap(), 1);

    // A key the worker cannot use at all now: processing of the wrong type. The worker keeps
    // trying, but counts each failure and tells its hooks.
    struct Seen(Arc<AtomicU64>);
    impl Hooks for Seen {
        fn error(&self, error: &Error) {
            assert!(error.message().contains("WRONGTYPE"), "{error}");
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    worker.stop();
    running.await.unwrap().unwrap();
    let hooked = Arc::new(AtomicU64::new(0));
    let worker = worker.with_hooks(Seen(hooked.clone()));
    cmd(&[b"SET", format!("{prefix}:processing").as_bytes(), b"oops"]);
    queue.add_item(&Item::new("c")).await.unwrap();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    worker.stop();
    running.await.unwrap().unwrap();
    assert!(worker.counters().errors >= 2, "{:?}", worker.counters());
    assert!(hooked.load(Ordering::SeqCst) >= 2);
}

// --- Case 3: a deep clean racing a producer that writes, then pushes -----------------------------

#[tokio::test]
async fn deep_clean_leaves_a_young_unlisted_item_alone() {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let prefix = common::prefix("young");
    let queue = queue_named(&connection, &prefix, Duration::from_millis(300)).await;
    // redis-work-queue's add: SET NX, then (a round trip later) LPUSH.
    cmd(&[
        b"SET",
        format!("{prefix}:item:a").as_bytes(),
        b"data",
        b"NX",
    ]);
    let cleaning = tokio::spawn({
        let queue = queue.clone();
        async move { queue.deep_clean().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    cmd(&[b"LPUSH", format!("{prefix}:queue").as_bytes(), b"a"]);
    let report = cleaning.await.unwrap().unwrap();
    assert_eq!(report.requeued, 0, "{report:?}");
    assert_eq!(lrange(&format!("{prefix}:queue")), vec!["a"]);
}

// --- Case 4: validate before write, for every script ---------------------------------------------

/// Every key (and its type) of the state `fill` leaves.
fn snapshot(prefix: &str) -> BTreeMap<Vec<u8>, (Vec<u8>, bool)> {
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, found): (u64, Vec<Vec<u8>>) = query(
            redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}:*"))
                .arg("COUNT")
                .arg(1000),
        );
        keys.extend(found);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    keys.into_iter()
        .map(|key| {
            let dump: Vec<u8> = query(redis::cmd("DUMP").arg(&key));
            let ttl: i64 = query(redis::cmd("PTTL").arg(&key));
            (key, (dump, ttl >= 0))
        })
        .collect()
}

/// A queue with something in every key: a live lease, an expired one, a dead item, a queued,
/// a prioritized and a due delayed item, a redis-work-queue lease without its lease key yet.
async fn fill(connection: &Connection, queue: &WorkQueue, prefix: &str) -> Item {
    let dying = WorkQueue::with_options(
        connection,
        prefix,
        QueueOptions {
            max_attempts: 1,
            ..options(Duration::ZERO)
        },
    )
    .unwrap();
    queue.add_item(&Item::with_id("l", "leased")).await.unwrap();
    let leased = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    queue
        .add_item(&Item::with_id("e", "expired"))
        .await
        .unwrap();
    queue
        .lease(Duration::from_millis(1), false, None)
        .await
        .unwrap()
        .unwrap();
    queue.add_item(&Item::with_id("x", "dead")).await.unwrap();
    let x = dying.lease(LEASE, false, None).await.unwrap().unwrap();
    dying.fail(&x, "boom", None).await.unwrap();
    queue
        .add_item(&Item::with_id("d", "default"))
        .await
        .unwrap();
    let at = |priority, delay| AddOptions {
        priority,
        delay,
        ..AddOptions::default()
    };
    queue
        .add_item_with(&Item::with_id("p", "prioritized"), &at(5, None))
        .await
        .unwrap();
    queue
        .add_item_with(
            &Item::with_id("y", "delayed"),
            &at(2, Some(Duration::from_millis(1))),
        )
        .await
        .unwrap();
    cmd(&[b"SET", format!("{prefix}:item:c").as_bytes(), b"crate"]);
    cmd(&[b"LPUSH", format!("{prefix}:processing").as_bytes(), b"c"]);
    cmd(&[b"LPUSH", format!("{prefix}:cleaning").as_bytes(), b"c"]);
    tokio::time::sleep(Duration::from_millis(5)).await;
    leased
}

const PER_QUEUE: [&str; 15] = [
    "last_fence",
    "fences",
    "stats",
    "queue",
    "processing",
    "cleaning",
    "prioritized",
    "delayed",
    "deadlines",
    "attempts",
    "errors",
    "priority",
    "dead",
    "paused",
    "signal",
];
const PER_ID: [&str; 11] = [
    "item:l",
    "item:d",
    "item:p",
    "item:x",
    "item:n",
    "lease:l",
    "leased_by_session:l",
    "done:l",
    "done:n",
    "item:c",
    "lease:c",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_call_changes_nothing_whatever_key_has_the_wrong_type() {
    type Op = fn(WorkQueue, Item) -> futures_like::BoxFuture;
    mod futures_like {
        pub type BoxFuture =
            std::pin::Pin<Box<dyn std::future::Future<Output = leaseq::Result<()>> + Send>>;
    }
    macro_rules! op {
        ($name:literal, |$queue:ident, $leased:ident| $body:expr) => {
            (
                $name,
                (|$queue: WorkQueue, $leased: Item| {
                    Box::pin(async move {
                        #[allow(unused_variables)]
                        let ($queue, $leased) = ($queue, $leased);
                        $body.map(|_| ())
                    }) as futures_like::BoxFuture
                }) as Op,
            )
        };
    }
    let ops: Vec<(&str, Op)> = vec![
        op!("add_item", |q, l| q
            .add_item(&Item::with_id("n", "new"))
            .await),
        op!("add_unique_item", |q, l| q
            .add_unique_item(&Item::with_id("n", "new"))
            .await),
        op!("add_items", |q, l| q
            .add_items(&[Item::with_id("n", "new"), Item::with_id("m", "new")])
            .await),
        op!("add_item_with", |q, l| q
            .add_item_with(
                &Item::with_id("n", "new"),
                &AddOptions {
                    priority: 4,
                    ..AddOptions::default()
                }
            )
            .await),
        op!("add_item_with delay", |q, l| q
            .add_item_with(
                &Item::with_id("n", "new"),
                &AddOptions {
                    delay: Some(Duration::from_secs(9)),
                    ..AddOptions::default()
                }
            )
            .await),
        op!("lease", |q, l| q.lease(LEASE, false, None).await),
        op!("renew", |q, l| q.renew(&l, LEASE).await),
        op!("complete", |q, l| q.complete(&l).await),
        op!("complete queued", |q, l| q
            .complete(&Item::with_id("d", ""))
            .await),
        op!("fail", |q, l| q.fail(&l, "no", None).await),
        op!("release", |q, l| q.release(&l).await),
        op!("light_clean", |q, l| q.light_clean().await),
        op!("deep_clean", |q, l| q.deep_clean().await),
        op!("dead_items", |q, l| q.dead_items(0, 10).await),
        op!("requeue_dead", |q, l| q
            .requeue_dead(&["x".to_string()])
            .await),
        op!("purge_dead", |q, l| q.purge_dead(&["x".to_string()]).await),
        op!("requeue_all_dead", |q, l| q.requeue_all_dead().await),
        op!("purge_all_dead", |q, l| q.purge_all_dead().await),
        op!("resume", |q, l| q.resume().await),
        op!("pause", |q, l| q.pause().await),
    ];
    // One task per operation, at once: each check is a few round trips, so they overlap well.
    let mut tasks = tokio::task::JoinSet::new();
    for (name, op) in ops {
        tasks.spawn(async move {
            let connection = Connection::open(&common::redis_url()).await.unwrap();
            let (mut failed_calls, mut checked, mut changed) = (0, 0, Vec::new());
            for key in PER_QUEUE.iter().chain(PER_ID.iter()) {
                for wrong in ["string", "list", "hash", "zset", "set"] {
                    let prefix = common::prefix("wrongtype");
                    let queue = queue_named(&connection, &prefix, Duration::from_millis(5)).await;
                    let leased = fill(&connection, &queue, &prefix).await;
                    let full = format!("{prefix}:{key}");
                    let existing: String = query(redis::cmd("TYPE").arg(&full));
                    if existing == wrong {
                        continue;
                    }
                    cmd(&[b"DEL", full.as_bytes()]);
                    match wrong {
                        "string" => cmd(&[b"SET", full.as_bytes(), b"v"]),
                        "list" => cmd(&[b"RPUSH", full.as_bytes(), b"v"]),
                        "hash" => cmd(&[b"HSET", full.as_bytes(), b"f", b"v"]),
                        "zset" => cmd(&[b"ZADD", full.as_bytes(), b"1", b"v"]),
                        _ => cmd(&[b"SADD", full.as_bytes(), b"v"]),
                    };
                    let before = snapshot(&prefix);
                    let outcome = op(queue.clone(), leased).await;
                    checked += 1;
                    let after = snapshot(&prefix);
                    if let Err(error) = outcome {
                        failed_calls += 1;
                        assert_eq!(
                            error.kind(),
                            ErrorKind::Internal,
                            "{name} {key} {wrong}: {error}"
                        );
                        if before != after {
                            changed.push(format!(
                                "{name} with {key} a {wrong} failed ({error}) but changed: {:?}",
                                diff(&before, &after)
                            ));
                        }
                    }
                    // Keep the keyspace small: every SCAN here walks all of it.
                    for key in after.keys() {
                        cmd(&[b"DEL", key]);
                    }
                }
            }
            (checked, failed_calls, changed)
        });
    }
    let (mut failed_calls, mut checked, mut changed) = (0, 0, Vec::new());
    while let Some(joined) = tasks.join_next().await {
        let (one_checked, one_failed, one_changed) = joined.unwrap();
        checked += one_checked;
        failed_calls += one_failed;
        changed.extend(one_changed);
    }
    println!("{checked} calls with a key of the wrong type, {failed_calls} refused");
    assert!(changed.is_empty(), "{}", changed.join("\n"));
    assert!(failed_calls > 100, "{failed_calls}");
}

fn diff(
    before: &BTreeMap<Vec<u8>, (Vec<u8>, bool)>,
    after: &BTreeMap<Vec<u8>, (Vec<u8>, bool)>,
) -> Vec<String> {
    let mut keys: Vec<&Vec<u8>> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|key| before.get(*key) != after.get(*key))
        .map(|key| String::from_utf8_lossy(key).into_owned())
        .collect()
}

// --- Case 5: ids that are not UTF-8 -------------------------------------------------------------

#[tokio::test]
async fn an_id_that_is_not_utf8_goes_to_the_dead_letters() {
    let (_connection, queue, prefix) = common::queue("not-utf8").await;
    let bad: &[u8] = b"\xff\xfebad";
    let mut item_key = format!("{prefix}:item:").into_bytes();
    item_key.extend_from_slice(bad);
    cmd(&[b"SET", &item_key, b"raw"]);
    cmd(&[b"LPUSH", format!("{prefix}:queue").as_bytes(), bad]);
    queue
        .add_item(&Item::with_id("good", "fine"))
        .await
        .unwrap();

    let leased = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(leased.id, "good");
    assert_eq!(leased.attempts, 1);
    let dead = queue.dead_items(0, 10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].error.contains("not UTF-8"), "{}", dead[0].error);
    assert!(dead[0].error.contains("fffe"), "{}", dead[0].error);
    assert_eq!(dead[0].item.data, b"raw");
    assert_eq!(queue.processing().await.unwrap(), 1);
    assert!(queue.complete(&leased).await.unwrap());
    // A dead letter with a non-UTF-8 attempt count and error reads too.
    cmd(&[
        b"HSET",
        format!("{prefix}:attempts").as_bytes(),
        bad,
        b"\xfe",
    ]);
    cmd(&[b"HSET", format!("{prefix}:errors").as_bytes(), bad, b"\xfe"]);
    assert_eq!(queue.dead_items(0, 10).await.unwrap().len(), 1);
    assert_eq!(queue.requeue_all_dead().await.unwrap(), 1);
    assert!(queue.lease(LEASE, false, None).await.unwrap().is_none());
    assert_eq!(queue.purge_all_dead().await.unwrap(), 1);
    assert!(
        common::keys_under(&prefix).is_empty(),
        "{:?}",
        common::keys_under(&prefix)
    );
}

// --- Case 7: a Worker on a closed Connection ----------------------------------------------------

#[tokio::test]
async fn a_worker_on_a_closed_connection_ends_run_with_an_error() {
    let (connection, queue, _prefix) = common::queue("closed").await;
    let worker = Worker::new(
        &queue,
        |_item: Item| async { Ok(()) },
        WorkerOptions {
            concurrency: 2,
            clean_every: Some(Duration::from_millis(50)),
            ..WorkerOptions::default()
        },
    )
    .unwrap();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    connection.close();
    let ended = tokio::time::timeout(Duration::from_secs(3), running)
        .await
        .expect("run ends once the connection is closed")
        .unwrap();
    assert_eq!(ended.unwrap_err().kind(), ErrorKind::Connection);
}

// --- Case 8: redis-work-queue clients (pop, then write the lease) beside our cleaner -------------

/// Crate redis-work-queue 0.3 workers lease in two round trips; a leaseq light clean in a tight
/// loop must never requeue an id one of them has popped but not yet given a lease.
#[tokio::test]
async fn a_tight_cleaner_never_doubles_a_crate_workers_item() {
    // Without the grace (the old behaviour), the same run doubles items: the test can fail.
    let (doubled, _) = crate_workers_beside_a_cleaner(Duration::ZERO).await;
    assert!(
        doubled > 0,
        "no grace, yet nothing doubled: the race was not exercised"
    );
    let (doubled, cleans) = crate_workers_beside_a_cleaner(Duration::from_millis(200)).await;
    assert_eq!(doubled, 0);
    assert!(cleans > 5, "{cleans}");
}

/// Items delivered twice, and light cleans run.
async fn crate_workers_beside_a_cleaner(grace: Duration) -> (usize, u64) {
    use redis_work_queue::{KeyPrefix, WorkQueue as TheirQueue};
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let prefix = common::prefix("crate-vs-cleaner");
    let ours = queue_named(&connection, &prefix, grace).await;
    let total = 400;
    let items: Vec<Item> = (0..total)
        .map(|i| Item::with_id(format!("i{i}"), "x"))
        .collect();
    ours.add_items(&items).await.unwrap();
    let deliveries = Arc::new(std::sync::Mutex::new(BTreeMap::<String, u32>::new()));
    let double_true = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cleaner = tokio::spawn({
        let (ours, stop) = (ours.clone(), stop.clone());
        async move {
            let mut cleans = 0u64;
            while !stop.load(Ordering::SeqCst) {
                ours.light_clean().await.unwrap();
                cleans += 1;
            }
            cleans
        }
    });
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (prefix, deliveries, double_true) =
            (prefix.clone(), deliveries.clone(), double_true.clone());
        workers.push(tokio::spawn(async move {
            let client = redis026::Client::open(common::redis_url()).unwrap();
            let mut db = client.get_multiplexed_async_connection().await.unwrap();
            let their = TheirQueue::new(KeyPrefix::new(prefix.clone()));
            // The crate's lease, step by step, with its round trips stretched a little (as
            // on a busy network): pop into processing, then write the lease key.
            loop {
                let id: Option<String> = redis026::cmd("RPOPLPUSH")
                    .arg(format!("{prefix}:queue"))
                    .arg(format!("{prefix}:processing"))
                    .query_async(&mut db)
                    .await
                    .unwrap();
                let Some(id) = id else { break };
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _: () = redis026::cmd("SET")
                    .arg(format!("{prefix}:lease:{id}"))
                    .arg("crate-session")
                    .arg("EX")
                    .arg(30)
                    .query_async(&mut db)
                    .await
                    .unwrap();
                let item = redis_work_queue::Item {
                    id: id.clone(),
                    data: Box::new([]),
                };
                *deliveries
                    .lock()
                    .unwrap()
                    .entry(item.id.clone())
                    .or_default() += 1;
                if their.complete(&mut db, &item).await.unwrap() {
                    double_true.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let cleans = cleaner.await.unwrap();
    let deliveries = deliveries.lock().unwrap();
    let doubled: Vec<_> = deliveries.iter().filter(|(_, n)| **n > 1).collect();
    println!(
        "grace {grace:?}: {total} items, {cleans} light cleans, {} delivered twice",
        doubled.len()
    );
    assert_eq!(deliveries.len(), total);
    if doubled.is_empty() {
        assert_eq!(
            double_true.load(Ordering::SeqCst),
            total as u64,
            "one true complete per item"
        );
    }
    (doubled.len(), cleans)
}
