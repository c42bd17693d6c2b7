//! What commands and the API print: JSON shapes (documented in spec/http-api.md) and tables.

use leaseq::{Item, QueueStats};
use serde::Serialize;
use serde_json::{json, Value};

use crate::DataFormat;

/// One row of `leaseq queues` and `GET /api/queues`.
#[derive(Serialize, Debug, Clone)]
pub(crate) struct QueueSummary {
    pub name: String,
    pub queued: u64,
    /// Non-empty levels only, level (as a string) → count.
    pub queued_by_priority: serde_json::Map<String, Value>,
    pub processing: u64,
    pub delayed: u64,
    pub dead: u64,
    pub paused: bool,
    pub oldest_queued_age_ms: Option<u64>,
    pub completed_last_minute: u64,
    pub failed_last_minute: u64,
    pub completed_last_hour: u64,
    pub failed_last_hour: u64,
}

impl From<&QueueStats> for QueueSummary {
    fn from(stats: &QueueStats) -> QueueSummary {
        let mut by_priority = serde_json::Map::new();
        for (level, count) in stats.queued_by_priority.iter().enumerate() {
            if *count > 0 {
                by_priority.insert(level.to_string(), json!(count));
            }
        }
        QueueSummary {
            name: stats.name.clone(),
            queued: stats.queued,
            queued_by_priority: by_priority,
            processing: stats.processing,
            delayed: stats.delayed,
            dead: stats.dead,
            paused: stats.paused,
            oldest_queued_age_ms: stats.oldest_queued_age_ms,
            completed_last_minute: stats.completed_last_minute(),
            failed_last_minute: stats.failed_last_minute(),
            completed_last_hour: stats.completed_last_hour(),
            failed_last_hour: stats.failed_last_hour(),
        }
    }
}

/// `GET /api/queues/{name}` and `leaseq stats --json`: the summary plus per-minute series.
pub(crate) fn stats_json(stats: &QueueStats) -> Value {
    let mut value = serde_json::to_value(QueueSummary::from(stats)).unwrap_or(Value::Null);
    let failed: Vec<u64> = stats
        .retried_per_minute
        .iter()
        .zip(&stats.dead_lettered_per_minute)
        .map(|(r, d)| r + d)
        .collect();
    if let Value::Object(map) = &mut value {
        map.insert(
            "per_minute".into(),
            json!({
                "completed": stats.completed_per_minute,
                "failed": failed,
                "retried": stats.retried_per_minute,
                "dead_lettered": stats.dead_lettered_per_minute,
            }),
        );
    }
    value
}

/// Item data for people and JSON: `(encoding, value)`; encoding is json, text or hex.
pub(crate) fn data_value(data: &[u8], format: DataFormat) -> (&'static str, Value) {
    let as_json = || serde_json::from_slice::<Value>(data).ok();
    let as_text = || {
        std::str::from_utf8(data)
            .ok()
            .map(|s| Value::String(s.to_owned()))
    };
    let as_hex = || Value::String(data.iter().map(|b| format!("{b:02x}")).collect());
    match format {
        DataFormat::Json => match as_json() {
            Some(v) => ("json", v),
            None => ("hex", as_hex()),
        },
        DataFormat::Text => match as_text() {
            Some(v) => ("text", v),
            None => ("hex", as_hex()),
        },
        DataFormat::Hex => ("hex", as_hex()),
        DataFormat::Auto => {
            if let Some(v) = as_json() {
                ("json", v)
            } else if let Some(v) = as_text() {
                ("text", v)
            } else {
                ("hex", as_hex())
            }
        }
    }
}

pub(crate) fn item_json(item: &Item, format: DataFormat) -> Value {
    let (encoding, data) = data_value(&item.data, format);
    json!({ "id": item.id, "attempts": item.attempts, "encoding": encoding, "data": data })
}

/// A one-line rendering of data for tables.
pub(crate) fn data_preview(data: &[u8], format: DataFormat, width: usize) -> String {
    let (_, value) = data_value(data, format);
    let text = match value {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > width {
        let cut: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        text
    }
}

pub(crate) fn age(ms: Option<u64>) -> String {
    match ms {
        None => "-".into(),
        Some(ms) if ms < 1000 => format!("{ms}ms"),
        Some(ms) if ms < 120_000 => format!("{}s", ms / 1000),
        Some(ms) if ms < 7_200_000 => format!("{}m", ms / 60_000),
        Some(ms) if ms < 172_800_000 => format!("{}h", ms / 3_600_000),
        Some(ms) => format!("{}d", ms / 86_400_000),
    }
}

/// Prints rows under headers, columns padded; numbers right-aligned.
pub(crate) fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            let numeric = !cell.is_empty() && cell.chars().all(|c| c.is_ascii_digit());
            if i > 0 {
                out.push_str("  ");
            }
            if numeric {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad));
                }
            }
        }
        println!("{out}");
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

pub(crate) fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(err) => eprintln!("leaseq: error: {err}"),
    }
}
