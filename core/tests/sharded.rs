//! Sharded queues: one logical queue over several ordinary queues, on one server and on the 3+3
//! Cluster.
//!
//! Each behaviour runs twice: on the one server (LEASEQ_REDIS_URL, `scripts/with-redis.sh`) and
//! on the Cluster (LEASEQ_CLUSTER_URL, `scripts/with-servers.sh`; without it the Cluster half says
//! so and passes, unless LEASEQ_REQUIRE_SERVERS=1).

mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::LEASE;
use leaseq::{Connection, FailOutcome, Item, QueueOptions, ShardedQueue, WorkQueue};

const SHARDS: usize = 3;

fn cluster_url() -> Option<String> {
    common::server_url("LEASEQ_CLUSTER_URL")
}

/// A queue name no other test uses (no braces: the shards add their own).
fn unique_name(what: &str) -> String {
    format!(
        "test-{what}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

async fn sharded(url: &str, what: &str, options: QueueOptions) -> (Connection, ShardedQueue) {
    let connection = Connection::open(url).await.unwrap();
    let queue = ShardedQueue::new(&connection, &unique_name(what), SHARDS, options).unwrap();
    (connection, queue)
}

/// A synchronous connection for raw commands: to the one server, or a Cluster connection.
fn raw(url: &str) -> Box<dyn redis::ConnectionLike> {
    match url.strip_prefix("redis+cluster://") {
        Some(nodes) => {
            let nodes: Vec<String> = nodes.split(',').map(|n| format!("redis://{n}")).collect();
            let client = redis::cluster::ClusterClient::new(nodes).unwrap();
            Box::new(client.get_connection().unwrap())
        }
        None => Box::new(redis::Client::open(url).unwrap().get_connection().unwrap()),
    }
}

/// An id (`<stem>-<n>`) that belongs to shard `index`.
fn id_in_shard(queue: &ShardedQueue, index: usize, stem: &str) -> String {
    (0..)
        .map(|n| format!("{stem}-{n}"))
        .find(|id| queue.shard_index(id) == index)
        .unwrap()
}

// --- adds spread over the shards; an id is unique over the whole queue

async fn adds_spread_and_ids_stay_unique(url: &str) {
    let (_connection, queue) = sharded(url, "spread", QueueOptions::default()).await;
    let items: Vec<Item> = (0..3000).map(|n| Item::new(format!("job {n}"))).collect();
    let mut added = 0;
    for batch in items.chunks(500) {
        added += queue.add_items(batch).await.unwrap();
    }
    assert_eq!(added, 3000);
    assert_eq!(queue.queue_len().await.unwrap(), 3000);
    let mut per_shard = Vec::new();
    for (index, shard) in queue.shards().iter().enumerate() {
        let len = shard.queue_len().await.unwrap();
        let expected = items
            .iter()
            .filter(|item| queue.shard_index(&item.id) == index)
            .count() as u64;
        assert_eq!(len, expected, "shard {index} holds exactly its ids");
        per_shard.push(len);
    }
    // Random ids: each shard gets about a third.
    for len in &per_shard {
        assert!((800..=1200).contains(len), "uneven spread {per_shard:?}");
    }
    eprintln!("sharded: 3000 random ids over {SHARDS} shards: {per_shard:?}");

    // The same id is refused wherever it is added from, by item or in a batch.
    assert!(!queue.add_item(&items[7]).await.unwrap());
    assert_eq!(queue.add_items(&items[..100]).await.unwrap(), 0);
    let fresh = Item::new("fresh");
    assert_eq!(
        queue
            .add_items(&[items[1].clone(), fresh.clone(), items[2].clone()])
            .await
            .unwrap(),
        1
    );
    assert!(!queue.add_item(&fresh).await.unwrap());
    assert_eq!(queue.queue_len().await.unwrap(), 3001);
    // add_unique_item lands on the id's shard too.
    let unique = Item::new("unique");
    queue.add_unique_item(&unique).await.unwrap();
    let shard = queue.shard_for(&unique.id);
    assert_eq!(
        shard.item_info(&unique.id).await.unwrap().state,
        leaseq::ItemState::Queued { priority: 0 }
    );
    assert_eq!(queue.queue_len().await.unwrap(), 3002);
}

#[tokio::test]
async fn adds_spread_and_ids_stay_unique_single() {
    adds_spread_and_ids_stay_unique(&common::redis_url()).await;
}

#[tokio::test]
async fn adds_spread_and_ids_stay_unique_cluster() {
    if let Some(url) = cluster_url() {
        adds_spread_and_ids_stay_unique(&url).await;
    }
}

// --- several workers at once: every item leased and completed exactly once

async fn every_item_once_with_concurrent_workers(url: &str) {
    let (_connection, queue) = sharded(url, "once", QueueOptions::default()).await;
    const ITEMS: usize = 2000;
    const WORKERS: usize = 6;
    let items: Vec<Item> = (0..ITEMS).map(|n| Item::new(format!("{n}"))).collect();
    let expected: BTreeSet<String> = items.iter().map(|item| item.id.clone()).collect();
    let completed = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (queue, completed) = (queue.clone(), completed.clone());
            tokio::spawn(async move {
                let mut per_shard = [0usize; SHARDS];
                // Blocking leases, so workers start before the items and wait on every shard.
                while let Some(item) = queue
                    .lease(LEASE, true, Some(Duration::from_millis(1500)))
                    .await
                    .unwrap()
                {
                    assert!(queue.complete(&item).await.unwrap(), "{} twice", item.id);
                    per_shard[queue.shard_index(&item.id)] += 1;
                    completed.lock().unwrap().push(item.id);
                }
                per_shard
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for batch in items.chunks(100) {
        queue.add_items(batch).await.unwrap();
    }
    let mut per_worker = Vec::new();
    for worker in workers {
        per_worker.push(worker.await.unwrap());
    }
    let completed = completed.lock().unwrap().clone();
    assert_eq!(completed.len(), ITEMS, "completed once each");
    let unique: BTreeSet<String> = completed.into_iter().collect();
    assert_eq!(unique, expected);
    assert_eq!(queue.queue_len().await.unwrap(), 0);
    assert_eq!(queue.processing().await.unwrap(), 0);
    eprintln!("sharded: {WORKERS} workers, items per shard each: {per_worker:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_item_once_with_concurrent_workers_single() {
    every_item_once_with_concurrent_workers(&common::redis_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_item_once_with_concurrent_workers_cluster() {
    if let Some(url) = cluster_url() {
        every_item_once_with_concurrent_workers(&url).await;
    }
}

// --- fair leasing: successive leases start at successive shards

async fn leases_take_turns_over_shards(url: &str) {
    let (_connection, queue) = sharded(url, "fair", QueueOptions::default()).await;
    for index in 0..SHARDS {
        let items: Vec<Item> = (0..10)
            .map(|n| Item::with_id(id_in_shard(&queue, index, &format!("f{n}")), "x"))
            .collect();
        queue.add_items(&items).await.unwrap();
    }
    // Shard 0 holds 10 items, so do the others: 3 × 4 leases take 4 from each, not 10 from one.
    let mut per_shard = [0; SHARDS];
    for _ in 0..4 * SHARDS {
        let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
        per_shard[queue.shard_index(&item.id)] += 1;
    }
    assert_eq!(per_shard, [4; SHARDS]);
}

#[tokio::test]
async fn leases_take_turns_over_shards_single() {
    leases_take_turns_over_shards(&common::redis_url()).await;
}

#[tokio::test]
async fn leases_take_turns_over_shards_cluster() {
    if let Some(url) = cluster_url() {
        leases_take_turns_over_shards(&url).await;
    }
}

// --- a blocking lease waits on every shard at once and wakes on an add to any

async fn blocking_lease_wakes_on_any_shard(url: &str, topology: &str) {
    let (_connection, queue) = sharded(url, "wake", QueueOptions::default()).await;
    let mut latencies = Vec::new();
    for round in 0..30 {
        let index = round % SHARDS;
        let id = id_in_shard(&queue, index, &format!("wake{round}"));
        let waiter = {
            let queue = queue.clone();
            tokio::spawn(async move {
                let item = queue
                    .lease(LEASE, true, Some(Duration::from_secs(10)))
                    .await
                    .unwrap();
                (item, Instant::now())
            })
        };
        // Long enough for the waits to reach every shard's server.
        tokio::time::sleep(Duration::from_millis(60)).await;
        let added = Instant::now();
        assert!(queue.add_item(&Item::with_id(&id, "x")).await.unwrap());
        let (item, woke) = waiter.await.unwrap();
        let item = item.expect("the blocking lease saw the add");
        assert_eq!(item.id, id);
        latencies.push(woke.duration_since(added));
        assert!(queue.complete(&item).await.unwrap());
    }
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    let max = latencies[latencies.len() - 1];
    eprintln!(
        "sharded wake-up ({topology}, {SHARDS} shards, 30 adds rotating over shards): \
         p50 {p50:?}, max {max:?}"
    );
    assert!(max < Duration::from_secs(1), "woke late: {latencies:?}");

    // Nothing comes: the lease returns None at its timeout, not much later.
    let started = Instant::now();
    let nothing = queue
        .lease(LEASE, true, Some(Duration::from_millis(300)))
        .await
        .unwrap();
    assert!(nothing.is_none());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_millis(1500),
        "{waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_lease_wakes_on_any_shard_single() {
    blocking_lease_wakes_on_any_shard(&common::redis_url(), "single").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_lease_wakes_on_any_shard_cluster() {
    if let Some(url) = cluster_url() {
        blocking_lease_wakes_on_any_shard(&url, "cluster").await;
    }
}

// --- a blocking lease dropped while it waits loses nothing; closing the connection ends one

async fn dropped_and_closed_waits(url: &str) {
    let (connection, queue) = sharded(url, "drop", QueueOptions::default()).await;
    for _ in 0..3 {
        let waiter = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.lease(LEASE, true, None).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        waiter.abort();
        assert!(waiter.await.unwrap_err().is_cancelled());
    }
    let id = id_in_shard(&queue, 2, "after-drop");
    assert!(queue.add_item(&Item::with_id(&id, "x")).await.unwrap());
    assert_eq!(queue.queue_len().await.unwrap(), 1, "no wait took the item");
    let item = queue
        .lease(LEASE, true, Some(Duration::from_secs(5)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.id, id);
    assert!(queue.complete(&item).await.unwrap());

    let waiter = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.lease(LEASE, true, None).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    connection.close();
    let ended = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("closing the connection ends the wait")
        .unwrap();
    assert_eq!(ended.unwrap_err().kind(), leaseq::ErrorKind::Connection);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_closed_waits_single() {
    dropped_and_closed_waits(&common::redis_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_closed_waits_cluster() {
    if let Some(url) = cluster_url() {
        dropped_and_closed_waits(&url).await;
    }
}

// --- pause and resume every shard; a delayed item on one shard wakes the wait in time

async fn pause_resume_and_delays(url: &str) {
    let (_connection, queue) = sharded(url, "pause", QueueOptions::default()).await;
    let ids: Vec<String> = (0..SHARDS)
        .map(|index| id_in_shard(&queue, index, "p"))
        .collect();
    for id in &ids {
        queue.add_item(&Item::with_id(id, "x")).await.unwrap();
    }
    queue.pause().await.unwrap();
    assert!(queue.is_paused().await.unwrap());
    for shard in queue.shards() {
        assert!(shard.is_paused().await.unwrap());
    }
    assert!(queue.lease(LEASE, false, None).await.unwrap().is_none());
    let waiter = {
        let queue = queue.clone();
        tokio::spawn(async move {
            queue
                .lease(LEASE, true, Some(Duration::from_secs(10)))
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "a paused queue leases nothing");
    let resumed = Instant::now();
    assert!(queue.resume().await.unwrap());
    let item = waiter.await.unwrap().expect("resume wakes the wait");
    assert!(resumed.elapsed() < Duration::from_secs(1));
    assert!(queue.complete(&item).await.unwrap());
    assert!(!queue.is_paused().await.unwrap());
    assert!(!queue.resume().await.unwrap());
    for _ in 1..SHARDS {
        let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
        assert!(queue.complete(&item).await.unwrap());
    }

    // A delayed item on the last shard: the wait on every shard ends when it is due.
    let id = id_in_shard(&queue, SHARDS - 1, "delayed");
    let options = leaseq::AddOptions {
        delay: Some(Duration::from_millis(400)),
        ..Default::default()
    };
    assert!(queue
        .add_item_with(&Item::with_id(&id, "later"), &options)
        .await
        .unwrap());
    assert_eq!(queue.delayed_len().await.unwrap(), 1);
    let started = Instant::now();
    let item = queue
        .lease(LEASE, true, Some(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the delayed item, when due");
    assert_eq!(item.id, id);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    assert!(queue.complete(&item).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_delays_single() {
    pause_resume_and_delays(&common::redis_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_delays_cluster() {
    if let Some(url) = cluster_url() {
        pause_resume_and_delays(&url).await;
    }
}

// --- renew, fail, release and complete go to the item's shard

async fn item_calls_route_to_its_shard(url: &str) {
    let options = QueueOptions {
        max_attempts: 2,
        ..QueueOptions::default()
    };
    let (_connection, queue) = sharded(url, "route", options).await;
    let ids: Vec<String> = (0..SHARDS)
        .map(|index| id_in_shard(&queue, index, "r"))
        .collect();
    for id in &ids {
        queue.add_item(&Item::with_id(id, "x")).await.unwrap();
    }
    let mut leased = Vec::new();
    while let Some(item) = queue.lease(LEASE, false, None).await.unwrap() {
        leased.push(item);
    }
    assert_eq!(leased.len(), SHARDS);
    assert_eq!(queue.processing().await.unwrap(), SHARDS as u64);
    for item in &leased {
        assert!(queue.renew(item, LEASE).await.unwrap());
    }
    // Release one, fail one twice (to the dead letters), complete the rest.
    assert!(queue.release(&leased[0]).await.unwrap());
    assert_eq!(queue.queue_len().await.unwrap(), 1);
    let outcome = queue
        .fail(&leased[1], "boom", Some(Duration::ZERO))
        .await
        .unwrap();
    assert!(matches!(outcome, FailOutcome::Retry { .. }), "{outcome:?}");
    for item in &leased[2..] {
        assert!(queue.complete(item).await.unwrap());
        assert!(!queue.complete(item).await.unwrap());
    }
    let mut seen = HashSet::new();
    while let Some(item) = queue.lease(LEASE, false, None).await.unwrap() {
        seen.insert(item.id.clone());
        if item.id == leased[1].id {
            assert_eq!(item.attempts, 2);
            let outcome = queue.fail(&item, "boom again", None).await.unwrap();
            assert_eq!(outcome, FailOutcome::Dead);
        } else {
            assert!(queue.complete(&item).await.unwrap());
        }
    }
    assert_eq!(seen.len(), 2);
    assert_eq!(queue.dead_len().await.unwrap(), 1);
    assert_eq!(queue.shard_for(&leased[1].id).dead_len().await.unwrap(), 1);
    assert_eq!(queue.requeue_all_dead().await.unwrap(), 1);
    assert_eq!(queue.queue_len().await.unwrap(), 1);
    let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert!(queue.complete(&item).await.unwrap());
    assert_eq!(queue.processing().await.unwrap(), 0);
    assert_eq!(queue.dead_len().await.unwrap(), 0);
}

#[tokio::test]
async fn item_calls_route_to_its_shard_single() {
    item_calls_route_to_its_shard(&common::redis_url()).await;
}

#[tokio::test]
async fn item_calls_route_to_its_shard_cluster() {
    if let Some(url) = cluster_url() {
        item_calls_route_to_its_shard(&url).await;
    }
}

// --- cleans cover every shard

async fn cleans_reach_every_shard(url: &str) {
    let options = QueueOptions {
        clean_grace: Duration::from_millis(50),
        ..QueueOptions::default()
    };
    let (_connection, queue) = sharded(url, "clean", options).await;
    for index in 0..SHARDS {
        for n in 0..2 {
            let id = id_in_shard(&queue, index, &format!("c{n}"));
            queue.add_item(&Item::with_id(id, "x")).await.unwrap();
        }
    }
    // Leases that run out on every shard: a light clean returns them all.
    let mut leased = 0;
    while queue
        .lease(Duration::from_millis(100), false, None)
        .await
        .unwrap()
        .is_some()
    {
        leased += 1;
    }
    assert_eq!(leased, 2 * SHARDS);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let report = queue.light_clean().await.unwrap();
    assert_eq!(report.requeued, 2 * SHARDS as u64);
    for shard in queue.shards() {
        assert_eq!(shard.queue_len().await.unwrap(), 2);
        assert_eq!(shard.processing().await.unwrap(), 0);
    }

    // An item in no list on each shard (a crashed producer's): a deep clean finds them all.
    let mut connection = raw(url);
    for (index, shard) in queue.shards().iter().enumerate() {
        let id = id_in_shard(&queue, index, "orphan");
        let _: () = redis::cmd("SET")
            .arg(format!("{}:item:{id}", shard.name()))
            .arg("lost")
            .query(connection.as_mut())
            .unwrap();
    }
    let report = queue.deep_clean().await.unwrap();
    assert_eq!(report.requeued, SHARDS as u64);
    for shard in queue.shards() {
        assert_eq!(shard.queue_len().await.unwrap(), 3);
    }
    while let Some(item) = queue.lease(LEASE, false, None).await.unwrap() {
        assert!(queue.complete(&item).await.unwrap());
    }
    assert_eq!(queue.queue_len().await.unwrap(), 0);
}

#[tokio::test]
async fn cleans_reach_every_shard_single() {
    cleans_reach_every_shard(&common::redis_url()).await;
}

#[tokio::test]
async fn cleans_reach_every_shard_cluster() {
    if let Some(url) = cluster_url() {
        cleans_reach_every_shard(&url).await;
    }
}

// --- a shard is an ordinary queue

async fn a_shard_is_an_ordinary_queue(url: &str) {
    let (connection, queue) = sharded(url, "plain", QueueOptions::default()).await;
    let names = ShardedQueue::shard_names(queue.name(), SHARDS).unwrap();
    assert_eq!(
        names,
        queue
            .shards()
            .iter()
            .map(|shard| shard.name().to_string())
            .collect::<Vec<_>>()
    );
    let id = id_in_shard(&queue, 1, "plain");
    assert!(queue
        .add_item(&Item::with_id(&id, "for shard 1"))
        .await
        .unwrap());
    // A plain WorkQueue on shard 1's name leases and completes it.
    let plain = WorkQueue::new(&connection, &names[1]).unwrap();
    assert_eq!(plain.queue_len().await.unwrap(), 1);
    let item = plain.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(
        (item.id.as_str(), item.data.as_slice()),
        (id.as_str(), &b"for shard 1"[..])
    );
    assert!(plain.complete(&item).await.unwrap());
    // And what a plain queue adds to a shard (with an id of that shard), the sharded one leases.
    let id = id_in_shard(&queue, 2, "from-plain");
    let plain = WorkQueue::new(&connection, &names[2]).unwrap();
    assert!(plain.add_item(&Item::with_id(&id, "y")).await.unwrap());
    let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(item.id, id);
    assert!(queue.complete(&item).await.unwrap());
    assert_eq!(queue.queue_len().await.unwrap(), 0);
}

#[tokio::test]
async fn a_shard_is_an_ordinary_queue_single() {
    a_shard_is_an_ordinary_queue(&common::redis_url()).await;
}

#[tokio::test]
async fn a_shard_is_an_ordinary_queue_cluster() {
    if let Some(url) = cluster_url() {
        a_shard_is_an_ordinary_queue(&url).await;
    }
}

/// A `redis-work-queue` client (the published crate) works a shard as the queue of its name.
#[tokio::test]
async fn a_redis_work_queue_client_works_a_shard() {
    use redis_work_queue::{KeyPrefix, WorkQueue as TheirQueue};
    let (_connection, queue) =
        sharded(&common::redis_url(), "theirs", QueueOptions::default()).await;
    let id = id_in_shard(&queue, 0, "theirs");
    assert!(queue.add_item(&Item::with_id(&id, "z")).await.unwrap());
    let client = redis026::Client::open(common::redis_url()).unwrap();
    let mut db = client.get_multiplexed_async_connection().await.unwrap();
    let their = TheirQueue::new(KeyPrefix::new(queue.shards()[0].name().to_string()));
    let leased = their
        .lease(&mut db, Some(Duration::ZERO), Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leased.id, id);
    assert!(their.complete(&mut db, &leased).await.unwrap());
    assert_eq!(queue.queue_len().await.unwrap(), 0);
    assert_eq!(queue.processing().await.unwrap(), 0);
}

// --- on the Cluster, 3 shards are on 3 different masters

#[tokio::test]
async fn shards_land_on_different_masters() {
    let Some(url) = cluster_url() else {
        return;
    };
    let mut connection = raw(&url);
    // [start, end, [host, port, id, …] of the master, replicas…] per range.
    let ranges: Vec<(u16, u16, (String, u16))> = {
        let slots: Vec<redis::Value> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query(connection.as_mut())
            .unwrap();
        slots
            .into_iter()
            .map(|range| {
                let range: Vec<redis::Value> = redis::from_redis_value(range).unwrap();
                let master: Vec<redis::Value> = redis::from_redis_value(range[2].clone()).unwrap();
                (
                    redis::from_redis_value(range[0].clone()).unwrap(),
                    redis::from_redis_value(range[1].clone()).unwrap(),
                    (
                        redis::from_redis_value(master[0].clone()).unwrap(),
                        redis::from_redis_value(master[1].clone()).unwrap(),
                    ),
                )
            })
            .collect()
    };
    for (shards, each) in [(3, 1), (6, 2)] {
        let names = ShardedQueue::shard_names("jobs", shards).unwrap();
        let mut masters = std::collections::BTreeMap::new();
        for name in &names {
            let slot: u16 = redis::cmd("CLUSTER")
                .arg("KEYSLOT")
                .arg(format!("{name}:queue"))
                .query(connection.as_mut())
                .unwrap();
            let (_, _, master) = ranges
                .iter()
                .find(|(start, end, _)| (*start..=*end).contains(&slot))
                .unwrap();
            *masters.entry(master.clone()).or_insert(0) += 1;
        }
        eprintln!("sharded: {names:?} on masters {masters:?}");
        assert_eq!(masters.len(), 3, "{shards} shards over the 3 masters");
        assert!(masters.values().all(|&n| n == each), "{masters:?}");
    }
}

#[tokio::test]
async fn bad_arguments_are_refused() {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    for (name, shards) in [("{jobs}", 3), ("", 3), ("jobs", 0), ("jobs", 100_000)] {
        let err = ShardedQueue::new(&connection, name, shards, QueueOptions::default())
            .err()
            .unwrap();
        assert_eq!(
            err.kind(),
            leaseq::ErrorKind::InvalidArgument,
            "{name:?} {shards}"
        );
    }
    let queue = ShardedQueue::new(&connection, "ok", 2, QueueOptions::default()).unwrap();
    let err = queue.complete(&Item::with_id("", "x")).await.unwrap_err();
    assert_eq!(err.kind(), leaseq::ErrorKind::InvalidArgument);
}
