#!/usr/bin/env bash
# The Node binding's tests, from a fresh clone or again and again:
#   build with napi for glibc 2.17 (`npm run build`: cargo-zigbuild, zig from PyPI), check the
#   committed generated files, node --test, tsc, then pack the two packages as napi-rs lays them
#   out (`leaseq`, and `@leaseq/linux-x64-gnu` from npm/linux-x64-gnu/ with the native module),
#   check the native module's GLIBC symbol versions (<= 2.17) and sizes (<= 10 MB), install both
#   tarballs into an empty project with npm, and run the README quick start (a worker) there as ESM
#   and as CommonJS, each stopped with SIGTERM.
# Needs LEASEQ_REDIS_URL; without it, re-runs itself under scripts/with-redis.sh.
#   test.sh --build-only   install and build only (what tests-cross and the conformance runner need)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# zig (PyPI ziglang, in a venv of its own) and cargo-zigbuild, first on PATH for napi's -x build.
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
glibc=$(objdump -T "$native" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
if [[ $(printf '%s\n' "$glibc" GLIBC_2.17 | sort -V | tail -1) != GLIBC_2.17 ]]; then
  echo "test.sh: $native needs $glibc, above GLIBC_2.17" >&2
  exit 1
fi
platform_dir=npm/linux-x64-gnu
# Stripped here, not by napi's --strip: that sets RUSTFLAGS, and every dependency the Python and
# .NET builds compiled for this target would be compiled again.
strip -o "$platform_dir/$native" "$native"
trap 'rm -rf "$scratch" "$here/$platform_dir/$native"' EXIT
npm pack --silent --pack-destination "$scratch" >/dev/null
(cd "$platform_dir" && npm pack --silent --pack-destination "$scratch" >/dev/null)
tarball=$(ls "$scratch"/leaseq-[0-9]*.tgz)
platform_tarball=$(ls "$scratch"/leaseq-linux-x64-gnu-*.tgz)
contents=$(tar -tzf "$tarball")
platform_contents=$(tar -tzf "$platform_tarball")
for file in index.js index.mjs index.d.ts; do
  grep -qx "package/$file" <<<"$contents" || { echo "test.sh: leaseq's tarball lacks $file" >&2; exit 1; }
done
if grep -q '\.node$' <<<"$contents"; then
  echo "test.sh: leaseq's tarball carries a native module; it belongs in @leaseq/linux-x64-gnu" >&2
  exit 1
fi
grep -qx "package/$native" <<<"$platform_contents" \
  || { echo "test.sh: @leaseq/linux-x64-gnu's tarball has no $native" >&2; exit 1; }
for packed in "$tarball" "$platform_tarball"; do
  size=$(stat -c %s "$packed")
  if ((size > 10 * 1024 * 1024)); then
    echo "test.sh: $(basename "$packed") is $size bytes, above 10 MB" >&2
    exit 1
  fi
done
project="$scratch/project"
mkdir "$project"
# No registry has @leaseq/linux-x64-gnu: both tarballs are given, as a user's registry would.
(cd "$project" && npm init -y >/dev/null \
  && npm install --no-audit --no-fund --loglevel=error "$tarball" "$platform_tarball")
[[ -f $project/node_modules/leaseq/index.d.ts ]] || { echo "test.sh: index.d.ts was not installed" >&2; exit 1; }
loaded=$(cd "$project" && node -e "require('leaseq'); \
  console.log(Object.keys(require.cache).find((file) => file.endsWith('.node')))")
[[ $loaded == "$project/node_modules/@leaseq/linux-x64-gnu/$native" ]] \
  || { echo "test.sh: require('leaseq') loaded '$loaded', not @leaseq/linux-x64-gnu's module" >&2; exit 1; }
unpacked=$(stat -c %s "$project/node_modules/@leaseq/linux-x64-gnu/$native")
printf 'npm: %s %s bytes and %s %s bytes (native module %s bytes, highest %s)\n' \
  "$(basename "$tarball")" "$(stat -c %s "$tarball")" \
  "$(basename "$platform_tarball")" "$(stat -c %s "$platform_tarball")" "$unpacked" "$glibc"

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
