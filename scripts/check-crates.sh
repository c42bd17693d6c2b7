#!/usr/bin/env bash
# The Rust crates as crates.io would get them (`make test-crates`):
#   1. `cargo package --locked` for every publishable workspace crate (those without
#      `publish = false`): packs it and builds the packed copy with the locked dependencies;
#   2. the MSRV: `cargo check --locked` of those crates with the toolchain of the workspace's
#      `rust-version`, installed with rustup (minimal profile) when missing; `--no-msrv` skips this
#      step (`make test` does, to stay within its time: `make test-msrv` runs both).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
step() { printf '\n== crates: %s\n' "$*"; }

mapfile -t crates < <(cargo metadata -q --format-version 1 --no-deps | python3 -c '
import json, sys
for package in json.load(sys.stdin)["packages"]:
    if package["publish"] is None or package["publish"]:
        print(package["name"])
')
((${#crates[@]})) || { echo "crates: no publishable crate found" >&2; exit 1; }
package_args=()
for crate in "${crates[@]}"; do package_args+=(-p "$crate"); done

step "cargo package --locked ${crates[*]}"
# What scripts/package-report.py (make package-report) shows: written only once the packing passed.
status=target/packages/crates.txt
mkdir -p target/packages
rm -f "$status"
# --allow-dirty: pack the working tree, so the check runs before a commit too.
cargo package --locked --allow-dirty -q "${package_args[@]}"
for crate in "${crates[@]}"; do
  ls -l target/package/"$crate"-[0-9]*.crate | awk '{print "crates: packed", $NF, $5, "bytes"}'
  ls -l target/package/"$crate"-[0-9]*.crate \
    | awk '{printf "%s  %.2f MB  cargo package --locked: packed, and the packed copy built\n", $NF, $5 / 1e6}' \
    >>"$status"
done

if [[ "${1:-}" == "--no-msrv" ]]; then
  echo "crates: ${crates[*]} package with --locked (the MSRV build: make test-msrv)"
  exit 0
fi
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
[[ -n $msrv ]] || { echo "crates: no rust-version in Cargo.toml" >&2; exit 1; }
toolchain=$msrv
[[ $toolchain == *.*.* ]] || toolchain=$msrv.0
step "MSRV $msrv: cargo +$toolchain check --locked ${crates[*]}"
if ! rustup run "$toolchain" cargo --version >/dev/null 2>&1 \
  && ! rustup toolchain install "$toolchain" --profile minimal; then
  # Without that toolchain the claim cannot be checked here: say so loudly rather than pass.
  echo "crates: WARNING: Rust $msrv cannot be installed here; rust-version $msrv is NOT checked" >&2
  exit 0
fi
cargo "+$toolchain" check --locked -q "${package_args[@]}" --target-dir target/msrv
echo "crates: ${crates[*]} package with --locked and build with Rust $msrv"
