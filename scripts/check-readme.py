#!/usr/bin/env python3
"""README.md's promises, checked (`make test-readme`, part of `make test`):

* "Set up" gives exactly two commands, `make demo` and `make test`;
* "Quick-start" has a Worker of ten lines or fewer in each language;
* the Python, Node and C# blocks are, character for character, the ones each binding's README
  has and its test.sh runs as written (bindings-python/tests/test_readme.py, bindings-node/test.sh,
  bindings-csharp/sample/quickstart.py), so they run as written too;
* the Rust block is core/README.md's first (a doc test there), and it and the Cargo.toml lines above it build in a new crate outside this workspace,
  and the program works on its item and stops on SIGTERM with status 0 (against
  $LEASEQ_REDIS_URL: run under scripts/with-redis.sh).
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_URL = "redis://127.0.0.1:6379"
MAX_LINES = 10


def fail(message: str) -> None:
    sys.exit(f"check-readme: {message}")


def section(text: str, title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}.*?$(.*?)(?=^## )", text, re.M | re.S)
    if not found:
        fail(f"README.md has no section '## {title}'")
    return found.group(1)


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.M | re.S)


def only_block(text: str, language: str, where: str) -> str:
    found = blocks(text, language)
    if len(found) != 1:
        fail(f"{where}: expected one ```{language} block, found {len(found)}")
    return found[0]


def check_set_up(readme: str) -> None:
    commands = [
        line.split("#")[0].strip()
        for line in only_block(section(readme, "Set up"), "sh", "Set up").splitlines()
    ]
    if [command for command in commands if command] != ["make demo", "make test"]:
        fail(f"'Set up' must give exactly `make demo` and `make test`, not {commands}")


def check_same_as_binding(quick_start: str, language: str, readme: Path, marker: str | None) -> None:
    text = readme.read_text(encoding="utf-8")
    if marker is not None:
        after = text.split(marker, 1)
        if len(after) != 2:
            fail(f"{readme.relative_to(ROOT)} has no '{marker}' marker")
        text = after[1]
    tested = blocks(text, language)
    if not tested or tested[0] != only_block(quick_start, language, "Quick-start"):
        fail(
            f"the README's {language} quick-start differs from the first one in "
            f"{readme.relative_to(ROOT)} (which its tests run as written): keep them the same"
        )


def run_rust(quick_start: str) -> None:
    url = os.environ.get("LEASEQ_REDIS_URL")
    if not url:
        fail("LEASEQ_REDIS_URL is not set: run under scripts/with-redis.sh")
    toml = only_block(quick_start, "toml", "Quick-start")
    program = only_block(quick_start, "rust", "Quick-start")
    if EXAMPLE_URL not in program:
        fail(f"the Rust quick-start does not connect to {EXAMPLE_URL}")
    with tempfile.TemporaryDirectory(prefix="leaseq-readme-") as scratch:
        app = Path(scratch) / "app"
        (app / "src").mkdir(parents=True)
        dependencies = toml.replace('path = "../leaseq/core"', f'path = "{ROOT / "core"}"')
        if dependencies == toml:
            fail('the Rust quick-start\'s Cargo.toml has no `path = "../leaseq/core"`')
        (app / "Cargo.toml").write_text(
            '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n' + dependencies
        )
        # The workspace's lock file pins the same versions CI tested; the build shares its target
        # directory, so only the app itself is new.
        shutil.copy(ROOT / "Cargo.lock", app / "Cargo.lock")
        (app / "src" / "main.rs").write_text(program.replace(EXAMPLE_URL, url))
        target = ROOT / "target"
        subprocess.run(
            ["cargo", "build", "-q", "--manifest-path", str(app / "Cargo.toml")],
            check=True,
            env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        )
        worker = subprocess.Popen(
            [str(target / "debug" / "app")], stdout=subprocess.PIPE, text=True
        )
        assert worker.stdout is not None
        ready, _, _ = select.select([worker.stdout], [], [], 30)
        first_line = worker.stdout.readline() if ready else "(nothing within 30 s)"
        if not first_line.startswith("working on "):
            worker.kill()
            fail(f"the Rust quick-start printed {first_line!r}, not 'working on ...'")
        time.sleep(0.2)
        if worker.poll() is not None:
            fail("the Rust quick-start's worker ended before it was stopped")
        worker.send_signal(signal.SIGTERM)
        try:
            status = worker.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.kill()
            fail("the Rust quick-start did not stop within 5 s of SIGTERM")
        if status != 0:
            fail(f"the Rust quick-start exited with status {status} after SIGTERM")
    print("check-readme: the Rust quick-start built, worked on its item and stopped on SIGTERM")


def main() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    check_set_up(readme)
    quick_start = section(readme, "Quick-start")
    for language in ("rust", "python", "js", "csharp"):
        lines = only_block(quick_start, language, "Quick-start").rstrip("\n").split("\n")
        if len(lines) > MAX_LINES:
            fail(f"the {language} quick-start has {len(lines)} lines; {MAX_LINES} at most")
    check_same_as_binding(quick_start, "python", ROOT / "bindings-python/README.md", None)
    check_same_as_binding(quick_start, "js", ROOT / "bindings-node/README.md", "<!-- quick-start")
    check_same_as_binding(
        quick_start, "csharp", ROOT / "bindings-csharp/README.md", "<!-- worker-quick-start"
    )
    core_blocks = blocks((ROOT / "core/README.md").read_text(encoding="utf-8"), "rust,no_run")
    if not core_blocks or core_blocks[0] != only_block(quick_start, "rust", "Quick-start"):
        fail("the README's Rust quick-start differs from the first one in core/README.md: keep them the same")
    print("check-readme: two set-up commands; four quick-starts of ten lines or fewer, the same as the tested ones")
    run_rust(quick_start)


if __name__ == "__main__":
    main()
