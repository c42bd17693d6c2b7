"""The asyncio API: the same operations as awaitables that never block the event loop, and
cancellation that loses no item."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
import redis

import leaseq
from leaseq import aio

T = TypeVar("T")


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Runs one operation in a new event loop."""

    async def main() -> T:
        return await make()

    return asyncio.run(main())


async def open_queue(redis_url: str, prefix: str) -> tuple[aio.Connection, aio.WorkQueue]:
    conn = await aio.Connection.open(redis_url)
    return conn, aio.WorkQueue(conn, prefix)


def test_every_operation(redis_url: str, prefix: str, db: redis.Redis) -> None:
    async def main() -> None:
        conn, queue = await open_queue(redis_url, prefix)
        async with conn:
            assert queue.name == prefix and len(queue.session) == 32
            first = leaseq.Item(b"first", id="a")
            assert await queue.add_item(first) is True
            assert await queue.add_item(first) is False
            second = leaseq.Item(b"second", id="b")
            returned = await queue.add_unique_item(second)  # type: ignore[func-returns-value]
            assert returned is None
            assert (
                await queue.add_items([leaseq.Item(b"c", id="c"), leaseq.Item(b"d", id="d")]) == 2
            )
            assert (await queue.queue_len(), await queue.processing()) == (4, 0)

            leased = await queue.lease(30)
            assert leased == first
            assert await queue.renew(leased, 60) is True
            assert await queue.complete(leased) is True
            assert await queue.complete(leased) is False
            assert await queue.renew(leased, 60) is False

            short = await queue.lease(0.05, block=False)
            assert short is not None and short.id == "b"
            await asyncio.sleep(0.15)
            report = await queue.light_clean()
            assert (report.requeued, report.dropped) == (1, 0)

            db.set(f"{prefix}:item:orphan", b"x")
            report = await queue.deep_clean()
            assert (report.requeued, report.dropped) == (1, 0)
            assert (await queue.queue_len(), await queue.processing()) == (4, 0)
            assert repr(queue) == f'<leaseq.aio.WorkQueue "{prefix}">'
        assert conn.closed

    asyncio.run(main())


