# leaseq: `make help` lists the targets. README.md's two commands are `make demo` and `make test`.
SHELL := /bin/bash
WITH_REDIS := scripts/with-redis.sh

.PHONY: help demo test setup lint test-core test-python test-node test-csharp test-conformance test-cross test-readme test-crates test-msrv test-cross-long test-failover-long test-model-long bench bench-sharded test-servers test-cli dashboard package-report

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

demo: ## Run the demo: producers, workers and a cleaner on a throw-away Redis
	@scripts/setup.sh
	@cargo build -q --release -p leaseq --example demo
	@$(WITH_REDIS) target/release/examples/demo

test: setup lint test-core test-python test-node test-csharp test-conformance test-cross test-readme test-crates test-cli test-servers package-report ## Run every test
	@echo "make test: all suites passed"

setup: ## Install the system packages the tests need (Redis, Mono, NUnit, nuget)
	@scripts/setup.sh --all

lint: ## rustfmt, clippy, one version in every package, no stale script name in the docs, every binding's operation docs start with spec/operations.json's summaries
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -q -- -D warnings
	scripts/versions.py check
	scripts/check-script-names.py
	scripts/check-docs.py

test-core: ## Rust core behaviour tests against a real Redis
	$(WITH_REDIS) cargo test -p leaseq -q

test-python: ## Python binding: build, pytest, mypy
	$(WITH_REDIS) bindings-python/test.sh

test-node: ## Node binding: build, node --test, tsc
	$(WITH_REDIS) bindings-node/test.sh

test-csharp: ## .NET binding: build with Mono, NUnit, package and consume the .nupkg
	$(WITH_REDIS) bindings-csharp/test.sh

test-conformance: ## spec/conformance cases in every language
	$(WITH_REDIS) spec/conformance/run-all.sh

test-cross: ## Mixed-language producers, workers and cleaners, killed at random; then foreign clients beside tight-loop cleaners (quick size)
	$(WITH_REDIS) tests-cross/run.sh quick

test-readme: ## README.md: two set-up commands; the quick-starts run as written (Rust here, the rest in their bindings' tests)
	$(WITH_REDIS) scripts/check-readme.py

test-servers: ## Cluster (3+3), Sentinel and TLS+ACL servers: core tests, conformance in every language on each, failover
	scripts/test-servers.sh

test-cli: ## leaseq command line (golden --json) and dashboard in headless Chromium; screenshots in cli/tests/out/
	$(WITH_REDIS) cli/test.sh

dashboard: ## The demo's producers and workers on a throw-away Redis, with the dashboard at http://127.0.0.1:7799
	@scripts/setup.sh
	@cargo build -q --release -p leaseq --example demo -p leaseq-cli
	@$(WITH_REDIS) cli/demo-dashboard.sh

test-crates: ## cargo package --locked for every publishable crate
	scripts/check-crates.sh --no-msrv

package-report: ## The packages the bindings' tests built and checked (target/packages): path, size, tag, highest GLIBC; the crates' status
	scripts/package-report.py

test-msrv: ## test-crates, then build the crates with the toolchain of rust-version (rustup installs it)
	scripts/check-crates.sh

test-cross-long: ## The long cross-language run (100,000+ items), both modes
	$(WITH_REDIS) tests-cross/run.sh long

test-failover-long: ## Failover under load: 20,000 items, Rust/Python/Node Workers; Cluster and Sentinel master killed, WAIT on and off
	scripts/with-servers.sh tests-cross/run.sh long --mode failover

test-model-long: ## The core's model-based random test for 100,000 steps (release build; LEASEQ_MODEL_SEED picks the seed)
	LEASEQ_MODEL_STEPS=100000 $(WITH_REDIS) cargo test -p leaseq --release --test model -- --nocapture

bench: ## Benchmarks against the peers and redis-benchmark; prints a table and writes bench/results.json
	bench/run.sh

bench-sharded: ## A sharded queue over the 3+3 Cluster's masters vs an unsharded one: per-master command shares, wake-up p50/p99, jobs/s
	cargo build -q --release -p leaseq --example sharded_load
	scripts/with-servers.sh target/release/examples/sharded_load
