#!/usr/bin/env bash
# The Rust crates as crates.io would get them (`make test-crates`):
#   1. `cargo package --locked` for every publishable workspace crate (those without
#      `publish = false`): packs it and builds the packed copy with the locked dependencies;
#   2. the MSRV: `cargo check --locked` of those crates with the toolchain of the workspace's
#      `rust-version`, installed with rustup (minimal profile) when missing.
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
# --allow-dirty: pack the working tree, so the check runs before a commit too.
cargo package --locked --allow-dirty -q "${package_args[@]}"
for crate in "${crates[@]}"; do
  ls -l target/package/"$crate"-*.crate | awk '{print "crates: packed", $NF, $5, "bytes"}'
done

msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
[[ -n $msrv ]] || { echo "crates: no rust-version in Cargo.toml" >&2; exit 1; }
toolchain=$msrv
[[ $toolchain == *.*.* ]] || toolchain=$msrv.0
step "MSRV $msrv: cargo +$toolchain check --locked ${crates[*]}"
if ! rustup run "$toolchain" cargo --version >/dev/null 2>&1; then
  rustup toolchain install "$toolchain" --profile minimal
fi
cargo "+$toolchain" check --locked -q "${package_args[@]}" --target-dir target/msrv
echo "crates: ${crates[*]} package with --locked and build with Rust $msrv"
