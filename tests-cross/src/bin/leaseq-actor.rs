//! A leaseq producer, worker or cleaner for the cross-language run (Rust).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use leaseq::{AddOptions, Connection, Hooks, Item, JobOutcome, WorkQueue, Worker, WorkerOptions};
use leaseq_cross::{misbehaviour, Args, Log, Misbehaviour};

/// The runtime worker's `after` hook: logs `completed <id>` when its complete returned true.
struct LogCompleted(Arc<Mutex<Log>>);

impl Hooks for LogCompleted {
    fn after(&self, item: &Item, outcome: &JobOutcome) {
        if *outcome == JobOutcome::Completed(true) {
            self.0.lock().unwrap().line("completed", &item.id);
        }
    }
}

#[tokio::main]
async fn main() -> leaseq::Result<()> {
    let args = Args::parse();
    let connection = Connection::open(&args.get("url")).await?;
    let mut options = leaseq_cross::queue_options();
    // Only the cleaner mode's self-check sets it (0 shows what the grace protects against).
    let grace_ms = args.number("clean-grace-ms", -1.0);
    if grace_ms >= 0.0 {
        options.clean_grace = Duration::from_millis(grace_ms as u64);
    }
    // The durability option (the failover mode's WAIT on runs).
    options.wait_replicas = args.number("wait-replicas", 0.0) as u32;
    options.wait_timeout = Duration::from_millis(args.number("wait-timeout-ms", 1000.0) as u64);
    let queue = WorkQueue::with_options(&connection, &args.get("prefix"), options)?;
    let mut log = Log::open(&args.get("log"));
    let lease = Duration::from_millis(args.number("lease-ms", 1000.0) as u64);
    match args.role.as_str() {
        "producer" => {
            let id_prefix = args.get("id-prefix");
            let count = args.number("count", 0.0) as usize;
            for start in (0..count).step_by(50) {
                let items: Vec<Item> = (start..count.min(start + 50))
                    .map(|n| Item::with_id(format!("{id_prefix}-{n}"), format!("payload {n}")))
                    .collect();
                // Batches and single adds both get exercised.
                if start % 100 == 0 {
                    assert_eq!(queue.add_items(&items).await?, items.len() as u64);
                } else {
                    for item in &items {
                        assert!(queue.add_item(item).await?);
                    }
                }
                for item in &items {
                    log.line("added", &item.id);
                }
            }
            // Items that are not leasable for a while, and items no handler can ever finish.
            for n in 0..args.number("delayed", 0.0) as usize {
                let item =
                    Item::with_id(format!("{id_prefix}-delayed-{n}"), format!("delayed {n}"));
                let delay = Duration::from_millis(fastrand::u64(100..3000));
                let options = AddOptions {
                    delay: Some(delay),
                    ..AddOptions::default()
                };
                assert!(queue.add_item_with(&item, &options).await?);
                log.line("added", &item.id);
            }
            // At priority 1, which only leaseq workers see: a redis-work-queue worker cannot
            // fail an item, it could only hold it until its lease ran out, uncounted.
            let poison = AddOptions {
                priority: 1,
                ..AddOptions::default()
            };
            for n in 0..args.number("poison", 0.0) as usize {
                let item = Item::with_id(format!("{id_prefix}-poison-{n}"), leaseq_cross::POISON);
                assert!(queue.add_item_with(&item, &poison).await?);
                log.line("poison", &item.id);
            }
        }
        // Each worker process picks how it takes and finishes items, so the run checks all
        // three: one at a time (lease, complete), in batches (lease_many of 4, complete_many of
        // what it finished), or finishing each with complete_and_lease (the next item comes back
        // with the complete).
        "worker" => {
            let style = fastrand::u8(0..3);
            let mut hand: VecDeque<Item> = VecDeque::new();
            let mut finished: Vec<Item> = Vec::new();
            loop {
                if hand.is_empty() {
                    if !finished.is_empty() {
                        for item in &finished {
                            log.line("completing", &item.id);
                        }
                        let completed = queue.complete_many(&finished).await?;
                        for (item, completed) in finished.drain(..).zip(completed) {
                            if completed {
                                log.line("completed", &item.id);
                            }
                        }
                    }
                    let wait = Some(Duration::from_millis(500));
                    hand.extend(if style == 1 {
                        queue.lease_many(lease, 4, true, wait).await?
                    } else {
                        queue.lease(lease, true, wait).await?.into_iter().collect()
                    });
                    if hand.is_empty() {
                        continue;
                    }
                }
                let Some(item) = hand.pop_front() else {
                    continue;
                };
                log.line("delivered", &item.id);
                if item.data == leaseq_cross::POISON.as_bytes() {
                    queue
                        .fail(&item, "poison: this item kills every handler", None)
                        .await?;
                    continue;
                }
                match misbehaviour(&args) {
                    Misbehaviour::Fail => {
                        queue.fail(&item, "a flaky handler failed", None).await?;
                        continue;
                    }
                    Misbehaviour::SkipComplete => continue,
                    Misbehaviour::Crash => std::process::exit(3),
                    Misbehaviour::OutliveLease => tokio::time::sleep(lease + lease / 2).await,
                    Misbehaviour::None => {}
                }
                tokio::time::sleep(Duration::from_millis(args.number("work-ms", 0.0) as u64)).await;
                match style {
                    1 => finished.push(item),
                    2 => {
                        log.line("completing", &item.id);
                        let (completed, next) = queue.complete_and_lease(&item, lease, 1).await?;
                        if completed {
                            log.line("completed", &item.id);
                        }
                        hand.extend(next);
                    }
                    _ => {
                        log.line("completing", &item.id);
                        if queue.complete(&item).await? {
                            log.line("completed", &item.id);
                        }
                    }
                }
            }
        }
        // The failover mode's producer: batches of 50 with `--pause-ms` between them, so that
        // adds are still going on when the master is killed. A batch that fails (the master is
        // gone, or WAIT timed out) is sent again item by item, each until it goes through: an
        // item added then is logged `added`; one refused because the failed call had added it
        // is logged `unconfirmed` (that add was not acknowledged, so it may be lost).
        "paced-producer" => {
            let id_prefix = args.get("id-prefix");
            let count = args.number("count", 0.0) as usize;
            let pause = Duration::from_millis(args.number("pause-ms", 0.0) as u64);
            for start in (0..count).step_by(50) {
                let items: Vec<Item> = (start..count.min(start + 50))
                    .map(|n| Item::with_id(format!("{id_prefix}-{n}"), format!("payload {n}")))
                    .collect();
                if let Err(error) = queue.add_items(&items).await {
                    log.line("error", &format!("{:?}", error.kind()));
                    for item in &items {
                        let added = loop {
                            match queue.add_item(item).await {
                                Ok(added) => break added,
                                Err(error) => {
                                    log.line("error", &format!("{:?}", error.kind()));
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                }
                            }
                        };
                        log.line(if added { "added" } else { "unconfirmed" }, &item.id);
                    }
                } else {
                    for item in &items {
                        log.line("added", &item.id);
                    }
                }
                tokio::time::sleep(pause).await;
            }
        }
        // The failover mode's worker: the Worker runtime, which carries on by itself through a
        // failover. Its handler logs `delivered`, works `--work-ms`, logs `completing`.
        "runtime-worker" => {
            let log = Arc::new(Mutex::new(log));
            let work = Duration::from_millis(args.number("work-ms", 0.0) as u64);
            let handler = {
                let log = log.clone();
                move |item: Item| {
                    let log = log.clone();
                    async move {
                        log.lock().unwrap().line("delivered", &item.id);
                        tokio::time::sleep(work).await;
                        log.lock().unwrap().line("completing", &item.id);
                        Ok(())
                    }
                }
            };
            let options = WorkerOptions {
                concurrency: args.number("concurrency", 4.0) as usize,
                lease_duration: lease,
                clean_every: Some(Duration::from_secs(1)),
                ..WorkerOptions::default()
            };
            Worker::new(&queue, handler, options)?
                .with_hooks(LogCompleted(log))
                .run(true)
                .await?;
        }
        // One deep clean, printing how many items it requeued: the driver's last check.
        "deep-clean" => println!("{}", queue.deep_clean().await?.requeued),
        // A light (or with `--clean deep`, deep) clean every `--every-ms`; 0 is a tight loop.
        // Each call logs `light <requeued>` or `deep <requeued>`.
        "cleaner" => {
            let deep = args.get_or("clean", "light") == "deep";
            let every = Duration::from_millis(args.number("every-ms", 200.0) as u64);
            loop {
                let report = if deep {
                    queue.deep_clean().await?
                } else {
                    queue.light_clean().await?
                };
                let kind = if deep { "deep" } else { "light" };
                log.line(kind, &report.requeued.to_string());
                if !every.is_zero() {
                    tokio::time::sleep(every).await;
                }
            }
        }
        role => panic!("unknown role {role}"),
    }
    Ok(())
}
