#!/usr/bin/env python3
"""How much the bindings weigh against the core (issue #14's figures), from `git ls-files`.

    scripts/binding-weight.py [--commit REV]

Counts lines of the tracked source files: the core is core/src + core/lua; a binding is its
Rust, Python, C# and hand-written JavaScript sources. Left out everywhere: tests, examples,
samples, stubs (.pyi, .d.ts), generated files (NativeMethods.g.cs, napi's index.js) and the
bindings' packaging scripts (scripts/, pack.py). With --commit, counts that commit's files.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

SOURCE = re.compile(r"\.(rs|lua|py|cs|js|mjs|cjs)$")
LEFT_OUT = re.compile(
    r"(^|/)(tests?|Leaseq\.Tests|examples|samples?|scripts)/|(^|/)test_|\.test\.|"
    r"\.pyi$|\.d\.ts$|\.g\.cs$|^bindings-node/index\.(js|mjs)$|/pack\.py$"
)
BINDINGS = ["bindings-python", "bindings-node", "bindings-csharp"]
WORKER_FILES = {
    "bindings-python": ["bindings-python/src/worker.rs", "bindings-python/python/leaseq/_worker.py"],
    "bindings-node": ["bindings-node/src/worker.rs"],
    "bindings-csharp": ["bindings-csharp/native/src/worker.rs", "bindings-csharp/Leaseq/Worker.cs"],
}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def lines(rev: str | None, path: str) -> int:
    text = git("show", f"{rev}:{path}") if rev else open(path, encoding="utf-8").read()
    return len(text.splitlines())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", help="count this commit's files instead of the work tree")
    args = parser.parse_args()
    rev = args.commit
    files = git("ls-tree", "-r", "--name-only", rev).split() if rev else git("ls-files").split()
    counted = [f for f in files if SOURCE.search(f) and not LEFT_OUT.search(f)]

    def total(prefixes: list[str]) -> int:
        return sum(lines(rev, f) for f in counted if f.startswith(tuple(prefixes)))

    core = total(["core/src/", "core/lua/"])
    print(f"core (core/src + core/lua)            {core:6,}")
    bindings = 0
    for binding in BINDINGS:
        weight = total([binding + "/"])
        bindings += weight
        worker = sum(lines(rev, f) for f in WORKER_FILES[binding] if f in files)
        print(f"{binding:<22} all {weight:6,}   worker code {worker:5,}")
    native = total(["bindings-csharp/native/"])
    work_queue = lines(rev, "bindings-csharp/Leaseq/WorkQueue.cs")
    print(f"bindings-csharp/native                {native:6,}")
    print(f"bindings-csharp/Leaseq/WorkQueue.cs   {work_queue:6,}")
    print(f"bindings together                     {bindings:6,}  = {bindings / core:.2f}x the core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
