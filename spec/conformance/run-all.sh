#!/usr/bin/env bash
# Runs every conformance case (spec/conformance/cases/*.json) in all four languages, and through
# the other API of the Python and .NET bindings (leaseq.aio, the …Async methods):
#   spec/conformance/run-all.sh [DRIVER ARGS...]      e.g. --case 'lease/' to run some cases
# Builds the Rust runner, and any binding that is not built yet (its build step only, not its
# tests: `make test` runs each binding's test.sh before this). Fails if any language cannot run
# or any case differs. Runs against LEASEQ_REDIS_URL; without it, re-runs itself under
# scripts/with-redis.sh (a throw-away redis-server).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
if [[ -z "${LEASEQ_REDIS_URL:-}" ]]; then
  exec "$root/scripts/with-redis.sh" "$here/run-all.sh" "$@"
fi
cd "$root"
step() { printf '\n== conformance: %s\n' "$*"; }

# A binding's own build step: `test.sh --build-only` where the binding has one.
build_only() {
  local binding=$1
  if grep -q -- '--build-only' "$binding/test.sh" 2>/dev/null; then
    "$binding/test.sh" --build-only
    return 0
  fi
  return 1
}

step "Rust runner (cargo build --release -p leaseq --example conformance)"
cargo build -q --release -p leaseq --example conformance

venv_python=bindings-python/.venv/bin/python
if ! { [[ -x $venv_python ]] && "$venv_python" -c 'import leaseq' 2>/dev/null; }; then
  step "Python binding is not built: building it"
  if ! build_only bindings-python; then
    # What bindings-python/test.sh does before its checks: an abi3 wheel, installed in its venv.
    [[ -x $venv_python ]] || python3 -m venv bindings-python/.venv
    "$venv_python" -m pip install -q --disable-pip-version-check 'maturin>=1.9,<2' redis
    wheels=$(mktemp -d "${TMPDIR:-/tmp}/leaseq-wheels.XXXXXX")
    (cd bindings-python && .venv/bin/maturin build --release --quiet --out "$wheels")
    "$venv_python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheels"/leaseq-*.whl
    rm -rf "$wheels"
  fi
fi

if ! compgen -G 'bindings-node/*.node' >/dev/null; then
  step "Node binding is not built: building it"
  build_only bindings-node || (cd bindings-node && npm install --no-audit --no-fund --loglevel=error \
    && npx napi build --platform --release)
fi

csharp_out=bindings-csharp/out
if [[ ! -f $csharp_out/Leaseq.dll || ! -f $csharp_out/libleaseq_native.so ]]; then
  step "C# binding is not built: building it"
  if ! build_only bindings-csharp; then
    # What bindings-csharp/test.sh does before its tests: the native library and Leaseq.dll.
    scripts/setup.sh --all
    cargo build --release -q -p leaseq_native
    mkdir -p "$csharp_out"
    mapfile -t sources < <(find bindings-csharp/Leaseq -name '*.cs' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
    mcs -langversion:7.2 -unsafe -optimize+ -t:library -out:"$csharp_out/Leaseq.dll" "${sources[@]}"
    cp "${CARGO_TARGET_DIR:-target}/release/libleaseq_native.so" "$csharp_out/"
  fi
fi

# The driver needs Python 3 with redis-py: the Python binding's venv has it (its test.sh installs it).
driver_python=$venv_python
if ! "$driver_python" -c 'import redis' 2>/dev/null; then
  driver_python=$here/.venv/bin/python
  [[ -x $driver_python ]] || python3 -m venv "$here/.venv"
  "$driver_python" -c 'import redis' 2>/dev/null \
    || "$driver_python" -m pip install -q --disable-pip-version-check redis
fi

step "driver (rust, python, node, csharp, python-aio, csharp-async) against $LEASEQ_REDIS_URL"
exec "$driver_python" "$here/driver.py" "$@"
