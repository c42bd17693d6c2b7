//! Every operation's behaviour, against a real Redis.

mod common;

use std::time::Duration;

use common::{exists, keys_under, lrange, queue, LEASE};
use leaseq::{CleanReport, Item};

#[tokio::test]
async fn add_then_lease_then_complete_leaves_no_keys() {
    let (_connection, queue, prefix) = queue("roundtrip").await;
    let item = Item::new(b"hello".to_vec());
    assert!(queue.add_item(&item).await.unwrap());
    assert_eq!(queue.queue_len().await.unwrap(), 1);
    assert_eq!(queue.processing().await.unwrap(), 0);

    let leased = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(
        (&leased.id, &leased.data, leased.attempts),
        (&item.id, &item.data, 1)
    );
    assert_eq!(queue.queue_len().await.unwrap(), 0);
    assert_eq!(queue.processing().await.unwrap(), 1);
    assert!(exists(&format!("{prefix}:lease:{}", item.id)));

    assert!(queue.complete(&leased).await.unwrap());
    assert!(!queue.complete(&leased).await.unwrap(), "true only once");
    assert_eq!(keys_under(&prefix), Vec::<String>::new());
}

#[tokio::test]
async fn add_item_refuses_an_existing_id_and_changes_nothing() {
    let (_connection, queue, prefix) = queue("dup").await;
    assert!(queue.add_item(&Item::with_id("a", "one")).await.unwrap());
    assert!(!queue.add_item(&Item::with_id("a", "two")).await.unwrap());
    assert_eq!(lrange(&format!("{prefix}:queue")), vec!["a"]);
    let leased = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(leased.data, b"one");
}

#[tokio::test]
async fn add_unique_item_skips_the_check() {
    let (_connection, queue, prefix) = queue("unique").await;
    queue
        .add_unique_item(&Item::with_id("u", "x"))
        .await
        .unwrap();
    assert_eq!(lrange(&format!("{prefix}:queue")), vec!["u"]);
    assert_eq!(queue.queue_len().await.unwrap(), 1);
}

#[tokio::test]
async fn items_are_leased_in_the_order_they_were_added() {
    let (_connection, queue, _prefix) = queue("fifo").await;
    for i in 0..5 {
        queue
            .add_item(&Item::with_id(format!("id{i}"), vec![i]))
            .await
            .unwrap();
    }
    for i in 0..5 {
        let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
        assert_eq!(item.id, format!("id{i}"));
    }
    assert!(queue.lease(LEASE, false, None).await.unwrap().is_none());
}

#[tokio::test]
async fn add_items_adds_a_batch_and_counts_only_new_ids() {
    let (_connection, queue, _prefix) = queue("batch").await;
    queue.add_item(&Item::with_id("old", "x")).await.unwrap();
    let mut items: Vec<Item> = (0..2500).map(|i| Item::new(vec![i as u8; 100])).collect();
    items.push(Item::with_id("old", "y"));
    items.push(items[0].clone());
    assert_eq!(queue.add_items(&items).await.unwrap(), 2500);
    assert_eq!(queue.queue_len().await.unwrap(), 2501);
    assert_eq!(queue.add_items(&[]).await.unwrap(), 0);
    // Batch order is kept: "old" first, then the batch.
    assert_eq!(
        queue.lease(LEASE, false, None).await.unwrap().unwrap().id,
        "old"
    );
    assert_eq!(
        queue.lease(LEASE, false, None).await.unwrap().unwrap().id,
        items[0].id
    );
}

