"""The PEP 517 backend of the sdist: maturin's, after checking that Rust's cargo is there.

pip falls back to the sdist where no wheel fits (another platform, an older pip). Without cargo,
maturin would download a temporary Rust toolchain (puccinialin), which fails behind a proxy or
offline with a message about something else; this says what is missing and what to do instead.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

import maturin
from maturin import build_sdist

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_wheel",
]

MISSING_CARGO = """\
leaseq: no prebuilt wheel fits this system, so pip is building leaseq from source, and that needs
Rust's cargo (1.80 or newer), which is not on PATH.
  - Install Rust (https://rustup.rs), open a new shell so cargo is on PATH, and run pip again; or
  - use a system a prebuilt wheel covers: CPython >= 3.9 on x86_64 Linux with glibc >= 2.17
    (pip >= 19.3), then `pip install --only-binary leaseq leaseq`."""


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: Any = None) -> list[str]:
    return []


def _need_cargo() -> None:
    if not (os.environ.get("CARGO") or shutil.which("cargo")):
        sys.exit(MISSING_CARGO)


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Any = None) -> str:
    _need_cargo()
    return str(maturin.prepare_metadata_for_build_wheel(metadata_directory, config_settings))


def build_wheel(
    wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None
) -> str:
    _need_cargo()
    return str(maturin.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(
    wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None
) -> str:
    _need_cargo()
    return str(maturin.build_editable(wheel_directory, config_settings, metadata_directory))
