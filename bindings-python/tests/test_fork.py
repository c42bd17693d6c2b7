"""Pre-forked worker pools: objects made in the parent keep working in a child after
``os.fork()`` (the core reconnects and makes its runtime again in the child)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import traceback
from collections.abc import Callable

import pytest

import leaseq
from leaseq import aio

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork"),
    # Python 3.12+ warns on every fork of a process with threads: that is the case under test.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


def in_child(body: Callable[[], None]) -> None:
    """Runs ``body`` in a forked child; fails the test if it raised or timed out."""
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            body()
        except BaseException:
            traceback.print_exc()
            status = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    for _ in range(200):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0, "the child failed (see its output)"
            return
        asyncio.run(asyncio.sleep(0.05))
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the child hung")


def test_blocking_objects_work_in_a_forked_child(conn: leaseq.Connection, prefix: str) -> None:
    queue = leaseq.WorkQueue(conn, prefix)
    queue.add_items([leaseq.Item(b"for the parent", id="p"), leaseq.Item(b"for the child", id="c")])
    parent_item = queue.lease(30)
    assert parent_item is not None and parent_item.id == "p"

    def child() -> None:
        assert queue.queue_len() == 1 and queue.processing() == 1
        item = queue.lease(30, timeout=1)
        assert item is not None and item.id == "c"
        assert queue.complete(item)
        assert queue.add_item(leaseq.Item(b"from the child", id="k"))
        assert queue.lease(30, timeout=1) is not None  # a blocking lease, on a new connection
        assert queue.light_clean().requeued == 0
        other = leaseq.WorkQueue(conn, prefix)
        assert other.queue_len() == 0

    in_child(child)
    # The parent's connection and lease are untouched by the child.
    assert queue.complete(parent_item)
    assert (queue.queue_len(), queue.processing()) == (0, 1)


def test_fork_while_an_asyncio_connection_exists(redis_url: str, prefix: str) -> None:
    async def setup() -> tuple[aio.Connection, aio.WorkQueue]:
        conn = await aio.Connection.open(redis_url)
        queue = aio.WorkQueue(conn, prefix)
        assert await queue.add_item(leaseq.Item(b"x", id="x"))
        return conn, queue

    conn, queue = asyncio.run(setup())

    def child() -> None:
        async def main() -> None:
            item = await queue.lease(30, timeout=1)
            assert item is not None and item.id == "x"
            assert await queue.complete(item)
            assert await asyncio.gather(*(queue.queue_len() for _ in range(20))) == [0] * 20

        asyncio.run(main())

    in_child(child)

    async def after() -> int:
        return await queue.processing()

    assert asyncio.run(after()) == 0
    conn.close()


def test_fork_twice(conn: leaseq.Connection, prefix: str) -> None:
    queue = leaseq.WorkQueue(conn, prefix)
    queue.add_item(leaseq.Item(b"x"))

    def grandchild() -> None:
        assert queue.queue_len() == 1

    def child() -> None:
        assert queue.queue_len() == 1
        in_child(grandchild)
        assert queue.processing() == 0

    in_child(child)
    assert queue.queue_len() == 1


def test_fork_while_other_threads_use_the_same_objects(redis_url: str, prefix: str) -> None:
    """Forks while other threads use the very connections and queues the child then uses (an
    event loop with operations finishing, and blocking calls): the child must not inherit a lock
    held by one of the parent's threads, neither the binding's (the completer is made again)
    nor the core's (its runtime and connection state are found without locks)."""
    stop = threading.Event()
    aio_conn, aio_queue = asyncio.run(open_queue(redis_url, prefix))

    async def keep_busy() -> None:
        while not stop.is_set():
            await asyncio.gather(*(aio_queue.queue_len() for _ in range(20)))

    with leaseq.Connection(redis_url) as conn:
        queue = leaseq.WorkQueue(conn, prefix)

        def keep_blocking_calls_busy() -> None:
            while not stop.is_set():
                queue.processing()

        busy = [
            threading.Thread(target=lambda: asyncio.run(keep_busy())),
            threading.Thread(target=keep_blocking_calls_busy),
        ]
        for thread in busy:
            thread.start()

        def child() -> None:
            assert queue.queue_len() == 0

            async def main() -> None:
                assert await asyncio.gather(*(aio_queue.processing() for _ in range(5))) == [0] * 5

            asyncio.run(main())

        try:
            for _ in range(20):
                in_child(child)
        finally:
            stop.set()
            for thread in busy:
                thread.join()
            aio_conn.close()


async def open_queue(redis_url: str, prefix: str) -> tuple[aio.Connection, aio.WorkQueue]:
    conn = await aio.Connection.open(redis_url)
    return conn, aio.WorkQueue(conn, prefix)
