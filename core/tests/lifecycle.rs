//! The job lifecycle: attempts, retries with backoff, dead letters, delays, priorities,
//! self-healing leases, uniqueness, pause.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{lrange, LEASE};
use leaseq::{AddOptions, Connection, ErrorKind, FailOutcome, Item, QueueOptions, WorkQueue};

async fn queue_with(name: &str, options: QueueOptions) -> (WorkQueue, String) {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let prefix = common::prefix(name);
    (
        WorkQueue::with_options(&connection, &prefix, options).unwrap(),
        prefix,
    )
}

/// Every key under `prefix` but the wake-up flag, which expires on its own within 2 s.
fn keys_under(prefix: &str) -> Vec<String> {
    let mut keys = common::keys_under(prefix);
    keys.retain(|key| !key.ends_with(":signal"));
    keys
}

fn options(max_attempts: u32) -> QueueOptions {
    QueueOptions {
        max_attempts,
        backoff_base: Duration::from_millis(40),
        backoff_max: Duration::from_millis(200),
        ..QueueOptions::default()
    }
}

#[tokio::test]
async fn fail_retries_after_the_backoff_then_buries_with_the_error() {
    let (queue, prefix) = queue_with("fail", options(3)).await;
    queue.add_item(&Item::with_id("f", "x")).await.unwrap();
    for attempt in 1..=3u32 {
        let item = queue
            .lease(LEASE, true, Some(Duration::from_secs(2)))
            .await
            .unwrap()
            .expect("retried item comes back");
        assert_eq!(item.attempts, attempt);
        let outcome = queue
            .fail(&item, &format!("boom {attempt}"), None)
            .await
            .unwrap();
        if attempt < 3 {
            assert!(matches!(outcome, FailOutcome::Retry { .. }), "{outcome:?}");
            // Not leasable before its backoff (≥ half of 40 ms · 2^(attempt-1)).
            assert!(queue.lease(LEASE, false, None).await.unwrap().is_none());
            assert_eq!(queue.delayed_len().await.unwrap(), 1);
        } else {
            assert_eq!(outcome, FailOutcome::Dead);
        }
    }
    assert_eq!(queue.dead_len().await.unwrap(), 1);
    let dead = queue.dead_items(0, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (
            dead[0].item.id.as_str(),
            dead[0].item.data.as_slice(),
            dead[0].item.attempts
        ),
        ("f", b"x".as_slice(), 3)
    );
    assert_eq!(dead[0].error, "boom 3");
    assert!(dead[0].died_at <= SystemTime::now() + Duration::from_secs(5));
    assert!(queue.lease(LEASE, false, None).await.unwrap().is_none());

    // Requeue gives it a fresh set of attempts; purge deletes it for good.
    assert_eq!(queue.requeue_dead(&["f".to_string()]).await.unwrap(), 1);
    let again = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(again.attempts, 1);
    assert!(matches!(
        queue.fail(&again, "x", Some(Duration::ZERO)).await.unwrap(),
        FailOutcome::Retry { .. }
    ));
    let again = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(again.attempts, 2, "an immediate retry is leasable at once");
    assert!(queue.complete(&again).await.unwrap());
    assert_eq!(keys_under(&prefix), Vec::<String>::new());
}

#[tokio::test]
async fn purge_and_bulk_dead_letter_operations() {
    let (queue, prefix) = queue_with("purge", options(1)).await;
    for i in 0..5 {
        queue
            .add_item(&Item::with_id(format!("p{i}"), "x"))
            .await
            .unwrap();
    }
    for _ in 0..5 {
        let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
        assert_eq!(
            queue.fail(&item, "bad", None).await.unwrap(),
            FailOutcome::Dead
        );
    }
    assert_eq!(queue.dead_len().await.unwrap(), 5);
    assert_eq!(queue.dead_items(1, 2).await.unwrap().len(), 2);
    assert_eq!(queue.dead_items(4, 1000).await.unwrap().len(), 1);
    // Past the end, however far (Lua numbers would round offsets above 2^53).
    for offset in [5, 1 << 53, (1 << 53) + 1, i64::MAX as u64, u64::MAX] {
        assert_eq!(queue.dead_items(offset, 1000).await.unwrap(), vec![]);
    }
    assert_eq!(
        queue.dead_items(0, 0).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        queue
            .purge_dead(&["p0".into(), "nope".into()])
            .await
            .unwrap(),
        1
    );
    assert_eq!(queue.requeue_all_dead().await.unwrap(), 4);
    assert_eq!(queue.queue_len().await.unwrap(), 4);
    for _ in 0..4 {
        let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
        assert_eq!(
            queue.fail(&item, "bad again", None).await.unwrap(),
            FailOutcome::Dead
        );
    }
    assert_eq!(queue.purge_all_dead().await.unwrap(), 4);
    assert_eq!(keys_under(&prefix), Vec::<String>::new());
}

