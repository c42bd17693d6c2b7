"""A small typed program for ``mypy --strict`` (test.sh): the stub must accept the real API and
reject misuse. Each ``type: ignore[...]`` below must be needed (``warn_unused_ignores``), so
mypy fails if the stub stops catching that mistake. Never run, only checked."""

from __future__ import annotations

import asyncio
import datetime

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


def lifecycle(conn: leaseq.Connection) -> int:
    queue = leaseq.WorkQueue(conn, "jobs", max_attempts=5, backoff_base=0.5, unique_window=60)
    queue.add_item_with(leaseq.Item(b"x"), priority=3, delay=1.5)
    when = datetime.datetime.now(datetime.timezone.utc)
    added: bool = queue.add_item_with(leaseq.Item(b"y"), at=when) or queue.add_item_with(
        leaseq.Item(b"z"), at=1.8e9
    )
    item = queue.lease(30)
    total = int(added)
    if item is not None:
        attempts: int = item.attempts
        outcome: leaseq.FailOutcome = queue.fail(item, "ValueError: x", retry_after=2)
        due: float | None = outcome.retry_at
        if outcome.kind == "retry" and due is not None:
            total += attempts
        released: bool = queue.release(item)
        total += released
    dead: list[leaseq.DeadItem] = queue.dead_items(offset=0, count=10)
    for letter in dead:
        print(letter.item.id, letter.error, letter.died_at)
    total += queue.requeue_dead([letter.item.id for letter in dead]) + queue.purge_dead(("a",))
    total += queue.requeue_all_dead() + queue.purge_all_dead() + queue.dead_len()
    total += queue.prioritized_len() + queue.delayed_len() + queue.light_clean().dead
    queue.pause()
    if queue.is_paused() and queue.resume():
        total += 1
    return total


def workers(conn: leaseq.Connection, async_queue: aio.WorkQueue) -> int:
    def handle(item: leaseq.Item) -> None:
        print(item.data)

    async def handle_async(item: leaseq.Item) -> None:
        await asyncio.sleep(0)

    def after(item: leaseq.Item, outcome: leaseq.JobOutcome) -> None:
        if outcome == "failed":
            print(item.id, outcome.error, outcome.completed)

    worker = leaseq.Worker(
        leaseq.WorkQueue(conn, "jobs"),
        handle,
        concurrency=4,
        lease_secs=10,
        job_timeout=60,
        shutdown_timeout=5,
        clean_every=None,
        before=lambda item: print(item.id),
        after=after,
    )
    worker.run(stop_on_signals=True)
    worker.stop()
    asyncio.run(leaseq.Worker(async_queue, handle_async).run_async())
    counters: leaseq.WorkerCounters = worker.counters
    return counters.leased + counters.completed + counters.failed + counters.in_flight


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
    queue.add_item_with(leaseq.Item(b""), priority="high")  # type: ignore[arg-type]
    queue.add_item_with(leaseq.Item(b""), at="tomorrow")  # type: ignore[arg-type]
    leaseq.Worker(queue, lambda item, extra: None)  # type: ignore[arg-type,misc]
    leaseq.Worker(queue, print, concurrency="4")  # type: ignore[arg-type]
