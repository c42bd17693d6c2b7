"""Checks the Python packages as a user gets them (run by bindings-python/test.sh).

  check_dist.py wheel WHEEL   the tag (cp39-abi3, manylinux2014 x86_64), the highest GLIBC
                              symbol version the library needs (<= 2.17), the size (<= 10 MB),
                              then installs it into a fresh venv (no index) and runs the README
                              quick-start there, stopped with SIGTERM
  check_dist.py sdist SDIST   installing it without cargo on PATH stops with leaseq's message;
                              with cargo it builds from source and the quick-start runs

The quick-start runs against $LEASEQ_REDIS_URL.
"""

from __future__ import annotations

import os
import re
import shutil
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
MAX_GLIBC = (2, 17)
MAX_BYTES = 10 * 1024 * 1024
PLATFORM_TAGS = {"manylinux2014_x86_64", "manylinux_2_17_x86_64"}


def fail(message: str) -> NoReturn:
    sys.exit(f"check_dist: {message}")


def glibc_needed(library: Path) -> tuple[int, ...]:
    """The highest GLIBC_x.y symbol version in the library's dynamic symbol table."""
    symbols = subprocess.run(
        ["objdump", "-T", str(library)], check=True, capture_output=True, text=True
    ).stdout
    versions = {
        tuple(map(int, found.split("."))) for found in re.findall(r"GLIBC_([\d.]+)", symbols)
    }
    if not versions:
        fail(f"{library.name} needs no GLIBC symbol: is it a glibc build?")
    return max(versions)


def fresh_venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    return where / "bin" / "python"


def run_quick_start(python: Path, workdir: Path) -> None:
    """The README's first Python block, as written but for the URL and the queue name; it runs a
    worker until SIGTERM, which must stop it with status 0."""
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```python\n(.*?)```", readme, re.S)
    if not found:
        fail("README.md has no Python block")
    code = found.group(1)
    url = os.environ.get("LEASEQ_REDIS_URL") or fail("LEASEQ_REDIS_URL is not set")
    code = code.replace(EXAMPLE_URL, url).replace('"jobs"', repr(f"dist-check:{uuid.uuid4().hex}"))
    script = workdir / "quick_start.py"
    script.write_text(code, encoding="utf-8")
    # Run outside the source tree, so `import leaseq` can only find the installed package.
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
        if not line or "working on b'resize photo 17'" in line:
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


def check_wheel(wheel: Path) -> None:
    name = wheel.name
    parts = name[: -len(".whl")].split("-")
    if len(parts) != 5 or parts[2:4] != ["cp39", "abi3"]:
        fail(f"{name}: expected a cp39-abi3 wheel")
    platforms = set(parts[4].split("."))
    if platforms != PLATFORM_TAGS:
        fail(f"{name}: platform tags {sorted(platforms)}, expected {sorted(PLATFORM_TAGS)}")
    size = wheel.stat().st_size
    if size > MAX_BYTES:
        fail(f"{name} is {size} bytes, more than 10 MB")
    with tempfile.TemporaryDirectory(prefix="leaseq-wheel-check.") as scratch:
        work = Path(scratch)
        with zipfile.ZipFile(wheel) as archive:
            libraries = [n for n in archive.namelist() if re.fullmatch(r"leaseq/_native.*\.so", n)]
            if len(libraries) != 1:
                fail(f"{name}: expected one leaseq/_native*.so, found {libraries}")
            library = Path(archive.extract(libraries[0], work / "unpacked"))
            wheel_tags = archive.read(f"leaseq-{parts[1]}.dist-info/WHEEL").decode()
        for platform in PLATFORM_TAGS:
            if f"Tag: cp39-abi3-{platform}" not in wheel_tags:
                fail(f"{name}: its WHEEL file lacks the tag cp39-abi3-{platform}")
        glibc = glibc_needed(library)
        if glibc > MAX_GLIBC:
            fail(f"{library.name} needs GLIBC_{'.'.join(map(str, glibc))}, above 2.17")
        sections = subprocess.run(
            ["objdump", "-h", str(library)], check=True, capture_output=True, text=True
        ).stdout
        if ".debug_info" in sections:
            fail(f"{library.name} is not stripped")
        python = fresh_venv(work / "venv")
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-index",
                "--no-deps",
                str(wheel),
            ],
            check=True,
        )
        run_quick_start(python, work)
    glibc_text = "GLIBC_" + ".".join(map(str, glibc))
    print(
        f"wheel: {name}: {size / 1e6:.1f} MB, tag cp39-abi3-{parts[4]}, highest {glibc_text}; "
        "installed with pip into a fresh venv, README quick-start ran and stopped on SIGTERM"
    )


def check_sdist(sdist: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="leaseq-sdist-check.") as scratch:
        work = Path(scratch)
        python = fresh_venv(work / "venv")
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-deps"]
        # No cargo: every PATH entry that has one is left out, and CARGO is unset.
        no_cargo = {key: value for key, value in os.environ.items() if key != "CARGO"}
        no_cargo["PATH"] = os.pathsep.join(
            entry
            for entry in os.environ["PATH"].split(os.pathsep)
            if not (Path(entry) / "cargo").exists()
        )
        refused = subprocess.run([*pip, str(sdist)], env=no_cargo, capture_output=True, text=True)
        output = refused.stdout + refused.stderr
        if refused.returncode == 0 or "Rust's cargo" not in output:
            fail(
                f"without cargo, pip install {sdist.name} did not stop with our message:\n{output}"
            )
        print(f"sdist: {sdist.name} without cargo: pip stops with our message (needs Rust's cargo)")
        # The workspace's target directory and target: the dependencies the wheel's build
        # compiled are reused (only leaseq's own crates build again), as a user's cargo would
        # reuse its cache; the sdist's sources are still the ones compiled.
        with_cargo = {
            **os.environ,
            "CARGO_TARGET_DIR": os.environ.get("CARGO_TARGET_DIR", str(HERE.parent / "target")),
            "CARGO_BUILD_TARGET": "x86_64-unknown-linux-gnu",
        }
        started = time.monotonic()
        subprocess.run([*pip, "-q", str(sdist)], check=True, env=with_cargo)
        seconds = time.monotonic() - started
        run_quick_start(python, work)
    print(
        f"sdist: {sdist.name}: built from source with cargo in {seconds:.0f} s, installed into a "
        "fresh venv, README quick-start ran and stopped on SIGTERM"
    )


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("wheel", "sdist"):
        fail(__doc__ or "usage")
    kind, path = sys.argv[1], Path(sys.argv[2])
    if not shutil.which("objdump"):
        fail("objdump (binutils) is needed")
    if kind == "wheel":
        check_wheel(path)
    else:
        check_sdist(path)


if __name__ == "__main__":
    main()
