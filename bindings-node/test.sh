#!/usr/bin/env bash
# The Node binding's tests, from a fresh clone or again and again:
#   build with napi for glibc 2.17 (`npm run build`: cargo-zigbuild and zig from PyPI, see
#   scripts/zig-env.sh), check the committed generated files, node --test, tsc, then pack the two
#   packages as napi-rs lays them out (`leaseq`, and `@leaseq/linux-x64-gnu` from npm/linux-x64-gnu/
#   with that same native module, stripped), check their sizes (<= 10 MB) and GLIBC versions
#   (<= 2.17) with scripts/package-report.py, install both tarballs into an empty project with
#   `npm install --offline`, and there run the README quick start (a worker) as ESM and as
#   CommonJS, each stopped with SIGTERM, and `npx leaseq` (the command line).
# Needs LEASEQ_REDIS_URL; without it, re-runs itself under scripts/with-redis.sh.
#   test.sh --build-only   install and build only (what tests-cross and the conformance runner need)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# zig and cargo-zigbuild first on PATH: napi's -x build links against glibc 2.17.
# shellcheck source=../scripts/zig-env.sh
source "$here/../scripts/zig-env.sh"
if [[ ${1:-} == --build-only ]]; then
  cd "$here"
  npm install --no-audit --no-fund --loglevel=error
  exec npm run build --silent
fi
if [[ -z "${LEASEQ_REDIS_URL:-}" ]]; then
  exec "$here/../scripts/with-redis.sh" "$here/test.sh" "$@"
fi
cd "$here"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/leaseq-node-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
step() { printf '\n== %s\n' "$*"; }

step "npm install"
npm install --no-audit --no-fund --loglevel=error

step "napi build for glibc 2.17 (index.js and index.d.ts must match the committed ones)"
generated=(index.js index.d.ts)
for file in "${generated[@]}"; do
  if [[ -f $file ]]; then cp "$file" "$scratch/$file.before"; fi
done
npm run build --silent
stale=0
for file in "${generated[@]}"; do
  if git ls-files --error-unmatch "$file" >/dev/null 2>&1; then
    # tracked: compare with what git has (staged or committed)
    git --no-pager diff --exit-code -- "$file" || stale=1
  elif [[ -f "$scratch/$file.before" ]]; then
    diff -u "$scratch/$file.before" "$file" || stale=1
  fi
done
if ((stale)); then
  echo "test.sh: the generated files above changed with this build: commit them" >&2
  exit 1
fi

