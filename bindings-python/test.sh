#!/usr/bin/env bash
# Python binding: build the abi3 wheel for manylinux2014 (glibc 2.17: linked with zig, stripped),
# install it into bindings-python/.venv, then ruff, pytest, mypy (package, tests, typed sample,
# scripts, bench) and mypy.stubtest (the .pyi against the module), and that the .pyi's generated
# parts are current (scripts/sync_stub_docs.py --check); then the packages as a user gets
# them: that same wheel's size, tags and GLIBC versions (scripts/package-report.py), installed into
# a fresh venv where the README quick-start and the `leaseq` console script run
# (scripts/check_wheel.py); and the sdist.
#   bindings-python/test.sh [PYTEST ARGS...]
#   bindings-python/test.sh --build-only      only build the wheel and install it in the venv
# Runs against LEASEQ_REDIS_URL; without it, re-runs itself under scripts/with-redis.sh.
# Idempotent; needs python3 (with venv) and cargo.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# zig and cargo-zigbuild (PyPI) first on PATH: maturin --zig links against glibc 2.17.
# shellcheck source=../scripts/zig-env.sh
source "$root/scripts/zig-env.sh"
build_only=false
if [[ "${1:-}" == "--build-only" ]]; then
  build_only=true
  shift
elif [[ -z "${LEASEQ_REDIS_URL:-}" ]]; then
  exec "$root/scripts/with-redis.sh" "$here/test.sh" "$@"
fi

step() { printf '\n== python: %s\n' "$*"; }

venv="$here/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
  step "venv"
  python3 -m venv "$venv"
fi
py="$venv/bin/python"
step "tools"
"$py" -m pip install -q --disable-pip-version-check \
  'maturin>=1.9,<2' pytest pytest-timeout mypy ruff redis 'redis-work-queue==0.1.5'
# The optional dependency of leaseq.metrics (tests/test_metrics.py).
"$py" -m pip install -q --disable-pip-version-check prometheus-client

step "maturin build (abi3 wheel for manylinux2014: glibc 2.17, linked with zig)"
wheels="$(mktemp -d "${TMPDIR:-/tmp}/leaseq-wheels.XXXXXX")"
trap 'rm -rf "$wheels"' EXIT
(cd "$here" && "$venv/bin/maturin" build --release --quiet --zig --compatibility manylinux2014 \
  --out "$wheels")
shopt -s nullglob
built=("$wheels"/leaseq-*-cp39-abi3-*.whl)
if ((${#built[@]} != 1)); then
  echo "test.sh: expected one cp39-abi3 wheel, found: $(ls "$wheels")" >&2
  exit 1
fi
"$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "${built[0]}"
# `maturin develop` leaves the module beside the sources; the tests must use the installed wheel.
rm -f "$here"/python/leaseq/_native*.so
if $build_only; then
  echo "python: built and installed ${built[0]##*/} in $venv"
  exit 0
fi

cd "$here"
step "ruff"
bench="$root/bench/python_lease_complete.py"
"$venv/bin/ruff" check python tests scripts
"$venv/bin/ruff" check --config pyproject.toml "$bench"
"$venv/bin/ruff" format --check python tests scripts
"$venv/bin/ruff" format --check --config pyproject.toml "$bench"

step "pytest"
"$py" -m pytest -q "$@"

step "mypy (strict: package, tests, typed sample, scripts, bench)"
"$venv/bin/mypy" python/leaseq tests scripts "$bench"

step "stubtest"
# Checks the installed package: the compiled module against python/leaseq/_native.pyi.
(cd "$venv" && "$py" -m mypy.stubtest leaseq)

step "stub: AsyncWorkQueue generated from WorkQueue, docstrings from the module"
"$py" scripts/sync_stub_docs.py --check

step "the wheel as a user gets it: size, tags, GLIBC; a fresh venv runs the quick-start"
"$root/scripts/package-report.py" check "${built[0]}"
"$py" scripts/check_wheel.py "${built[0]}"

step "the sdist"
# Not built from source here (that is a second release build); without cargo, maturin's backend
# installs a temporary Rust toolchain itself ("Rust not found, installing into a temporary
# directory"), so pip still works where no wheel fits.
(cd "$here" && "$venv/bin/maturin" sdist --out "$wheels" 2>/dev/null | tail -1)
sdist=("$wheels"/leaseq-*.tar.gz)
sdist_files=$(tar -tzf "${sdist[0]}")
for source in pyproject.toml core/src/lib.rs cli/src/lib.rs bindings-python/src/lib.rs; do
  grep -qx "leaseq-[0-9.]*/$source" <<<"$sdist_files" \
    || { echo "test.sh: the sdist lacks $source" >&2; exit 1; }
done
"$root/scripts/package-report.py" check "${sdist[0]}"

echo "python: all checks passed"
