# Sourced by the binding test scripts: puts zig and cargo-zigbuild first on PATH, so the native
# libraries link against glibc 2.17 (manylinux2014) and load on RHEL 7+/8, Debian 9+, Ubuntu 16.04+
# and Amazon Linux 2, not only on systems as new as the one that built them.
# Both come from PyPI as prebuilt wheels (`ziglang`, `cargo-zigbuild`) into .tools/zig-venv, once
# (about 10 s); only .tools/bin (links to `zig` and `cargo-zigbuild`) goes on PATH, so the venv's
# python does not shadow anyone's python3.
# Only x86_64 glibc is built: this toolchain has no Rust standard library for musl or aarch64.
leaseq_tools="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools"
leaseq_zig_venv="$leaseq_tools/zig-venv"
LEASEQ_ZIGLANG_VERSION=0.17.1
LEASEQ_CARGO_ZIGBUILD_VERSION=0.24.1
if ! "$leaseq_zig_venv/bin/python" -c 'import ziglang' 2>/dev/null \
  || [[ ! -x "$leaseq_zig_venv/bin/cargo-zigbuild" || ! -x "$leaseq_tools/bin/zig" ]]; then
  echo "zig-env: installing ziglang $LEASEQ_ZIGLANG_VERSION and cargo-zigbuild" \
    "$LEASEQ_CARGO_ZIGBUILD_VERSION (PyPI) into $leaseq_zig_venv" >&2
  python3 -m venv "$leaseq_zig_venv"
  "$leaseq_zig_venv/bin/pip" install -q --disable-pip-version-check \
    "ziglang==$LEASEQ_ZIGLANG_VERSION" "cargo-zigbuild==$LEASEQ_CARGO_ZIGBUILD_VERSION"
  mkdir -p "$leaseq_tools/bin"
  ln -sf "$("$leaseq_zig_venv/bin/python" -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')" \
    "$leaseq_tools/bin/zig"
  ln -sf ../zig-venv/bin/cargo-zigbuild "$leaseq_tools/bin/cargo-zigbuild"
fi
export PATH="$leaseq_tools/bin:$PATH"
