//! Shared test harness: a real redis-server, and helpers to look at raw keys.
#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The Redis every test in this binary uses: `LEASEQ_REDIS_URL` when the harness
/// (`scripts/with-redis.sh`) set it, otherwise a redis-server started here on a free port that
/// dies with this test process.
pub fn redis_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("LEASEQ_REDIS_URL") {
            return url;
        }
        let port = free_port();
        spawn_redis(vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
        ]);
        let url = format!("redis://127.0.0.1:{port}");
        for _ in 0..100 {
            if raw_at(&url).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        url
    })
    .clone()
}

/// Starts a redis-server with `args` (plus no persistence) that dies with this test process.
pub fn spawn_redis(args: Vec<String>) {
    // Spawned from a thread that never ends, so PR_SET_PDEATHSIG fires only when the
    // whole test process exits.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut command = Command::new("redis-server");
        command
            .args(&args)
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null());
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn().expect("redis-server must be installed");
        tx.send(()).unwrap();
        let _keep = child;
        loop {
            std::thread::park();
        }
    });
    rx.recv().unwrap();
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn raw_at(url: &str) -> redis::RedisResult<redis::Connection> {
    let mut connection = redis::Client::open(url)?.get_connection()?;
    redis::cmd("PING").query::<String>(&mut connection)?;
    Ok(connection)
}

/// A plain synchronous connection for setting up and inspecting raw Redis state.
pub fn raw() -> redis::Connection {
    raw_at(&redis_url()).unwrap()
}

/// A key prefix no other test uses.
pub fn prefix(name: &str) -> String {
    format!("test:{name}:{}", uuid::Uuid::new_v4().simple())
}

pub async fn queue(name: &str) -> (leaseq::Connection, leaseq::WorkQueue, String) {
    let connection = leaseq::Connection::open(&redis_url()).await.unwrap();
    let prefix = prefix(name);
    let queue = leaseq::WorkQueue::new(&connection, &prefix).unwrap();
    (connection, queue, prefix)
}

pub fn lrange(key: &str) -> Vec<String> {
    redis::cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query(&mut raw())
        .unwrap()
}

pub fn exists(key: &str) -> bool {
    redis::cmd("EXISTS")
        .arg(key)
        .query::<i64>(&mut raw())
        .unwrap()
        == 1
}

/// Every key under `prefix`, found with SCAN (tests too keep away from KEYS).
/// The keys under `prefix` that hold items or their state: every key but the two a queue keeps
/// for good once used, its fencing counter (`<p>:last_fence`, never reset) and its per-minute
/// counters (`<p>:stats`, trimmed after two hours). A drained queue has none.
pub fn keys_under(prefix: &str) -> Vec<String> {
    let lasting = [format!("{prefix}:last_fence"), format!("{prefix}:stats")];
    all_keys_under(prefix)
        .into_iter()
        .filter(|key| !lasting.contains(key))
        .collect()
}

/// Every key under `prefix`.
pub fn all_keys_under(prefix: &str) -> Vec<String> {
    let mut connection = raw();
    let mut found: Vec<String> = redis::cmd("SCAN")
        .cursor_arg(0)
        .arg("MATCH")
        .arg(format!("{prefix}:*"))
        .arg("COUNT")
        .arg(1000)
        .clone()
        .iter(&mut connection)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    found.sort();
    found
}

pub const LEASE: Duration = Duration::from_secs(30);

/// The URL in `var`, set by scripts/with-servers.sh; without it the test is skipped, unless
/// LEASEQ_REQUIRE_SERVERS is set (as `make test-servers` does), where a missing server fails.
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var("LEASEQ_REQUIRE_SERVERS").is_err(),
                "{var} is not set: run under scripts/with-servers.sh"
            );
            eprintln!("{var} is not set: skipped (run under scripts/with-servers.sh)");
            None
        }
    }
}
