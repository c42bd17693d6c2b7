#!/usr/bin/env bash
# Builds bench/csharp/Bench.cs against the Leaseq.dll that test.sh left in out/ and runs it, on Mono
# and (if test.sh installed it) on .NET Core 3.1, against a throw-away Redis.
#   bindings-csharp/bench.sh [SECONDS] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
if [[ -z "${LEASEQ_REDIS_URL:-}" ]]; then
  exec "$root/scripts/with-redis.sh" "$here/bench.sh" "$@"
fi
out="$here/out"
[[ -s "$out/Leaseq.dll" && -s "$out/libleaseq_native.so" ]] || { echo "bench: run bindings-csharp/test.sh first" >&2; exit 1; }
mcs -langversion:7.2 -optimize+ -r:"$out/Leaseq.dll" -r:System.Core -out:"$out/Bench.exe" "$root/bench/csharp/Bench.cs"
mono "$out/Bench.exe" "$LEASEQ_REDIS_URL" "$@"
dotnet="$here/.venv/lib/python3*/site-packages/dotnetcore2/bin/dotnet"
# shellcheck disable=SC2086
if compgen -G "$dotnet" >/dev/null; then
  printf '{"runtimeOptions":{"tfm":"netcoreapp3.1","framework":{"name":"Microsoft.NETCore.App","version":"3.1.0"},"configProperties":{"System.Globalization.Invariant":true}}}\n' \
    > "$out/Bench.runtimeconfig.json"
  $dotnet "$out/Bench.exe" "$LEASEQ_REDIS_URL" "$@"
fi
