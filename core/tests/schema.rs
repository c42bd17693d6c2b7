//! The key schema version (`<p>:schema`): a queue of a newer, incompatible layout is refused
//! with a typed error before anything is written; the check is made once per handle.

mod common;

use std::time::Duration;

use common::{queue, raw, LEASE};
use leaseq::{ErrorKind, Item, WorkQueue, SCHEMA_VERSION};
use redis::Commands;

#[tokio::test]
async fn a_queue_without_a_version_or_with_ours_works() {
    let (connection, queue, prefix) = queue("schema-ok").await;
    assert!(queue.add_item(&Item::with_id("a", "x")).await.unwrap());
    let _: () = raw()
        .set(format!("{prefix}:schema"), SCHEMA_VERSION)
        .unwrap();
    let fresh = WorkQueue::new(&connection, &prefix).unwrap();
    let item = fresh.lease(LEASE, false, None).await.unwrap().unwrap();
    assert!(fresh.complete(&item).await.unwrap());
}

#[tokio::test]
async fn a_newer_schema_is_refused_before_any_write() {
    let (connection, _queue, prefix) = queue("schema-newer").await;
    let newer = SCHEMA_VERSION + 1;
    let _: () = raw().set(format!("{prefix}:schema"), newer).unwrap();
    let queue = WorkQueue::new(&connection, &prefix).unwrap();
    let err = queue.add_item(&Item::with_id("a", "x")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let message = err.message();
    assert!(
        message.contains(&format!("version {newer}")) && message.contains("upgrade leaseq"),
        "{message}"
    );
    // Nothing was written: the only key of the queue is the version.
    assert_eq!(
        common::keys_under(&prefix),
        vec![format!("{prefix}:schema")]
    );
    // Every operation is refused, reads and leases too, each time (a refusal is not cached).
    for _ in 0..2 {
        let lease = queue
            .lease(LEASE, true, Some(Duration::from_millis(50)))
            .await;
        assert_eq!(lease.unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(
            queue.queue_len().await.unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
}

#[tokio::test]
async fn the_version_is_read_once_per_handle() {
    let (connection, queue, prefix) = queue("schema-once").await;
    assert!(queue.add_item(&Item::with_id("a", "x")).await.unwrap());
    // Written after the handle checked: this handle (and its clones) does not look again, a new
    // handle does. The check is off the per-job path.
    let _: () = raw()
        .set(format!("{prefix}:schema"), SCHEMA_VERSION + 1)
        .unwrap();
    let clone = queue.clone();
    assert_eq!(clone.queue_len().await.unwrap(), 1);
    let fresh = WorkQueue::new(&connection, &prefix).unwrap();
    assert_eq!(
        fresh.queue_len().await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn a_version_that_is_not_a_number_is_refused() {
    let (connection, _queue, prefix) = queue("schema-garbage").await;
    let _: () = raw().set(format!("{prefix}:schema"), "two").unwrap();
    let queue = WorkQueue::new(&connection, &prefix).unwrap();
    let err = queue.queue_len().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("not a key schema version"), "{err}");
}
