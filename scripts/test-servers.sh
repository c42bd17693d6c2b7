#!/usr/bin/env bash
# `make test-servers`: leaseq against a Redis Cluster, a Sentinel-monitored master, and TLS with an
# ACL user, all started by scripts/with-servers.sh (which this re-runs itself under if need be):
#   1. the core's topology tests (core/tests/topologies.rs);
#   2. the conformance cases in every language and flavour, once on the Cluster, once via Sentinel;
#   3. the Python binding's server tests (bindings-python/tests/test_servers.py);
#   4. the failover tests (core/tests/failover.rs): a Cluster master and the Sentinel master are
#      killed under a running Worker (last: they change the topology);
#   5. the cross-language failover run, quick size (tests-cross/driver.py --mode failover: 4,000
#      items, Rust, Python and Node Workers, WAIT on and off; `make test-failover-long` runs
#      20,000).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z "${LEASEQ_CLUSTER_URL:-}" ]]; then
  exec "$root/scripts/with-servers.sh" "$0" "$@"
fi
cd "$root"
export LEASEQ_REQUIRE_SERVERS=1
step() { printf '\n== test-servers: %s\n' "$*"; }

step "core topology tests (Cluster, Sentinel, TLS + ACL)"
cargo test -q -p leaseq --test topologies

step "conformance on the Cluster ($LEASEQ_CLUSTER_URL)"
LEASEQ_REDIS_URL=$LEASEQ_CLUSTER_URL spec/conformance/run-all.sh

step "conformance via Sentinel ($LEASEQ_SENTINEL_URL)"
LEASEQ_REDIS_URL=$LEASEQ_SENTINEL_URL spec/conformance/run-all.sh

step "Python binding against them (bindings-python/tests/test_servers.py: Cluster, Sentinel, ACL refusal)"
bindings-python/.venv/bin/python -m pytest -q -p no:cacheprovider bindings-python/tests/test_servers.py

step "failover under a running Worker (Cluster master killed, Sentinel master killed)"
cargo test -q -p leaseq --test failover -- --test-threads 1 --nocapture

step "failover under load, cross-language (quick: 4,000 items; Rust, Python, Node Workers)"
tests-cross/run.sh quick --mode failover
echo "test-servers: all passed"