#[tokio::test]
async fn fail_without_the_lease_is_lease_lost_and_after_completion_is_gone() {
    let (queue, _prefix) = queue_with("lost", options(5)).await;
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let other = WorkQueue::new(&connection, queue.name()).unwrap();
    queue.add_item(&Item::with_id("l", "x")).await.unwrap();
    let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    let err = other.fail(&item, "not mine", None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LeaseLost, "{err}");
    assert!(queue.complete(&item).await.unwrap());
    assert_eq!(
        queue.fail(&item, "late", None).await.unwrap(),
        FailOutcome::Gone
    );
}

#[tokio::test]
async fn a_poison_item_ends_in_the_dead_letters_with_no_cleaner_running() {
    // Every worker that takes it "dies": its lease just runs out. The lease calls themselves
    // reclaim it, count the attempt, and bury it at the maximum.
    let (queue, prefix) = queue_with("poison", options(3)).await;
    queue.add_item(&Item::with_id("poison", "x")).await.unwrap();
    let mut deliveries = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        if let Some(item) = queue
            .lease(
                Duration::from_millis(30),
                true,
                Some(Duration::from_millis(100)),
            )
            .await
            .unwrap()
        {
            deliveries += 1;
            assert_eq!(item.attempts, deliveries);
        }
        if queue.dead_len().await.unwrap() == 1 {
            break;
        }
    }
    assert_eq!(deliveries, 3);
    let dead = queue.dead_items(0, 1).await.unwrap();
    assert_eq!(dead[0].error, "lease expired");
    assert!(lrange(&format!("{prefix}:processing")).is_empty());
}

#[tokio::test]
async fn light_clean_counts_an_expired_lease_as_an_attempt() {
    let (queue, _prefix) = queue_with("cleanattempt", options(1)).await;
    queue.add_item(&Item::with_id("c", "x")).await.unwrap();
    queue
        .lease(Duration::from_millis(10), false, None)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let report = queue.light_clean().await.unwrap();
    assert_eq!((report.requeued, report.dead), (0, 1));
}

#[tokio::test]
async fn delayed_items_become_leasable_when_due_in_due_order() {
    let (queue, _prefix) = queue_with("delay", QueueOptions::default()).await;
    let later = AddOptions {
        delay: Some(Duration::from_millis(300)),
        ..AddOptions::default()
    };
    let sooner = AddOptions {
        delay: Some(Duration::from_millis(150)),
        ..AddOptions::default()
    };
    let at = AddOptions {
        at: Some(SystemTime::now() + Duration::from_millis(200)),
        ..AddOptions::default()
    };
    assert!(queue
        .add_item_with(&Item::with_id("later", "x"), &later)
        .await
        .unwrap());
    assert!(queue
        .add_item_with(&Item::with_id("sooner", "x"), &sooner)
        .await
        .unwrap());
    assert!(queue
        .add_item_with(&Item::with_id("at", "x"), &at)
        .await
        .unwrap());
    assert!(
        !queue
            .add_item_with(&Item::with_id("at", "y"), &at)
            .await
            .unwrap(),
        "id exists"
    );
    assert_eq!(queue.delayed_len().await.unwrap(), 3);
    assert!(queue.lease(LEASE, false, None).await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(350)).await;
    let mut order = Vec::new();
    while let Some(item) = queue.lease(LEASE, false, None).await.unwrap() {
        order.push(item.id);
    }
    assert_eq!(order, vec!["sooner", "at", "later"]);
}

