//! Every partial state a crash can leave, made by hand in Redis, then cleaned.

mod common;

use std::time::Duration;

use common::{exists, keys_under, lrange, queue, raw, LEASE};
use leaseq::{CleanReport, Item};

fn run(args: &[&str]) {
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    let _: redis::Value = command.query(&mut raw()).unwrap();
}

#[tokio::test]
async fn worker_died_after_lease_id_in_processing_without_lease() {
    // A redis-work-queue client died between BRPOPLPUSH and SETEX.
    let (_connection, queue, p) = queue("nolease").await;
    run(&["SET", &format!("{p}:item:a"), "x"]);
    run(&["LPUSH", &format!("{p}:processing"), "a"]);
    assert_eq!(
        queue.light_clean().await.unwrap(),
        CleanReport {
            requeued: 1,
            dropped: 0,
            dead: 0
        }
    );
    assert_eq!(lrange(&format!("{p}:queue")), vec!["a"]);
    assert!(lrange(&format!("{p}:processing")).is_empty());
}

#[tokio::test]
async fn producer_died_before_data_id_in_queue_without_item() {
    let (_connection, queue, p) = queue("nodata").await;
    run(&["LPUSH", &format!("{p}:queue"), "ghost"]);
    queue.add_item(&Item::with_id("real", "x")).await.unwrap();
    let leased = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(leased.id, "real");
    assert_eq!(lrange(&format!("{p}:processing")), vec!["real"]);
    assert!(queue.lease(LEASE, false, None).await.unwrap().is_none());
}

#[tokio::test]
async fn completer_died_midway_id_in_processing_without_item() {
    // An old-generation complete deleted the data but not the id (its steps are not atomic).
    let (_connection, queue, p) = queue("half").await;
    run(&["LPUSH", &format!("{p}:processing"), "done"]);
    assert_eq!(
        queue.light_clean().await.unwrap(),
        CleanReport {
            requeued: 0,
            dropped: 1,
            dead: 0
        }
    );
    assert!(keys_under(&p).is_empty());
}

#[tokio::test]
async fn item_in_no_list_is_found_by_deep_clean_only() {
    let (_connection, queue, p) = queue("orphan").await;
    run(&["SET", &format!("{p}:item:o"), "x"]);
    assert_eq!(queue.light_clean().await.unwrap(), CleanReport::default());
    assert_eq!(queue.deep_clean().await.unwrap().requeued, 1);
    assert_eq!(
        queue.lease(LEASE, false, None).await.unwrap().unwrap().id,
        "o"
    );
}

#[tokio::test]
async fn item_leased_by_another_session_is_left_alone() {
    let (_connection, queue, p) = queue("other").await;
    run(&["SET", &format!("{p}:item:b"), "x"]);
    run(&["LPUSH", &format!("{p}:processing"), "b"]);
    run(&[
        "SET",
        &format!("{p}:lease:b"),
        "someone-else",
        "PX",
        "60000",
    ]);
    assert_eq!(queue.light_clean().await.unwrap(), CleanReport::default());
    assert_eq!(queue.deep_clean().await.unwrap(), CleanReport::default());
    let item = Item::with_id("b", "x");
    assert!(!queue.renew(&item, LEASE).await.unwrap());
    assert_eq!(lrange(&format!("{p}:processing")), vec!["b"]);
}

#[tokio::test]
async fn old_generation_lease_counts_as_live_until_it_expires() {
    let (_connection, queue, p) = queue("oldlease").await;
    run(&["SET", &format!("{p}:item:c"), "x"]);
    run(&["LPUSH", &format!("{p}:processing"), "c"]);
    run(&[
        "SET",
        &format!("{p}:leased_by_session:c"),
        "py",
        "PX",
        "150",
    ]);
    assert_eq!(queue.light_clean().await.unwrap(), CleanReport::default());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(queue.light_clean().await.unwrap().requeued, 1);
    assert_eq!(lrange(&format!("{p}:queue")), vec!["c"]);
}

#[tokio::test]
async fn old_cleaner_died_with_an_id_in_its_cleaning_list() {
    let (_connection, queue, p) = queue("cleaning").await;
    // d: removed from processing, not yet requeued. e: requeued already. f: completed since.
    run(&["SET", &format!("{p}:item:d"), "x"]);
    run(&["SET", &format!("{p}:item:e"), "x"]);
    run(&["LPUSH", &format!("{p}:queue"), "e"]);
    run(&["LPUSH", &format!("{p}:cleaning"), "d", "e", "f"]);
    assert_eq!(queue.light_clean().await.unwrap().requeued, 1);
    assert_eq!(lrange(&format!("{p}:queue")), vec!["d", "e"]);
    assert!(!exists(&format!("{p}:cleaning")));
}

#[tokio::test]
async fn a_duplicate_id_in_processing_completes_once() {
    let (_connection, queue, p) = queue("dupproc").await;
    run(&["SET", &format!("{p}:item:g"), "x"]);
    run(&["LPUSH", &format!("{p}:processing"), "g", "g"]);
    let item = Item::with_id("g", "x");
    assert!(queue.complete(&item).await.unwrap());
    assert!(!queue.complete(&item).await.unwrap());
    assert!(keys_under(&p).is_empty());
}

#[tokio::test]
async fn light_clean_walks_long_processing_lists_in_batches() {
    let (_connection, queue, p) = queue("longproc").await;
    let items: Vec<Item> = (0..1000)
        .map(|i| Item::with_id(format!("i{i}"), "x"))
        .collect();
    queue.add_items(&items).await.unwrap();
    // All leased; then half the leases vanish (as expiry would, but without the lease calls'
    // own self-healing getting there first).
    for i in 0..1000 {
        let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
        if i % 2 == 1 {
            run(&["DEL", &format!("{p}:lease:{}", item.id)]);
        }
    }
    assert_eq!(queue.light_clean().await.unwrap().requeued, 500);
    assert_eq!(queue.processing().await.unwrap(), 500);
    assert_eq!(lrange(&format!("{p}:queue")).len(), 500);
}
