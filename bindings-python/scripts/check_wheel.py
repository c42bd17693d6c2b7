"""The wheel as a user gets it (run by bindings-python/test.sh, after the tests):

  check_wheel.py WHEEL

checks its tags (cp39-abi3, manylinux2014 = manylinux_2_17 on x86_64), then installs it with pip
into a fresh, empty venv (no index, no dependencies) and, from a folder outside the source tree,
runs the README's quick-start there against $LEASEQ_REDIS_URL: its worker must work on its item
and stop with status 0 on SIGTERM; then the `leaseq` console script: `--help`, and `queues --json`
lists the quick-start's queue. Size, stripping and GLIBC versions: scripts/package-report.py.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import NoReturn

HERE = Path(__file__).resolve().parents[1]
EXAMPLE_URL = "redis://127.0.0.1:6379"
PLATFORM_TAGS = {"manylinux2014_x86_64", "manylinux_2_17_x86_64"}


def fail(message: str) -> NoReturn:
    sys.exit(f"check_wheel: {message}")


def check_tags(wheel: Path) -> str:
    parts = wheel.name[: -len(".whl")].split("-")
    if len(parts) != 5 or parts[2:4] != ["cp39", "abi3"]:
        fail(f"{wheel.name}: expected a cp39-abi3 wheel")
    platforms = set(parts[4].split("."))
    if platforms != PLATFORM_TAGS:
        fail(f"{wheel.name}: platform tags {sorted(platforms)}, expected {sorted(PLATFORM_TAGS)}")
    with zipfile.ZipFile(wheel) as archive:
        declared = archive.read(f"leaseq-{parts[1]}.dist-info/WHEEL").decode()
    for platform in PLATFORM_TAGS:
        if f"Tag: cp39-abi3-{platform}" not in declared:
            fail(f"{wheel.name}: its WHEEL file lacks the tag cp39-abi3-{platform}")
    return "-".join(parts[2:])


def run_quick_start(python: Path, workdir: Path, url: str, queue: str) -> None:
    """The README's first Python block, as written but for the URL and the queue name."""
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```python\n(.*?)```", readme, re.S)
    if not found:
        fail("README.md has no Python block")
    code = found.group(1).replace(EXAMPLE_URL, url)
    code = code.replace('"jobs"', repr(queue))
    script = workdir / "quick_start.py"
    script.write_text(code, encoding="utf-8")
    process = subprocess.Popen(
        [str(python), str(script)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line or "resize photo 17" in line:
            break
    if "resize photo 17" not in line:
        process.kill()
        fail(f"the quick-start did not work on its item: {line}{process.stdout.read()}")
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        fail("the quick-start did not stop within 15 s of SIGTERM")
    if status != 0:
        fail(f"the quick-start exited with {status} after SIGTERM: {process.stdout.read()}")


def run_console_script(venv: Path, workdir: Path, url: str, queue: str) -> None:
    """The `leaseq` command the wheel installs: the Rust command line, run from the venv's bin."""
    leaseq = venv / "bin" / "leaseq"
    if not leaseq.exists():
        fail(f"the wheel installed no {leaseq.name} console script")
    shown = subprocess.run(
        [str(leaseq), "--help"], cwd=workdir, capture_output=True, text=True, check=False
    )
    if shown.returncode != 0 or "Usage: leaseq" not in shown.stdout or "queues" not in shown.stdout:
        fail(f"leaseq --help exited {shown.returncode}: {shown.stdout}{shown.stderr}")
    listed = subprocess.run(
        [str(leaseq), "queues", "--url", url, "--json"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        fail(f"leaseq queues --json exited {listed.returncode}: {listed.stderr}")
    if queue not in json.dumps(json.loads(listed.stdout)):
        fail(f"leaseq queues --json does not list the quick-start's queue {queue}: {listed.stdout}")
    refused = subprocess.run(
        [str(leaseq), "queues", "--url", "redis://127.0.0.1:1", "--json"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if refused.returncode == 0 or not refused.stderr.startswith("leaseq: error:"):
        fail(f"an unreachable server: exit {refused.returncode}, stderr {refused.stderr!r}")


def main() -> None:
    if len(sys.argv) != 2:
        fail(__doc__ or "usage")
    wheel = Path(sys.argv[1]).resolve()
    url = os.environ.get("LEASEQ_REDIS_URL") or fail("LEASEQ_REDIS_URL is not set")
    tag = check_tags(wheel)
    with tempfile.TemporaryDirectory(prefix="leaseq-wheel-check.") as scratch:
        work = Path(scratch)
        subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
        python = work / "venv" / "bin" / "python"
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "--no-index", "--no-deps", str(wheel)], check=True)
        queue = f"wheel-check:{uuid.uuid4().hex}"
        run_quick_start(python, work, url, queue)
        run_console_script(work / "venv", work, url, queue)
    print(
        f"wheel: {wheel.name} ({tag}): installed with pip into a fresh venv; the README "
        "quick-start worked on its item and stopped on SIGTERM; `leaseq --help` and "
        "`leaseq queues --json` (listing that queue) ran from the venv's console script"
    )


if __name__ == "__main__":
    main()
