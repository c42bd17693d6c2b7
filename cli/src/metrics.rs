//! `GET /metrics`: per-queue gauges and counters in the Prometheus text format.
//!
//! The counters come from the per-minute buckets the complete and fail scripts write in Redis
//! (`<prefix>:stats`), so they survive worker restarts. This process turns the sliding window
//! into monotonic totals: it remembers each bucket's last value and adds only increases.

use std::collections::HashMap;

use leaseq::QueueStats;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabel {
    queue: String,
}

#[derive(Default)]
struct Totals {
    /// minute → (completed, retried, dead-lettered) last seen.
    seen: HashMap<i64, [u64; 3]>,
    totals: [u64; 3],
}

/// Monotonic totals per queue, accumulated over scrapes.
#[derive(Default)]
pub(crate) struct Accumulator {
    queues: HashMap<String, Totals>,
}

impl Accumulator {
    fn observe(&mut self, stats: &QueueStats) -> [u64; 3] {
        let entry = self.queues.entry(stats.name.clone()).or_default();
        let current_minute = (stats.now_ms / 60_000) as i64;
        let n = stats.completed_per_minute.len() as i64;
        for i in 0..stats.completed_per_minute.len() {
            let minute = current_minute - n + 1 + i as i64;
            let now = [
                stats.completed_per_minute[i],
                stats.retried_per_minute[i],
                stats.dead_lettered_per_minute[i],
            ];
            let before = entry.seen.entry(minute).or_insert([0; 3]);
            for k in 0..3 {
                if now[k] > before[k] {
                    entry.totals[k] += now[k] - before[k];
                    before[k] = now[k];
                }
            }
        }
        entry.seen.retain(|minute, _| *minute > current_minute - n);
        entry.totals
    }
}

pub(crate) fn render(accumulator: &mut Accumulator, all: &[QueueStats]) -> String {
    let mut registry = Registry::with_prefix("leaseq");
    let gauge = |registry: &mut Registry, name: &str, help: &str| {
        let family = Family::<QueueLabel, Gauge>::default();
        registry.register(name, help, family.clone());
        family
    };
    let queued = gauge(&mut registry, "queued", "Items waiting to be leased");
    let processing = gauge(&mut registry, "processing", "Items leased");
    let delayed = gauge(
        &mut registry,
        "delayed",
        "Items scheduled or waiting for a retry",
    );
    let dead = gauge(&mut registry, "dead", "Items in the dead letters");
    let paused = gauge(&mut registry, "paused", "1 while the queue is paused");
    let counter = |registry: &mut Registry, name: &str, help: &str| {
        let family = Family::<QueueLabel, Counter>::default();
        registry.register(name, help, family.clone());
        family
    };
    let completed = counter(&mut registry, "completed", "Items completed");
    let failed = counter(
        &mut registry,
        "failed",
        "Failures reported by workers (retried or dead-lettered)",
    );
    let retried = counter(&mut registry, "retried", "Failures scheduled for a retry");
    let dead_lettered = counter(
        &mut registry,
        "dead_lettered",
        "Failures that went to the dead letters",
    );
    for stats in all {
        let label = QueueLabel {
            queue: stats.name.clone(),
        };
        queued.get_or_create(&label).set(stats.queued as i64);
        processing
            .get_or_create(&label)
            .set(stats.processing as i64);
        delayed.get_or_create(&label).set(stats.delayed as i64);
        dead.get_or_create(&label).set(stats.dead as i64);
        paused.get_or_create(&label).set(stats.paused as i64);
        let [c, r, d] = accumulator.observe(stats);
        completed.get_or_create(&label).inc_by(c);
        failed.get_or_create(&label).inc_by(r + d);
        retried.get_or_create(&label).inc_by(r);
        dead_lettered.get_or_create(&label).inc_by(d);
    }
    let mut out = String::new();
    let _ = encode(&mut out, &registry);
    out
}
