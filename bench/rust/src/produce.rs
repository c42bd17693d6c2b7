//! Producing: filling a queue for the other workloads, timed produce, and memory per item.

use std::time::{Duration, Instant};

use leaseq::{Connection, WorkQueue};
use redis_work_queue as rwq;

use crate::args::Args;
use crate::common::{
    admin, deadline_after, emit, info_field, item, payload, rate_json, wait_for_start, BenchResult,
    IdStyle,
};

/// Items per `add_items` call when filling (not timed).
const FILL_BATCH: usize = 1000;

/// Adds `count` items with `add_items`, in batches of 1000.
pub async fn fill_queue(queue: &WorkQueue, count: u64, style: IdStyle) -> BenchResult<Duration> {
    let data = payload();
    let started = Instant::now();
    let mut left = count;
    while left > 0 {
        let batch: Vec<_> = (0..left.min(FILL_BATCH as u64))
            .map(|_| item(style, &data))
            .collect();
        queue.add_items(&batch).await?;
        left -= batch.len() as u64;
    }
    Ok(started.elapsed())
}

/// `fill`: queue `--count` items under `--queue` (leaseq's layout, which both `redis-work-queue`
/// packages read too).
pub async fn fill(args: &Args) -> BenchResult<()> {
    let connection = Connection::open(&args.required("url")?).await?;
    let queue = WorkQueue::new(&connection, &args.required("queue")?)?;
    let count = args.get("count", 100_000u64)?;
    let elapsed = fill_queue(
        &queue,
        count,
        IdStyle::parse(&args.string("id-style", "uuid"))?,
    )
    .await?;
    emit(rate_json(count, elapsed, false));
    Ok(())
}

/// `produce`: add items one at a time (`--mode single`) or `--batch` at a time (`--mode batch`)
/// for `--seconds`, with leaseq or (`--engine crate`) the crate `redis-work-queue`.
pub async fn produce(args: &Args) -> BenchResult<()> {
    let url = args.required("url")?;
    let name = args.required("queue")?;
    let batch_mode = match args.string("mode", "single").as_str() {
        "single" => false,
        "batch" => true,
        other => return Err(format!("unknown --mode {other:?}").into()),
    };
    let batch = if batch_mode {
        args.get("batch", 100usize)?
    } else {
        1
    };
    let seconds = args.get("seconds", 2.0f64)?;
    let data = payload();
    let style = IdStyle::Uuid;

    let (ops, elapsed) = match args.string("engine", "leaseq").as_str() {
        "leaseq" => {
            let connection = Connection::open(&url).await?;
            let queue = WorkQueue::new(&connection, &name)?;
            wait_for_start(args.get("start-at", 0.0)?).await;
            let deadline = deadline_after(seconds);
            let started = Instant::now();
            let mut ops = 0u64;
            while Instant::now() < deadline {
                if batch_mode {
                    let items: Vec<_> = (0..batch).map(|_| item(style, &data)).collect();
                    ops += queue.add_items(&items).await?;
                } else {
                    queue.add_item(&item(style, &data)).await?;
                    ops += 1;
                }
            }
            (ops, started.elapsed())
        }
        "crate" => {
            let mut db = redis026::Client::open(url.as_str())?
                .get_multiplexed_async_connection()
                .await?;
            let queue = rwq::WorkQueue::new(rwq::KeyPrefix::from(name.as_str()));
            wait_for_start(args.get("start-at", 0.0)?).await;
            let deadline = deadline_after(seconds);
            let started = Instant::now();
            let mut ops = 0u64;
            while Instant::now() < deadline {
                if batch_mode {
                    // The crate's batched form: its commands for many items in one pipeline.
                    let mut pipeline = redis026::pipe();
                    for _ in 0..batch {
                        let item = rwq::Item::new(data.clone().into_boxed_slice());
                        queue.add_unique_item_to_pipeline(&mut pipeline, &item);
                    }
                    let () = pipeline.query_async(&mut db).await?;
                    ops += batch as u64;
                } else {
                    let item = rwq::Item::new(data.clone().into_boxed_slice());
                    queue.add_item(&mut db, &item).await?;
                    ops += 1;
                }
            }
            (ops, started.elapsed())
        }
        other => return Err(format!("unknown --engine {other:?}").into()),
    };
    emit(rate_json(ops, elapsed, false));
    Ok(())
}

/// `memory`: Redis `used_memory` growth per queued item: the marginal cost of `--count` more
/// items once 1000 are queued (so one-time costs, such as a script's cached body, do not count),
/// measured with the filling connection closed (a 1000-item batch is ~150 kB of query buffer).
pub async fn memory(args: &Args) -> BenchResult<()> {
    let url = args.required("url")?;
    let name = args.required("queue")?;
    let count = args.get("count", 100_000u64)?;
    let style = IdStyle::parse(&args.string("id-style", "uuid"))?;
    let mut info = admin(&url).await?;
    add_on_a_connection_of_its_own(&url, &name, 1000, style).await?;
    let before = info_field(&mut info, "memory", "used_memory").await?;
    add_on_a_connection_of_its_own(&url, &name, count, style).await?;
    let after = info_field(&mut info, "memory", "used_memory").await?;
    emit(serde_json::json!({
        "items": count,
        "used_memory_delta": after - before,
        "bytes_per_item": (after - before) as f64 / count as f64,
    }));
    Ok(())
}

async fn add_on_a_connection_of_its_own(
    url: &str,
    name: &str,
    count: u64,
    style: IdStyle,
) -> BenchResult<()> {
    let connection = Connection::open(url).await?;
    fill_queue(&WorkQueue::new(&connection, name)?, count, style).await?;
    connection.close();
    drop(connection);
    // Let Redis free the closed client before anyone reads used_memory.
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}
