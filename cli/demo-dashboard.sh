#!/usr/bin/env bash
# `make dashboard`: the dashboard on http://127.0.0.1:7799 (LEASEQ_DASHBOARD_LISTEN to change it)
# over the throw-away Redis of scripts/with-redis.sh, while `make demo`'s producers and workers
# run on it; afterwards it keeps serving (with 50 items left queued) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
listen=${LEASEQ_DASHBOARD_LISTEN:-127.0.0.1:7799}
target/release/leaseq --url "$LEASEQ_REDIS_URL" dashboard --listen "$listen" >/dev/null &
dashboard=$!
trap 'kill $dashboard 2>/dev/null || true' EXIT
target/release/examples/demo &
demo=$!
queue="demo:$demo"
echo "dashboard: http://$listen/#/queue/$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$queue")"
wait $demo
seq 50 | sed 's/.*/{"job": &}/' | target/release/leaseq --url "$LEASEQ_REDIS_URL" add "$queue"
echo "dashboard still serving on http://$listen/ (Ctrl-C to stop)"
wait $dashboard
