//! What every workload shares: the item shape, start synchronisation, output, percentiles.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::aio::MultiplexedConnection;

pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Every workload moves 100-byte items, as the issue asks.
pub const ITEM_BYTES: usize = 100;
/// Long enough that no lease expires during a run.
pub const LEASE: Duration = Duration::from_secs(300);

pub fn payload() -> Vec<u8> {
    (0..ITEM_BYTES).map(|i| b'a' + (i % 26) as u8).collect()
}

/// `uuid`: leaseq's default id (36 characters). `hex`: the PyPI package's default (32), used to
/// compare memory for the same item.
#[derive(Clone, Copy)]
pub enum IdStyle {
    Uuid,
    Hex,
}

impl IdStyle {
    pub fn parse(text: &str) -> BenchResult<IdStyle> {
        match text {
            "uuid" => Ok(IdStyle::Uuid),
            "hex" => Ok(IdStyle::Hex),
            other => Err(format!("unknown id style {other:?} (uuid or hex)").into()),
        }
    }

    pub fn new_id(self) -> String {
        let id = uuid::Uuid::new_v4();
        match self {
            IdStyle::Uuid => id.hyphenated().to_string(),
            IdStyle::Hex => id.simple().to_string(),
        }
    }
}

pub fn item(style: IdStyle, data: &[u8]) -> leaseq::Item {
    leaseq::Item::with_id(style.new_id(), data.to_vec())
}

pub fn unix_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Sleeps until the wall-clock instant `start_at_ms` (ms since the epoch), so that several
/// processes started by the harness begin their timed part together. 0 starts at once.
pub async fn wait_for_start(start_at_ms: f64) {
    let wait = start_at_ms - unix_ms();
    if start_at_ms > 0.0 && wait > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(wait / 1000.0)).await;
    }
}

/// The one JSON line the harness reads from a workload.
pub fn emit(value: serde_json::Value) {
    println!("{value}");
}

pub fn rate_json(ops: u64, elapsed: Duration, drained: bool) -> serde_json::Value {
    serde_json::json!({
        "ops": ops,
        "seconds": elapsed.as_secs_f64(),
        "rate": ops as f64 / elapsed.as_secs_f64(),
        "drained": drained,
    })
}

/// The `p`-th percentile (0–100) of sorted samples, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn latency_json(mut samples_us: Vec<f64>) -> serde_json::Value {
    samples_us.sort_by(f64::total_cmp);
    serde_json::json!({
        "samples": samples_us.len(),
        "p50_us": percentile(&samples_us, 50.0),
        "p99_us": percentile(&samples_us, 99.0),
        "p999_us": percentile(&samples_us, 99.9),
        "max_us": samples_us.last().copied().unwrap_or(f64::NAN),
    })
}

pub fn micros(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1e6
}

/// A plain connection for the harness-side commands (INFO, CONFIG, SLOWLOG).
pub async fn admin(url: &str) -> BenchResult<MultiplexedConnection> {
    Ok(redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?)
}

/// One integer field of `INFO <section>`.
pub async fn info_field(
    connection: &mut MultiplexedConnection,
    section: &str,
    field: &str,
) -> BenchResult<i64> {
    let info: String = redis::cmd("INFO")
        .arg(section)
        .query_async(connection)
        .await?;
    let prefix = format!("{field}:");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .ok_or_else(|| format!("INFO {section} has no {field}"))?
        .trim()
        .parse()
        .map_err(|err| format!("INFO {field}: {err}").into())
}

/// A deadline `seconds` after now.
pub fn deadline_after(seconds: f64) -> Instant {
    Instant::now() + Duration::from_secs_f64(seconds)
}
