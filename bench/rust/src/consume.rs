//! Consuming: lease+complete loops for leaseq and the crate `redis-work-queue`, and the two
//! halves of the end-to-end workload.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leaseq::{Connection, WorkQueue};
use redis_work_queue as rwq;
use tokio::task::JoinSet;

use crate::args::Args;
use crate::common::{
    deadline_after, emit, item, payload, rate_json, unix_ms, wait_for_start, BenchResult, IdStyle,
    LEASE,
};
use crate::produce::fill_queue;

/// What one task of a consume loop did.
struct TaskResult {
    ops: u64,
    drained: bool,
    finished: Instant,
}

/// `consume`: `--tasks` concurrent lease+complete loops sharing one connection, for `--seconds`
/// or until the queue is empty, with leaseq or (`--engine crate`) the crate `redis-work-queue`.
/// `--prefill N` first queues N items (not timed).
pub async fn consume(args: &Args) -> BenchResult<()> {
    let url = args.required("url")?;
    let name = args.required("queue")?;
    let tasks = args.get("tasks", 1usize)?;
    let seconds = args.get("seconds", 2.0f64)?;
    let prefill = args.get("prefill", 0u64)?;

    let connection = Connection::open(&url).await?;
    let queue = WorkQueue::new(&connection, &name)?;
    if prefill > 0 {
        fill_queue(&queue, prefill, IdStyle::Uuid).await?;
    }
    let mut set = JoinSet::new();
    let started = match args.string("engine", "leaseq").as_str() {
        "leaseq" => {
            wait_for_start(args.get("start-at", 0.0)?).await;
            let started = Instant::now();
            let deadline = deadline_after(seconds);
            for _ in 0..tasks {
                let queue = queue.clone();
                set.spawn(async move { leaseq_loop(queue, deadline).await });
            }
            started
        }
        "leaseq-batch" => {
            let batch = args.get("batch", 16usize)?;
            wait_for_start(args.get("start-at", 0.0)?).await;
            let started = Instant::now();
            let deadline = deadline_after(seconds);
            for _ in 0..tasks {
                let queue = queue.clone();
                set.spawn(async move { batch_loop(queue, batch, deadline).await });
            }
            started
        }
        "crate" => {
            // One multiplexed connection, cloned into every task: all share one socket.
            let shared = redis026::Client::open(url.as_str())?
                .get_multiplexed_async_connection()
                .await?;
            let peer = Arc::new(rwq::WorkQueue::new(rwq::KeyPrefix::from(name.as_str())));
            wait_for_start(args.get("start-at", 0.0)?).await;
            let started = Instant::now();
            let deadline = deadline_after(seconds);
            for _ in 0..tasks {
                let (peer, db) = (peer.clone(), shared.clone());
                set.spawn(async move { crate_loop(peer, db, deadline).await });
            }
            started
        }
        other => return Err(format!("unknown --engine {other:?}").into()),
    };
    let (mut ops, mut drained, mut finished) = (0, false, started);
    while let Some(result) = set.join_next().await {
        let result = result??;
        ops += result.ops;
        drained |= result.drained;
        finished = finished.max(result.finished);
    }
    emit(rate_json(ops, finished - started, drained));
    Ok(())
}

async fn leaseq_loop(queue: WorkQueue, deadline: Instant) -> BenchResult<TaskResult> {
    let mut ops = 0;
    let mut drained = false;
    while Instant::now() < deadline {
        let Some(item) = queue.lease(LEASE, false, None).await? else {
            drained = true;
            break;
        };
        if !queue.complete(&item).await? {
            return Err(format!("complete({}) returned false", item.id).into());
        }
        ops += 1;
    }
    Ok(TaskResult {
        ops,
        drained,
        finished: Instant::now(),
    })
}

/// lease_many + complete_many of `batch` items per round trip each.
async fn batch_loop(queue: WorkQueue, batch: usize, deadline: Instant) -> BenchResult<TaskResult> {
    let mut ops = 0;
    let mut drained = false;
    while Instant::now() < deadline {
        let items = queue.lease_many(LEASE, batch, false, None).await?;
        if items.is_empty() {
            drained = true;
            break;
        }
        let completed = queue.complete_many(&items).await?;
        if let Some(index) = completed.iter().position(|done| !done) {
            return Err(format!("complete_many: {} returned false", items[index].id).into());
        }
        ops += items.len() as u64;
    }
    Ok(TaskResult {
        ops,
        drained,
        finished: Instant::now(),
    })
}

