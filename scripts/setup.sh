#!/usr/bin/env bash
# Installs the system packages leaseq's demo and tests need, once. Safe to run again.
#   scripts/setup.sh          Redis only (enough for the demo and the Rust tests)
#   scripts/setup.sh --all    also Mono, NUnit and nuget for the .NET binding, Chromium for the dashboard test
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3 python3-venv)
command -v objdump >/dev/null || need+=(binutils)  # the packages' GLIBC checks, strip
if [[ "${1:-}" == "--all" ]]; then
  command -v mcs >/dev/null || need+=(mono-devel)
  command -v nunit-console >/dev/null || need+=(nunit-console)
  [[ -e /usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll ]] || need+=(libnunit-cil-dev)
  command -v nuget >/dev/null || need+=(nuget)
  [[ -x /usr/bin/chromium ]] || need+=(chromium)  # the dashboard's browser test (cli/test.sh)
fi
if ((${#need[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust from https://rustup.rs" >&2; exit 1; }
