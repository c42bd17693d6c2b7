//! The worker runtime: concurrency, heartbeats, timeouts, graceful shutdown, signals, hooks.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leaseq::{Connection, Hooks, Item, JobOutcome, QueueOptions, WorkQueue, Worker, WorkerOptions};

async fn queue(name: &str) -> WorkQueue {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let options = QueueOptions {
        backoff_base: Duration::from_secs(60),
        backoff_max: Duration::from_secs(60),
        ..QueueOptions::default()
    };
    WorkQueue::with_options(&connection, &common::prefix(name), options).unwrap()
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_items_in_parallel_up_to_the_concurrency_limit() {
    let queue = queue("concurrency").await;
    let items: Vec<Item> = (0..40).map(|i| Item::new(i.to_string())).collect();
    queue.add_items(&items).await.unwrap();
    let (running, peak) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let handler = {
        let (running, peak) = (running.clone(), peak.clone());
        move |_item: Item| {
            let (running, peak) = (running.clone(), peak.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            }
        }
    };
    let worker = Worker::new(
        &queue,
        handler,
        WorkerOptions {
            concurrency: 4,
            ..WorkerOptions::default()
        },
    )
    .unwrap();
    let run = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    wait_until("all completed", || worker.counters().completed == 40).await;
    worker.stop();
    run.await.unwrap().unwrap();
    assert_eq!(peak.load(Ordering::SeqCst), 4);
    let counters = worker.counters();
    assert_eq!(
        (counters.leased, counters.failed, counters.in_flight),
        (40, 0, 0)
    );
    assert_eq!(
        queue.queue_len().await.unwrap() + queue.processing().await.unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_job_is_renewed_and_never_handed_to_a_second_worker() {
    let queue = queue("heartbeat").await;
    queue.add_item(&Item::with_id("slow", "x")).await.unwrap();
    let deliveries = Arc::new(AtomicU64::new(0));
    let handler = {
        let deliveries = deliveries.clone();
        move |_item: Item| {
            deliveries.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(1200)).await;
                Ok(())
            }
        }
    };
    let options = WorkerOptions {
        concurrency: 2,
        lease_duration: Duration::from_millis(300),
        clean_every: Some(Duration::from_millis(50)),
        ..WorkerOptions::default()
    };
    let worker = Worker::new(&queue, handler, options.clone()).unwrap();
    // A second worker, with its own cleaner, hungry for the same item.
    let rival = Worker::new(&queue, |_item: Item| async { Ok(()) }, options).unwrap();
    // The rival starts once the first worker holds the item, and keeps trying while it runs.
    let first = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    wait_until("leased", || worker.counters().in_flight == 1).await;
    let second = tokio::spawn({
        let rival = rival.clone();
        async move { rival.run(false).await }
    });
    let runs = [first, second];
    wait_until("completed", || worker.counters().completed == 1).await;
    worker.stop();
    rival.stop();
    for run in runs {
        run.await.unwrap().unwrap();
    }
    assert_eq!(deliveries.load(Ordering::SeqCst), 1);
    assert_eq!(rival.counters().leased, 0);
    assert!(worker.counters().renewed >= 3, "{:?}", worker.counters());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_or_an_error_fails_the_item_with_its_message() {
    let queue = queue("timeout").await;
    queue.add_item(&Item::with_id("slow", "x")).await.unwrap();
    queue.add_item(&Item::with_id("bad", "x")).await.unwrap();
    let handler = |item: Item| async move {
        if item.id == "bad" {
            return Err("bad input".to_string());
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(())
    };
    let options = WorkerOptions {
        concurrency: 2,
        job_timeout: Some(Duration::from_millis(100)),
        ..WorkerOptions::default()
    };
    let worker = Worker::new(&queue, handler, options).unwrap();
    let run = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    wait_until("both failed", || worker.counters().failed == 2).await;
    worker.stop();
    run.await.unwrap().unwrap();
    assert_eq!(worker.counters().retried, 2);
    assert_eq!(
        queue.delayed_len().await.unwrap(),
        2,
        "both wait for their retry"
    );
    let mut raw = common::raw();
    let error: String = redis::cmd("HGET")
        .arg(format!("{}:errors", queue.name()))
        .arg("slow")
        .query(&mut raw)
        .unwrap();
    assert_eq!(error, "timed out after 100ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_runs_each_type_on_its_handler_and_fails_unknown_types() {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let options = QueueOptions {
        max_attempts: 1,
        ..QueueOptions::default()
    };
    let queue = WorkQueue::with_options(&connection, &common::prefix("router"), options).unwrap();
    let email = Item::from_json(&serde_json::json!({"type": "email", "to": "a@b.c"})).unwrap();
    let resize = Item::from_json(&serde_json::json!({"type": "resize", "photo": 17})).unwrap();
    let unknown = Item::from_json(&serde_json::json!({"type": "fax"})).unwrap();
    let untyped = Item::new("not json");
    queue
        .add_items(&[
            email.clone(),
            resize.clone(),
            unknown.clone(),
            untyped.clone(),
        ])
        .await
        .unwrap();
    let ran = Arc::new(Mutex::new(Vec::new()));
    let route = |name: &'static str| {
        let ran = ran.clone();
        move |item: Item| {
            ran.lock().unwrap().push((name, item.id));
            async { Ok(()) }
        }
    };
    let router = leaseq::Router::new()
        .route("email", route("email"))
        .route("resize", route("resize"));
    let worker = Worker::new(&queue, router, WorkerOptions::default()).unwrap();
    let run = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    wait_until("all four settled", || {
        let counters = worker.counters();
        counters.completed + counters.failed == 4
    })
    .await;
    worker.stop();
    run.await.unwrap().unwrap();
    let mut ran = ran.lock().unwrap().clone();
    ran.sort();
    assert_eq!(ran, vec![("email", email.id), ("resize", resize.id)]);
    let mut dead: Vec<(String, String)> = queue
        .dead_items(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|dead| (dead.item.id, dead.error))
        .collect();
    dead.sort();
    let mut expected = vec![
        (
            unknown.id,
            r#"unknown item type "fax"; this worker handles: email, resize"#.to_string(),
        ),
        (
            untyped.id,
            r#"item has no type (its data is not a JSON object with a string field "type"); this worker handles: email, resize"#
                .to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(dead, expected);
}

#[test]
fn an_items_type_is_the_string_field_type_of_its_json_object() {
    let typed = |data: &str| Item::new(data).type_name();
    assert_eq!(
        typed(r#"{"type": "email", "to": ["x"]}"#).as_deref(),
        Some("email")
    );
    assert_eq!(typed(r#"{"to": "x"}"#), None);
    assert_eq!(typed(r#"{"type": 3}"#), None);
    assert_eq!(typed(r#"["type", "email"]"#), None);
    assert_eq!(typed(r#"["email"]"#), None, "an array is not an object");
    assert_eq!(typed(r#" {"type": "email"} "#).as_deref(), Some("email"));
    assert_eq!(typed("email"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_releases_unfinished_items_at_once() {
    let queue = queue("shutdown").await;
    queue.add_item(&Item::with_id("long", "x")).await.unwrap();
    let handler = |_item: Item| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(())
    };
    let options = WorkerOptions {
        shutdown_timeout: Duration::from_millis(100),
        ..WorkerOptions::default()
    };
    let worker = Worker::new(&queue, handler, options).unwrap();
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    struct Record(Arc<Mutex<Vec<JobOutcome>>>);
    impl Hooks for Record {
        fn after(&self, _item: &Item, outcome: &JobOutcome) {
            self.0.lock().unwrap().push(outcome.clone());
        }
    }
    let worker = worker.with_hooks(Record(outcomes.clone()));
    let run = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    wait_until("leased", || worker.counters().in_flight == 1).await;
    let stopped_at = Instant::now();
    worker.stop();
    run.await.unwrap().unwrap();
    assert!(
        stopped_at.elapsed() < Duration::from_millis(500),
        "{:?}",
        stopped_at.elapsed()
    );
    assert_eq!(*outcomes.lock().unwrap(), vec![JobOutcome::Released]);
    assert_eq!(
        queue.queue_len().await.unwrap(),
        1,
        "back in the queue, not waiting for its lease"
    );
    let again = queue
        .lease(Duration::from_secs(5), false, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempts, 1, "a released lease is not counted");
}

#[test]
fn sigterm_stops_a_worker_that_asked_for_it() {
    // The README's worker (core/examples/worker.rs, built by `cargo test`) in a process of its
    // own: forking this multi-threaded test process instead could deadlock the child.
    let deps = std::env::current_exe().unwrap();
    let example = deps
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/worker");
    let mut child = std::process::Command::new(&example)
        .env("LEASEQ_REDIS_URL", common::redis_url())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", example.display()));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the worker runs until told to stop"
    );
    let started = Instant::now();
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(5) {
            child.kill().unwrap();
            panic!("the worker did not stop within 5 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bad_worker_options_are_invalid() {
    let queue = queue("badworker").await;
    for options in [
        WorkerOptions {
            concurrency: 0,
            ..WorkerOptions::default()
        },
        WorkerOptions {
            lease_duration: Duration::ZERO,
            ..WorkerOptions::default()
        },
        WorkerOptions {
            job_timeout: Some(Duration::ZERO),
            ..WorkerOptions::default()
        },
    ] {
        let err = Worker::new(&queue, |_item: Item| async { Ok(()) }, options)
            .err()
            .unwrap();
        assert_eq!(err.kind(), leaseq::ErrorKind::InvalidArgument);
    }
}
