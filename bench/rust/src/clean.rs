//! Deep clean of a large queue: its wall time and the longest single command it made Redis run.

use std::time::Instant;

use leaseq::{Connection, WorkQueue};
use redis::aio::MultiplexedConnection;
use redis::Value;

use crate::args::Args;
use crate::common::{admin, emit, payload, BenchResult, IdStyle};
use crate::produce::fill_queue;

/// `deep-clean`: queue `--count` items, then deep clean (timed, with every command logged by
/// SLOWLOG); then add `--orphans` item keys that are in no list and deep clean again.
pub async fn deep_clean(args: &Args) -> BenchResult<()> {
    let url = args.required("url")?;
    let name = args.required("queue")?;
    let count = args.get("count", 1_000_000u64)?;
    let orphans = args.get("orphans", 100u64)?;
    let connection = Connection::open(&url).await?;
    let queue = WorkQueue::new(&connection, &name)?;
    let mut admin = admin(&url).await?;

    let fill = fill_queue(&queue, count, IdStyle::Uuid).await?;
    let plain = timed_clean(&queue, &mut admin).await?;

    let data = payload();
    for _ in 0..orphans {
        let key = format!("{name}:item:{}", IdStyle::Uuid.new_id());
        let () = redis::cmd("SET")
            .arg(key)
            .arg(&data)
            .query_async(&mut admin)
            .await?;
    }
    let with_orphans = timed_clean(&queue, &mut admin).await?;
    emit(serde_json::json!({
        "items": count,
        "fill_seconds": fill.as_secs_f64(),
        "plain": plain,
        "orphans": orphans,
        "with_orphans": with_orphans,
    }));
    Ok(())
}

async fn timed_clean(
    queue: &WorkQueue,
    admin: &mut MultiplexedConnection,
) -> BenchResult<serde_json::Value> {
    let saved_threshold = config_get(admin, "slowlog-log-slower-than").await?;
    let saved_length = config_get(admin, "slowlog-max-len").await?;
    config_set(admin, "slowlog-log-slower-than", "0").await?;
    config_set(admin, "slowlog-max-len", "1000000").await?;
    let () = redis::cmd("SLOWLOG")
        .arg("RESET")
        .query_async(admin)
        .await?;

    let started = Instant::now();
    let report = queue.deep_clean().await?;
    let seconds = started.elapsed().as_secs_f64();

    let entries: Vec<Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(-1)
        .query_async(admin)
        .await?;
    config_set(admin, "slowlog-log-slower-than", &saved_threshold).await?;
    config_set(admin, "slowlog-max-len", &saved_length).await?;

    let (mut commands, mut longest_us, mut longest_command) = (0u64, 0i64, String::new());
    let (mut total_us, mut longest_inner_us, mut longest_inner) = (0i64, 0i64, String::new());
    for entry in entries {
        let Some((duration_us, command, from_script)) = slowlog_entry(&entry) else {
            continue;
        };
        // The CONFIG SET calls around the clean are ours, not the clean's.
        if command.starts_with("CONFIG") || command.starts_with("SLOWLOG") {
            continue;
        }
        // Commands a script ran are logged too, inside their EVALSHA's time: kept apart.
        if from_script {
            if duration_us > longest_inner_us {
                longest_inner_us = duration_us;
                longest_inner = command;
            }
            continue;
        }
        commands += 1;
        total_us += duration_us;
        if duration_us > longest_us {
            longest_us = duration_us;
            longest_command = command;
        }
    }
    Ok(serde_json::json!({
        "seconds": seconds,
        "requeued": report.requeued,
        "dropped": report.dropped,
        "commands": commands,
        "redis_busy_seconds": total_us as f64 / 1e6,
        "longest_us": longest_us,
        "longest_command": longest_command,
        "longest_in_script_us": longest_inner_us,
        "longest_in_script_command": longest_inner,
    }))
}

/// (duration in µs, command name, run by a script) of one SLOWLOG GET entry:
/// [id, time, duration, [args…], client address, client name]; scripts' commands have no address.
fn slowlog_entry(entry: &Value) -> Option<(i64, String, bool)> {
    let Value::Array(fields) = entry else {
        return None;
    };
    let Some(Value::Int(duration_us)) = fields.get(2) else {
        return None;
    };
    let from_script = match fields.get(4) {
        Some(Value::BulkString(address)) => address.starts_with(b"?"),
        Some(Value::SimpleString(address)) => address.starts_with('?'),
        _ => false,
    };
    let Some(Value::Array(words)) = fields.get(3) else {
        return Some((*duration_us, String::new(), from_script));
    };
    let word = |index: usize| match words.get(index) {
        Some(Value::BulkString(word)) => String::from_utf8_lossy(word).into_owned(),
        Some(Value::SimpleString(word)) => word.clone(),
        _ => String::new(),
    };
    let mut command = word(0).to_uppercase();
    if command == "EVALSHA" {
        // The script's sha names it; the harness maps it back to a core/lua file.
        command = format!("EVALSHA {}", word(1));
    }
    Some((*duration_us, command, from_script))
}

async fn config_get(admin: &mut MultiplexedConnection, name: &str) -> BenchResult<String> {
    let (_, value): (String, String) = redis::cmd("CONFIG")
        .arg("GET")
        .arg(name)
        .query_async(admin)
        .await?;
    Ok(value)
}

async fn config_set(admin: &mut MultiplexedConnection, name: &str, value: &str) -> BenchResult<()> {
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query_async(admin)
        .await?;
    Ok(())
}
