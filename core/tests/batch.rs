//! The batched forms (issue #15): `lease_many` and `complete_many` give what the single forms
//! give, item by item, and leave the same keys behind.

mod common;

use std::time::Duration;

use common::LEASE;
use leaseq::{ErrorKind, Item, QueueOptions, WorkQueue, MAX_BATCH};

fn items(count: usize) -> Vec<Item> {
    (0..count)
        .map(|i| Item::with_id(format!("i{i:02}"), format!("data {i}")))
        .collect()
}

/// The names of every key under `prefix`, without it: two queues that went through the same
/// steps hold the same names.
fn key_names(prefix: &str) -> Vec<String> {
    common::all_keys_under(prefix)
        .into_iter()
        .map(|key| key.trim_start_matches(prefix).to_owned())
        .collect()
}

fn ids(items: &[Item]) -> Vec<&str> {
    items.iter().map(|item| item.id.as_str()).collect()
}

#[tokio::test]
async fn lease_many_takes_up_to_count_in_lease_order_with_attempts_and_fences() {
    let (_connection, queue, prefix) = common::queue("batch-lease").await;
    queue.add_items(&items(5)).await.unwrap();
    let first = queue.lease_many(LEASE, 3, false, None).await.unwrap();
    assert_eq!(ids(&first), ["i00", "i01", "i02"]);
    assert_eq!(first[1].data, b"data 1");
    assert!(first.iter().all(|item| item.attempts == 1));
    let fences: Vec<u64> = first.iter().map(|item| item.fence).collect();
    assert_eq!(fences, [1, 2, 3], "one token per delivery, growing");
    // Fewer than asked when the queue runs out; then an empty list.
    let rest = queue.lease_many(LEASE, 10, false, None).await.unwrap();
    assert_eq!(ids(&rest), ["i03", "i04"]);
    assert!(queue
        .lease_many(LEASE, 10, false, None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(queue.processing().await.unwrap(), 5);
    for id in ["i00", "i04"] {
        assert!(common::exists(&format!("{prefix}:lease:{id}")));
    }
}

#[tokio::test]
async fn a_blocking_lease_many_returns_what_is_there_once_something_is() {
    let (_connection, queue, _prefix) = common::queue("batch-block").await;
    let waiting = {
        let queue = queue.clone();
        tokio::spawn(async move {
            queue
                .lease_many(LEASE, 10, true, Some(Duration::from_secs(5)))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    queue.add_items(&items(2)).await.unwrap();
    let leased = waiting.await.unwrap().unwrap();
    assert!(!leased.is_empty() && leased.len() <= 2, "{leased:?}");
    let empty = queue
        .lease_many(LEASE, 10, true, Some(Duration::from_millis(50)))
        .await
        .unwrap();
    assert!(empty.len() <= 1);
}

#[tokio::test]
async fn complete_many_is_true_once_per_item_and_leaves_what_single_completes_leave() {
    let (_connection, batched, batched_prefix) = common::queue("batch-complete").await;
    let (_other, single, single_prefix) = common::queue("batch-single").await;
    for queue in [&batched, &single] {
        queue.add_items(&items(6)).await.unwrap();
    }
    let leased = batched.lease_many(LEASE, 4, false, None).await.unwrap();
    let completed = batched.complete_many(&leased).await.unwrap();
    assert_eq!(completed, [true; 4]);
    assert_eq!(
        batched.complete_many(&leased[..2]).await.unwrap(),
        [false, false]
    );
    // The same through the single forms on a twin queue.
    for _ in 0..4 {
        let item = single.lease(LEASE, false, None).await.unwrap().unwrap();
        assert!(single.complete(&item).await.unwrap());
    }
    assert_eq!(key_names(&batched_prefix), key_names(&single_prefix));
    assert_eq!(batched.queue_len().await.unwrap(), 2);
    assert_eq!(batched.processing().await.unwrap(), 0);
    // A batch may mix done and not-done items; an unleased item completes too, as in complete.
    let queued = Item::with_id("i05", "data 5");
    let mixed = vec![leased[0].clone(), queued];
    assert_eq!(batched.complete_many(&mixed).await.unwrap(), [false, true]);
    assert_eq!(common::lrange(&format!("{batched_prefix}:queue")), ["i04"]);
}

#[tokio::test]
async fn with_fencing_a_superseded_delivery_gets_false_and_keeps_its_item() {
    let (connection, _queue, prefix) = common::queue("batch-fence").await;
    let options = QueueOptions {
        fencing: true,
        ..QueueOptions::default()
    };
    let queue = WorkQueue::with_options(&connection, &prefix, options).unwrap();
    queue.add_items(&items(2)).await.unwrap();
    let short = Duration::from_millis(20);
    let stale = queue.lease_many(short, 1, false, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(40)).await;
    queue.light_clean().await.unwrap();
    let fresh = queue.lease_many(LEASE, 2, false, None).await.unwrap();
    let again = fresh.iter().find(|item| item.id == stale[0].id).unwrap();
    let other = fresh.iter().find(|item| item.id != stale[0].id).unwrap();
    let batch = vec![stale[0].clone(), other.clone()];
    assert_eq!(queue.complete_many(&batch).await.unwrap(), [false, true]);
    assert!(common::exists(&format!("{prefix}:item:{}", again.id)));
    assert!(
        queue.complete(again).await.unwrap(),
        "the current delivery completes"
    );
}

#[tokio::test]
async fn batch_sizes_outside_1_to_max_batch_are_invalid() {
    let (_connection, queue, _prefix) = common::queue("batch-sizes").await;
    let kind = |error: leaseq::Error| error.kind();
    assert_eq!(
        kind(queue.lease_many(LEASE, 0, false, None).await.unwrap_err()),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(
            queue
                .lease_many(LEASE, MAX_BATCH + 1, false, None)
                .await
                .unwrap_err()
        ),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        kind(queue.complete_many(&[]).await.unwrap_err()),
        ErrorKind::InvalidArgument
    );
    let too_many = vec![Item::with_id("x", "x"); MAX_BATCH + 1];
    assert_eq!(
        kind(queue.complete_many(&too_many).await.unwrap_err()),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn complete_and_lease_gives_what_complete_then_lease_many_give() {
    let (_connection, combined, combined_prefix) = common::queue("batch-next").await;
    let (_other, twin, twin_prefix) = common::queue("batch-next-twin").await;
    for queue in [&combined, &twin] {
        queue.add_items(&items(4)).await.unwrap();
    }
    let first = combined.lease(LEASE, false, None).await.unwrap().unwrap();
    let (completed, next) = combined.complete_and_lease(&first, LEASE, 2).await.unwrap();
    assert!(completed);
    assert_eq!(ids(&next), ["i01", "i02"]);
    assert_eq!((next[0].attempts, next[0].fence), (1, 2));
    // The same through the two calls on a twin queue leaves the same keys and lists.
    let twin_first = twin.lease(LEASE, false, None).await.unwrap().unwrap();
    assert!(twin.complete(&twin_first).await.unwrap());
    assert_eq!(
        ids(&twin.lease_many(LEASE, 2, false, None).await.unwrap()),
        ["i01", "i02"]
    );
    assert_eq!(key_names(&combined_prefix), key_names(&twin_prefix));
    assert_eq!(
        common::lrange(&format!("{combined_prefix}:processing")),
        common::lrange(&format!("{twin_prefix}:processing"))
    );
    // Completing again is false (true once per item); the next item is leased all the same.
    let (again, last) = combined.complete_and_lease(&first, LEASE, 5).await.unwrap();
    assert!(!again);
    assert_eq!(ids(&last), ["i03"]);
    // Nothing left to lease: the complete still happens.
    let (completed, none) = combined
        .complete_and_lease(&last[0], LEASE, 1)
        .await
        .unwrap();
    assert!(completed && none.is_empty());
    assert_eq!(combined.processing().await.unwrap(), 2);
}

#[tokio::test]
async fn complete_and_lease_whose_lease_part_fails_keeps_the_complete() {
    let (_connection, queue, prefix) = common::queue("batch-next-fail").await;
    queue.add_items(&items(2)).await.unwrap();
    let first = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    // A fencing counter leaseq did not write: the lease part refuses with nothing leased.
    let mut raw = common::raw();
    redis::cmd("DEL")
        .arg(format!("{prefix}:last_fence"))
        .exec(&mut raw)
        .unwrap();
    redis::cmd("RPUSH")
        .arg(format!("{prefix}:last_fence"))
        .arg("x")
        .exec(&mut raw)
        .unwrap();
    let error = queue
        .complete_and_lease(&first, LEASE, 1)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("last_fence"), "{error}");
    assert!(!queue.complete(&first).await.unwrap(), "the complete stood");
    assert_eq!(
        queue.queue_len().await.unwrap(),
        1,
        "nothing else was leased"
    );
    assert_eq!(
        queue
            .complete_and_lease(&first, LEASE, 0)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}
