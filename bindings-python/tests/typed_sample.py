"""A small typed program for ``mypy --strict`` (test.sh): the stub must accept the real API and
reject misuse. Each ``type: ignore[...]`` below must be needed (``warn_unused_ignores``), so
mypy fails if the stub stops catching that mistake. Never run, only checked."""

from __future__ import annotations

import asyncio

import leaseq
from leaseq import aio


def blocking_worker(url: str) -> int:
    done = 0
    with leaseq.Connection(url) as conn:
        queue = leaseq.WorkQueue(conn, "jobs")
        added: bool = queue.add_item(leaseq.Item(b"data"))
        queue.add_unique_item(leaseq.Item("text", id="job-1"))
        count: int = queue.add_items([leaseq.Item.from_json({"n": 1})]) + int(added)
        item: leaseq.Item | None = queue.lease(30.0, block=True, timeout=1)
        if item is not None:
            data: bytes = item.data
            ident: str = item.id
            print(ident, data, item.json())
            renewed: bool = queue.renew(item, 60)
            done += queue.complete(item) + renewed
        report: leaseq.CleanReport = queue.light_clean()
        done += report.requeued + report.dropped + queue.deep_clean().requeued
        done += queue.queue_len() + queue.processing() + count
        closed: bool = conn.closed
        print(closed, queue.name, queue.session)
    try:
        leaseq.Connection(url)
    except leaseq.Error as err:
        print(err.kind, err.code)
    return done


async def async_worker(url: str) -> int:
    conn = await aio.Connection.open(url)
    async with conn:
        queue = aio.WorkQueue(conn, "jobs")
        added: bool = await queue.add_item(leaseq.Item(b"data"))
        await queue.add_unique_item(aio.Item(b"x"))
        count: int = await queue.add_items([leaseq.Item(b"y")])
        item = await queue.lease(30, timeout=0.5)
        if item is not None and await queue.renew(item, 10):
            added = await queue.complete(item)
        results = await asyncio.gather(queue.queue_len(), queue.processing())
        report = await queue.deep_clean()
        return count + sum(results) + report.requeued + int(added)


def misuse(conn: leaseq.Connection, async_conn: aio.Connection) -> None:
    queue = leaseq.WorkQueue(conn, "jobs")
    queue.lease("30")  # type: ignore[arg-type]
    queue.add_item(b"not an item")  # type: ignore[arg-type]
    leaseq.Item(42)  # type: ignore[arg-type]
    leaseq.WorkQueue(async_conn, "jobs")  # type: ignore[arg-type]
    aio.WorkQueue(conn, "jobs")  # type: ignore[arg-type]
    item = queue.lease(30)
    print(item.data)  # type: ignore[union-attr]
    count: str = queue.queue_len()  # type: ignore[assignment]
    print(count)
