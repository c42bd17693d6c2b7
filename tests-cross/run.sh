#!/usr/bin/env bash
# The cross-language run: tests-cross/run.sh quick|long [--mode crash|cleaner|all|failover] [--langs ...]
# Builds the Rust actors and the C# actor, and each binding it finds unbuilt (as `make test` has
# built them by now, a run on its own, e.g. `make test-cross-long` on a fresh clone, builds them).
# The failover mode needs the Cluster and Sentinel servers: it runs under scripts/with-servers.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ " $* " == *" --mode failover "* ]]; then
  if [[ -z "${LEASEQ_CLUSTER_URL:-}" ]]; then exec "$root/scripts/with-servers.sh" "$0" "$@"; fi
elif [[ -z "${LEASEQ_REDIS_URL:-}" ]]; then
  exec "$root/scripts/with-redis.sh" "$0" "$@"
fi
cd "$root"
cargo build -q --release -p leaseq-cross
if ! bindings-python/.venv/bin/python -c 'import leaseq' 2>/dev/null; then
  bindings-python/test.sh --build-only
fi
if ! compgen -G 'bindings-node/leaseq.*.node' >/dev/null; then
  (cd bindings-node && ./test.sh --build-only)
fi
if [[ ! -f bindings-csharp/out/Leaseq.dll ]]; then bindings-csharp/test.sh --build-only; fi
bindings-python/.venv/bin/pip install -q "redis-work-queue==0.1.5" redis
if [[ -f bindings-csharp/out/Leaseq.dll ]]; then
  mkdir -p tests-cross/out
  cp bindings-csharp/out/Leaseq.dll bindings-csharp/out/libleaseq_native.so tests-cross/out/
  mcs -langversion:7.2 -nologo -out:tests-cross/out/Actor.exe -r:tests-cross/out/Leaseq.dll tests-cross/Actor.cs
fi
exec bindings-python/.venv/bin/python tests-cross/driver.py "$@"
