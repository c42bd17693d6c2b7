//! Latency: of one `lease` and one `complete`, and how soon a blocked lease wakes after an add.

use std::time::{Duration, Instant};

use leaseq::{Connection, WorkQueue};
use tokio::sync::mpsc;

use crate::args::Args;
use crate::common::{
    admin, deadline_after, emit, info_field, item, latency_json, micros, payload, BenchResult,
    IdStyle, LEASE,
};
use crate::produce::fill_queue;

/// `latency`: after queueing `--prefill` items, one task times each lease and each complete for
/// `--seconds` (or until the queue is empty).
pub async fn latency(args: &Args) -> BenchResult<()> {
    let connection = Connection::open(&args.required("url")?).await?;
    let queue = WorkQueue::new(&connection, &args.required("queue")?)?;
    fill_queue(&queue, args.get("prefill", 50_000u64)?, IdStyle::Uuid).await?;
    let deadline = deadline_after(args.get("seconds", 2.0f64)?);
    let (mut lease_us, mut complete_us) = (Vec::new(), Vec::new());
    while Instant::now() < deadline {
        let started = Instant::now();
        let Some(item) = queue.lease(LEASE, false, None).await? else {
            break;
        };
        let leased = Instant::now();
        queue.complete(&item).await?;
        lease_us.push(micros(leased - started));
        complete_us.push(micros(leased.elapsed()));
    }
    emit(serde_json::json!({
        "lease": latency_json(lease_us),
        "complete": latency_json(complete_us),
    }));
    Ok(())
}

/// `wakeup`: a worker waits in a blocking lease on one connection; once Redis reports it blocked,
/// `add_item` on another connection; the delay is from just before that add is sent until the
/// worker's lease returns the item. Repeated for `--seconds` (at most `--samples` times).
pub async fn wakeup(args: &Args) -> BenchResult<()> {
    let url = args.required("url")?;
    let name = args.required("queue")?;
    let max_samples = args.get("samples", 2000usize)?;
    let worker_connection = Connection::open(&url).await?;
    let producer_connection = Connection::open(&url).await?;
    let worker = WorkQueue::new(&worker_connection, &name)?;
    let producer = WorkQueue::new(&producer_connection, &name)?;
    let mut info = admin(&url).await?;
    let baseline_blocked = info_field(&mut info, "clients", "blocked_clients").await?;

    let (leased_tx, mut leased_rx) = mpsc::channel::<Instant>(1);
    let worker_task = tokio::spawn(async move {
        while let Some(item) = worker
            .lease(LEASE, true, Some(Duration::from_secs(10)))
            .await?
        {
            let leased = Instant::now();
            worker.complete(&item).await?;
            if leased_tx.send(leased).await.is_err() {
                break;
            }
        }
        BenchResult::Ok(())
    });

    let data = payload();
    let deadline = deadline_after(args.get("seconds", 2.0f64)?);
    let (mut delays_us, mut add_us) = (Vec::new(), Vec::new());
    // How many connections a waiting lease blocks in Redis (leaseq may wait on more than one):
    // learned once, after the first wait has settled.
    let mut waiting_level = None;
    while Instant::now() < deadline && delays_us.len() < max_samples {
        // Only add once the worker really waits in Redis (its BLMOVEs are blocked).
        let level = match waiting_level {
            Some(level) => level,
            None => {
                while info_field(&mut info, "clients", "blocked_clients").await? <= baseline_blocked
                {
                    tokio::time::sleep(Duration::from_micros(50)).await;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                let level = info_field(&mut info, "clients", "blocked_clients").await?;
                waiting_level = Some(level);
                level
            }
        };
        while info_field(&mut info, "clients", "blocked_clients").await? < level {
            tokio::time::sleep(Duration::from_micros(50)).await;
        }
        let next = item(IdStyle::Uuid, &data);
        let sent = Instant::now();
        producer.add_item(&next).await?;
        add_us.push(micros(sent.elapsed()));
        let leased = leased_rx.recv().await.ok_or("the worker stopped")?;
        delays_us.push(micros(leased - sent));
    }
    drop(leased_rx);
    // The worker is blocked in a lease: one more item lets it see the closed channel.
    producer.add_item(&item(IdStyle::Uuid, &data)).await?;
    worker_task.await??;
    emit(serde_json::json!({
        "wakeup": latency_json(delays_us),
        "add": latency_json(add_us),
        "blocked_connections_per_wait": waiting_level.unwrap_or(0) - baseline_blocked,
    }));
    Ok(())
}
