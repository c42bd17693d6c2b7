#!/usr/bin/env python3
"""Lease+complete per second from one Python thread: leaseq against PyPI redis-work-queue 0.1.5,
side by side on the same Redis. Each run first fills a fresh queue with N items (not timed), then
one thread leases and completes them all, doing no work; the rate is N over the loop's time.
Median of 3 runs per row. The leaseq.aio rows are for reference: one thread too, an event loop
running 1 or 16 worker coroutines.

    bindings-python/test.sh       # makes bindings-python/.venv with leaseq, redis, redis-work-queue
    scripts/with-redis.sh bindings-python/.venv/bin/python bench/python_lease_complete.py

Environment: LEASEQ_REDIS_URL (required; with-redis.sh sets it), BENCH_ITEMS (items per run,
default 5000), BENCH_RUNS (default 3). ``--json`` also prints the rows as one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from functools import partial

import redis
from redis_work_queue import Item as OldItem
from redis_work_queue import KeyPrefix
from redis_work_queue import WorkQueue as OldWorkQueue

import leaseq

PAYLOAD = json.dumps({"photo": 17, "size": "small"}).encode()


def fresh_prefix(system: str) -> str:
    return f"bench:{system}:{uuid.uuid4().hex}"


def leaseq_run(conn: leaseq.Connection, items: int, block: bool) -> float:
    queue = leaseq.WorkQueue(conn, fresh_prefix("leaseq"))
    for start in range(0, items, 1000):
        queue.add_items([leaseq.Item(PAYLOAD) for _ in range(min(1000, items - start))])
    completed = 0
    started = time.perf_counter()
    for _ in range(items):
        item = queue.lease(30, block=block, timeout=1)
        if item is not None and queue.complete(item):
            completed += 1
    seconds = time.perf_counter() - started
    assert completed == items, f"leaseq completed {completed} of {items}"
    return items / seconds


def leaseq_aio_run(url: str, items: int, block: bool, tasks: int) -> float:
    async def main() -> float:
        async with await leaseq.aio.Connection.open(url) as conn:
            queue = leaseq.aio.WorkQueue(conn, fresh_prefix("leaseq-aio"))
            for start in range(0, items, 1000):
                count = min(1000, items - start)
                await queue.add_items([leaseq.Item(PAYLOAD) for _ in range(count)])

            async def worker() -> int:
                completed = 0
                while (item := await queue.lease(30, block=block, timeout=0.01)) is not None:
                    completed += await queue.complete(item)
                return completed

            started = time.perf_counter()
            completed = sum(await asyncio.gather(*(worker() for _ in range(tasks))))
            seconds = time.perf_counter() - started
            assert completed == items, f"leaseq.aio completed {completed} of {items}"
            return items / seconds

    return asyncio.run(main())


def old_run(db: redis.Redis, items: int, block: bool) -> float:
    queue = OldWorkQueue(KeyPrefix(fresh_prefix("rwq")))
    for start in range(0, items, 1000):
        pipeline = db.pipeline()
        for _ in range(min(1000, items - start)):
            queue.add_item_to_pipeline(pipeline, OldItem(PAYLOAD))
        pipeline.execute()
    completed = 0
    started = time.perf_counter()
    for _ in range(items):
        item = queue.lease(db, 30, block=block, timeout=1)
        if item is not None and queue.complete(db, item):
            completed += 1
    seconds = time.perf_counter() - started
    assert completed == items, f"redis-work-queue completed {completed} of {items}"
    return items / seconds


def main() -> int:
    url = os.environ.get("LEASEQ_REDIS_URL")
    if not url:
        print("python_lease_complete: set LEASEQ_REDIS_URL, or run under scripts/with-redis.sh")
        return 2
    items = int(os.environ.get("BENCH_ITEMS", "5000"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    db = redis.Redis.from_url(url)
    conn = leaseq.Connection(url)

    rows: list[tuple[str, str, Callable[[], float]]] = []
    for block in (False, True):
        mode = f"block={block}"
        rows += [
            ("leaseq", mode, partial(leaseq_run, conn, items, block)),
            ("redis-work-queue 0.1.5", mode, partial(old_run, db, items, block)),
            ("leaseq.aio, 1 task", mode, partial(leaseq_aio_run, url, items, block, 1)),
            ("leaseq.aio, 16 tasks", mode, partial(leaseq_aio_run, url, items, block, 16)),
        ]
    # Warm up both clients (connections, script cache) before timing anything.
    leaseq_run(conn, 200, False)
    old_run(db, 200, False)

    # Rounds interleave the rows, so a change in the machine's load hits every row alike.
    rates: list[list[float]] = [[] for _ in rows]
    for _ in range(runs):
        for row_rates, (_, _, run) in zip(rates, rows):
            row_rates.append(run())
    medians = [statistics.median(row_rates) for row_rates in rates]
    baseline = {
        mode: median
        for (system, mode, _), median in zip(rows, medians)
        if system.startswith("redis-work-queue")
    }

    print(f"lease+complete per second, one Python thread, {items} items, median of {runs}")
    print(f"{'system':<30} {'mode':<12} {'per second':>11} {'vs 0.1.5':>9}  {'runs min-max':>15}")
    for (system, mode, _), median, row_rates in zip(rows, medians, rates):
        ratio = median / baseline[mode]
        spread = f"{min(row_rates):,.0f}-{max(row_rates):,.0f}"
        print(f"{system:<30} {mode:<12} {median:>11,.0f} {ratio:>8.2f}x  {spread:>15}")
    if "--json" in sys.argv[1:]:
        results = [
            {"system": system, "mode": mode, "items": items, "per_second": median}
            for (system, mode, _), median in zip(rows, medians)
        ]
        print(json.dumps({"bench": "python_lease_complete", "runs": runs, "rows": results}))
    conn.close()
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
