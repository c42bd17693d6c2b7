//! Blocking leases: wake-up, timeouts with millisecond precision, no stall, cancellation.

mod common;

use std::time::{Duration, Instant};

use common::{queue, LEASE};
use leaseq::Item;

#[tokio::test]
async fn a_blocking_lease_wakes_when_an_item_is_added() {
    let (_connection, queue, _prefix) = queue("wake").await;
    let waiter = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.lease(LEASE, true, None).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let added_at = Instant::now();
    queue.add_item(&Item::with_id("w", "x")).await.unwrap();
    let leased = waiter.await.unwrap().unwrap().unwrap();
    let delay = added_at.elapsed();
    assert_eq!(leased.id, "w");
    assert!(delay < Duration::from_millis(200), "woke after {delay:?}");
}

#[tokio::test]
async fn a_timeout_keeps_millisecond_precision() {
    let (_connection, queue, _prefix) = queue("timeout").await;
    let started = Instant::now();
    let leased = queue
        .lease(LEASE, true, Some(Duration::from_millis(500)))
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(leased.is_none());
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_millis(560),
        "waited {waited:?}"
    );
    let started = Instant::now();
    assert!(queue
        .lease(LEASE, true, Some(Duration::from_millis(30)))
        .await
        .unwrap()
        .is_none());
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn a_waiting_lease_does_not_stall_the_shared_connection() {
    let (_connection, queue, _prefix) = queue("nostall").await;
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(
                async move { queue.lease(LEASE, true, Some(Duration::from_secs(3))).await },
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    for _ in 0..100 {
        queue.queue_len().await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    // Four adds wake four waiters, each with its own item.
    for i in 0..4 {
        queue
            .add_item(&Item::with_id(format!("n{i}"), "x"))
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    for waiter in waiters {
        ids.push(waiter.await.unwrap().unwrap().unwrap().id);
    }
    ids.sort();
    assert_eq!(ids, vec!["n0", "n1", "n2", "n3"]);
}

#[tokio::test]
async fn cancelling_a_waiting_lease_loses_nothing() {
    let (_connection, queue, _prefix) = queue("cancel").await;
    let waiting =
        tokio::time::timeout(Duration::from_millis(100), queue.lease(LEASE, true, None)).await;
    assert!(waiting.is_err(), "cancelled by the timeout");
    queue.add_item(&Item::with_id("c", "x")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(queue.queue_len().await.unwrap(), 1);
    assert_eq!(queue.processing().await.unwrap(), 0);
    let leased = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(leased.id, "c");
}

#[tokio::test]
async fn a_blocking_lease_skips_ids_whose_data_is_gone() {
    let (_connection, queue, prefix) = queue("danglingwait").await;
    let waiter = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.lease(LEASE, true, Some(Duration::from_secs(3))).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // An id with no data (a producer died between its steps, old generation) then a real item.
    let _: () = redis::cmd("LPUSH")
        .arg(format!("{prefix}:queue"))
        .arg("ghost")
        .query(&mut common::raw())
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    queue.add_item(&Item::with_id("real", "x")).await.unwrap();
    assert_eq!(waiter.await.unwrap().unwrap().unwrap().id, "real");
    assert_eq!(
        common::lrange(&format!("{prefix}:processing")),
        vec!["real"]
    );
}

#[tokio::test]
async fn closing_the_connection_ends_a_waiting_lease() {
    let (connection, queue, _prefix) = queue("closewait").await;
    let waiter = tokio::spawn(async move { queue.lease(LEASE, true, None).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    connection.close();
    let err = waiter.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), leaseq::ErrorKind::Connection);
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
}
