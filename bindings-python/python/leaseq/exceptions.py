"""leaseq's exceptions: one class per core error kind (``leaseq::ErrorKind``).

Each also subclasses the matching builtin, so ``except ConnectionError`` works without
importing leaseq. The native module raises them through one mapping (``src/error.rs``);
``tests/test_errors.py`` checks that every core kind has its class here.
"""

from __future__ import annotations

import builtins
from typing import ClassVar

__all__ = [
    "ConnectionError",
    "Error",
    "InvalidArgumentError",
    "LeaseLostError",
    "TimeoutError",
]


class Error(Exception):
    """Base class of every leaseq error; raised as is for internal errors (a Redis error reply,
    a bug, a panic caught at the binding boundary)."""

    code: ClassVar[int] = 5
    """The core's number for this kind of error (``leaseq._native.ERROR_KINDS``)."""
    kind: ClassVar[str] = "EINTERNAL"
    """The core's name for this kind of error."""


class ConnectionError(Error, builtins.ConnectionError):
    """Redis could not be reached, the connection broke, or it was closed."""

    code = 1
    kind = "ECONNECTION"


class TimeoutError(Error, builtins.TimeoutError):
    """Redis did not answer within the configured time."""

    code = 2
    kind = "ETIMEOUT"


class InvalidArgumentError(Error, ValueError):
    """The caller passed a value leaseq refuses (empty prefix, bad duration, oversized item,
    ...)."""

    code = 3
    kind = "EINVAL"


class LeaseLostError(Error):
    """The caller's lease on an item is gone (expired and taken by another worker, or completed)."""

    code = 4
    kind = "ELEASE_LOST"
