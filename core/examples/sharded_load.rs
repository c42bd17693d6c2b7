//! Measures a sharded queue on the 3+3 Cluster against an unsharded one (`make bench-sharded`):
//! each master's share of the queue's Redis commands, the blocking lease's wake-up latency, and
//! throughput. Prints a table; not a test (the figures depend on the machine).
//!
//! Run under `scripts/with-servers.sh` (it sets LEASEQ_CLUSTER_URL and LEASEQ_CLUSTER_PORTS).
//! LEASEQ_BENCH_JOBS (default 20000), LEASEQ_BENCH_WORKERS (8), LEASEQ_BENCH_ROUNDS (5),
//! LEASEQ_BENCH_WAKES (500) change the size.
//!
//! - Load: 2 producers add the jobs in batches of 50 while the workers lease (blocking) and
//!   complete them; jobs/s is jobs over the time until the last complete.
//! - Per-master share: `INFO commandstats` on every master before and after a run, without
//!   `info`, `replconf` and `cluster|…` (ours, replication's and the cluster clients' slot maps,
//!   not the queue's work): each master's share of all commands (those the scripts run included,
//!   as Redis counts them), of script runs (`evalsha`: leaseq's operations) and of the
//!   microseconds spent in commands (its CPU for the queue).
//!   "busiest" is the busiest master's command time per job: what limits the queue once each
//!   master has a core of its own.
//! - Wake-up: one worker blocks on an empty queue; an item is added every 15 ms; the time from
//!   the start of the add to the lease returning it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use leaseq::{Connection, Item, QueueOptions, ShardedQueue, WorkQueue};

const SHARDS: usize = 3;
const BATCH: usize = 50;
const PRODUCERS: usize = 2;
const LEASE: Duration = Duration::from_secs(60);

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The queue under test, sharded or not, behind the operations the load needs.
#[derive(Clone)]
enum Queue {
    Plain(WorkQueue),
    Sharded(ShardedQueue),
}

impl Queue {
    async fn add_items(&self, items: &[Item]) -> leaseq::Result<u64> {
        match self {
            Queue::Plain(queue) => queue.add_items(items).await,
            Queue::Sharded(queue) => queue.add_items(items).await,
        }
    }

    async fn add_item(&self, item: &Item) -> leaseq::Result<bool> {
        match self {
            Queue::Plain(queue) => queue.add_item(item).await,
            Queue::Sharded(queue) => queue.add_item(item).await,
        }
    }

    async fn lease(&self, timeout: Duration) -> leaseq::Result<Option<Item>> {
        match self {
            Queue::Plain(queue) => queue.lease(LEASE, true, Some(timeout)).await,
            Queue::Sharded(queue) => queue.lease(LEASE, true, Some(timeout)).await,
        }
    }

    async fn complete(&self, item: &Item) -> leaseq::Result<bool> {
        match self {
            Queue::Plain(queue) => queue.complete(item).await,
            Queue::Sharded(queue) => queue.complete(item).await,
        }
    }
}

/// The masters of the Cluster, by port, from `ROLE` on every node.
fn masters(ports: &[u16]) -> Vec<u16> {
    ports
        .iter()
        .copied()
        .filter(|port| {
            let mut node = node(*port);
            let role: Vec<redis::Value> = redis::cmd("ROLE").query(&mut node).expect("ROLE");
            matches!(role.first(), Some(value) if redis::from_redis_value::<String>(value.clone()).ok().as_deref() == Some("master"))
        })
        .collect()
}

fn node(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .and_then(|client| client.get_connection())
        .unwrap_or_else(|err| panic!("cannot reach node {port}: {err}"))
}

/// One node's command counters (`INFO commandstats`), without ours, replication's and the
/// cluster clients' own (`info`, `replconf`, `cluster|…`).
#[derive(Clone, Copy, Default)]
struct Counters {
    /// Every command, those the scripts run included (Redis counts both).
    commands: u64,
    /// Script runs (`evalsha`, `eval`): the operations leaseq sends.
    scripts: u64,
    /// Microseconds spent in those commands: the node's CPU for the queue.
    usec: u64,
}

fn counters(port: u16) -> Counters {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut node(port))
        .expect("INFO commandstats");
    let mut counters = Counters::default();
    for line in info.lines() {
        let Some((name, fields)) = line
            .strip_prefix("cmdstat_")
            .and_then(|rest| rest.split_once(':'))
        else {
            continue;
        };
        if name == "info" || name == "replconf" || name.starts_with("cluster") {
            continue;
        }
        let field = |wanted: &str| -> u64 {
            fields
                .split(',')
                .find_map(|field| field.strip_prefix(wanted))
                .and_then(|value| value.parse().ok())
                .unwrap_or(0)
        };
        let calls = field("calls=");
        counters.commands += calls;
        counters.usec += field("usec=");
        if name == "evalsha" || name == "eval" {
            counters.scripts += calls;
        }
    }
    counters
}

