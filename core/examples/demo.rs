//! The leaseq demo: producers, workers (one of which keeps "crashing"), and a cleaner sharing one
//! queue, then a check that every item was completed exactly once.
//!
//! Run it with `make demo` (it starts a throw-away Redis), or point it at your own:
//! `LEASEQ_REDIS_URL=redis://127.0.0.1:6379 cargo run --example demo`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leaseq::{Connection, Item, WorkQueue};

const PRODUCERS: usize = 2;
const ITEMS_PER_PRODUCER: usize = 5_000;
const WORKERS: usize = 4;
const LEASE: Duration = Duration::from_millis(500);

#[tokio::main]
async fn main() -> leaseq::Result<()> {
    let url = std::env::var("LEASEQ_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let connection = Connection::open(&url).await?;
    let name = format!("demo:{}", std::process::id());
    println!("leaseq demo on {url}, queue {name:?}");
    let started = Instant::now();

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let queue = WorkQueue::new(&connection, &name)?;
            Ok(tokio::spawn(async move {
                for batch in 0..ITEMS_PER_PRODUCER / 100 {
                    let items: Vec<Item> = (0..100)
                        .map(|i| Item::new(format!("job {producer}-{batch}-{i}")))
                        .collect();
                    queue.add_items(&items).await?;
                }
                Ok::<_, leaseq::Error>(())
            }))
        })
        .collect::<leaseq::Result<_>>()?;

    let completed = Arc::new(Mutex::new(HashSet::new()));
    let abandoned = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let queue = WorkQueue::new(&connection, &name)?;
            let completed = completed.clone();
            let abandoned = abandoned.clone();
            Ok(tokio::spawn(async move {
                let mut leased = 0u64;
                while let Some(item) = queue
                    .lease(LEASE, true, Some(Duration::from_secs(2)))
                    .await?
                {
                    leased += 1;
                    // Worker 0 "crashes" on every 50th item: it never completes it.
                    if worker == 0 && leased.is_multiple_of(50) {
                        abandoned.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    if queue.complete(&item).await? {
                        assert!(completed.lock().unwrap().insert(item.id), "completed twice");
                    }
                }
                Ok::<_, leaseq::Error>(leased)
            }))
        })
        .collect::<leaseq::Result<_>>()?;

    let cleaner_queue = WorkQueue::new(&connection, &name)?;
    let cleaner = tokio::spawn(async move {
        let mut requeued = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            requeued += cleaner_queue.light_clean().await?.requeued;
            let left = cleaner_queue.queue_len().await? + cleaner_queue.processing().await?;
            if left == 0 {
                return Ok::<_, leaseq::Error>((requeued, started.elapsed()));
            }
        }
    });

    for producer in producers {
        producer.await.expect("producer panicked")?;
    }
    let added = PRODUCERS * ITEMS_PER_PRODUCER;
    println!("added     {added} items from {PRODUCERS} producers");
    let (requeued, elapsed) = cleaner.await.expect("cleaner panicked")?;
    let mut leases = 0;
    for worker in workers {
        leases += worker.await.expect("worker panicked")?;
    }
    let completed = completed.lock().unwrap().len();
    println!("leased    {leases} times by {WORKERS} workers");
    println!(
        "abandoned {} leases (worker 0 'crashed' mid-job)",
        abandoned.load(Ordering::Relaxed)
    );
    println!("requeued  {requeued} expired leases (the cleaner)");
    println!("completed {completed} items, each exactly once");
    println!(
        "took      {:.2} s until the queue was empty ({:.0} items/s end to end)",
        elapsed.as_secs_f64(),
        added as f64 / elapsed.as_secs_f64()
    );
    let queue = WorkQueue::new(&connection, &name)?;
    let (waiting, processing) = (queue.queue_len().await?, queue.processing().await?);
    if completed == added && waiting == 0 && processing == 0 {
        println!("OK: nothing lost, nothing completed twice");
        Ok(())
    } else {
        Err(leaseq::Error::new(
            leaseq::ErrorKind::Internal,
            format!("demo failed: completed {completed} of {added}, {waiting} waiting, {processing} processing"),
        ))
    }
}