#[tokio::test]
async fn a_blocking_lease_wakes_when_a_delayed_item_is_due() {
    let (queue, _prefix) = queue_with("duewake", QueueOptions::default()).await;
    let delay = Duration::from_millis(300);
    let started = Instant::now();
    queue
        .add_item_with(
            &Item::with_id("d", "x"),
            &AddOptions {
                delay: Some(delay),
                ..AddOptions::default()
            },
        )
        .await
        .unwrap();
    let item = queue
        .lease(LEASE, true, Some(Duration::from_secs(3)))
        .await
        .unwrap()
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(item.id, "d");
    assert!(
        waited >= delay && waited < delay + Duration::from_millis(60),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_waiter_sees_a_delayed_item_added_after_it_started_waiting() {
    let (queue, _prefix) = queue_with("latedelay", QueueOptions::default()).await;
    let waiter = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.lease(LEASE, true, Some(Duration::from_secs(3))).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    queue
        .add_item_with(
            &Item::with_id("d", "x"),
            &AddOptions {
                delay: Some(Duration::from_millis(200)),
                ..AddOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(waiter.await.unwrap().unwrap().unwrap().id, "d");
    let waited = started.elapsed();
    assert!(waited < Duration::from_millis(260), "{waited:?}");
}

#[tokio::test]
async fn priorities_are_strict_and_fifo_within_a_level() {
    let (queue, prefix) = queue_with("prio", QueueOptions::default()).await;
    // A redis-work-queue client's add lands at the default level.
    let mut raw = common::raw();
    let _: () = redis::cmd("SET")
        .arg(format!("{prefix}:item:old"))
        .arg("x")
        .query(&mut raw)
        .unwrap();
    let _: () = redis::cmd("LPUSH")
        .arg(format!("{prefix}:queue"))
        .arg("old")
        .query(&mut raw)
        .unwrap();
    for (id, priority) in [("low", 0u8), ("high1", 9), ("mid", 5), ("high2", 9)] {
        let options = AddOptions {
            priority,
            ..AddOptions::default()
        };
        assert!(queue
            .add_item_with(&Item::with_id(id, "x"), &options)
            .await
            .unwrap());
    }
    assert_eq!(queue.prioritized_len().await.unwrap(), 3);
    assert_eq!(
        queue
            .add_item_with(
                &Item::new("x"),
                &AddOptions {
                    priority: 10,
                    ..AddOptions::default()
                }
            )
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    let mut order = Vec::new();
    while let Some(item) = queue.lease(LEASE, false, None).await.unwrap() {
        order.push(item.id.clone());
        // A priority item that expires goes back to its level.
        if item.id == "mid" && order.len() == 3 {
            assert!(matches!(
                queue
                    .fail(&item, "again", Some(Duration::ZERO))
                    .await
                    .unwrap(),
                FailOutcome::Retry { .. }
            ));
        } else {
            assert!(queue.complete(&item).await.unwrap());
        }
    }
    assert_eq!(order, vec!["high1", "high2", "mid", "mid", "old", "low"]);
    assert_eq!(keys_under(&prefix), Vec::<String>::new());
}

#[tokio::test]
async fn a_blocking_lease_wakes_for_a_priority_item() {
    let (queue, _prefix) = queue_with("priowake", QueueOptions::default()).await;
    let waiter = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.lease(LEASE, true, Some(Duration::from_secs(3))).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    queue
        .add_item_with(
            &Item::with_id("p", "x"),
            &AddOptions {
                priority: 3,
                ..AddOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(waiter.await.unwrap().unwrap().unwrap().id, "p");
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn uniqueness_window_refuses_a_recently_completed_id() {
    let options = QueueOptions {
        unique_window: Duration::from_millis(300),
        ..QueueOptions::default()
    };
    let (queue, _prefix) = queue_with("unique", options).await;
    assert!(queue.add_item(&Item::with_id("u", "x")).await.unwrap());
    let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert!(queue.complete(&item).await.unwrap());
    assert!(!queue.add_item(&Item::with_id("u", "x")).await.unwrap());
    assert_eq!(
        queue
            .add_items(&[Item::with_id("u", "x"), Item::with_id("v", "x")])
            .await
            .unwrap(),
        1
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(queue.add_item(&Item::with_id("u", "x")).await.unwrap());
}

#[tokio::test]
async fn pause_stops_leases_not_adds_and_resume_wakes_waiters() {
    let (queue, _prefix) = queue_with("pause", QueueOptions::default()).await;
    queue.pause().await.unwrap();
    assert!(queue.is_paused().await.unwrap());
    assert!(queue.add_item(&Item::with_id("a", "x")).await.unwrap());
    assert!(queue.lease(LEASE, false, None).await.unwrap().is_none());
    let waiter = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.lease(LEASE, true, Some(Duration::from_secs(3))).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!waiter.is_finished(), "a paused queue does not spin");
    let started = Instant::now();
    assert!(queue.resume().await.unwrap());
    assert_eq!(waiter.await.unwrap().unwrap().unwrap().id, "a");
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "{:?}",
        started.elapsed()
    );
    assert!(!queue.resume().await.unwrap());
}

#[tokio::test]
async fn bad_lifecycle_options_are_invalid() {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    for options in [
        QueueOptions {
            max_attempts: 0,
            ..QueueOptions::default()
        },
        QueueOptions {
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(1),
            ..QueueOptions::default()
        },
        QueueOptions {
            unique_window: Duration::from_secs(400 * 24 * 3600),
            ..QueueOptions::default()
        },
    ] {
        assert_eq!(
            WorkQueue::with_options(&connection, "x", options)
                .err()
                .unwrap()
                .kind(),
            ErrorKind::InvalidArgument
        );
    }
    let queue = WorkQueue::new(&connection, &common::prefix("badadd")).unwrap();
    let both = AddOptions {
        delay: Some(Duration::from_secs(1)),
        at: Some(SystemTime::now()),
        ..AddOptions::default()
    };
    assert_eq!(
        queue
            .add_item_with(&Item::new("x"), &both)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn deep_clean_prunes_bookkeeping_of_items_completed_by_old_clients() {
    let (queue, prefix) = queue_with("prune", QueueOptions::default()).await;
    queue.add_item(&Item::with_id("o", "x")).await.unwrap();
    queue.lease(LEASE, false, None).await.unwrap().unwrap();
    // A redis-work-queue 0.3 client completes it: it knows nothing of attempts or deadlines.
    let mut raw = common::raw();
    let _: () = redis::pipe()
        .del(format!("{prefix}:item:o"))
        .lrem(format!("{prefix}:processing"), 0, "o")
        .del(format!("{prefix}:lease:o"))
        .query(&mut raw)
        .unwrap();
    assert_eq!(
        keys_under(&prefix).len(),
        2,
        "attempts and deadlines remain"
    );
    assert_eq!(queue.deep_clean().await.unwrap().dropped, 2);
    assert_eq!(keys_under(&prefix), Vec::<String>::new());
}
