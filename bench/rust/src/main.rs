//! The Rust side of `bench/run.sh`: each subcommand runs one workload against the Redis at
//! `--url` and prints one JSON line; the harness (`bench/harness.py`) repeats, times and
//! tabulates them. Not a library: nothing here is leaseq's API.

mod args;
mod clean;
mod common;
mod consume;
mod inflight;
mod latency;
mod probe;
mod produce;
mod roundtrips;

use args::Args;
use common::BenchResult;

const USAGE: &str = "usage: leaseq-bench SUBCOMMAND --url redis://… --queue NAME [--name value …]
  fill          --count N [--id-style uuid|hex]
  produce       --engine leaseq|crate --mode single|batch [--batch B] --seconds S
  consume       --engine leaseq|leaseq-batch|crate --tasks T --seconds S [--batch B] [--prefill N] [--start-at MS]
  worker        --concurrency C --seconds S [--prefill N]
  e2e-producer  --count N --batch B --start-at MS
  e2e-worker    --start-at MS [--idle-ms MS]
  latency       --prefill N --seconds S
  wakeup        --seconds S [--samples N]
  memory        --count N [--id-style uuid|hex]
  deep-clean    --count N --orphans K
  roundtrips    --ops N [--batch B]
  complete-inflight --leased N [--completes C]";

fn main() {
    let mut raw = std::env::args().skip(1);
    let Some(subcommand) = raw.next() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    // A multi-thread runtime, as `#[tokio::main]` gives; BENCH_RUNTIME=current-thread compares
    // a single-threaded one.
    let runtime = match std::env::var("BENCH_RUNTIME").as_deref() {
        Ok("current-thread") => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    }
    .expect("tokio runtime");
    if let Err(err) = runtime.block_on(run(&subcommand, raw)) {
        eprintln!("leaseq-bench {subcommand}: {err}");
        std::process::exit(1);
    }
}

async fn run(subcommand: &str, raw: impl Iterator<Item = String>) -> BenchResult<()> {
    let args = Args::parse(raw)?;
    match subcommand {
        "fill" => produce::fill(&args).await,
        "produce" => produce::produce(&args).await,
        "memory" => produce::memory(&args).await,
        "consume" => consume::consume(&args).await,
        "worker" => consume::worker(&args).await,
        "e2e-producer" => consume::e2e_producer(&args).await,
        "e2e-worker" => consume::e2e_worker(&args).await,
        "latency" => latency::latency(&args).await,
        "wakeup" => latency::wakeup(&args).await,
        "deep-clean" => clean::deep_clean(&args).await,
        "roundtrips" => roundtrips::roundtrips(&args).await,
        "probe" => probe::probe(&args).await,
        "complete-inflight" => inflight::complete_inflight(&args).await,
        _ => Err(format!("unknown subcommand {subcommand:?}\n{USAGE}").into()),
    }
}
