"""leaseq for asyncio: the same operations as ``leaseq``, as coroutines.

    conn = await leaseq.aio.Connection.open("redis://127.0.0.1:6379")
    async with conn:
        queue = leaseq.aio.WorkQueue(conn, "jobs")
        await queue.add_item(leaseq.Item(b"resize photo 17"))
        item = await queue.lease(30, timeout=1)

Every operation is a coroutine (``asyncio.run``, ``create_task`` and ``gather`` take it) that
runs on leaseq's own runtime threads when awaited: awaiting never blocks the event loop, and
cancelling a lease that waits loses no item. ``leaseq.Worker`` takes a ``leaseq.aio.WorkQueue``
too, and ``await worker.run_async()`` runs ``async def`` handlers on the running loop.
"""

from leaseq._native import AsyncConnection as Connection
from leaseq._native import AsyncWorkQueue as WorkQueue
from leaseq._native import CleanReport, DeadItem, FailOutcome, Item, Worker, WorkerCounters
from leaseq._worker import JobOutcome

__all__ = [
    "CleanReport",
    "Connection",
    "DeadItem",
    "FailOutcome",
    "Item",
    "JobOutcome",
    "WorkQueue",
    "Worker",
    "WorkerCounters",
]
