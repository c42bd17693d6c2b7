//! Beyond one server: a Redis Cluster, a Sentinel-monitored master, TLS with an ACL user.
//!
//! Run under `scripts/with-servers.sh` (`make test-servers`), which starts them and sets
//! LEASEQ_CLUSTER_URL, LEASEQ_SENTINEL_URL and LEASEQ_TLS_URL. Without those variables each test
//! says so and passes (so `cargo test -p leaseq` under `scripts/with-redis.sh` stays green);
//! LEASEQ_REQUIRE_SERVERS=1 turns that into a failure.

mod common;

use std::time::{Duration, Instant};

use common::LEASE;
use leaseq::{Connection, ErrorKind, Item, WorkQueue};

/// Raw commands to whatever node owns the key (a Cluster connection for a Cluster).
fn raw_set(url: &str, key: &str, value: &str) {
    if let Some(nodes) = url.strip_prefix("redis+cluster://") {
        let nodes: Vec<String> = nodes.split(',').map(|n| format!("redis://{n}")).collect();
        let client = redis::cluster::ClusterClient::new(nodes).unwrap();
        let mut connection = client.get_connection().unwrap();
        let _: () = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .query(&mut connection)
            .unwrap();
    } else {
        panic!("raw_set: not a cluster URL {url}");
    }
}

