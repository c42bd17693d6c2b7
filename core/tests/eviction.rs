//! The eviction check at `Connection::open`: a Redis whose `maxmemory-policy` is not `noeviction`
//! may evict queue keys, so opening warns (`Connection::warnings`), refuses with
//! `?eviction=refuse`, or skips the check with `?eviction=ignore`; a server that refuses `INFO`
//! is a warning, not a failure.
//!
//! Each test starts redis-servers of its own on free ports (they die with the test process), so
//! no policy is changed on a server other tests use; the Cluster test, run under
//! scripts/with-servers.sh, changes its nodes' policy and puts it back.

mod common;

use std::time::Duration;

use common::{free_port, spawn_redis};
use leaseq::{Connection, ErrorKind, Item, WorkQueue};

/// A redis-server of this test's own, started with `args`; its URL once it answers.
fn start_redis(args: &[&str]) -> String {
    let port = free_port();
    let mut all = vec![
        "--port".to_owned(),
        port.to_string(),
        "--bind".to_owned(),
        "127.0.0.1".to_owned(),
    ];
    all.extend(args.iter().map(|arg| arg.to_string()));
    spawn_redis(all);
    let url = format!("redis://127.0.0.1:{port}");
    for _ in 0..200 {
        let answered = redis::Client::open(url.as_str())
            .and_then(|client| client.get_connection())
            .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection));
        if answered.is_ok() {
            return url;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("the redis-server on port {port} did not start");
}

const FIX: &str = "CONFIG SET maxmemory-policy noeviction";

#[tokio::test]
async fn a_noeviction_server_gives_no_warning() {
    let url = start_redis(&["--maxmemory-policy", "noeviction"]);
    let connection = Connection::open(&url).await.unwrap();
    assert_eq!(connection.warnings(), Vec::<String>::new());
    assert_eq!(connection.eviction_policy().as_deref(), Some("noeviction"));
    // refuse only refuses an evicting server
    let refusing = Connection::open(&format!("{url}?eviction=refuse"))
        .await
        .unwrap();
    assert_eq!(refusing.warnings(), Vec::<String>::new());
}

#[tokio::test]
async fn an_evicting_server_is_warned_about_once_and_still_works() {
    let url = start_redis(&["--maxmemory-policy", "allkeys-lru"]);
    for url in [url.clone(), format!("{url}/0?eviction=warn")] {
        let connection = Connection::open(&url).await.unwrap();
        let warnings = connection.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let warning = &warnings[0];
        for part in [
            "the Redis at 127.0.0.1:",
            "has maxmemory-policy allkeys-lru",
            "lose items",
            FIX,
            "eviction=ignore",
        ] {
            assert!(warning.contains(part), "{part:?} not in {warning:?}");
        }
        assert_eq!(connection.eviction_policy().as_deref(), Some("allkeys-lru"));
        // A warning, not a failure: the connection works.
        let queue = WorkQueue::new(&connection, "evicting").unwrap();
        assert!(queue.add_item(&Item::new("x")).await.unwrap());
    }
}

#[tokio::test]
async fn eviction_refuse_fails_to_open_an_evicting_server_with_a_connection_error() {
    let url = start_redis(&["--maxmemory-policy", "volatile-ttl"]);
    let err = match Connection::open(&format!("{url}?eviction=refuse")).await {
        Ok(_) => panic!("opened a server whose policy is volatile-ttl"),
        Err(err) => err,
    };
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    for part in ["maxmemory-policy volatile-ttl", "eviction=refuse", FIX] {
        assert!(err.message().contains(part), "{part:?} not in {err}");
    }
}

#[tokio::test]
async fn eviction_ignore_skips_the_check() {
    let url = start_redis(&["--maxmemory-policy", "allkeys-random"]);
    let connection = Connection::open(&format!("{url}?eviction=ignore"))
        .await
        .unwrap();
    assert_eq!(connection.warnings(), Vec::<String>::new());
    assert_eq!(connection.eviction_policy(), None);
}

