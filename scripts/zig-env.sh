# Sourced by the binding test scripts: puts zig and cargo-zigbuild first on PATH, installing them
# into .tools/ on first use, so the native libraries are built for glibc 2.17 (manylinux2014):
# they then load on RHEL 7+/8, Debian 9+, Ubuntu 16.04+ and Amazon Linux 2, not only on systems
# as new as the one that built them.
#   zig:            PyPI `ziglang` in .tools/zig-venv (cargo-zigbuild and maturin run
#                   `python3 -m ziglang` when there is no `zig`), about 50 s and 450 MB once
#   cargo-zigbuild: `cargo install --locked` into .tools/bin, about 2 min once
# Only x86_64 glibc is built: this toolchain has no standard library for musl or aarch64.
leaseq_tools="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools"
LEASEQ_ZIGLANG_VERSION=0.17.1
LEASEQ_CARGO_ZIGBUILD_VERSION=0.24.1
if ! "$leaseq_tools/zig-venv/bin/python" -c 'import ziglang' 2>/dev/null; then
  echo "zig-env: installing ziglang $LEASEQ_ZIGLANG_VERSION (PyPI) into $leaseq_tools/zig-venv" >&2
  python3 -m venv "$leaseq_tools/zig-venv"
  "$leaseq_tools/zig-venv/bin/pip" install -q --disable-pip-version-check "ziglang==$LEASEQ_ZIGLANG_VERSION"
fi
if [[ ! -x "$leaseq_tools/bin/cargo-zigbuild" ]]; then
  echo "zig-env: installing cargo-zigbuild $LEASEQ_CARGO_ZIGBUILD_VERSION into $leaseq_tools/bin" >&2
  cargo install -q --locked --root "$leaseq_tools" cargo-zigbuild --version "$LEASEQ_CARGO_ZIGBUILD_VERSION"
fi
export PATH="$leaseq_tools/zig-venv/bin:$leaseq_tools/bin:$PATH"