/// One load run: jobs per second, and each master's counters over the run.
async fn load(queue: Queue, jobs: usize, workers: usize, masters: &[u16]) -> (f64, Vec<Counters>) {
    let before: Vec<Counters> = masters.iter().map(|&port| counters(port)).collect();
    let completed = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let worker_tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (queue, completed, done) = (queue.clone(), completed.clone(), done.clone());
            tokio::spawn(async move {
                while !done.load(Ordering::Acquire) {
                    let Some(item) = queue
                        .lease(Duration::from_millis(200))
                        .await
                        .expect("lease")
                    else {
                        continue;
                    };
                    assert!(queue.complete(&item).await.expect("complete"));
                    if completed.fetch_add(1, Ordering::AcqRel) + 1 == jobs {
                        done.store(true, Ordering::Release);
                    }
                }
            })
        })
        .collect();
    let producer_tasks: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let queue = queue.clone();
            let share = jobs / PRODUCERS + usize::from(producer < jobs % PRODUCERS);
            tokio::spawn(async move {
                let items: Vec<Item> = (0..share).map(|n| Item::new(format!("job {n}"))).collect();
                for batch in items.chunks(BATCH) {
                    queue.add_items(batch).await.expect("add_items");
                }
            })
        })
        .collect();
    for task in producer_tasks {
        task.await.expect("producer");
    }
    let mut finished = None;
    while finished.is_none() {
        if done.load(Ordering::Acquire) {
            finished = Some(started.elapsed());
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    for task in worker_tasks {
        task.await.expect("worker");
    }
    let after = masters.iter().map(|&port| counters(port));
    let per_master = after
        .zip(&before)
        .map(|(after, before)| Counters {
            commands: after.commands - before.commands,
            scripts: after.scripts - before.scripts,
            usec: after.usec - before.usec,
        })
        .collect();
    let elapsed = finished.unwrap_or_default().as_secs_f64();
    (jobs as f64 / elapsed, per_master)
}

/// Wake-up latencies: one blocked worker, one add at a time.
async fn wake_ups(queue: Queue, samples: usize) -> Vec<Duration> {
    let (woke_tx, mut woke_rx) = tokio::sync::mpsc::unbounded_channel();
    let worker = {
        let queue = queue.clone();
        tokio::spawn(async move {
            for _ in 0..samples {
                let item = queue.lease(Duration::from_secs(10)).await.expect("lease");
                let woke = Instant::now();
                let item = item.expect("an item within 10 s");
                queue.complete(&item).await.expect("complete");
                woke_tx.send(woke).expect("send");
            }
        })
    };
    let mut latencies = Vec::with_capacity(samples);
    for n in 0..samples {
        // Time for the worker to complete the last one and block again on every shard.
        tokio::time::sleep(Duration::from_millis(15)).await;
        let added = Instant::now();
        queue
            .add_item(&Item::new(format!("wake {n}")))
            .await
            .expect("add");
        let woke = woke_rx.recv().await.expect("the worker woke");
        latencies.push(woke.duration_since(added));
    }
    worker.await.expect("worker");
    latencies.sort();
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// The middle value (the upper of the two middle ones for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percents(shares: &[f64]) -> String {
    shares
        .iter()
        .map(|share| format!("{:>5.1}%", share * 100.0))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shares(calls: &[u64]) -> Vec<f64> {
    let total: u64 = calls.iter().sum();
    calls
        .iter()
        .map(|&c| c as f64 / total.max(1) as f64)
        .collect()
}

fn main() {
    let url = std::env::var("LEASEQ_CLUSTER_URL")
        .expect("LEASEQ_CLUSTER_URL is not set: run under scripts/with-servers.sh");
    let ports: Vec<u16> = std::env::var("LEASEQ_CLUSTER_PORTS")
        .expect("LEASEQ_CLUSTER_PORTS is not set: run under scripts/with-servers.sh")
        .split_whitespace()
        .map(|port| port.parse().expect("a port"))
        .collect();
    let jobs = env_number("LEASEQ_BENCH_JOBS", 20_000);
    let workers = env_number("LEASEQ_BENCH_WORKERS", 8);
    let rounds = env_number("LEASEQ_BENCH_ROUNDS", 5).max(1);
    let wakes = env_number("LEASEQ_BENCH_WAKES", 500);
    let masters = masters(&ports);
    assert_eq!(masters.len(), 3, "expected a Cluster of 3 masters");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let connection = Connection::open(&url).await.expect("open the Cluster");
        let run_id = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let plain_name = format!("{{bench-plain-{run_id}}}");
        let sharded_name = format!("bench-sharded-{run_id}");
        let plain = Queue::Plain(WorkQueue::new(&connection, &plain_name).expect("plain queue"));
        let sharded =
            ShardedQueue::new(&connection, &sharded_name, SHARDS, QueueOptions::default())
                .expect("sharded queue");
        println!(
            "sharded queue `{sharded_name}` over {SHARDS} shards {:?}; unsharded `{plain_name}`",
            sharded
                .shards()
                .iter()
                .map(WorkQueue::name)
                .collect::<Vec<_>>()
        );
        let sharded = Queue::Sharded(sharded);

        // Warm-up: connections, scripts, blocking-connection pools.
        load(plain.clone(), 500, workers, &masters).await;
        load(sharded.clone(), 500, workers, &masters).await;

        println!(
            "\nload: {jobs} jobs, {PRODUCERS} producers (add_items, batches of {BATCH}), \
             {workers} workers (blocking lease + complete), {rounds} rounds each, alternating"
        );
        let ports: Vec<String> = masters.iter().map(|port| format!(":{port}")).collect();
        println!(
            "{:<22} {:>7} {:>9} {:>8} {:>9}   share per master ({}) of: commands | script runs | \
             command CPU",
            "queue",
            "jobs/s",
            "cmds/job",
            "µs/job",
            "busiest",
            ports.join(" ")
        );
        let (mut plain_rates, mut sharded_rates) = (Vec::new(), Vec::new());
        let (mut plain_busiest, mut sharded_busiest) = (Vec::new(), Vec::new());
        let mut worst_share = 0f64;
        for round in 1..=rounds {
            for (label, queue) in [("unsharded", &plain), ("sharded x3", &sharded)] {
                let (rate, per_master) = load(queue.clone(), jobs, workers, &masters).await;
                let commands: Vec<u64> = per_master.iter().map(|c| c.commands).collect();
                let scripts: Vec<u64> = per_master.iter().map(|c| c.scripts).collect();
                let usec: Vec<u64> = per_master.iter().map(|c| c.usec).collect();
                // Microseconds of command time per job: over all masters, and on the busiest.
                let usec_per_job = usec.iter().sum::<u64>() as f64 / jobs as f64;
                let busiest = usec.iter().copied().max().unwrap_or(0) as f64 / jobs as f64;
                println!(
                    "{:<22} {:>7.0} {:>9.1} {:>8.1} {:>9.1}   {} | {} | {}",
                    format!("{label} (round {round})"),
                    rate,
                    commands.iter().sum::<u64>() as f64 / jobs as f64,
                    usec_per_job,
                    busiest,
                    percents(&shares(&commands)),
                    percents(&shares(&scripts)),
                    percents(&shares(&usec)),
                );
                if label == "unsharded" {
                    plain_rates.push(rate);
                    plain_busiest.push(busiest);
                } else {
                    sharded_rates.push(rate);
                    sharded_busiest.push(busiest);
                    let third = 1.0 / 3.0;
                    for share in shares(&commands).into_iter().chain(shares(&scripts)) {
                        worst_share = worst_share.max((share - third).abs() / third);
                    }
                }
            }
        }

        println!("\nwake-up: add -> blocked lease returns it, {wakes} samples, one worker");
        println!(
            "{:<22} {:>10} {:>10} {:>10} {:>10}",
            "queue", "p50", "p90", "p99", "max"
        );
        let mut sharded_p99 = Duration::ZERO;
        for (label, queue) in [("unsharded", &plain), ("sharded x3", &sharded)] {
            let latencies = wake_ups(queue.clone(), wakes).await;
            let p99 = percentile(&latencies, 99.0);
            println!(
                "{:<22} {:>10} {:>10} {:>10} {:>10}",
                label,
                ms(percentile(&latencies, 50.0)),
                ms(percentile(&latencies, 90.0)),
                ms(p99),
                ms(latencies[latencies.len() - 1])
            );
            if label != "unsharded" {
                sharded_p99 = p99;
            }
        }

        let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
        println!("\ntargets");
        println!(
            "  each master's share of commands and of script runs within ±10% of a third: \
             worst {:.1}% off -> {}",
            worst_share * 100.0,
            verdict(worst_share <= 0.10)
        );
        println!(
            "  blocking wake-up p99 < 10 ms: {} -> {}",
            ms(sharded_p99),
            verdict(sharded_p99 < Duration::from_millis(10))
        );
        let (plain_rate, sharded_rate) = (median(&mut plain_rates), median(&mut sharded_rates));
        println!(
            "  throughput >= unsharded (median of {rounds} rounds each): {sharded_rate:.0} vs \
             {plain_rate:.0} jobs/s ({:+.1}%) -> {}",
            (sharded_rate / plain_rate - 1.0) * 100.0,
            verdict(sharded_rate >= plain_rate)
        );
        let (plain_busiest, sharded_busiest) =
            (median(&mut plain_busiest), median(&mut sharded_busiest));
        println!(
            "  per-node load (median): the busiest master spends {sharded_busiest:.1} µs of \
             command time per job sharded, {plain_busiest:.1} µs unsharded: with a core per \
             master, it saturates at about {:.0} vs {:.0} jobs/s ({:.1}x)",
            1e6 / sharded_busiest,
            1e6 / plain_busiest,
            plain_busiest / sharded_busiest
        );
        println!(
            "  (jobs/s here is wall time on a shared 2-core machine, where the 6 servers and \
             this client share the cores: it cannot show the scale-out, and varies from run to run)"
        );
    });
}
