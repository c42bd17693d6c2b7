#!/usr/bin/env bash
# Redis CPU of one open dashboard tab (#17 target: under 1% at one refresh a second): 10 queues of
# 100 items, the server-sent event stream read for 30 s, against 30 s idle. Needs the release
# binary: cargo build --release -p leaseq-cli; run: scripts/with-redis.sh bench/dashboard_sse_cost.sh
set -euo pipefail
BIN=target/release/leaseq
for q in $(seq 1 10); do seq 1 100 | sed 's/.*/{"n":&}/' | $BIN add "{q$q}" --url "$LEASEQ_REDIS_URL" >/dev/null; done
port=7791
$BIN dashboard --url "$LEASEQ_REDIS_URL" --listen 127.0.0.1:$port & dash=$!
sleep 1
cpu() { redis-cli -u "$LEASEQ_REDIS_URL" info cpu | awk -F: '/used_cpu_(sys|user):/ {s+=$2} END {printf "%.4f", s}'; }
base_before=$(cpu); sleep 30; base_after=$(cpu)
before=$(cpu)
out=$(mktemp)
timeout 30 curl -sN http://127.0.0.1:$port/api/events > "$out" || true
after=$(cpu)
kill $dash
events=$(grep -c "^event: queues" "$out" || true)
python3 -c "
idle=($base_after-$base_before)/30*100; tab=($after-$before)/30*100
print(f'Redis CPU idle: {idle:.3f}%  with one SSE tab: {tab:.3f}%  tab cost: {tab-idle:.3f}% of one core ($events updates in 30 s, 10 queues)')"
