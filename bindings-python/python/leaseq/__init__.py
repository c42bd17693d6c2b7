"""leaseq: a Redis-backed work queue with leases.

Producers add items, workers lease them for a while and complete them, cleaners return the work
of workers that died. One Rust core behind the Rust, Python, Node.js and .NET packages,
wire-compatible with ``redis-work-queue``.

The classes here are blocking (the GIL is released during every Redis call, so threads work in
parallel); ``leaseq.aio`` has the same operations for asyncio. ``Worker`` runs a handler over a
queue (leasing, heartbeats, retries, graceful shutdown), with a function or an ``async def``;
``leaseq.metrics`` reports its counters to Prometheus.
"""

from leaseq import aio, metrics
from leaseq._native import (
    CleanReport,
    Connection,
    DeadItem,
    FailOutcome,
    Item,
    Worker,
    WorkerCounters,
    WorkQueue,
    __version__,
)
from leaseq._worker import JobOutcome
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
    "DeadItem",
    "Error",
    "FailOutcome",
    "InvalidArgumentError",
    "Item",
    "JobOutcome",
    "LeaseLostError",
    "TimeoutError",
    "WorkQueue",
    "Worker",
    "WorkerCounters",
    "__version__",
    "aio",
    "metrics",
]
