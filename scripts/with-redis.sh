#!/usr/bin/env bash
# Runs a command against a throw-away redis-server on a free loopback port.
#   scripts/with-redis.sh COMMAND [ARGS...]
# The command sees LEASEQ_REDIS_URL (and LEASEQ_REDIS_PORT); the server is stopped by its pid
# when the command ends, however it ends.
set -euo pipefail

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d "${TMPDIR:-/tmp}/leaseq-redis.XXXXXX")
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >/dev/null

stop() {
  if [[ -s "$dir/redis.pid" ]]; then
    local pid
    pid=$(cat "$dir/redis.pid")
    kill "$pid" 2>/dev/null || true
    # Wait for it to exit: a server still writing its log on the way out made rm -rf fail with
    # "Directory not empty", which failed the command that had passed.
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  fi
  rm -rf "$dir" || true
}
trap stop EXIT

for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
export LEASEQ_REDIS_PORT=$port
export LEASEQ_REDIS_URL="redis://127.0.0.1:$port"
"$@"
