"""Threads: the GIL is released during Redis calls, shared objects work from many threads, and a
blocking lease wakes when an item arrives, times out on time, and gives way to Ctrl-C."""

from __future__ import annotations

import collections
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import leaseq


def test_many_threads_lease_and_complete(queue: leaseq.WorkQueue) -> None:
    total, workers = 2000, 8
    queue.add_items([leaseq.Item(f"job {n}".encode(), id=f"job-{n}") for n in range(total)])
    completed: collections.Counter[str] = collections.Counter()
    leased: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def work() -> None:
        while (item := queue.lease(60, block=False)) is not None:
            assert item.data == f"job {item.id[4:]}".encode()
            done = queue.complete(item)
            with lock:
                leased[item.id] += 1
                completed[item.id] += done

    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()
    assert len(leased) == total and set(leased.values()) == {1}
    assert sum(completed.values()) == total and set(completed.values()) == {1}
    assert (queue.queue_len(), queue.processing()) == (0, 0)


def test_threads_share_one_connection_and_queue(conn: leaseq.Connection, prefix: str) -> None:
    producers = [leaseq.WorkQueue(conn, prefix) for _ in range(4)]

    def produce(queue: leaseq.WorkQueue) -> int:
        return sum(queue.add_item(leaseq.Item(b"x")) for _ in range(250))

    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(produce, producers)) == 1000
    assert producers[0].queue_len() == 1000


def test_gil_is_released_while_waiting(queue: leaseq.WorkQueue) -> None:
    waiter = threading.Thread(target=queue.lease, args=(30,), kwargs={"timeout": 1.0})
    waiter.start()
    time.sleep(0.05)
    ticks, deadline = 0, time.monotonic() + 0.5
    while time.monotonic() < deadline:
        ticks += 1
    assert waiter.is_alive(), "the lease is still waiting"
    waiter.join()
    assert ticks > 10_000, "this thread ran Python while the other waited in Redis"


def test_blocking_lease_wakes_when_another_thread_adds(queue: leaseq.WorkQueue) -> None:
    result: list[tuple[leaseq.Item | None, float]] = []

    def wait() -> None:
        item = queue.lease(30, timeout=10)
        result.append((item, time.monotonic()))

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)
    assert not result, "the lease waits on the empty queue"
    item = leaseq.Item(b"wake up")
    added_at = time.monotonic()
    queue.add_item(item)
    waiter.join(5)
    assert result and result[0][0] == item
    assert result[0][1] - added_at < 0.5


def test_blocking_lease_without_timeout_wakes(queue: leaseq.WorkQueue) -> None:
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(queue.lease, 30)
        time.sleep(0.2)
        assert not pending.done()
        queue.add_item(leaseq.Item(b"late"))
        assert pending.result(5) is not None


@pytest.mark.parametrize("timeout", [0.5])
def test_timeout_returns_none_on_time(queue: leaseq.WorkQueue, timeout: float) -> None:
    started = time.monotonic()
    assert queue.lease(30, timeout=timeout) is None
    elapsed = time.monotonic() - started
    assert timeout - 0.01 <= elapsed < timeout + 0.3, elapsed


def test_a_signal_interrupts_a_blocking_lease_and_loses_nothing(queue: leaseq.WorkQueue) -> None:
    class Interrupted(Exception):
        pass

    def on_alarm(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        started = time.monotonic()
        with pytest.raises(Interrupted):
            queue.lease(30)  # would wait for ever
        assert time.monotonic() - started < 1.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    item = leaseq.Item(b"after the interrupt")
    queue.add_item(item)
    time.sleep(0.1)
    assert (queue.queue_len(), queue.processing()) == (1, 0), "the aborted lease took nothing"
    assert queue.lease(30, block=False) == item


def test_closing_the_connection_ends_a_blocked_lease(redis_url: str, prefix: str) -> None:
    conn = leaseq.Connection(redis_url)
    queue = leaseq.WorkQueue(conn, prefix)
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            queue.lease(30)  # would wait for ever
        except BaseException as err:
            errors.append(err)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.2)
    started = time.monotonic()
    conn.close()
    waiter.join(5)
    assert not waiter.is_alive() and time.monotonic() - started < 1.0
    assert len(errors) == 1 and isinstance(errors[0], leaseq.ConnectionError)
    assert "closed" in str(errors[0])
