#!/usr/bin/env bash
# The .NET binding's tests, from a fresh clone or again (idempotent):
#   1. build libleaseq_native for glibc 2.17 (cargo zigbuild; csbindgen regenerates
#      Leaseq/NativeMethods.g.cs), stripped into out/, and run its Rust tests;
#   2. compile Leaseq.dll and Leaseq.Tests.dll with Mono's mcs into out/, run NUnit against Redis and
#      print "N passed, N failed" from TestResult.xml;
#   3. pack Leaseq.<version>.nupkg (pack.py: nuget pack, with Leaseq.nuspec's full metadata), check
#      its size and native library (scripts/package-report.py: <= 10 MB, GLIBC <= 2.17) and
#      metadata, `nuget install` it from a local feed into a fresh folder, build sample/Sample.cs and the
#      README's worker quick-start as written (sample/quickstart.py) against its lib/ with the native
#      library from runtimes/, and run them on Mono and on .NET Core 3.1 (PyPI dotnetcore2, in .venv/);
#      the quick-start runs in a pseudo-terminal and is stopped with Ctrl+C.
# Needs LEASEQ_REDIS_URL; without it, re-runs itself under scripts/with-redis.sh.
#   bindings-csharp/test.sh --build-only   only out/Leaseq.dll and out/libleaseq_native.so (no Redis),
#                                          for spec/conformance/run-all.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build_only=false
[[ "${1:-}" == "--build-only" ]] && build_only=true
if [[ $build_only == false && -z "${LEASEQ_REDIS_URL:-}" ]]; then
  exec "$root/scripts/with-redis.sh" "$here/test.sh" "$@"
fi

"$root/scripts/setup.sh" --all
out="$here/out"
nunit_framework=/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll
version=$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' "$here/Leaseq.nuspec")
step() { printf '\n== csharp: %s\n' "$*"; }

step "native library for glibc 2.17 (cargo zigbuild --release -p leaseq_native)"
cd "$root"
# shellcheck source=../scripts/zig-env.sh
source "$root/scripts/zig-env.sh"
cargo zigbuild --release -q -p leaseq_native --target x86_64-unknown-linux-gnu.2.17
native_lib="$(cargo metadata -q --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/x86_64-unknown-linux-gnu/release/libleaseq_native.so"
$build_only || cargo test -q -p leaseq_native --lib
generated=bindings-csharp/Leaseq/NativeMethods.g.cs
if git ls-files --error-unmatch "$generated" >/dev/null 2>&1 && ! git diff --quiet -- "$generated"; then
  if [[ -n "${CI:-}" ]]; then
    git diff --stat -- "$generated"
    echo "csharp: $generated differs from what build.rs generates: commit the regenerated file" >&2
    exit 1
  fi
  echo "csharp: note: $generated was regenerated; commit it with your change" >&2
fi

