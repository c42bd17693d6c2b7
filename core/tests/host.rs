//! The worker's host interface (`Worker::for_host`) and the worker policies every binding gets
//! from it: one run at a time, no item type given twice, jobs answered once, given-up jobs
//! cancelled, hooks in order.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leaseq::{
    Connection, ErrorKind, HostCall, HostHooks, Item, JobOutcome, QueueOptions, Router, WorkQueue,
    Worker, WorkerOptions,
};
use tokio::sync::mpsc;

async fn queue(name: &str) -> WorkQueue {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let options = QueueOptions {
        backoff_base: Duration::from_secs(60),
        backoff_max: Duration::from_secs(60),
        ..QueueOptions::default()
    };
    WorkQueue::with_options(&connection, &common::prefix(name), options).unwrap()
}

/// A host worker whose calls arrive on a channel, as a binding's host thread would see them.
fn host_worker(
    queue: &WorkQueue,
    routes: Option<Vec<String>>,
    hooks: HostHooks,
    options: WorkerOptions,
) -> (Worker, mpsc::UnboundedReceiver<HostCall>) {
    let (calls, received) = mpsc::unbounded_channel();
    let worker = Worker::for_host(queue, routes, hooks, options, move |call| {
        let _ = calls.send(call);
    })
    .unwrap();
    (worker, received)
}

