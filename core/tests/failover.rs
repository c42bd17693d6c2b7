//! A running Worker carries on by itself after a failover: a Cluster master killed (its replica
//! promoted), and the Sentinel master killed. Run under `scripts/with-servers.sh` (the last step
//! of `make test-servers`: these tests change the topology). Prints, per run: items, lost,
//! double-true completes, and how long the Worker took to complete items again after the kill.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leaseq::{Connection, Hooks, Item, JobOutcome, WorkQueue, Worker, WorkerOptions};

const ITEMS: usize = 2000;

fn env(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) => Some(value),
        Err(_) => {
            assert!(
                std::env::var("LEASEQ_REQUIRE_SERVERS").is_err(),
                "{var} is not set: run under scripts/with-servers.sh"
            );
            eprintln!("{var} is not set: skipped (run under scripts/with-servers.sh)");
            None
        }
    }
}

/// SIGKILLs the server whose directory (under the harness's) is `name`, and forgets its pid file.
fn kill_server(name: &str) {
    let dir = std::path::Path::new(&std::env::var("LEASEQ_SERVERS_DIR").unwrap()).join(name);
    let pid_file = dir.join("redis.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|err| panic!("{}: {err}", pid_file.display()))
        .trim()
        .parse()
        .unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill {pid}");
    std::fs::remove_file(&pid_file).unwrap();
}

fn raw(port: &str) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_connection()
        .unwrap()
}

/// The port of the Cluster master that owns `key`'s slot now.
fn cluster_master_of(key: &str) -> String {
    let ports = std::env::var("LEASEQ_CLUSTER_PORTS").unwrap();
    let first = ports.split(' ').next().unwrap();
    let mut connection = raw(first);
    let slot: i64 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query(&mut connection).unwrap();
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(&mut connection).unwrap();
    for line in nodes.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.len() < 9 || !fields[2].contains("master") || fields[2].contains("fail") {
            continue;
        }
        for range in &fields[8..] {
            let (start, end) = match range.split_once('-') {
                Some((a, b)) => (a.parse::<i64>(), b.parse::<i64>()),
                None => (range.parse::<i64>(), range.parse::<i64>()),
            };
            if let (Ok(start), Ok(end)) = (start, end) {
                if (start..=end).contains(&slot) {
                    let address = fields[1].split('@').next().unwrap();
                    return address.rsplit(':').next().unwrap().to_owned();
                }
            }
        }
    }
    panic!("no master owns slot {slot}:\n{nodes}");
}

/// Per id: how many of its completes returned true.
#[derive(Default, Clone)]
struct Tally(Arc<Mutex<HashMap<String, u32>>>);

impl Hooks for Tally {
    fn after(&self, item: &Item, outcome: &JobOutcome) {
        if *outcome == JobOutcome::Completed(true) {
            *self.0.lock().unwrap().entry(item.id.clone()).or_default() += 1;
        }
    }
}

impl Tally {
    fn done(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// Fills a queue, runs a Worker on it, calls `kill` once some items are done, and checks the
/// Worker completes items again within 10 s and every item within a minute.
async fn worker_survives(url: &str, name: &str, kill: impl FnOnce()) {
    let connection = Connection::open(url).await.unwrap();
    let queue = WorkQueue::new(&connection, name).unwrap();
    let items: Vec<Item> = (0..ITEMS).map(|i| Item::with_id(format!("i{i}"), "x")).collect();
    for batch in items.chunks(500) {
        queue.add_items(batch).await.unwrap();
    }
    // Let the replicas catch up before the kill: these adds are not what this test measures.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let tally = Tally::default();
    let worker = Worker::new(
        &queue,
        |_item: Item| async move {
            tokio::time::sleep(Duration::from_millis(2)).await;
            Ok(())
        },
        WorkerOptions {
            concurrency: 4,
            lease_duration: Duration::from_secs(3),
            clean_every: Some(Duration::from_secs(1)),
            ..Default::default()
        },
    )
    .unwrap()
    .with_hooks(tally.clone());
    let running = {
        let worker = worker.clone();
        tokio::spawn(async move { worker.run(false).await })
    };
    while tally.done() < ITEMS / 5 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = Instant::now();
    kill();
    let at_kill = tally.done();
    // The first completes after the kill may be ones in flight: wait for 50 more.
    let recovered = loop {
        if tally.done() >= at_kill + 50 {
            break killed.elapsed();
        }
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the Worker did not recover within 10 s ({} done)",
            tally.done()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    while tally.done() < ITEMS && killed.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.stop();
    running.await.unwrap().unwrap();
    let counts = tally.0.lock().unwrap().clone();
    let lost = ITEMS - counts.len();
    let double = counts.values().filter(|&&n| n > 1).count();
    println!(
        "failover {name}: {ITEMS} items, lost {lost}, double-true completes {double}, \
         Worker completing again {recovered:?} after the kill"
    );
    assert!(recovered < Duration::from_secs(10));
    assert_eq!(lost, 0, "items never completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_carries_on_after_a_cluster_master_dies() {
    let Some(url) = env("LEASEQ_CLUSTER_URL") else { return };
    let name = format!("{{{}}}", common::prefix("failover"));
    let port = cluster_master_of(&format!("{name}:queue"));
    worker_survives(&url, &name, || kill_server(&format!("cluster-{port}"))).await;
    assert_ne!(cluster_master_of(&format!("{name}:queue")), port, "a replica took over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_carries_on_after_the_sentinel_master_dies() {
    let Some(url) = env("LEASEQ_SENTINEL_URL") else { return };
    let data_ports = std::env::var("LEASEQ_SENTINEL_DATA_PORTS").unwrap();
    let sentinel_port = std::env::var("LEASEQ_SENTINEL_PORTS").unwrap();
    let sentinel_port = sentinel_port.split(' ').next().unwrap().to_owned();
    let master_port = || -> String {
        let (_, port): (String, String) = redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg("leaseq")
            .query(&mut raw(&sentinel_port))
            .unwrap();
        port
    };
    let before = master_port();
    let dir = if data_ports.split(' ').next() == Some(before.as_str()) {
        "sentinel-master"
    } else {
        "sentinel-replica"
    };
    worker_survives(&url, &common::prefix("failover"), || kill_server(dir)).await;
    assert_ne!(master_port(), before, "the Sentinels named a new master");
}
