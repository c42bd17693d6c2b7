#!/usr/bin/env bash
# The command line and dashboard: build, pytest (golden --json output, bad input, the dashboard
# in Debian's headless Chromium via Playwright, /metrics through prometheus_client's parser).
# Needs LEASEQ_REDIS_URL (run through scripts/with-redis.sh) and /usr/bin/chromium
# (scripts/setup.sh installs it). Screenshots: cli/tests/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p leaseq-cli
venv=target/cli-test-venv
if [[ ! -x $venv/bin/pytest ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pytest pytest-timeout playwright prometheus_client redis
fi
# Never `playwright install`: the tests launch /usr/bin/chromium.
export LEASEQ_BIN=$PWD/target/debug/leaseq
"$venv/bin/pytest" -q -p no:cacheprovider --timeout 120 cli/tests "$@"