step "node --test"
node --test test/*.test.mjs test/*.test.cjs

step "tsc --noEmit on the TypeScript sample"
npx tsc --noEmit -p test/types

step "npm pack leaseq and @leaseq/linux-x64-gnu, check them, install both into an empty project"
native=leaseq.linux-x64-gnu.node
platform_dir=npm/linux-x64-gnu
# The module the tests above loaded, stripped (napi's --strip would set RUSTFLAGS and so compile
# every dependency again).
strip -o "$platform_dir/$native" "$native"
trap 'rm -rf "$scratch" "$here/$platform_dir/$native"' EXIT
npm pack --silent --pack-destination "$scratch" >/dev/null
(cd "$platform_dir" && npm pack --silent --pack-destination "$scratch" >/dev/null)
tarball=$(ls "$scratch"/leaseq-[0-9]*.tgz)
platform_tarball=$(ls "$scratch"/leaseq-linux-x64-gnu-*.tgz)
contents=$(tar -tzf "$tarball")
for file in index.js index.mjs index.d.ts metrics.js metrics.mjs metrics.d.ts bin/leaseq.js; do
  grep -qx "package/$file" <<<"$contents" || { echo "test.sh: leaseq's tarball lacks $file" >&2; exit 1; }
done
if grep -q '\.node$' <<<"$contents"; then
  echo "test.sh: leaseq's tarball carries a native module; it belongs in @leaseq/linux-x64-gnu" >&2
  exit 1
fi
grep -qx "package/$native" <<<"$(tar -tzf "$platform_tarball")" \
  || { echo "test.sh: @leaseq/linux-x64-gnu's tarball has no $native" >&2; exit 1; }
# Sizes (<= 10 MB), the native module stripped and needing GLIBC <= 2.17; kept in target/packages.
../scripts/package-report.py check "$tarball" "$platform_tarball"
project="$scratch/project"
mkdir "$project"
# No registry has these versions: both tarballs are given, as a registry would serve them, and
# --offline proves nothing else is fetched.
(cd "$project" && npm init -y >/dev/null \
  && npm install --offline --no-audit --no-fund --loglevel=error "$tarball" "$platform_tarball")
[[ -f $project/node_modules/leaseq/index.d.ts ]] || { echo "test.sh: index.d.ts was not installed" >&2; exit 1; }
loaded=$(cd "$project" && node -e "require('leaseq'); \
  console.log(Object.keys(require.cache).find((file) => file.endsWith('.node')))")
[[ $loaded == "$project/node_modules/@leaseq/linux-x64-gnu/$native" ]] \
  || { echo "test.sh: require('leaseq') loaded '$loaded', not @leaseq/linux-x64-gnu's module" >&2; exit 1; }

# The first ```js block after the quick-start marker, exactly as the README has it.
awk '/<!-- quick-start/ { found = 1; next }
     found && /^```js$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' README.md > "$project/quick-start.mjs"
[[ -s "$project/quick-start.mjs" ]] || { echo "test.sh: no quick start in README.md" >&2; exit 1; }
# CommonJS, as the README says: require() instead of import, inside an async function.
{
  sed -n "s/^import \(.*\) from 'leaseq'$/const \1 = require('leaseq')/p" "$project/quick-start.mjs"
  echo ";(async () => {"
  grep -v "^import .* from 'leaseq'$" "$project/quick-start.mjs"
  echo "})()"
} > "$project/quick-start.cjs"

# The quick start is a worker that runs until SIGTERM: wait for its item, then stop it with
# SIGTERM; it must exit by itself, with status 0, within 5 s.
run_quick_start() {
  local script=$1 out="$scratch/$1.out" pid status=0 tries=0
  : >"$out"
  (cd "$project" && REDIS_URL=$LEASEQ_REDIS_URL exec node "$script") >"$out" 2>&1 &
  pid=$!
  until grep -q '^completed: true$' "$out"; do
    if ! kill -0 "$pid" 2>/dev/null || ((++tries > 300)); then
      kill -KILL "$pid" 2>/dev/null || true
      cat "$out"
      echo "test.sh: $script did not complete its item" >&2
      return 1
    fi
    sleep 0.1
  done
  kill -TERM "$pid"
  for ((tries = 0; tries < 50; tries++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    cat "$out"
    echo "test.sh: $script did not exit within 5 s of SIGTERM" >&2
    return 1
  fi
  wait "$pid" || status=$?
  cat "$out"
  if ((status != 0)); then
    echo "test.sh: $script exited with status $status after SIGTERM" >&2
    return 1
  fi
}

for script in quick-start.mjs quick-start.cjs; do
  echo "-- $script"
  run_quick_start "$script"
done

step "npx leaseq (the command line) in that project"
help=$(cd "$project" && npx --offline leaseq --help)
grep -q '^Usage: leaseq' <<<"$help" || { echo "test.sh: npx leaseq --help printed: $help" >&2; exit 1; }
queues=$(cd "$project" && npx --offline leaseq queues --url "$LEASEQ_REDIS_URL" --json)
node -e 'JSON.parse(process.argv[1])' "$queues" \
  || { echo "test.sh: npx leaseq queues --json printed: $queues" >&2; exit 1; }
status=0
(cd "$project" && npx --offline leaseq queues --url redis://127.0.0.1:1 --json) 2>"$scratch/refused" || status=$?
if ((status == 0)) || ! grep -q '^leaseq: error:' "$scratch/refused"; then
  echo "test.sh: npx leaseq against a closed port: status $status, $(cat "$scratch/refused")" >&2
  exit 1
fi
echo "npx leaseq --help, queues --json, and a closed port (status $status, one error line): ok"

step "bindings-node: all tests passed"
