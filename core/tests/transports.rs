//! Every way to reach Redis the URL allows: TCP with user and password, TLS, a unix socket.

mod common;

use std::time::Duration;

use common::{free_port, spawn_redis, LEASE};
use leaseq::{Connection, Item, WorkQueue};

async fn round_trip(url: &str) {
    let mut connection = None;
    for _ in 0..100 {
        match Connection::open(url).await {
            Ok(opened) => {
                connection = Some(opened);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let connection = connection.unwrap_or_else(|| panic!("cannot open {url}"));
    let queue = WorkQueue::new(&connection, &common::prefix("transport")).unwrap();
    queue.add_item(&Item::with_id("t", "x")).await.unwrap();
    let item = queue
        .lease(LEASE, true, Some(Duration::from_secs(1)))
        .await
        .unwrap()
        .unwrap();
    assert!(queue.complete(&item).await.unwrap());
}

#[tokio::test]
async fn user_and_password_in_the_url() {
    let user = format!("u{}", uuid::Uuid::new_v4().simple());
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(">s3cret")
        .arg("~*")
        .arg("+@all")
        .query(&mut common::raw())
        .unwrap();
    let url = common::redis_url().replace("redis://", &format!("redis://{user}:s3cret@"));
    round_trip(&url).await;
}

#[tokio::test]
async fn unix_socket() {
    let dir = std::env::temp_dir().join(format!("leaseq-sock-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("redis.sock");
    spawn_redis(vec![
        "--port".into(),
        "0".into(),
        "--unixsocket".into(),
        socket.display().to_string(),
        "--dir".into(),
        dir.display().to_string(),
    ]);
    round_trip(&format!("unix://{}", socket.display())).await;
}

#[tokio::test]
async fn tls() {
    let dir = std::env::temp_dir().join(format!("leaseq-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl must be installed");
    assert!(made.status.success());
    let port = free_port();
    spawn_redis(vec![
        "--port".into(),
        "0".into(),
        "--tls-port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--tls-cert-file".into(),
        cert.display().to_string(),
        "--tls-key-file".into(),
        key.display().to_string(),
        "--tls-ca-cert-file".into(),
        cert.display().to_string(),
        "--tls-auth-clients".into(),
        "no".into(),
        "--dir".into(),
        dir.display().to_string(),
    ]);
    // Self-signed: skip verification with the redis-rs `#insecure` fragment.
    round_trip(&format!("rediss://127.0.0.1:{port}/#insecure")).await;
}
