"""The ``leaseq`` console script: the command line of the ``leaseq-cli`` Rust crate, compiled into
``leaseq._native`` (``leaseq --help`` lists its commands)."""

from __future__ import annotations

import importlib
import signal
import sys
from typing import Any, NoReturn

# The stub of leaseq._native lists the library's API; the command line's entry is not part of it.
_native: Any = importlib.import_module("leaseq._native")


def main() -> NoReturn:
    # Ctrl-C ends the command as it ends the compiled binary, instead of waiting for Python's
    # handler to run, which it cannot while the command holds the main thread.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(_native._run_cli(["leaseq", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
