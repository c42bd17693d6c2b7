//! Bad input is a typed error, never a panic.

mod common;

use std::time::Duration;

use common::{queue, LEASE};
use leaseq::{Connection, ErrorKind, Item, WorkQueue, MAX_ITEM_BYTES};

#[tokio::test]
async fn empty_prefix_is_invalid() {
    let connection = Connection::open(&common::redis_url()).await.unwrap();
    let err = WorkQueue::new(&connection, "").err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("prefix"), "{err}");
}

#[tokio::test]
async fn bad_lease_durations_are_invalid() {
    let (_connection, queue, _prefix) = queue("badlease").await;
    queue.add_item(&Item::new("x")).await.unwrap();
    for lease in [
        Duration::ZERO,
        Duration::from_secs(366 * 24 * 3600),
        Duration::MAX,
    ] {
        let err = queue.lease(lease, false, None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{lease:?}");
    }
    // Nothing was taken by the refused calls.
    assert_eq!(queue.queue_len().await.unwrap(), 1);
    let item = queue.lease(LEASE, false, None).await.unwrap().unwrap();
    assert_eq!(
        queue.renew(&item, Duration::ZERO).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    // A sub-millisecond lease rounds up instead of becoming zero.
    assert_eq!(leaseq::lease_millis(Duration::from_micros(10)).unwrap(), 1);
}

#[test]
fn float_seconds_are_checked_in_the_core() {
    for secs in [f64::NAN, f64::INFINITY, -1.0, 0.0, 1e300] {
        assert_eq!(
            leaseq::lease_from_secs_f64(secs).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{secs}"
        );
    }
    assert_eq!(
        leaseq::lease_from_secs_f64(0.25).unwrap(),
        Duration::from_millis(250)
    );
    assert!(leaseq::from_secs_f64("timeout", -0.5).is_err());
    assert_eq!(
        leaseq::from_secs_f64("timeout", 0.0).unwrap(),
        Duration::ZERO
    );
}

#[tokio::test]
async fn empty_and_non_utf8_ids_are_invalid() {
    let (_connection, queue, _prefix) = queue("badid").await;
    let empty = Item::with_id("", "x");
    assert_eq!(
        queue.add_item(&empty).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        queue
            .add_items(&[Item::new("ok"), empty.clone()])
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        queue.queue_len().await.unwrap(),
        0,
        "a refused batch adds nothing"
    );
    assert_eq!(
        queue.complete(&empty).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        leaseq::id_from_bytes(vec![0xff, 0xfe]).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn oversized_item_is_invalid_before_anything_is_sent() {
    let (_connection, queue, _prefix) = queue("big").await;
    // calloc'd and never touched, so this costs no real memory.
    let big = Item::new(vec![0u8; MAX_ITEM_BYTES + 1]);
    let err = queue.add_item(&big).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("512"), "{err}");
    assert_eq!(
        queue.add_unique_item(&big).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test]
async fn unreachable_server_is_a_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Connection::open(&format!("redis://127.0.0.1:{port}"))
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
}

#[tokio::test]
async fn malformed_url_is_invalid() {
    let err = Connection::open("http://nope").await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[tokio::test]
async fn wrong_password_is_a_connection_error() {
    let url = common::redis_url().replace("redis://", "redis://nobody:wrong@");
    let err = Connection::open(&url).await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
}

#[tokio::test]
async fn closed_connection_is_a_connection_error() {
    let (connection, queue, _prefix) = queue("closed").await;
    connection.close();
    assert!(connection.is_closed());
    assert_eq!(
        queue.add_item(&Item::new("x")).await.unwrap_err().kind(),
        ErrorKind::Connection
    );
    assert_eq!(
        queue.lease(LEASE, true, None).await.unwrap_err().kind(),
        ErrorKind::Connection
    );
}

#[tokio::test]
async fn a_key_of_the_wrong_type_is_an_internal_error() {
    let (_connection, queue, prefix) = queue("wrongtype").await;
    let _: () = redis::cmd("SET")
        .arg(format!("{prefix}:queue"))
        .arg("not a list")
        .query(&mut common::raw())
        .unwrap();
    let err = queue.queue_len().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal, "{err}");
}

#[test]
fn error_kinds_have_fixed_numbers_and_names() {
    let table: Vec<(u32, &str)> = ErrorKind::ALL
        .iter()
        .map(|k| (k.code(), k.name()))
        .collect();
    assert_eq!(
        table,
        vec![
            (1, "ECONNECTION"),
            (2, "ETIMEOUT"),
            (3, "EINVAL"),
            (4, "ELEASE_LOST"),
            (5, "EINTERNAL")
        ]
    );
    for kind in ErrorKind::ALL {
        assert_eq!(ErrorKind::from_code(kind.code()), Some(kind));
    }
    assert_eq!(ErrorKind::from_code(0), None);
}

/// Keeps Redis busy for `millis` ms with a script that loops on TIME (no DEBUG command needed).
fn keep_redis_busy(millis: u64) -> std::thread::JoinHandle<()> {
    let busy = r"
        local start = redis.call('TIME')
        local t0 = start[1] * 1000000 + start[2]
        repeat
          local now = redis.call('TIME')
        until now[1] * 1000000 + now[2] - t0 >= tonumber(ARGV[1]) * 1000
        return 1";
    let mut raw = common::raw();
    std::thread::spawn(move || {
        let _: i64 = redis::cmd("EVAL")
            .arg(busy)
            .arg(0)
            .arg(millis)
            .query(&mut raw)
            .unwrap();
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_later_than_the_response_timeout_is_a_timeout_error() {
    let options = leaseq::ConnectionOptions {
        response_timeout: Some(Duration::from_millis(200)),
        ..leaseq::ConnectionOptions::default()
    };
    let connection = Connection::open_with(&common::redis_url(), options)
        .await
        .unwrap();
    let queue = WorkQueue::new(&connection, &common::prefix("timeout")).unwrap();
    assert_eq!(queue.queue_len().await.unwrap(), 0);
    let busy = keep_redis_busy(800);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let err = queue.queue_len().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    busy.join().unwrap();
    // The connection is still usable once Redis answers again.
    assert_eq!(queue.queue_len().await.unwrap(), 0);
}

#[tokio::test]
async fn zero_connection_timeouts_are_invalid() {
    let url = common::redis_url();
    for options in [
        leaseq::ConnectionOptions {
            connect_timeout: Duration::ZERO,
            ..leaseq::ConnectionOptions::default()
        },
        leaseq::ConnectionOptions {
            response_timeout: Some(Duration::ZERO),
            ..leaseq::ConnectionOptions::default()
        },
    ] {
        let err = Connection::open_with(&url, options).await.err().unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{options:?}");
    }
}