async fn next_call(calls: &mut mpsc::UnboundedReceiver<HostCall>) -> HostCall {
    tokio::time::timeout(Duration::from_secs(10), calls.recv())
        .await
        .expect("no host call within 10 s")
        .expect("the worker dropped its dispatch")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_answers_each_job_once_and_hooks_come_in_order() {
    let queue = queue("host-answers").await;
    queue.add_item(&Item::new("ok")).await.unwrap();
    let hooks = HostHooks {
        before: true,
        after: true,
    };
    let (worker, mut calls) = host_worker(&queue, None, hooks, WorkerOptions::default());
    let run = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    let HostCall::Before { item } = next_call(&mut calls).await else {
        panic!("the before hook comes first");
    };
    assert_eq!(item.data, b"ok");
    let HostCall::Handle { job, route, item } = next_call(&mut calls).await else {
        panic!("then the handler");
    };
    assert_eq!((route, &item.data[..]), (0, &b"ok"[..]));
    assert!(worker.finish(job, Ok(())));
    assert!(!worker.finish(job, Ok(())), "a job is answered once");
    let HostCall::After { outcome, .. } = next_call(&mut calls).await else {
        panic!("then the after hook");
    };
    assert_eq!(outcome, JobOutcome::Completed(true));
    worker.stop();
    run.await.unwrap().unwrap();
    assert_eq!(worker.counters().completed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_past_its_timeout_is_cancelled_and_its_late_answer_ignored() {
    let queue = queue("host-timeout").await;
    let item = Item::new("slow");
    queue.add_item(&item).await.unwrap();
    let options = WorkerOptions {
        job_timeout: Some(Duration::from_millis(100)),
        ..WorkerOptions::default()
    };
    let (worker, mut calls) = host_worker(&queue, None, HostHooks::default(), options);
    let run = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    let HostCall::Handle { job, .. } = next_call(&mut calls).await else {
        panic!("a handle call");
    };
    let HostCall::Cancel { job: cancelled } = next_call(&mut calls).await else {
        panic!("the core gives up on the job after its timeout");
    };
    assert_eq!(cancelled, job);
    assert!(!worker.finish(job, Ok(())), "a late answer is ignored");
    worker.stop();
    run.await.unwrap().unwrap();
    assert_eq!(
        (worker.counters().failed, worker.counters().completed),
        (1, 0)
    );
    let info = queue.item_info(&item.id).await.unwrap();
    assert!(
        info.last_error
            .is_some_and(|error| error.contains("timed out")),
        "the item is failed with the timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_releases_a_running_job_and_cancels_it() {
    let queue = queue("host-stop").await;
    queue.add_item(&Item::new("long")).await.unwrap();
    let options = WorkerOptions {
        shutdown_timeout: Duration::from_millis(50),
        ..WorkerOptions::default()
    };
    let (worker, mut calls) = host_worker(&queue, None, HostHooks::default(), options);
    let run = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    let HostCall::Handle { job, .. } = next_call(&mut calls).await else {
        panic!("a handle call");
    };
    worker.stop();
    let HostCall::Cancel { job: cancelled } = next_call(&mut calls).await else {
        panic!("the stop gives up on the running job");
    };
    assert_eq!(cancelled, job);
    run.await.unwrap().unwrap();
    assert_eq!(
        queue.queue_len().await.unwrap(),
        1,
        "released back to the queue"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_are_picked_by_item_type_and_unknown_types_fail_in_the_core() {
    let queue = queue("host-routes").await;
    queue
        .add_items(&[
            Item::new(r#"{"type":"b"}"#),
            Item::new(r#"{"type":"nope"}"#),
        ])
        .await
        .unwrap();
    let routes = Some(vec!["a".to_owned(), "b".to_owned()]);
    let hooks = HostHooks {
        before: false,
        after: true,
    };
    let (worker, mut calls) = host_worker(&queue, routes, hooks, WorkerOptions::default());
    let run = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    let mut outcomes = Vec::new();
    while outcomes.len() < 2 {
        match next_call(&mut calls).await {
            HostCall::Handle { job, route, .. } => {
                assert_eq!(route, 1, "only the item of type b reaches a handler");
                assert!(worker.finish(job, Err("handled by b".into())));
            }
            HostCall::After { outcome, .. } => outcomes.push(outcome),
            other => panic!("unexpected {other:?}"),
        }
    }
    worker.stop();
    run.await.unwrap().unwrap();
    outcomes.sort_by_key(|outcome| format!("{outcome:?}"));
    assert_eq!(
        outcomes,
        vec![
            JobOutcome::Failed("handled by b".into()),
            JobOutcome::Failed("unknown item type \"nope\"; this worker handles: a, b".into()),
        ]
    );
}

#[tokio::test]
async fn item_types_given_twice_or_empty_or_none_are_refused() {
    let queue = queue("host-refused").await;
    let options = WorkerOptions::default;
    let refused = |routes: Vec<&str>| {
        let routes = Some(routes.into_iter().map(str::to_owned).collect());
        let made = Worker::for_host(&queue, routes, HostHooks::default(), options(), |_| {});
        made.err().expect("refused").kind()
    };
    assert_eq!(refused(vec!["a", "b", "a"]), ErrorKind::InvalidArgument);
    assert_eq!(refused(vec![""]), ErrorKind::InvalidArgument);
    assert_eq!(refused(vec![]), ErrorKind::InvalidArgument);
    // The Rust Router: the same check in Worker::new.
    let ok = |_item: Item| async { Ok(()) };
    let router = Router::new().route("a", ok).route("a", ok);
    let error = Worker::new(&queue, router, options())
        .err()
        .expect("refused");
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(error.message().contains("\"a\""), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_at_the_same_time_is_refused_and_a_later_one_allowed() {
    let queue = queue("host-run-once").await;
    let seen = Arc::new(Mutex::new(0));
    let handler = {
        let seen = seen.clone();
        move |_item: Item| {
            *seen.lock().unwrap() += 1;
            async { Ok(()) }
        }
    };
    let worker = Worker::new(&queue, handler, WorkerOptions::default()).unwrap();
    let first = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    let started = Instant::now();
    let second = loop {
        // The first run may not have started yet: its refusal of the second is what we wait for.
        tokio::time::sleep(Duration::from_millis(10)).await;
        let clone = worker.clone();
        let attempt = tokio::time::timeout(Duration::from_millis(50), clone.run(false)).await;
        if let Ok(result) = attempt {
            break result;
        }
        assert!(started.elapsed() < Duration::from_secs(10));
    };
    assert_eq!(second.unwrap_err().kind(), ErrorKind::InvalidArgument);
    worker.stop();
    first.await.unwrap().unwrap();
    // Once the first returned, the worker runs again (a stop before run returns at once).
    worker.stop();
    worker.run(false).await.unwrap();
}
