"""leaseq: a Redis-backed work queue with leases.

Producers add items, workers lease them for a while and complete them, cleaners return the work
of workers that died. One Rust core behind the Rust, Python, Node.js and .NET packages,
wire-compatible with ``redis-work-queue``.

The classes here are blocking (the GIL is released during every Redis call, so threads work in
parallel); ``leaseq.aio`` has the same operations for asyncio.
"""

from leaseq import aio
from leaseq._native import CleanReport, Connection, Item, WorkQueue, __version__
from leaseq.exceptions import (
    ConnectionError,
    Error,
    InvalidArgumentError,
    LeaseLostError,
    TimeoutError,
)

__all__ = [
    "CleanReport",
    "Connection",
    "ConnectionError",
    "Error",
    "InvalidArgumentError",
    "Item",
    "LeaseLostError",
    "TimeoutError",
    "WorkQueue",
    "__version__",
    "aio",
]