def test_lease_many_then_complete_many(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        conn, queue = await open_queue(redis_url, prefix)
        async with conn:
            items = [leaseq.Item(f"job {n}", id=f"id-{n}") for n in range(3)]
            for item in items:
                await queue.add_item(item)
            leased = await queue.lease_many(30, 5)
            assert leased == items
            assert await queue.lease_many(30, 5, block=False) == []
            assert await queue.lease_many(30, 5, timeout=0.05) == []
            assert await queue.complete_many(leased[:2]) == [True, True]
            assert await queue.complete_many(leased[:2]) == [False, False]
            for count in (0, 1001):
                with pytest.raises(leaseq.InvalidArgumentError, match="a batch is 1 to 1000"):
                    await queue.lease_many(30, count)
            with pytest.raises(leaseq.InvalidArgumentError, match="a batch is 1 to 1000"):
                await queue.complete_many([])

    asyncio.run(main())


def test_gather_many_operations(redis_url: str, prefix: str) -> None:
    count = 500

    async def main() -> None:
        conn, queue = await open_queue(redis_url, prefix)
        async with conn:
            added = await asyncio.gather(
                *(queue.add_item(leaseq.Item(str(n))) for n in range(count))
            )
            assert added == [True] * count
            items = await asyncio.gather(*(queue.lease(30, block=False) for _ in range(count)))
            assert len({item.id for item in items if item is not None}) == count
            done = await asyncio.gather(*(queue.complete(item) for item in items if item))
            assert done == [True] * count
            assert (await queue.queue_len(), await queue.processing()) == (0, 0)

    asyncio.run(main())


def test_waiting_lease_does_not_block_other_coroutines(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        conn, queue = await open_queue(redis_url, prefix)
        async with conn:
            waiting = asyncio.ensure_future(queue.lease(30, timeout=10))
            started = time.monotonic()
            for _ in range(20):
                await asyncio.sleep(0.01)
            assert time.monotonic() - started < 0.5
            assert await queue.queue_len() == 0, "other operations run meanwhile"
            assert not waiting.done()
            item = leaseq.Item(b"wake up")
            await queue.add_item(item)
            assert await asyncio.wait_for(waiting, 2) == item

    asyncio.run(main())


def test_timeout_returns_none_on_time(redis_url: str, prefix: str) -> None:
    async def main() -> float:
        conn, queue = await open_queue(redis_url, prefix)
        async with conn:
            started = time.monotonic()
            assert await queue.lease(30, timeout=0.5) is None
            return time.monotonic() - started

    elapsed = asyncio.run(main())
    assert 0.49 <= elapsed < 0.8, elapsed


def test_cancelling_a_waiting_lease_loses_nothing(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        conn, queue = await open_queue(redis_url, prefix)
        async with conn:
            waiting = asyncio.ensure_future(queue.lease(30))
            await asyncio.sleep(0.2)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(queue.lease(30), 0.2)
            item = leaseq.Item(b"after the cancel")
            await queue.add_item(item)
            await asyncio.sleep(0.1)
            assert (await queue.queue_len(), await queue.processing()) == (1, 0)
            assert await queue.lease(30, block=False) == item

    asyncio.run(main())


def test_cancel_many_pending_leases(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        conn, queue = await open_queue(redis_url, prefix)
        async with conn:
            pending = [asyncio.ensure_future(queue.lease(30)) for _ in range(20)]
            await asyncio.sleep(0.1)
            for future in pending:
                future.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await queue.add_items([leaseq.Item(b"x") for _ in range(5)])
            await asyncio.sleep(0.1)
            assert (await queue.queue_len(), await queue.processing()) == (5, 0)

    asyncio.run(main())


def test_objects_outlive_an_event_loop(redis_url: str, prefix: str) -> None:
    conn, queue = asyncio.run(open_queue(redis_url, prefix))
    assert run(lambda: queue.add_item(leaseq.Item(b"x"))) is True
    assert run(queue.queue_len) == 1
    conn.close()


def test_event_loops_in_many_threads(redis_url: str, prefix: str) -> None:
    conn, queue = asyncio.run(open_queue(redis_url, prefix))
    errors: list[BaseException] = []

    def in_own_loop(n: int) -> None:
        async def main() -> None:
            items = [leaseq.Item(f"{n}-{i}") for i in range(50)]
            assert await queue.add_items(items) == 50
            await asyncio.gather(*(queue.queue_len() for _ in range(50)))

        try:
            asyncio.run(main())
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=in_own_loop, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert run(queue.queue_len) == 300
    conn.close()


def test_async_context_manager(redis_url: str) -> None:
    async def main() -> aio.Connection:
        async with await aio.Connection.open(redis_url) as conn:
            assert not conn.closed
            assert repr(conn) == "<leaseq.aio.Connection open>"
        return conn

    assert asyncio.run(main()).closed


def test_operations_are_coroutines(redis_url: str, prefix: str) -> None:
    conn = asyncio.run(aio.Connection.open(redis_url))
    queue = aio.WorkQueue(conn, prefix)
    made_outside_a_loop = queue.add_item(leaseq.Item(b"x"))
    assert asyncio.iscoroutine(made_outside_a_loop)
    assert asyncio.run(made_outside_a_loop) is True

    async def main() -> None:
        task = asyncio.create_task(queue.queue_len())
        assert await task == 1
        done, _ = await asyncio.wait([asyncio.ensure_future(queue.processing())])
        assert [future.result() for future in done] == [0]

    asyncio.run(main())
    conn.close()


def test_an_operation_starts_only_when_awaited(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        conn, queue = await open_queue(redis_url, prefix)
        async with conn:
            never_awaited = queue.add_item(leaseq.Item(b"x"))
            await asyncio.sleep(0.1)
            assert await queue.queue_len() == 0
            never_awaited.close()
            # Cancelled before it ever ran: it raises without starting.
            task = asyncio.create_task(queue.add_item(leaseq.Item(b"y")))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await queue.queue_len() == 0

    asyncio.run(main())


def test_closing_a_started_operation_aborts_it(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        conn, queue = await open_queue(redis_url, prefix)
        async with conn:
            waiting = queue.lease(30)
            waiting.send(None)  # starts it: a waiting lease
            await asyncio.sleep(0.1)
            waiting.close()
            await queue.add_item(leaseq.Item(b"x"))
            await asyncio.sleep(0.1)
            assert (await queue.queue_len(), await queue.processing()) == (1, 0)

    asyncio.run(main())


def test_an_operation_abandoned_with_its_loop_is_collected(redis_url: str, prefix: str) -> None:
    loop = asyncio.new_event_loop()
    conn, queue = loop.run_until_complete(open_queue(redis_url, prefix))
    task = loop.create_task(queue.lease(30, timeout=0.2))
    loop.run_until_complete(asyncio.sleep(0.05))
    task_ref = weakref.ref(task)
    del task
    loop.close()  # with the lease still waiting: its result finds the loop closed
    time.sleep(0.4)
    logging.getLogger("asyncio").disabled = True  # "Task was destroyed but it is pending!"
    try:
        gc.collect()
    finally:
        logging.getLogger("asyncio").disabled = False
    assert task_ref() is None, "task -> operation -> Future -> task is collectable"
    conn.close()


def test_closing_the_connection_ends_a_waiting_lease(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        conn, queue = await open_queue(redis_url, prefix)
        waiting = asyncio.ensure_future(queue.lease(30))
        await asyncio.sleep(0.1)
        conn.close()
        with pytest.raises(leaseq.ConnectionError, match="closed"):
            await asyncio.wait_for(waiting, 1)

    asyncio.run(main())
