//! Fencing tokens (spec/key-schema.md, "Fencing tokens"): every delivery carries a number that
//! only grows; with `QueueOptions::fencing`, a superseded delivery's renew, complete, fail and
//! release fail with LeaseLost and change nothing. Also the per-minute counters complete and
//! fail keep in `<p>:stats`.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::LEASE;
use leaseq::{Connection, ErrorKind, Item, QueueOptions, WorkQueue};

const SHORT: Duration = Duration::from_millis(20);

fn fenced(connection: &Connection, prefix: &str, fencing: bool) -> WorkQueue {
    WorkQueue::with_options(
        connection,
        prefix,
        QueueOptions {
            fencing,
            ..QueueOptions::default()
        },
    )
    .unwrap()
}

/// Every key under the prefix with its type and value, to show a refused call changed nothing.
fn dump(prefix: &str) -> BTreeMap<String, Vec<u8>> {
    common::all_keys_under(prefix)
        .into_iter()
        .map(|key| {
            let value: Vec<u8> = redis::cmd("DUMP")
                .arg(&key)
                .query(&mut common::raw())
                .unwrap();
            (key, value)
        })
        .collect()
}

/// Leases `id` with a short lease, lets it expire, and leases it again: (first, second).
async fn superseded_pair(queue: &WorkQueue, id: &str) -> (Item, Item) {
    queue.add_item(&Item::with_id(id, "data")).await.unwrap();
    let first = queue.lease(SHORT, false, None).await.unwrap().unwrap();
    tokio::time::sleep(SHORT * 3).await;
    let second = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!((first.id.as_str(), second.id.as_str()), (id, id));
    (first, second)
}

#[tokio::test]
async fn tokens_only_grow_across_items_and_deliveries() {
    let (connection, _, prefix) = common::queue("fence-grow").await;
    let queue = fenced(&connection, &prefix, false);
    let mut last = 0;
    for n in 0..5 {
        queue
            .add_item(&Item::with_id(format!("i{n}"), "x"))
            .await
            .unwrap();
        let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
        assert!(item.fence > last, "{} after {last}", item.fence);
        last = item.fence;
        assert!(queue.complete(&item).await.unwrap());
    }
    let (first, second) = superseded_pair(&queue, "again").await;
    assert!(second.fence > first.fence && first.fence > last);
    // Without the fencing option nothing records the tokens (one command less per job).
    assert!(!common::exists(&format!("{prefix}:fences")));
    // The counter is never reset: a drained queue keeps it, and the next token is larger.
    assert!(queue.complete(&second).await.unwrap());
    assert!(common::keys_under(&prefix).is_empty());
    assert!(common::exists(&format!("{prefix}:last_fence")));
    queue.add_item(&Item::with_id("later", "x")).await.unwrap();
    let later = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert!(later.fence > second.fence);
    // An item that did not come from a lease has none.
    assert_eq!(Item::with_id("x", "y").fence, 0);
}

#[tokio::test]
async fn with_fencing_a_superseded_delivery_changes_nothing() {
    let (connection, _, prefix) = common::queue("fence-on").await;
    let queue = fenced(&connection, &prefix, true);
    let (first, second) = superseded_pair(&queue, "a").await;
    let before = dump(&prefix);
    let renewed = queue.renew(&first, LEASE).await;
    let completed = queue.complete(&first).await;
    let failed = queue.fail(&first, "late", None).await;
    let released = queue.release(&first).await;
    for (name, kind) in [
        ("renew", renewed.map(|_| ()).map_err(|e| e.kind())),
        ("complete", completed.map(|_| ()).map_err(|e| e.kind())),
        ("fail", failed.map(|_| ()).map_err(|e| e.kind())),
        ("release", released.map(|_| ()).map_err(|e| e.kind())),
    ] {
        assert_eq!(kind, Err(ErrorKind::LeaseLost), "{name}");
    }
    assert_eq!(dump(&prefix), before, "a refused call wrote something");
    // The current holder goes on as usual.
    assert!(queue.renew(&second, LEASE).await.unwrap());
    assert!(queue.complete(&second).await.unwrap());
    assert!(!queue.complete(&second).await.unwrap());
}