/// `worker`: the Rust `Worker` with a no-op handler at `--concurrency`, draining `--prefill`
/// items (or running `--seconds`): what users run, end to end.
pub async fn worker(args: &Args) -> BenchResult<()> {
    let url = args.required("url")?;
    let name = args.required("queue")?;
    let concurrency = args.get("concurrency", 16usize)?;
    let seconds = args.get("seconds", 2.0f64)?;
    let prefill = args.get("prefill", 0u64)?;
    let connection = Connection::open(&url).await?;
    let queue = WorkQueue::new(&connection, &name)?;
    if prefill > 0 {
        fill_queue(&queue, prefill, IdStyle::Uuid).await?;
    }
    let options = leaseq::WorkerOptions {
        concurrency,
        clean_every: None,
        ..leaseq::WorkerOptions::default()
    };
    let worker = leaseq::Worker::new(&queue, |_item| async { Ok(()) }, options)?;
    let started = Instant::now();
    let deadline = deadline_after(seconds);
    let run = tokio::spawn({
        let worker = worker.clone();
        async move { worker.run(false).await }
    });
    let mut drained = false;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
        if queue.queue_len().await? == 0 && worker.counters().in_flight == 0 {
            drained = true;
            break;
        }
    }
    let finished = Instant::now();
    worker.stop();
    run.await??;
    let counters = worker.counters();
    if counters.failed > 0 || counters.errors > 0 {
        return Err(format!("worker counters {counters:?}").into());
    }
    emit(rate_json(counters.completed, finished - started, drained));
    Ok(())
}

async fn crate_loop(
    peer: Arc<rwq::WorkQueue>,
    mut db: redis026::aio::MultiplexedConnection,
    deadline: Instant,
) -> BenchResult<TaskResult> {
    let mut ops = 0;
    let mut drained = false;
    while Instant::now() < deadline {
        // A zero timeout makes the crate lease with RPOPLPUSH instead of blocking.
        let Some(item) = peer.lease(&mut db, Some(Duration::ZERO), LEASE).await? else {
            drained = true;
            break;
        };
        if !peer.complete(&mut db, &item).await? {
            return Err(format!("complete({}) returned false", item.id).into());
        }
        ops += 1;
    }
    Ok(TaskResult {
        ops,
        drained,
        finished: Instant::now(),
    })
}

/// `e2e-producer`: adds `--count` items in batches of `--batch`, from `--start-at`.
pub async fn e2e_producer(args: &Args) -> BenchResult<()> {
    let connection = Connection::open(&args.required("url")?).await?;
    let queue = WorkQueue::new(&connection, &args.required("queue")?)?;
    let count = args.get("count", 100_000u64)?;
    let batch = args.get("batch", 100u64)?;
    let data = payload();
    wait_for_start(args.get("start-at", 0.0)?).await;
    let started = Instant::now();
    let mut left = count;
    while left > 0 {
        let items: Vec<_> = (0..left.min(batch))
            .map(|_| item(IdStyle::Uuid, &data))
            .collect();
        queue.add_items(&items).await?;
        left -= items.len() as u64;
    }
    let mut result = rate_json(count, started.elapsed(), false);
    result["end_ms"] = unix_ms().into();
    emit(result);
    Ok(())
}

/// `e2e-worker`: from `--start-at`, blocking lease+complete until no item came for `--idle-ms`.
/// Reports when its last completion happened, which is what the end-to-end time is made of.
pub async fn e2e_worker(args: &Args) -> BenchResult<()> {
    let connection = Connection::open(&args.required("url")?).await?;
    let queue = WorkQueue::new(&connection, &args.required("queue")?)?;
    let idle = Duration::from_millis(args.get("idle-ms", 500u64)?);
    let first_wait = Duration::from_millis(args.get("first-wait-ms", 5000u64)?);
    wait_for_start(args.get("start-at", 0.0)?).await;
    let mut ops = 0u64;
    let mut last_ms = unix_ms();
    let mut wait = first_wait;
    while let Some(item) = queue.lease(LEASE, true, Some(wait)).await? {
        if !queue.complete(&item).await? {
            return Err(format!("complete({}) returned false", item.id).into());
        }
        ops += 1;
        last_ms = unix_ms();
        wait = idle;
    }
    emit(serde_json::json!({ "ops": ops, "last_ms": last_ms }));
    Ok(())
}