step "C# library and tests (mcs -langversion:7.2)"
rm -rf "$out"
mkdir -p "$out"
# The SDK-style Leaseq.csproj compiles the same files: its default glob, without bin/ and obj/.
mapfile -t sources < <(find "$here/Leaseq" -name '*.cs' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
mcs -langversion:7.2 -unsafe -optimize+ -warnaserror+ -t:library \
  -doc:"$out/Leaseq.xml" -out:"$out/Leaseq.dll" "${sources[@]}"
strip -o "$out/libleaseq_native.so" "$native_lib"
if $build_only; then
  echo "csharp: built $out/Leaseq.dll and libleaseq_native.so"
  exit 0
fi
cp "$nunit_framework" "$out/"
mcs -langversion:7.2 -unsafe -t:library -r:"$out/Leaseq.dll" -r:"$nunit_framework" \
  -r:System.Core -r:System.Xml.Linq -out:"$out/Leaseq.Tests.dll" "$here"/Leaseq.Tests/*.cs

step "NUnit (nunit-console under Mono, Redis at $LEASEQ_REDIS_URL)"
nunit_status=0
(cd "$out" && LEASEQ_CSHARP_DIR="$here" nunit-console -nologo -noshadow -labels \
  -xml="$out/TestResult.xml" Leaseq.Tests.dll) || nunit_status=$?
read -r passed failed < <(python3 - "$out/TestResult.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

cases = ET.parse(sys.argv[1]).getroot().iter("test-case")
results = [case.get("result") for case in cases if case.get("executed") == "True"]
passed = sum(result == "Success" for result in results)
print(passed, len(results) - passed)
EOF
)
echo "nunit: $passed passed, $failed failed"
if ((nunit_status != 0 || failed != 0 || passed == 0)); then
  echo "csharp: NUnit failed (exit $nunit_status)" >&2
  exit 1
fi

step "package (pack.py Leaseq.nuspec: nuget pack, then the full manifest)"
cp "$here/README.md" "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$out/"
package=$(python3 "$here/pack.py" "$here/Leaseq.nuspec" "$out" "$out")
[[ $package == "$out/Leaseq.$version.nupkg" && -s $package ]] || { echo "csharp: $package was not made" >&2; exit 1; }
# Size <= 10 MB, the native library stripped and needing GLIBC <= 2.17; kept in target/packages.
"$root/scripts/package-report.py" check "$package"
python3 - "$package" <<'EOF'
import sys
import xml.etree.ElementTree as ET
import zipfile

ns = {"nu": "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd"}
with zipfile.ZipFile(sys.argv[1]) as package:
    metadata = ET.fromstring(package.read("Leaseq.nuspec")).find("nu:metadata", ns)
assert metadata is not None, "the package's Leaseq.nuspec has no metadata"
license = metadata.find("nu:license", ns)
assert license is not None and license.get("type") == "expression", "no license expression"
assert license.text == "MIT OR Apache-2.0", license.text
assert metadata.findtext("nu:readme", namespaces=ns) == "README.md", "no readme"
print("nupkg: license expression MIT OR Apache-2.0, readme README.md, XML docs in lib/netstandard2.0")
EOF

step "consume $(basename "$package") from a local feed as a user would (nuget install)"
consumer=$(mktemp -d "${TMPDIR:-/tmp}/leaseq-nupkg.XXXXXX")
trap 'rm -rf "$consumer"' EXIT
mkdir "$consumer/feed"
cp "$package" "$consumer/feed/"
nuget install Leaseq -Version "$version" -Source "$consumer/feed" -OutputDirectory "$consumer/packages" \
  -NonInteractive >/dev/null
installed="$consumer/packages/Leaseq.$version"
for expected in README.md LICENSE-MIT LICENSE-APACHE lib/netstandard2.0/Leaseq.dll \
  lib/netstandard2.0/Leaseq.xml runtimes/linux-x64/native/libleaseq_native.so; do
  [[ -s "$installed/$expected" ]] || { echo "csharp: the installed package lacks $expected" >&2; exit 1; }
done
mkdir "$consumer/app"
cp "$installed/lib/netstandard2.0/Leaseq.dll" "$installed/runtimes/linux-x64/native/libleaseq_native.so" \
  "$consumer/app/"
mcs -langversion:7.2 -r:"$consumer/app/Leaseq.dll" -out:"$consumer/app/Sample.exe" "$here/sample/Sample.cs"
mono "$consumer/app/Sample.exe"
python3 "$here/sample/quickstart.py" generate "$here/README.md" "$here/sample/QuickStart.cs.in" > "$consumer/app/QuickStart.cs"
mcs -langversion:7.2 -r:"$consumer/app/Leaseq.dll" -out:"$consumer/app/QuickStart.exe" "$consumer/app/QuickStart.cs"
python3 "$here/sample/quickstart.py" run mono "$consumer/app/QuickStart.exe"

step ".NET Core 3.1 smoke run (PyPI dotnetcore2)"
venv="$here/.venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import dotnetcore2' 2>/dev/null || "$venv/bin/pip" install -q --disable-pip-version-check dotnetcore2
dotnet=$("$venv/bin/python" -c 'import dotnetcore2, os; print(os.path.join(os.path.dirname(dotnetcore2.__file__), "bin", "dotnet"))')
cat > "$consumer/app/Sample.runtimeconfig.json" <<'EOF'
{
  "runtimeOptions": {
    "tfm": "netcoreapp3.1",
    "framework": { "name": "Microsoft.NETCore.App", "version": "3.1.0" },
    "configProperties": { "System.Globalization.Invariant": true }
  }
}
EOF
DOTNET_CLI_TELEMETRY_OPTOUT=1 "$dotnet" "$consumer/app/Sample.exe"
cp "$consumer/app/Sample.runtimeconfig.json" "$consumer/app/QuickStart.runtimeconfig.json"
DOTNET_CLI_TELEMETRY_OPTOUT=1 python3 "$here/sample/quickstart.py" run "$dotnet" "$consumer/app/QuickStart.exe"

# NUnit's tests, plus the sample and the quick-start, each on Mono and on .NET Core.
echo
echo "csharp: $((passed + 4)) passed, 0 failed"
