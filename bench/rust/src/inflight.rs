//! `complete-inflight`: the Redis time of one `complete` while many other items are leased.
//! A complete that searched the whole processing list would cost O(items in flight); the target
//! is that 10,000 or 100,000 leased items cost about what 10 do.

use crate::args::Args;
use crate::common::{admin, emit, BenchResult, IdStyle, LEASE};
use crate::produce::fill_queue;
use leaseq::{Connection, WorkQueue};

/// Leases `--leased` items (plus the `--completes` that are timed), then completes the timed
/// ones, oldest lease first (as a worker pool finishes them), and reports the Redis time per
/// complete from `INFO commandstats` (`usec_per_call` of EVALSHA, reset just before).
pub async fn complete_inflight(args: &Args) -> BenchResult<()> {
    let url = args.required("url")?;
    let connection = Connection::open(&url).await?;
    let queue = WorkQueue::new(&connection, &args.required("queue")?)?;
    let in_flight = args.get("leased", 10u64)?;
    let timed = args.get("completes", 1000u64)?;
    fill_queue(&queue, in_flight + timed, IdStyle::Uuid).await?;
    // The timed items are leased first, so the rest are leased after them (nearer the head).
    let mut first = Vec::with_capacity(timed as usize);
    for _ in 0..timed {
        first.extend(queue.lease(LEASE, false, None).await?);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..16 {
        let queue = queue.clone();
        let share = in_flight / 16 + u64::from(task < in_flight % 16);
        tasks.spawn(async move {
            for _ in 0..share {
                queue.lease(LEASE, false, None).await?;
            }
            leaseq::Result::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let mut admin = admin(&url).await?;
    let () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut admin)
        .await?;
    for item in &first {
        queue.complete(item).await?;
    }
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut admin)
        .await?;
    let per_call = stats
        .lines()
        .find_map(|line| line.strip_prefix("cmdstat_evalsha:"))
        .and_then(|fields| {
            fields
                .split(',')
                .find_map(|f| f.strip_prefix("usec_per_call="))
        })
        .ok_or("INFO commandstats has no evalsha")?
        .parse::<f64>()?;
    emit(
        serde_json::json!({"leased": in_flight, "completes": first.len(), "redis_us_per_complete": per_call}),
    );
    Ok(())
}
