//! Wire compatibility with the published crate `redis-work-queue` 0.3, both directions.

mod common;

use std::time::Duration;

use common::{keys_under, queue, LEASE};
use leaseq::Item;
use redis_work_queue::{Item as TheirItem, KeyPrefix, WorkQueue as TheirQueue};

async fn theirs(prefix: &str) -> (redis026::aio::MultiplexedConnection, TheirQueue) {
    let client = redis026::Client::open(common::redis_url()).unwrap();
    let connection = client.get_multiplexed_async_connection().await.unwrap();
    (
        connection,
        TheirQueue::new(KeyPrefix::new(prefix.to_string())),
    )
}

#[tokio::test]
async fn their_add_then_our_lease_and_complete() {
    let (_connection, ours, prefix) = queue("theirs-to-ours").await;
    let (mut db, their) = theirs(&prefix).await;
    let item = TheirItem::from_string_data("from the crate".to_string());
    assert!(their.add_item(&mut db, &item).await.unwrap());
    their
        .add_unique_item(&mut db, &TheirItem::from_string_data("second".into()))
        .await
        .unwrap();
    assert_eq!(ours.queue_len().await.unwrap(), 2);
    assert_eq!(their.queue_len(&mut db).await.unwrap(), 2);

    let leased = ours.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(leased.id, item.id);
    assert_eq!(leased.data, b"from the crate");
    assert_eq!(their.processing(&mut db).await.unwrap(), 1);
    assert!(ours.complete(&leased).await.unwrap());
    // Their complete agrees it is gone.
    assert!(!their.complete(&mut db, &item).await.unwrap());
    let second = ours.lease(LEASE, false, None).await.unwrap().unwrap();
    assert!(ours.complete(&second).await.unwrap());
    assert!(keys_under(&prefix).is_empty());
}

#[tokio::test]
async fn our_add_then_their_lease_and_complete() {
    let (_connection, ours, prefix) = queue("ours-to-theirs").await;
    let (mut db, their) = theirs(&prefix).await;
    let item = Item::new(b"from leaseq".to_vec());
    assert!(ours.add_item(&item).await.unwrap());
    assert_eq!(
        ours.add_items(&[Item::new("b"), Item::new("c")])
            .await
            .unwrap(),
        2
    );
    assert_eq!(their.queue_len(&mut db).await.unwrap(), 3);

    let leased = their
        .lease(&mut db, Some(Duration::ZERO), Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leased.id, item.id);
    assert_eq!(&*leased.data, b"from leaseq");
    assert_eq!(ours.processing().await.unwrap(), 1);
    // Their lease key is ours: our cleaner leaves it alone.
    assert_eq!(ours.light_clean().await.unwrap().requeued, 0);
    // Our complete and theirs agree on who was first.
    assert!(their.complete(&mut db, &leased).await.unwrap());
    assert!(!ours
        .complete(&Item::with_id(leased.id.clone(), ""))
        .await
        .unwrap());

    for _ in 0..2 {
        let next = their
            .lease(&mut db, Some(Duration::ZERO), Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert!(ours
            .complete(&Item::with_id(next.id.clone(), ""))
            .await
            .unwrap());
        assert!(!their.complete(&mut db, &next).await.unwrap());
    }
    assert_eq!(ours.queue_len().await.unwrap(), 0);
    assert_eq!(ours.processing().await.unwrap(), 0);
    assert!(keys_under(&prefix).is_empty());
}

#[tokio::test]
async fn their_blocking_lease_is_woken_by_our_add() {
    let (_connection, ours, prefix) = queue("their-block").await;
    let (mut db, their) = theirs(&prefix).await;
    let waiter = tokio::spawn(async move {
        their
            .lease(
                &mut db,
                Some(Duration::from_secs(3)),
                Duration::from_secs(30),
            )
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    ours.add_item(&Item::with_id("wake", "x")).await.unwrap();
    assert_eq!(waiter.await.unwrap().unwrap().unwrap().id, "wake");
}
