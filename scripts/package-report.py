#!/usr/bin/env python3
"""The packages leaseq ships, checked and listed (`make package-report`, part of `make test`).

  package-report.py check FILE...   checks each package and copies it to target/packages/:
                                    size <= 10 MB, and each native library in it stripped and
                                    needing no GLIBC symbol version above 2.17 (objdump -T);
                                    prints one report line per package; exits 1 on a failure
  package-report.py                 the report: one line per package in target/packages/ (put
                                    there by the bindings' test scripts: the Python wheel and
                                    sdist, the npm tarballs, the .nupkg) with its path, size, tag
                                    and highest GLIBC, then the crates' `cargo package --locked`
                                    status (written by scripts/check-crates.sh)

Packages are recognised by name: *.whl, leaseq-*.tar.gz (sdist), *.tgz (npm pack), *.nupkg.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "target" / "packages"
CRATES_STATUS = PACKAGES / "crates.txt"
MAX_BYTES = 10 * 1024 * 1024
MAX_GLIBC = (2, 17)


def fail(message: str) -> NoReturn:
    sys.exit(f"package-report: {message}")


def version_text(version: tuple[int, ...] | None) -> str:
    return "none" if version is None else "GLIBC_" + ".".join(map(str, version))


def glibc_needed(library: Path) -> tuple[int, ...] | None:
    """The highest GLIBC_x.y symbol version in the library's dynamic symbol table."""
    symbols = subprocess.run(
        ["objdump", "-T", str(library)], check=True, capture_output=True, text=True
    ).stdout
    versions = [tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_([\d.]+)", symbols)]
    return max(versions, default=None)


def is_stripped(library: Path) -> bool:
    sections = subprocess.run(
        ["readelf", "-S", "-W", str(library)], check=True, capture_output=True, text=True
    ).stdout
    return not re.search(r"\.symtab\b|\.debug_info\b", sections)


def members(package: Path) -> list[str]:
    if package.suffix in (".whl", ".nupkg"):
        with zipfile.ZipFile(package) as archive:
            return archive.namelist()
    with tarfile.open(package) as archive:
        return archive.getnames()


def extract(package: Path, name: str, into: Path) -> Path:
    if package.suffix in (".whl", ".nupkg"):
        with zipfile.ZipFile(package) as archive:
            return Path(archive.extract(name, into))
    with tarfile.open(package) as archive:
        archive.extract(name, into, filter="data")
    return into / name


def read_member(package: Path, name: str) -> str:
    if package.suffix in (".whl", ".nupkg"):
        with zipfile.ZipFile(package) as archive:
            return archive.read(name).decode()
    with tarfile.open(package) as archive:
        member = archive.extractfile(name)
        if member is None:
            fail(f"{package.name}: {name} is not a file")
        return member.read().decode()


def tag_of(package: Path, names: list[str]) -> str:
    """What a package manager matches the package by."""
    name = package.name
    if name.endswith(".whl"):
        # name-version-python-abi-platform.whl
        return "-".join(name[: -len(".whl")].split("-")[2:])
    if name.endswith(".tar.gz"):
        return "sdist (builds from source with Rust)"
    if name.endswith(".tgz"):
        manifest = json.loads(read_member(package, "package/package.json"))
        where = ",".join(
            "/".join(manifest[key]) for key in ("os", "cpu", "libc") if key in manifest
        )
        tag = f"npm {manifest['name']}@{manifest['version']}"
        return f"{tag} ({where})" if where else tag
    if name.endswith(".nupkg"):
        rids = sorted({n.split("/")[1] for n in names if n.startswith("runtimes/")})
        frameworks = sorted({n.split("/")[1] for n in names if n.startswith("lib/")})
        return f"nuget lib/{','.join(frameworks)} runtimes/{','.join(rids)}"
    fail(f"{name}: not a package this script knows (.whl, .tar.gz, .tgz, .nupkg)")


def native_libraries(names: list[str]) -> list[str]:
    return [n for n in names if re.search(r"\.(so|node)$", n) or ".so." in n]


def describe(package: Path) -> tuple[str, list[str]]:
    """The report line of a package, and what in it breaks a target."""
    names = members(package)
    size = package.stat().st_size
    problems = []
    if size > MAX_BYTES:
        problems.append(f"{size} bytes, above 10 MB")
    highest: tuple[int, ...] | None = None
    libraries = native_libraries(names)
    with tempfile.TemporaryDirectory(prefix="leaseq-package-report.") as scratch:
        for name in libraries:
            library = extract(package, name, Path(scratch))
            needed = glibc_needed(library)
            if needed is None:
                problems.append(f"{name} needs no GLIBC symbol: not a glibc build?")
            elif needed > MAX_GLIBC:
                problems.append(f"{name} needs {version_text(needed)}, above GLIBC_2.17")
            if not is_stripped(library):
                problems.append(f"{name} is not stripped")
            if needed is not None and (highest is None or needed > highest):
                highest = needed
    glibc = version_text(highest) if libraries else "no native code"
    try:
        shown = package.relative_to(ROOT)
    except ValueError:
        shown = package
    line = f"{shown}  {size / 1e6:.2f} MB  {tag_of(package, names)}  {glibc}"
    return line, problems


def check(paths: list[str]) -> None:
    PACKAGES.mkdir(parents=True, exist_ok=True)
    failed = False
    for given in paths:
        package = Path(given).resolve()
        kept = PACKAGES / package.name
        if package != kept:
            shutil.copyfile(package, kept)
        line, problems = describe(kept)
        print(f"package: {line}")
        for problem in problems:
            print(f"package-report: {package.name}: {problem}", file=sys.stderr)
            failed = True
    if failed:
        sys.exit(1)


def report() -> None:
    packages = sorted(
        p for p in PACKAGES.glob("*") if p.name.endswith((".whl", ".tar.gz", ".tgz", ".nupkg"))
    )
    print(f"== packages ({PACKAGES.relative_to(ROOT)}): path, size, tag, highest GLIBC")
    if not packages:
        print("(none: the bindings' test scripts put them there)")
    failed = False
    for package in packages:
        line, problems = describe(package)
        print(line + ("" if not problems else "  FAILS: " + "; ".join(problems)))
        failed = failed or bool(problems)
    print("== crates (cargo package --locked)")
    if CRATES_STATUS.exists():
        print(CRATES_STATUS.read_text().rstrip())
    else:
        print("(not run: make test-crates)")
    if failed:
        sys.exit(1)


def main() -> None:
    if not shutil.which("objdump"):
        fail("objdump (binutils) is needed: scripts/setup.sh installs it")
    if sys.argv[1:2] == ["check"] and len(sys.argv) > 2:
        check(sys.argv[2:])
    elif len(sys.argv) == 1:
        report()
    else:
        fail(__doc__ or "usage")


if __name__ == "__main__":
    main()