/// Every operation kind once: add, blocking lease woken by an add, renew, complete, fail,
/// counts, light and deep clean, dead letters, pause.
async fn every_operation(connection: &Connection, name: &str) {
    let queue = WorkQueue::new(connection, name).unwrap();
    assert!(queue.add_item(&Item::with_id("a", "1")).await.unwrap());
    assert!(!queue.add_item(&Item::with_id("a", "1")).await.unwrap());
    assert_eq!(
        queue
            .add_items(&[Item::with_id("b", "2"), Item::with_id("c", "3")])
            .await
            .unwrap(),
        2
    );
    assert_eq!(queue.queue_len().await.unwrap(), 3);
    let mut leased = Vec::new();
    while let Some(item) = queue.lease(LEASE, false, None).await.unwrap() {
        leased.push(item);
    }
    assert_eq!(leased.len(), 3);
    assert_eq!(queue.processing().await.unwrap(), 3);
    assert!(queue.renew(&leased[0], LEASE).await.unwrap());
    for item in &leased {
        assert!(queue.complete(item).await.unwrap());
        assert!(!queue.complete(item).await.unwrap());
    }

    // A blocking lease on an empty queue wakes within milliseconds of an add.
    let waiter = {
        let queue = queue.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let item = queue
                .lease(LEASE, true, Some(Duration::from_secs(10)))
                .await
                .unwrap();
            (item, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let added = Instant::now();
    queue.add_item(&Item::with_id("late", "x")).await.unwrap();
    let (item, waited) = waiter.await.unwrap();
    let item = item.expect("the blocking lease saw the add");
    assert_eq!(item.id, "late");
    assert!(
        waited >= Duration::from_millis(250),
        "it did block ({waited:?})"
    );
    assert!(added.elapsed() < Duration::from_secs(2), "woke late");
    assert!(queue.complete(&item).await.unwrap());

    // A blocking lease that times out returns None on time.
    let started = Instant::now();
    let none = queue
        .lease(LEASE, true, Some(Duration::from_millis(200)))
        .await
        .unwrap();
    assert!(none.is_none());
    assert!(started.elapsed() < Duration::from_secs(2));

    // Failure to the dead letters and back.
    queue.add_item(&Item::with_id("f", "x")).await.unwrap();
    let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    queue.fail(&item, "boom", None).await.unwrap();
    assert_eq!(
        queue.delayed_len().await.unwrap() + queue.dead_len().await.unwrap(),
        1
    );
    queue.pause().await.unwrap();
    assert!(queue.is_paused().await.unwrap());
    assert!(queue.resume().await.unwrap());
    assert_eq!(queue.light_clean().await.unwrap().requeued, 0);
}

#[tokio::test]
async fn cluster_every_operation_and_deep_clean() {
    let Some(url) = common::server_url("LEASEQ_CLUSTER_URL") else {
        return;
    };
    let connection = Connection::open(&url).await.unwrap();
    assert!(connection.is_cluster());
    // Queues whose tags land on different nodes.
    for tag in ["a", "b", "c", "jobs"] {
        let name = format!("{}{{{tag}}}", common::prefix("cl"));
        every_operation(&connection, &name).await;
    }
    // Deep clean scans the node that holds the queue's slot.
    let name = format!("{{{}}}", common::prefix("deep"));
    let queue = WorkQueue::new(&connection, &name).unwrap();
    queue.add_item(&Item::with_id("q", "x")).await.unwrap();
    raw_set(&url, &format!("{name}:item:orphan"), "o");
    let report = queue.deep_clean().await.unwrap();
    assert_eq!(report.requeued, 1);
    assert_eq!(queue.queue_len().await.unwrap(), 2);
}

#[tokio::test]
async fn cluster_find_queues_scans_every_master() {
    let Some(url) = common::server_url("LEASEQ_CLUSTER_URL") else {
        return;
    };
    let connection = Connection::open(&url).await.unwrap();
    // Tags a, b and c hash to slots 15495, 3300 and 7365: one on each of the three masters.
    // Written raw, as a redis-work-queue client would: not in the registry, so only a scan
    // finds them.
    let names: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|tag| format!("{}{{{tag}}}", common::prefix("scan")))
        .collect();
    for name in &names {
        raw_set(&url, &format!("{name}:paused"), "1");
    }
    let found = leaseq::find_queues(&connection, true, |_| {})
        .await
        .unwrap();
    for name in &names {
        assert!(found.contains(name), "{name} not found among {found:?}");
    }
    // Registered queues in different slots: the registry's existence checks cannot share one
    // Cluster pipeline.
    let mut registered = Vec::new();
    for tag in ["a", "b", "c"] {
        let name = format!("{}{{{tag}}}", common::prefix("registered"));
        let queue = WorkQueue::new(&connection, &name).unwrap();
        queue.add_item(&Item::with_id("x", "y")).await.unwrap();
        registered.push(name);
    }
    let found = leaseq::find_queues(&connection, false, |_| {})
        .await
        .unwrap();
    for name in &registered {
        assert!(found.contains(name), "{name} not found among {found:?}");
    }
}

#[tokio::test]
async fn cluster_refuses_a_queue_name_without_a_hash_tag() {
    let Some(url) = common::server_url("LEASEQ_CLUSTER_URL") else {
        return;
    };
    let connection = Connection::open(&url).await.unwrap();
    let err = WorkQueue::new(&connection, "jobs").err().expect("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("{jobs}"), "{}", err.message());
    assert!(WorkQueue::new(&connection, "{jobs}").is_ok());
    assert!(WorkQueue::new(&connection, "app:{jobs}:eu").is_ok());
}

#[tokio::test]
async fn sentinel_every_operation() {
    let Some(url) = common::server_url("LEASEQ_SENTINEL_URL") else {
        return;
    };
    let connection = Connection::open(&url).await.unwrap();
    assert!(!connection.is_cluster());
    every_operation(&connection, &common::prefix("sentinel")).await;
    let queue = WorkQueue::new(&connection, &common::prefix("sentinel-deep")).unwrap();
    queue.add_item(&Item::with_id("q", "x")).await.unwrap();
    assert_eq!(queue.deep_clean().await.unwrap().requeued, 0);
}

#[tokio::test]
async fn tls_with_an_acl_user_on_its_key_pattern() {
    let Some(url) = common::server_url("LEASEQ_TLS_URL") else {
        return;
    };
    let connection = Connection::open(&url).await.unwrap();
    // The harness's user `app` may use keys `{app}*` only.
    every_operation(&connection, &format!("{{app}}{}", common::prefix("tls"))).await;
}

#[tokio::test]
async fn tls_verified_against_a_private_ca_named_in_the_url() {
    let (Some(port), Some(ca)) = (
        common::server_url("LEASEQ_TLS_PORT"),
        common::server_url("LEASEQ_TLS_CA"),
    ) else {
        return;
    };
    // Verified (no #insecure): the harness's server certificate chains to its own CA only.
    let verified = format!("rediss://app:s3cret@127.0.0.1:{port}/?tls_ca={ca}");
    let connection = Connection::open(&verified).await.unwrap();
    every_operation(&connection, &format!("{{app}}{}", common::prefix("tls-ca"))).await;
    // Without the CA the system roots do not know it: refused, as a Connection error.
    let unverified = format!("rediss://app:s3cret@127.0.0.1:{port}");
    let err = match Connection::open(&unverified).await {
        Err(err) => err,
        Ok(connection) => WorkQueue::new(&connection, "{app}x")
            .unwrap()
            .queue_len()
            .await
            .unwrap_err(),
    };
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
}

#[tokio::test]
async fn a_user_without_permission_gets_a_typed_error_at_once() {
    let Some(url) = common::server_url("LEASEQ_TLS_URL") else {
        return;
    };
    let connection = Connection::open(&url).await.unwrap();
    let queue = WorkQueue::new(&connection, "{other}").unwrap();
    let started = Instant::now();
    let err = queue.add_item(&Item::with_id("x", "y")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(err.message().contains("NOPERM"), "{}", err.message());
    let err = queue
        .lease(LEASE, true, Some(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "no hang");

    // A wrong password is refused at open, also typed.
    let wrong = url.replace("s3cret", "wrong");
    let err = Connection::open(&wrong).await.err().expect("refused");
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(
        !err.message().contains("wrong@"),
        "no password in {}",
        err.message()
    );
}

#[tokio::test]
async fn bad_topology_urls_are_invalid_arguments() {
    for url in [
        "redis+sentinel://127.0.0.1:1",
        "redis+cluster://",
        "redis+cluster://127.0.0.1:1/2",
        "redis://127.0.0.1:1/?tls_ca=/etc/hostname",
        "rediss://127.0.0.1:1/?tls_ca=/no/such/ca.pem",
    ] {
        let err = Connection::open(url).await.err().expect(url);
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{url}: {err}");
    }
    // Nothing listening: a connection error, not a hang.
    let port = common::free_port();
    for url in [
        format!("redis+cluster://127.0.0.1:{port}"),
        format!("redis+sentinel://127.0.0.1:{port}/m"),
    ] {
        let started = Instant::now();
        let err = Connection::open_with(
            &url,
            leaseq::ConnectionOptions {
                connect_timeout: Duration::from_millis(500),
                ..Default::default()
            },
        )
        .await
        .err()
        .expect("refused");
        assert_eq!(err.kind(), ErrorKind::Connection, "{url}: {err}");
        assert!(started.elapsed() < Duration::from_secs(10), "{url}");
    }
}