#[tokio::test]
async fn without_fencing_the_old_holder_still_completes_once() {
    let (connection, _, prefix) = common::queue("fence-off").await;
    let queue = fenced(&connection, &prefix, false);
    let (first, second) = superseded_pair(&queue, "a").await;
    // redis-work-queue's rule: the data key decides; the first complete wins.
    assert!(queue.complete(&first).await.unwrap());
    assert!(!queue.complete(&second).await.unwrap());
    assert!(common::keys_under(&prefix).is_empty());
}

#[tokio::test]
async fn an_item_without_a_token_or_an_expired_unsuperseded_lease_is_not_refused() {
    let (connection, _, prefix) = common::queue("fence-none").await;
    let queue = fenced(&connection, &prefix, true);
    queue.add_item(&Item::with_id("a", "x")).await.unwrap();
    let leased = queue.lease(SHORT, false, None).await.unwrap().unwrap();
    tokio::time::sleep(SHORT * 3).await;
    // Expired but not leased again: the delivery is not superseded.
    assert!(queue.complete(&leased).await.unwrap());
    // An item built from its id alone (fence 0) is not checked.
    queue.add_item(&Item::with_id("b", "x")).await.unwrap();
    queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert!(queue.complete(&Item::with_id("b", "")).await.unwrap());
    assert!(
        common::keys_under(&prefix).is_empty(),
        "{:?}",
        common::keys_under(&prefix)
    );
}

#[tokio::test]
async fn a_fencing_key_leaseq_did_not_write_fails_the_lease_and_changes_nothing() {
    let (connection, _, prefix) = common::queue("fence-bad").await;
    let queue = fenced(&connection, &prefix, true);
    queue.add_item(&Item::with_id("a", "x")).await.unwrap();
    queue
        .add_item_with(
            &Item::with_id("p", "x"),
            &leaseq::AddOptions {
                priority: 3,
                ..leaseq::AddOptions::default()
            },
        )
        .await
        .unwrap();
    // A due delayed item makes the lease do housekeeping (writes) before it pops.
    queue
        .add_item_with(
            &Item::with_id("y", "x"),
            &leaseq::AddOptions {
                delay: Some(Duration::from_millis(1)),
                ..leaseq::AddOptions::default()
            },
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    for (key, value) in [("last_fence", "not a number"), ("fences", "")] {
        let full = format!("{prefix}:{key}");
        if value.is_empty() {
            let _: () = redis::cmd("RPUSH")
                .arg(&full)
                .arg("v")
                .query(&mut common::raw())
                .unwrap();
        } else {
            let _: () = redis::cmd("SET")
                .arg(&full)
                .arg(value)
                .query(&mut common::raw())
                .unwrap();
        }
        for _ in 0..2 {
            let before = dump(&prefix);
            let error = queue.lease(LEASE, false, None).await.unwrap_err();
            assert!(error.to_string().contains(&full), "{error}");
            assert_eq!(
                dump(&prefix),
                before,
                "{key}: a failed lease wrote something"
            );
        }
        let _: () = redis::cmd("DEL")
            .arg(&full)
            .query(&mut common::raw())
            .unwrap();
    }
    let p = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    let a = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(
        (p.id.as_str(), p.attempts, a.id.as_str(), a.attempts),
        ("p", 1, "a", 1)
    );
}

#[tokio::test]
async fn complete_and_fail_count_per_minute_in_stats() {
    let (connection, _, prefix) = common::queue("fence-stats").await;
    let queue = WorkQueue::with_options(
        &connection,
        &prefix,
        QueueOptions {
            max_attempts: 2,
            ..QueueOptions::default()
        },
    )
    .unwrap();
    for id in ["a", "b", "c"] {
        queue.add_item(&Item::with_id(id, "x")).await.unwrap();
    }
    let a = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert!(queue.complete(&a).await.unwrap());
    assert!(
        !queue.complete(&a).await.unwrap(),
        "a second complete is not counted"
    );
    let b = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    queue.fail(&b, "once", Some(Duration::ZERO)).await.unwrap();
    let c = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    queue.fail(&c, "once", Some(Duration::ZERO)).await.unwrap();
    let again = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    queue.fail(&again, "twice", None).await.unwrap();
    let stats = queue.stats().await.unwrap();
    let total = |minutes: &[u64]| minutes.iter().sum::<u64>();
    assert_eq!(
        (
            total(&stats.completed_per_minute),
            total(&stats.retried_per_minute),
            total(&stats.dead_lettered_per_minute)
        ),
        (1, 2, 1)
    );
}
