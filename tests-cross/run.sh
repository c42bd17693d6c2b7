#!/usr/bin/env bash
# The cross-language run: tests-cross/run.sh quick|long [--mode crash|cleaner|all] [--langs ...]
# Builds the Rust actors and the C# actor; expects bindings-python/.venv (made by
# bindings-python/test.sh) and the Node binding's build (bindings-node/test.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${LEASEQ_REDIS_URL:-}" ]]; then exec "$root/scripts/with-redis.sh" "$0" "$@"; fi
cd "$root"
cargo build -q --release -p leaseq-cross
if [[ ! -x bindings-python/.venv/bin/python ]]; then bindings-python/test.sh --build-only; fi
bindings-python/.venv/bin/pip install -q "redis-work-queue==0.1.5" redis
if [[ -f bindings-csharp/out/Leaseq.dll ]]; then
  mkdir -p tests-cross/out
  cp bindings-csharp/out/Leaseq.dll bindings-csharp/out/libleaseq_native.so tests-cross/out/
  mcs -langversion:7.2 -nologo -out:tests-cross/out/Actor.exe -r:tests-cross/out/Leaseq.dll tests-cross/Actor.cs
fi
exec bindings-python/.venv/bin/python tests-cross/driver.py "$@"