#[tokio::test]
async fn a_bad_eviction_parameter_is_invalid_argument() {
    let url = start_redis(&[]);
    for query in ["?eviction=never", "?eviction", "?eviction=REFUSE"] {
        let err = match Connection::open(&format!("{url}{query}")).await {
            Ok(_) => panic!("opened with {query}"),
            Err(err) => err,
        };
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{query}: {err}");
        assert!(err.message().contains("warn, refuse or ignore"), "{err}");
    }
}

#[tokio::test]
async fn a_server_that_refuses_info_is_a_warning_not_a_failure() {
    let url = start_redis(&["--maxmemory-policy", "allkeys-lru"]);
    let mut admin = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    // As some managed services allow: every command on every key, but not INFO.
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("app")
        .arg("on")
        .arg(">s3cret")
        .arg("~*")
        .arg("&*")
        .arg("+@all")
        .arg("-info")
        .query(&mut admin)
        .unwrap();
    let limited = url.replace("redis://", "redis://app:s3cret@");
    for query in ["", "?eviction=refuse"] {
        let connection = Connection::open(&format!("{limited}{query}"))
            .await
            .unwrap_or_else(|err| panic!("{query}: {err}"));
        let warnings = connection.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        for part in ["cannot check the maxmemory-policy", "INFO was refused", FIX] {
            assert!(warnings[0].contains(part), "{part:?} not in {warnings:?}");
        }
        assert_eq!(connection.eviction_policy(), None);
        let queue = WorkQueue::new(&connection, "no-info").unwrap();
        assert!(queue.add_item(&Item::new("x")).await.unwrap());
    }
}

/// Puts every node's policy back, even when the test fails.
struct RestorePolicy(Vec<String>);

impl Drop for RestorePolicy {
    fn drop(&mut self) {
        for port in &self.0 {
            set_policy(port, "noeviction");
        }
    }
}

fn set_policy(port: &str, policy: &str) {
    let mut node = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg(policy)
        .query(&mut node)
        .unwrap();
}

#[tokio::test]
async fn on_a_cluster_every_master_is_checked() {
    let Some(url) = common::server_url("LEASEQ_CLUSTER_URL") else {
        return;
    };
    let ports: Vec<String> = std::env::var("LEASEQ_CLUSTER_PORTS")
        .expect("LEASEQ_CLUSTER_PORTS is set with LEASEQ_CLUSTER_URL")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let connection = Connection::open(&url).await.unwrap();
    assert_eq!(connection.warnings(), Vec::<String>::new());
    assert_eq!(connection.eviction_policy().as_deref(), Some("noeviction"));

    // Every node (replicas too: INFO goes to masters only, whichever they are now). maxmemory
    // stays 0, so nothing is evicted meanwhile.
    let _restore = RestorePolicy(ports.clone());
    for port in &ports {
        set_policy(port, "allkeys-lfu");
    }
    let connection = Connection::open(&url).await.unwrap();
    let warnings = connection.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    for part in [
        "the Redis Cluster node 127.0.0.1:",
        "(and 2 other masters)",
        "maxmemory-policy allkeys-lfu",
        FIX,
    ] {
        assert!(warnings[0].contains(part), "{part:?} not in {warnings:?}");
    }
    let err = match Connection::open(&format!("{url}?eviction=refuse")).await {
        Ok(_) => panic!("opened an evicting Cluster with eviction=refuse"),
        Err(err) => err,
    };
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
}

#[tokio::test]
async fn the_tls_acl_user_can_read_the_policy() {
    // scripts/with-servers.sh's TLS server: user `app` may run every command (+@all) on `{app}*`.
    let Some(url) = common::server_url("LEASEQ_TLS_URL") else {
        return;
    };
    let connection = Connection::open(&url).await.unwrap();
    assert_eq!(connection.warnings(), Vec::<String>::new());
    assert_eq!(connection.eviction_policy().as_deref(), Some("noeviction"));
}
