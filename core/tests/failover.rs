//! A running Worker carries on by itself after a failover: a Cluster master killed (its replica
//! promoted), and the Sentinel master killed; each twice, without and with the `wait_replicas`
//! durability option (the killed server is restarted in between and comes back as a replica).
//! Run under `scripts/with-servers.sh` (the last step of `make test-servers`: these tests change
//! the topology). Prints, per run: items, lost, double-true completes, and how long the Worker
//! took to complete items again after the kill (at most 10 s, WAIT on or off). The Sentinel
//! master has two replicas, so the one promoted still has a replica and a WAIT 1 can succeed
//! before the killed server is back. The cross-language version, 20,000 items and Workers in
//! three languages: `make test-failover-long` (tests-cross/driver.py, failover mode).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leaseq::{Connection, Hooks, Item, JobOutcome, QueueOptions, WorkQueue, Worker, WorkerOptions};

const ITEMS: usize = 2000;

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

/// Starts again the server `name` killed, as the harness started it (`extra`: its own arguments),
/// and waits until it is a replica with its link to the master up.
fn restart_server(name: &str, port: &str, extra: &[&str]) {
    let dir = std::path::Path::new(&std::env::var("LEASEQ_SERVERS_DIR").unwrap()).join(name);
    let status = std::process::Command::new("redis-server")
        .args([
            "--port",
            port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--daemonize", "yes", "--repl-diskless-sync-delay", "0"])
        .arg("--pidfile")
        .arg(dir.join("redis.pid"))
        .arg("--logfile")
        .arg(dir.join("redis.log"))
        .arg("--dir")
        .arg(&dir)
        .args(extra)
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    loop {
        let up = redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .and_then(|client| client.get_connection())
            .and_then(|mut c| {
                redis::cmd("INFO")
                    .arg("replication")
                    .query::<String>(&mut c)
            })
            .map(|info| info.contains("master_link_status:up"))
            .unwrap_or(false);
        if up {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name} did not come back as a replica"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

const CLUSTER_ARGS: &[&str] = &[
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    "nodes.conf",
    "--cluster-node-timeout",
    "1000",
    "--cluster-replica-validity-factor",
    "0",
];

fn raw(port: &str) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_connection()
        .unwrap()
}

/// The port of the Cluster master that owns `key`'s slot now (waiting out a failover).
fn cluster_master_of(key: &str) -> String {
    let started = Instant::now();
    loop {
        if let Some(port) = cluster_master_now(key) {
            return port;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no master owns {key}'s slot"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asks the first node that answers (the killed one does not, nor a restarted one still loading).
fn cluster_master_now(key: &str) -> Option<String> {
    let ports = std::env::var("LEASEQ_CLUSTER_PORTS").unwrap();
    let asked = ports.split(' ').find_map(|port| {
        let mut connection = redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .ok()?
            .get_connection()
            .ok()?;
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query(&mut connection)
            .ok()?;
        let nodes: String = redis::cmd("CLUSTER")
            .arg("NODES")
            .query(&mut connection)
            .ok()?;
        Some((slot, nodes))
    });
    let (slot, nodes) = asked?;
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
                    return Some(address.rsplit(':').next().unwrap().to_owned());
                }
            }
        }
    }
    None
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
/// `failover` kills the master, waits for a new one, and restarts the killed server (a replica
/// again); it runs on a thread of its own while the Worker works.
async fn worker_survives(
    url: &str,
    name: &str,
    wait: bool,
    failover: impl FnOnce() + Send + 'static,
) {
    let healed: Arc<Mutex<Option<Instant>>> = Arc::default();
    let connection = Connection::open(url).await.unwrap();
    let options = QueueOptions {
        wait_replicas: if wait { 1 } else { 0 },
        ..QueueOptions::default()
    };
    let queue = WorkQueue::with_options(&connection, name, options).unwrap();
    let items: Vec<Item> = (0..ITEMS)
        .map(|i| Item::with_id(format!("i{i}"), "x"))
        .collect();
    for batch in items.chunks(500) {
        queue.add_items(batch).await.unwrap();
    }
    // Let the replicas catch up before the kill: these adds are not what this test measures.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let tally = Tally::default();
    // Ids whose handler ran to success at least once.
    let handled: Arc<Mutex<std::collections::HashSet<String>>> = Arc::default();
    let handler = {
        let handled = handled.clone();
        move |item: Item| {
            let handled = handled.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                handled.lock().unwrap().insert(item.id);
                Ok(())
            }
        }
    };
    let worker = Worker::new(
        &queue,
        handler,
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
    let at_kill = tally.done();
    let failing_over = {
        let healed = healed.clone();
        tokio::task::spawn_blocking(move || {
            failover();
            *healed.lock().unwrap() = Some(Instant::now());
        })
    };
    // The first completes after the kill may be ones in flight: wait for 50 more. Counted from
    // the kill, WAIT on or off: the promoted Sentinel replica still has a replica (the topology
    // has two), and a Cluster's killed master is back as its replica within a few seconds.
    let recovered = loop {
        if tally.done() >= at_kill + 50 {
            break killed.elapsed();
        }
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the Worker did not recover within 10 s of the kill ({} done)",
            tally.done()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    while handled.lock().unwrap().len() < ITEMS && killed.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.stop();
    running.await.unwrap().unwrap();
    failing_over.await.unwrap();
    let counts = tally.0.lock().unwrap().clone();
    // Lost: an item that was never run to success (and is not waiting either).
    let handled = handled.lock().unwrap().len();
    let waiting = queue.queue_len().await.unwrap() + queue.processing().await.unwrap();
    let lost = ITEMS - handled;
    let double = counts.values().filter(|&&n| n > 1).count();
    // Completes that ran but could not be confirmed (a Timeout from WAIT, or the kill).
    let unconfirmed = handled - counts.len();
    let healed = healed.lock().unwrap().map(|at| at - killed);
    println!(
        "failover {name} (WAIT {}): {ITEMS} items, lost {lost}, double-true completes {double}, \
         completes without a confirmed true {unconfirmed}, still queued {waiting}, Worker completing again {recovered:?} after the kill (killed server back as a replica \
         after {healed:?})",
        if wait { "on" } else { "off" }
    );
    if wait {
        assert_eq!(
            (lost, double),
            (0, 0),
            "with WAIT on: lost, double-true completes"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_carries_on_after_a_cluster_master_dies() {
    let Some(url) = common::server_url("LEASEQ_CLUSTER_URL") else {
        return;
    };
    let name = format!("{{{}}}", common::prefix("failover"));
    for wait in [false, true] {
        let key = format!("{name}:queue");
        let port = cluster_master_of(&key);
        let failover = move || {
            let dir = format!("cluster-{port}");
            kill_server(&dir);
            let started = Instant::now();
            // Only once a replica took over may it come back (else it would serve its slots empty).
            while cluster_master_now(&key).is_none_or(|now| now == port) {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "no replica took over"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            restart_server(&dir, &port, CLUSTER_ARGS);
        };
        worker_survives(&url, &name, wait, failover).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_carries_on_after_the_sentinel_master_dies() {
    let Some(url) = common::server_url("LEASEQ_SENTINEL_URL") else {
        return;
    };
    // The harness's directories of the master and its two replicas, in the order of their ports.
    let data_ports = std::env::var("LEASEQ_SENTINEL_DATA_PORTS").unwrap();
    let data_dirs = ["sentinel-master", "sentinel-replica", "sentinel-replica2"];
    let sentinel_ports = std::env::var("LEASEQ_SENTINEL_PORTS").unwrap();
    let sentinel_port = sentinel_ports.split(' ').next().unwrap().to_owned();
    // Every Sentinel names `master` and none is still failing over.
    let settled = move |master: &str| {
        sentinel_ports.split(' ').all(|port| {
            redis::cmd("SENTINEL")
                .arg("MASTER")
                .arg("leaseq")
                .query::<HashMap<String, String>>(&mut raw(port))
                .map(|state| {
                    state.get("port").map(String::as_str) == Some(master)
                        && !state.get("flags").is_some_and(|f| f.contains("failover"))
                })
                .unwrap_or(false)
        })
    };
    let master_port = move || -> String {
        let (_, port): (String, String) = redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg("leaseq")
            .query(&mut raw(&sentinel_port))
            .unwrap();
        port
    };
    for wait in [false, true] {
        let before = master_port();
        let dir = data_ports
            .split(' ')
            .position(|port| port == before)
            .map(|index| data_dirs[index])
            .unwrap_or_else(|| panic!("the master's port {before} is none of {data_ports}"));
        let master_port = master_port.clone();
        let settled = settled.clone();
        let failover = move || {
            kill_server(dir);
            let started = Instant::now();
            let mut now = master_port();
            while now == before {
                assert!(started.elapsed() < Duration::from_secs(20), "no new master");
                std::thread::sleep(Duration::from_millis(100));
                now = master_port();
            }
            // Not back before every Sentinel has ended the failover (one that still takes it for
            // the master would see it reboot mid-failover); then a replica of the new master at
            // once (the Sentinels would make it one, but only some 10 s after it is back).
            while !settled(&now) {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "no settled master"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            restart_server(dir, &before, &["--replicaof", "127.0.0.1", &now]);
        };
        worker_survives(&url, &common::prefix("failover"), wait, failover).await;
    }
}
