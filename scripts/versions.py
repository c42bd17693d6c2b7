#!/usr/bin/env python3
"""One version for every leaseq package.

    scripts/versions.py check          every place below agrees with the workspace Cargo.toml's
                                       version (`make lint` runs it)
    scripts/versions.py bump X.Y.Z     writes X.Y.Z into every place, updates Cargo.lock, and in
                                       CHANGELOG.md starts `## [X.Y.Z] - <today>` with what
                                       `## [Unreleased]` had

The Python package reads its version from Cargo.toml (maturin: `dynamic = ["version"]`), the CLI
crate too (`version.workspace = true`); the others carry it, each in its ecosystem's file.
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEMVER = r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?"

# (file, pattern whose group 1 is the version); each must match at least once.
PLACES: list[tuple[str, str]] = [
    ("Cargo.toml", rf'(?m)^\[workspace\.package\]\nversion = "({SEMVER})"'),
    ("Cargo.toml", rf'leaseq = \{{ path = "core", version = "({SEMVER})"'),
    ("bindings-node/package.json", rf'(?m)^  "version": "({SEMVER})"'),
    # leaseq's optional dependency on its native module, and that package itself.
    ("bindings-node/package.json", rf'"@leaseq/linux-x64-gnu": "({SEMVER})"'),
    ("bindings-node/npm/linux-x64-gnu/package.json", rf'(?m)^  "version": "({SEMVER})"'),
    # napi's generated loader checks the platform package's version against this one.
    ("bindings-node/index.js", rf"bindingPackageVersion !== '({SEMVER})'"),
    ("bindings-node/index.js", rf"expected ({SEMVER}) but got"),
    ("bindings-csharp/Leaseq.nuspec", rf"<version>({SEMVER})</version>"),
    ("bindings-csharp/Leaseq/Leaseq.csproj", rf"<Version>({SEMVER})</Version>"),
    ("bindings-csharp/Leaseq/Properties/AssemblyInfo.cs", rf'AssemblyInformationalVersion\("({SEMVER})"\)'),
    ("README.md", rf"target/packages/leaseq-({SEMVER})\.tgz"),
    ("README.md", rf"target/packages/leaseq-linux-x64-gnu-({SEMVER})\.tgz"),
    ("README.md", rf"Leaseq\.({SEMVER})\.nupkg"),
]
# AssemblyVersion and AssemblyFileVersion are four numbers, without a pre-release tag.
FOUR_PART = ("bindings-csharp/Leaseq/Properties/AssemblyInfo.cs", r'Assembly(?:File)?Version\("(\d+\.\d+\.\d+)\.0"\)')


def workspace_version() -> str:
    found = re.search(PLACES[0][1], (ROOT / "Cargo.toml").read_text(encoding="utf-8"))
    if not found:
        sys.exit("versions: no [workspace.package] version in Cargo.toml")
    return found.group(1)


def check() -> int:
    expected = workspace_version()
    problems = []
    for path, pattern in [*PLACES, FOUR_PART]:
        file = ROOT / path
        if not file.exists():
            continue  # a part not built yet (e.g. index.js before the first napi build)
        found = re.findall(pattern, file.read_text(encoding="utf-8"))
        if not found:
            problems.append(f"{path}: no version where expected ({pattern})")
        for version in found:
            wanted = expected.split("-")[0] if (path, pattern) == FOUR_PART else expected
            if version != wanted:
                problems.append(f"{path}: {version}, not {wanted}")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    if not re.search(rf"(?m)^## \[(Unreleased|{re.escape(expected)})\]", changelog):
        problems.append(f"CHANGELOG.md: no '## [Unreleased]' nor '## [{expected}]' section")
    for problem in problems:
        print(f"versions: {problem}", file=sys.stderr)
    if problems:
        print("versions: fix with scripts/versions.py bump X.Y.Z", file=sys.stderr)
        return 1
    print(f"versions: every package is at {expected}")
    return 0


def bump(new: str) -> int:
    if not re.fullmatch(SEMVER, new):
        sys.exit(f"versions: {new!r} is not a version (X.Y.Z or X.Y.Z-pre)")
    for path, pattern in [*PLACES, FOUR_PART]:
        file = ROOT / path
        if not file.exists():
            continue
        value = new.split("-")[0] if (path, pattern) == FOUR_PART else new
        text = file.read_text(encoding="utf-8")
        changed = re.sub(
            pattern,
            lambda match: match.group(0).replace(match.group(1), value),
            text,
        )
        file.write_text(changed, encoding="utf-8")
    # Cargo.lock records the workspace crates' versions; nothing else in it changes.
    subprocess.run(["cargo", "update", "--workspace", "--offline", "-q"], cwd=ROOT, check=True)
    changelog = ROOT / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    today = datetime.date.today().isoformat()
    if f"## [{new}]" not in text:
        text = text.replace("## [Unreleased]", f"## [Unreleased]\n\n## [{new}] - {today}", 1)
        changelog.write_text(text, encoding="utf-8")
    print(f"versions: bumped every package to {new}; review CHANGELOG.md, then commit")
    return check()


def main() -> int:
    if len(sys.argv) == 2 and sys.argv[1] == "check":
        return check()
    if len(sys.argv) == 3 and sys.argv[1] == "bump":
        return bump(sys.argv[2])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
