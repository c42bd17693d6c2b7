#!/usr/bin/env bash
# `make bench`: leaseq against its peers and against Redis itself, in one run on a Redis of its own.
# Installs and builds what it needs (idempotent; a warm run starts measuring within a minute),
# then runs bench/harness.py, which prints one table and writes bench/results.json.
#   bench/run.sh                      everything (about 10 minutes on 2 cores)
#   bench/run.sh --only 'consume:1'   a few workloads (a regular expression over the case keys)
#   bench/run.sh --runs 5 --seconds 3
# A binding that does not build is reported as "not built" in the table; the rest still runs.
set -euo pipefail

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$bench")
build="$bench/.build"
logs="$build/logs"
mkdir -p "$logs" "$build/cs"
cd "$root"
# The bench builds in a target directory of its own: release builds of all four languages, and
# no waiting on (or disturbing) the workspace's target/ while someone else builds there.
export CARGO_TARGET_DIR="$build/target"
step() { printf '== bench: %s\n' "$*" >&2; }
# Runs a build step with its output in $logs/NAME.log; a failure is reported, not fatal.
try() {
  local name=$1
  shift
  if "$@" >"$logs/$name.log" 2>&1; then return 0; fi
  echo "bench: $name failed (see ${logs#"$root"/}/$name.log): $(tail -n 1 "$logs/$name.log")" >&2
  return 1
}

step "system packages (Redis, redis-benchmark, Mono)"
scripts/setup.sh --all

step "Rust: the bench driver, leaseq and the crate redis-work-queue (release)"
cargo build --release -q -p leaseq-bench

step "Python: bench/.venv with leaseq (pip install ./bindings-python) and redis-work-queue 0.1.5"
[[ -x "$bench/.venv/bin/python" ]] || python3 -m venv "$bench/.venv"
pip=("$bench/.venv/bin/pip" install -q --disable-pip-version-check)
"$bench/.venv/bin/python" -c 'import redis_work_queue, redis' 2>/dev/null \
  || "${pip[@]}" "redis-work-queue==0.1.5" "redis>=5"
# Always rebuilt, so the numbers are those of the binding as it is now.
"$bench/.venv/bin/python" -m pip uninstall -q -y leaseq >/dev/null 2>&1 || true
try python "${pip[@]}" --no-deps --force-reinstall ./bindings-python || true

step "Node: the leaseq addon (release) and BullMQ in bench/node"
rm -f "$build/leaseq.node"
if try node-addon cargo build --release -p leaseq-node; then
  cp "$CARGO_TARGET_DIR/release/libleaseq_node.so" "$build/leaseq.node"
fi
if [[ ! -d "$bench/node/node_modules/bullmq" ]]; then
  try bullmq npm install --prefix "$bench/node" --no-audit --no-fund --no-save || true
fi

step ".NET: libleaseq_native (release) and Leaseq.dll under Mono"
rm -f "$build/cs/LeaseqLeaseComplete.exe" "$build/cs/LeaseqWorker.exe"
csharp() {
  cargo build --release -p leaseq_native
  mapfile -t sources < <(find bindings-csharp/Leaseq -name '*.cs' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
  mcs -langversion:7.2 -unsafe -optimize+ -t:library -out:"$build/cs/Leaseq.dll" "${sources[@]}"
  mcs -langversion:7.2 -optimize+ -r:"$build/cs/Leaseq.dll" -out:"$build/cs/LeaseqLeaseComplete.exe" \
    "$bench/drivers/LeaseqLeaseComplete.cs"
  cp "$CARGO_TARGET_DIR/release/libleaseq_native.so" "$build/cs/"
}
try csharp csharp || rm -f "$build/cs/LeaseqLeaseComplete.exe"
# The Worker driver on its own, so a failure here costs only the csharp:worker rows.
if [[ -f "$build/cs/LeaseqLeaseComplete.exe" ]]; then
  try csharp-worker mcs -langversion:7.2 -optimize+ -r:"$build/cs/Leaseq.dll" \
    -out:"$build/cs/LeaseqWorker.exe" "$bench/drivers/LeaseqWorker.cs" || true
fi
# The .NET engineer's own script, run once at the end by the harness.
rm -f "$build/cs/Bench.exe"
if [[ -f "$bench/csharp/Bench.cs" && -f "$build/cs/Leaseq.dll" ]]; then
  try csharp-bench mcs -langversion:7.2 -optimize+ -r:"$build/cs/Leaseq.dll" -r:System.Core \
    -out:"$build/cs/Bench.exe" "$bench/csharp/Bench.cs" || true
fi

step "measuring (a Redis of its own on a free port)"
scripts/with-redis.sh "$bench/.venv/bin/python" "$bench/harness.py" "$@"

# What the fencing counter and the per-minute counters cost on the per-job path: lease+complete
# Redis time of the scripts before them (e47af9a) and now, paired blocks on one Redis.
step "script cost: lease+complete before the fencing token and the counters (e47af9a) and now"
scripts/with-redis.sh "$bench/.venv/bin/python" bench/script_cost.py e47af9a --blocks 10
