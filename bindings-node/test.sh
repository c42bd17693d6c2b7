#!/usr/bin/env bash
# The Node binding's tests, from a fresh clone or again and again:
#   build with napi, check the committed generated files, node --test, tsc, then npm pack and run
#   the README quick start (a worker) from the tarball in a fresh project, as ESM and as
#   CommonJS, each stopped with SIGTERM.
# Needs LEASEQ_REDIS_URL; without it, re-runs itself under scripts/with-redis.sh.
#   test.sh --build-only   install and build only (what tests-cross and the conformance runner need)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ ${1:-} == --build-only ]]; then
  cd "$here"
  npm install --no-audit --no-fund --loglevel=error
  exec npx napi build --platform --release
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
# prom-client, the optional peer dependency of leaseq/metrics, for test/metrics.test.mjs.
npm install --no-save --no-audit --no-fund --loglevel=error prom-client@^15

step "napi build (index.js and index.d.ts must match the committed ones)"
generated=(index.js index.d.ts)
for file in "${generated[@]}"; do
  if [[ -f $file ]]; then cp "$file" "$scratch/$file.before"; fi
done
npx napi build --platform --release
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

step "npm pack, install the tarball into a fresh project, run the README quick start, SIGTERM it"
npm pack --silent --pack-destination "$scratch" >/dev/null
tarball=$(ls "$scratch"/leaseq-*.tgz)
contents=$(tar -tzf "$tarball")
grep -qx 'package/leaseq.linux-x64-gnu.node' <<<"$contents" \
  || { echo "test.sh: the tarball has no native module" >&2; exit 1; }
project="$scratch/project"
mkdir "$project"
(cd "$project" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "$tarball")

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

step "bindings-node: all tests passed"