#[tokio::test]
async fn json_helpers_round_trip() {
    let (_connection, queue, _prefix) = queue("json").await;
    let item = Item::from_json(&serde_json::json!({"photo": 17, "size": "small"})).unwrap();
    queue.add_item(&item).await.unwrap();
    let leased = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    let value: serde_json::Value = leased.json().unwrap();
    assert_eq!(value["photo"], 17);
    let not_json = Item::new(b"{oops".to_vec());
    assert_eq!(
        not_json.json::<serde_json::Value>().unwrap_err().kind(),
        leaseq::ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn renew_extends_only_the_holders_lease() {
    let (connection, queue, prefix) = queue("renew").await;
    let other = leaseq::WorkQueue::new(&connection, &prefix).unwrap();
    queue.add_item(&Item::with_id("r", "x")).await.unwrap();
    let item = queue
        .lease(Duration::from_millis(300), false, None)
        .await
        .unwrap()
        .unwrap();
    assert!(!other.renew(&item, LEASE).await.unwrap(), "not its lease");
    assert!(queue.renew(&item, Duration::from_secs(60)).await.unwrap());
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}:lease:r"))
        .query(&mut common::raw())
        .unwrap();
    assert!(ttl > 50_000, "ttl {ttl}");
    // A renewed lease survives past its original end and a clean.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(queue.light_clean().await.unwrap(), CleanReport::default());
    assert!(queue.complete(&item).await.unwrap());
    assert!(!queue.renew(&item, LEASE).await.unwrap(), "completed");
}

#[tokio::test]
async fn expired_lease_is_returned_by_light_clean_and_leased_again() {
    let (_connection, queue, prefix) = queue("expire").await;
    queue.add_item(&Item::with_id("e", "x")).await.unwrap();
    let first = queue
        .lease(Duration::from_millis(50), false, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(queue.light_clean().await.unwrap(), CleanReport::default());
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(
        queue.light_clean().await.unwrap(),
        CleanReport {
            requeued: 1,
            dropped: 0,
            dead: 0
        }
    );
    assert_eq!(lrange(&format!("{prefix}:queue")), vec!["e"]);
    let second = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!((first.attempts, second.attempts), (1, 2));
    assert!(queue.complete(&second).await.unwrap());
    assert!(!queue.complete(&first).await.unwrap());
}

#[tokio::test]
async fn complete_after_losing_the_lease_still_counts_once() {
    let (_connection, queue, prefix) = queue("lost").await;
    queue.add_item(&Item::with_id("l", "x")).await.unwrap();
    let item = queue
        .lease(Duration::from_millis(20), false, None)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    queue.light_clean().await.unwrap();
    assert_eq!(queue.queue_len().await.unwrap(), 1);
    // The late worker completes: the work is done, and the requeued copy goes too.
    assert!(queue.complete(&item).await.unwrap());
    assert_eq!(queue.queue_len().await.unwrap(), 0);
    assert!(queue.lease(LEASE, false, None).await.unwrap().is_none());
    assert_eq!(keys_under(&prefix), Vec::<String>::new());
}

#[tokio::test]
async fn deep_clean_requeues_orphans_and_leaves_the_rest() {
    let (_connection, queue, prefix) = queue("deep").await;
    let mut raw = common::raw();
    for i in 0..50 {
        queue
            .add_item(&Item::with_id(format!("q{i}"), "x"))
            .await
            .unwrap();
    }
    let leased = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    // Two orphans: item data with the id in no list.
    let _: () = redis::cmd("SET")
        .arg(format!("{prefix}:item:orphan1"))
        .arg("o")
        .query(&mut raw)
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg(format!("{prefix}:item:orphan2"))
        .arg("o")
        .query(&mut raw)
        .unwrap();
    let report = queue.deep_clean().await.unwrap();
    assert_eq!(report.requeued, 2);
    assert_eq!(queue.queue_len().await.unwrap(), 51);
    assert_eq!(queue.processing().await.unwrap(), 1);
    assert!(queue.complete(&leased).await.unwrap());
    // Nothing left to do on a second run.
    assert_eq!(queue.deep_clean().await.unwrap(), CleanReport::default());
}

#[tokio::test]
async fn deep_clean_escapes_glob_characters_in_the_prefix() {
    let connection = leaseq::Connection::open(&common::redis_url())
        .await
        .unwrap();
    let base = common::prefix("glob");
    let star = leaseq::WorkQueue::new(&connection, &format!("{base}*")).unwrap();
    let plain_prefix = format!("{base}x");
    let mut raw = common::raw();
    // An orphan under another queue whose name the unescaped pattern `{base}*:item:*` would match.
    let _: () = redis::cmd("SET")
        .arg(format!("{plain_prefix}:item:o"))
        .arg("o")
        .query(&mut raw)
        .unwrap();
    assert_eq!(star.deep_clean().await.unwrap().requeued, 0);
    assert!(lrange(&format!("{plain_prefix}:queue")).is_empty());
    assert!(lrange(&format!("{base}*:queue")).is_empty());
}

#[tokio::test]
async fn one_connection_serves_many_queues() {
    let connection = leaseq::Connection::open(&common::redis_url())
        .await
        .unwrap();
    let a = leaseq::WorkQueue::new(&connection, &common::prefix("a")).unwrap();
    let b = leaseq::WorkQueue::new(&connection, &common::prefix("b")).unwrap();
    a.add_item(&Item::new("1")).await.unwrap();
    assert_eq!(a.queue_len().await.unwrap(), 1);
    assert_eq!(b.queue_len().await.unwrap(), 0);
    assert_eq!(b.name().len(), a.name().len());
}

#[test]
fn blocking_api_mirrors_the_async_one() {
    let connection = leaseq::blocking::Connection::open(&common::redis_url()).unwrap();
    let queue = leaseq::blocking::WorkQueue::new(&connection, &common::prefix("sync")).unwrap();
    assert!(queue.add_item(&Item::new("a")).unwrap());
    queue.add_unique_item(&Item::new("b")).unwrap();
    assert_eq!(queue.add_items(&[Item::new("c")]).unwrap(), 1);
    assert_eq!(queue.queue_len().unwrap(), 3);
    let item = queue
        .lease(LEASE, true, Some(Duration::from_millis(100)))
        .unwrap()
        .unwrap();
    assert!(queue.renew(&item, LEASE).unwrap());
    assert_eq!(queue.processing().unwrap(), 1);
    assert!(queue.complete(&item).unwrap());
    assert_eq!(queue.light_clean().unwrap(), CleanReport::default());
    assert_eq!(queue.deep_clean().unwrap(), CleanReport::default());
    connection.close();
    assert_eq!(
        queue.queue_len().unwrap_err().kind(),
        leaseq::ErrorKind::Connection
    );
}

#[tokio::test]
async fn blocking_api_inside_a_runtime_is_an_error_not_a_panic() {
    let connection = leaseq::Connection::open(&common::redis_url())
        .await
        .unwrap();
    let _ = connection;
    let err = match leaseq::blocking::Connection::open(&common::redis_url()) {
        Ok(_) => panic!("must refuse"),
        Err(err) => err,
    };
    assert_eq!(err.kind(), leaseq::ErrorKind::Internal);
}
