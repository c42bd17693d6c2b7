#!/usr/bin/env bash
# The Node binding's tests, from a fresh clone or again and again:
#   build with napi, check the committed generated files, node --test, tsc, then npm pack and run
#   the README quick start from the tarball in a fresh project, as ESM and as CommonJS.
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

step "npm pack, install the tarball into a fresh project, run the README quick start"
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

for script in quick-start.mjs quick-start.cjs; do
  echo "-- $script"
  output=$(cd "$project" && REDIS_URL=$LEASEQ_REDIS_URL timeout 30 node "$script")
  echo "$output"
  grep -q '^completed: true$' <<<"$output" \
    || { echo "test.sh: $script did not complete its item" >&2; exit 1; }
done

step "bindings-node: all tests passed"
