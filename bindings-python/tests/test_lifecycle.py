"""The job lifecycle (attempts, fail and retries, dead letters, release, delays, priorities,
uniqueness, pause), in the blocking API and in leaseq.aio, and the errors its arguments raise."""

from __future__ import annotations

import asyncio
import datetime
import math
import pickle
import threading
import time
from collections.abc import Iterator
from typing import TypedDict

import pytest
import redis

import leaseq
from leaseq import aio


class Backoffs(TypedDict):
    backoff_base: float
    backoff_max: float


# Short backoffs, so retries come back within a test.
FAST: Backoffs = {"backoff_base": 0.05, "backoff_max": 0.05}


@pytest.fixture
def fast(conn: leaseq.Connection, prefix: str) -> leaseq.WorkQueue:
    return leaseq.WorkQueue(conn, prefix, max_attempts=2, **FAST)


def leased(queue: leaseq.WorkQueue, timeout: float = 2.0) -> leaseq.Item:
    item = queue.lease(30, timeout=timeout)
    assert item is not None
    return item


def test_lease_counts_attempts(queue: leaseq.WorkQueue) -> None:
    added = leaseq.Item(b"x", id="a")
    queue.add_item(added)
    first = leased(queue)
    assert first.attempts == 1
    assert added.attempts == 0, "an item that was not leased"
    assert first == added, "attempts are about one delivery, not the item"
    assert hash(first) == hash(added)
    assert repr(first) == "Item(b'x', id=\"a\", attempts=1)"
    assert queue.fail(first, "again", retry_after=0).kind == "retry"
    assert leased(queue).attempts == 2


def test_fail_retries_after_the_backoff_then_buries(
    fast: leaseq.WorkQueue, db: redis.Redis, prefix: str
) -> None:
    fast.add_item(leaseq.Item(b"data", id="a"))
    outcome = fast.fail(leased(fast), "ValueError: boom")
    assert outcome.kind == "retry" and outcome.retry_at is not None
    assert abs(outcome.retry_at - (time.time() + 0.05)) < 0.5
    assert outcome == outcome and outcome != "retry"
    assert (fast.queue_len(), fast.processing(), fast.delayed_len()) == (0, 0, 1)
    assert fast.lease(30, block=False) is None, "not due yet"
    started = time.monotonic()
    again = leased(fast)  # a blocking lease wakes when the retry is due
    assert time.monotonic() - started < 1.0
    assert again.attempts == 2

    outcome = fast.fail(again, "ValueError: boom twice")
    assert (outcome.kind, outcome.retry_at) == ("dead", None)
    assert repr(outcome) == 'FailOutcome(kind="dead")'
    assert (fast.dead_len(), fast.delayed_len(), fast.processing()) == (1, 0, 0)
    [dead] = fast.dead_items()
    assert dead.item == leaseq.Item(b"data", id="a") and dead.item.attempts == 2
    assert dead.error == "ValueError: boom twice"
    assert abs(dead.died_at - time.time()) < 5
    assert repr(dead).startswith("DeadItem(item=Item(b'data', id=\"a\", attempts=2), error=")
    assert db.hget(f"{prefix}:errors", "a") == b"ValueError: boom twice"


def test_fail_after_complete_is_gone(queue: leaseq.WorkQueue) -> None:
    queue.add_item(leaseq.Item(b"x"))
    item = leased(queue)
    assert queue.complete(item)
    outcome = queue.fail(item, "late")
    assert (outcome.kind, outcome.retry_at) == ("gone", None)


def test_fail_without_the_lease_is_lease_lost(
    conn: leaseq.Connection, queue: leaseq.WorkQueue, prefix: str
) -> None:
    queue.add_item(leaseq.Item(b"x", id="a"))
    item = leased(queue)
    other = leaseq.WorkQueue(conn, prefix)
    with pytest.raises(leaseq.LeaseLostError, match="no longer held"):
        other.fail(item, "not mine")
    assert queue.processing() == 1, "nothing changed"
    # Expired and reclaimed: the lease is gone for its holder too.
    assert queue.renew(item, 0.05)
    time.sleep(0.1)
    assert queue.light_clean().requeued == 1
    with pytest.raises(leaseq.LeaseLostError):
        queue.fail(item, "too late")


def test_release_gives_the_item_back_without_counting_the_attempt(
    conn: leaseq.Connection, queue: leaseq.WorkQueue, prefix: str
) -> None:
    queue.add_items([leaseq.Item(b"1", id="first"), leaseq.Item(b"2", id="second")])
    item = leased(queue)
    assert item.id == "first"
    assert leaseq.WorkQueue(conn, prefix).release(item) is False, "another session"
    assert queue.release(item) is True
    assert queue.release(item) is False
    again = leased(queue)
    assert (again.id, again.attempts) == ("first", 1), "first in line, attempt not counted"


def test_dead_letters_list_requeue_and_purge(conn: leaseq.Connection, prefix: str) -> None:
    queue = leaseq.WorkQueue(conn, prefix, max_attempts=1)
    ids = [f"d{n}" for n in range(5)]
    queue.add_items([leaseq.Item(f"data {n}", id=name) for n, name in enumerate(ids)])
    for _ in ids:
        assert queue.fail(leased(queue), "broken").kind == "dead"
    assert queue.dead_len() == 5
    assert [dead.item.id for dead in queue.dead_items()] == ids, "oldest death first"
    assert [dead.item.id for dead in queue.dead_items(1, 2)] == ["d1", "d2"]
    assert queue.dead_items(offset=10) == []

    assert queue.requeue_dead(["d0", "nope"]) == 1
    assert queue.requeue_dead(name for name in ["d0"]) == 0, "any iterable; not dead any more"
    requeued = leased(queue)
    assert (requeued.id, requeued.attempts) == ("d0", 1), "attempts reset"
    assert queue.complete(requeued)

    assert queue.purge_dead(("d1",)) == 1
    assert queue.purge_dead(["d1"]) == 0
    assert queue.requeue_dead([]) == queue.purge_dead([]) == 0
    with pytest.raises(TypeError, match="not a single str"):
        queue.requeue_dead("d2")
    with pytest.raises(TypeError):
        queue.purge_dead([1, 2])  # type: ignore[list-item]

    assert queue.requeue_all_dead() == 3  # d2, d3, d4
    for _ in range(3):
        assert queue.fail(leased(queue), "broken again").kind == "dead"
    assert queue.purge_all_dead() == 3
    assert (queue.dead_len(), queue.queue_len(), queue.processing()) == (0, 0, 0)
    assert queue.requeue_all_dead() == queue.purge_all_dead() == 0


def test_dead_items_page_is_checked(queue: leaseq.WorkQueue) -> None:
    for count in (0, -1, 1001):
        with pytest.raises(leaseq.InvalidArgumentError, match="count must be between 1 and 1000"):
            queue.dead_items(count=count)
    with pytest.raises(leaseq.InvalidArgumentError, match="offset must not be negative"):
        queue.dead_items(offset=-1)
    assert queue.dead_items(count=1000) == []


def test_an_expired_last_lease_goes_to_the_dead_letters(
    conn: leaseq.Connection, prefix: str
) -> None:
    queue = leaseq.WorkQueue(conn, prefix, max_attempts=1)
    queue.add_item(leaseq.Item(b"x", id="a"))
    assert queue.lease(0.05) is not None
    time.sleep(0.1)
    report = queue.light_clean()
    assert (report.requeued, report.dropped, report.dead) == (0, 0, 1)
    assert repr(report) == "CleanReport(requeued=0, dropped=0, dead=1)"
    [dead] = queue.dead_items()
    assert (dead.item.id, dead.error, dead.item.attempts) == ("a", "lease expired", 1)


def test_priorities(queue: leaseq.WorkQueue) -> None:
    queue.add_item(leaseq.Item(b"", id="default"))
    assert queue.add_item_with(leaseq.Item(b"", id="low"), priority=1)
    assert queue.add_item_with(leaseq.Item(b"", id="high"), priority=9)
    assert queue.add_item_with(leaseq.Item(b"", id="zero"), priority=0)
    assert queue.add_item_with(leaseq.Item(b"", id="high"), priority=5) is False, "id exists"
    assert (queue.prioritized_len(), queue.queue_len()) == (2, 2)
    assert [leased(queue).id for _ in range(4)] == ["high", "low", "default", "zero"]
    for bad in (10, -1, 256):
        with pytest.raises(leaseq.InvalidArgumentError, match="priority"):
            queue.add_item_with(leaseq.Item(b""), priority=bad)


def test_delays_and_due_times(queue: leaseq.WorkQueue) -> None:
    now = time.time()
    tomorrow = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    assert queue.add_item_with(leaseq.Item(b"", id="delay"), delay=0.2)
    assert queue.add_item_with(leaseq.Item(b"", id="at"), at=now + 0.3)
    assert queue.add_item_with(leaseq.Item(b"", id="aware"), at=tomorrow)
    naive_local = datetime.datetime.now() + datetime.timedelta(days=1)
    assert queue.add_item_with(leaseq.Item(b"", id="naive"), at=naive_local, priority=2)
    assert queue.add_item_with(leaseq.Item(b"", id="past"), at=datetime.datetime(2001, 1, 1))
    assert (queue.delayed_len(), queue.queue_len()) == (4, 1), "a time past is due at once"
    assert leased(queue).id == "past"
    assert queue.lease(30, block=False) is None
    started = time.monotonic()
    assert leased(queue).id == "delay"  # a blocking lease wakes when the item is due
    assert leased(queue).id == "at"
    assert 0.15 < time.monotonic() - started < 1.5
    assert queue.delayed_len() == 2, "tomorrow's"


def test_delay_and_at_arguments_are_checked(queue: leaseq.WorkQueue) -> None:
    item = leaseq.Item(b"")
    with pytest.raises(leaseq.InvalidArgumentError, match="not both"):
        queue.add_item_with(item, delay=1, at=time.time() + 1)
    for delay in (-1, math.nan, math.inf):
        with pytest.raises(leaseq.InvalidArgumentError, match="delay"):
            queue.add_item_with(item, delay=delay)
    with pytest.raises(leaseq.InvalidArgumentError, match="before 1970"):
        queue.add_item_with(item, at=-5.0)
    with pytest.raises(leaseq.InvalidArgumentError, match="before 1970"):
        queue.add_item_with(item, at=datetime.datetime(1960, 1, 1, tzinfo=datetime.timezone.utc))
    with pytest.raises(leaseq.InvalidArgumentError):
        queue.add_item_with(item, at=math.nan)
    with pytest.raises(TypeError, match="Unix seconds"):
        queue.add_item_with(item, at="tomorrow")  # type: ignore[arg-type]
    with pytest.raises(leaseq.InvalidArgumentError, match="empty"):
        queue.add_item_with(leaseq.Item(b"", id=""), priority=1)
    with pytest.raises(TypeError):
        queue.add_item_with(item, 1)  # type: ignore[call-arg]
    assert (queue.queue_len(), queue.delayed_len(), queue.prioritized_len()) == (0, 0, 0)


def test_unique_window(conn: leaseq.Connection, prefix: str) -> None:
    queue = leaseq.WorkQueue(conn, prefix, unique_window=0.3)
    item = leaseq.Item(b"x", id="once")
    assert queue.add_item(item)
    assert queue.complete(leased(queue))
    assert queue.add_item(item) is False, "completed within the window"
    assert queue.add_item_with(item, priority=3) is False
    assert queue.add_items([item]) == 0
    time.sleep(0.4)
    assert queue.add_item(item), "the window has passed"


def test_pause_and_resume(conn: leaseq.Connection, queue: leaseq.WorkQueue, prefix: str) -> None:
    assert queue.is_paused() is False
    assert queue.pause() is None  # type: ignore[func-returns-value]
    assert queue.is_paused() and leaseq.WorkQueue(conn, prefix).is_paused()
    assert queue.add_item(leaseq.Item(b"x", id="a")), "adds still succeed"
    assert queue.lease(30, block=False) is None
    got: list[leaseq.Item | None] = []
    waiter = threading.Thread(target=lambda: got.append(queue.lease(30, timeout=5)))
    waiter.start()
    time.sleep(0.2)
    assert not got, "a blocking lease waits while paused"
    started = time.monotonic()
    assert queue.resume() is True
    waiter.join()
    assert time.monotonic() - started < 1.0, "resume wakes a blocked lease"
    assert got[0] is not None and got[0].id == "a"
    assert queue.resume() is False
    assert queue.is_paused() is False


def test_queue_options_are_checked(conn: leaseq.Connection, prefix: str) -> None:
    bad: list[dict[str, float]] = [
        {"max_attempts": 0},
        {"max_attempts": -1},
        {"max_attempts": 2**40},
        {"backoff_base": 10, "backoff_max": 1},
        {"backoff_base": -1},
        {"backoff_max": math.nan},
        {"unique_window": math.inf},
        {"unique_window": 366 * 24 * 3600},
    ]
    for options in bad:
        with pytest.raises(leaseq.InvalidArgumentError):
            leaseq.WorkQueue(conn, prefix, **options)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        leaseq.WorkQueue(conn, prefix, 3)  # type: ignore[call-arg]
    leaseq.WorkQueue(conn, prefix, max_attempts=1, backoff_base=0, backoff_max=0)


def test_items_pickle_with_their_attempts(queue: leaseq.WorkQueue) -> None:
    queue.add_item(leaseq.Item(b"x", id="a"))
    item = leased(queue)
    copy = pickle.loads(pickle.dumps(item))
    assert (copy.id, copy.data, copy.attempts) == ("a", b"x", 1)
    assert leaseq.Item(b"y", attempts=3).attempts == 3
    with pytest.raises(OverflowError):
        leaseq.Item(b"y", attempts=-1)


@pytest.fixture
def aio_queue(
    redis_url: str, prefix: str
) -> Iterator[tuple[asyncio.AbstractEventLoop, aio.WorkQueue]]:
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(aio.Connection.open(redis_url))
    yield loop, aio.WorkQueue(conn, prefix, max_attempts=2, **FAST)
    conn.close()
    loop.close()


def test_asyncio_lifecycle(
    aio_queue: tuple[asyncio.AbstractEventLoop, aio.WorkQueue], redis_url: str, prefix: str
) -> None:
    loop, queue = aio_queue

    async def lease() -> leaseq.Item:
        item = await queue.lease(30, timeout=2)
        assert item is not None
        return item

    async def main() -> None:
        assert await queue.add_item_with(leaseq.Item(b"", id="high"), priority=9)
        assert await queue.add_item_with(leaseq.Item(b"", id="later"), delay=0.1)
        assert await queue.add_item_with(leaseq.Item(b"", id="at"), at=time.time() + 30)
        assert await queue.add_item(leaseq.Item(b"", id="default"))
        assert (await queue.prioritized_len(), await queue.delayed_len()) == (1, 2)

        item = await lease()
        assert (item.id, item.attempts) == ("high", 1)
        outcome = await queue.fail(item, "boom", retry_after=0.3)
        assert outcome.kind == "retry" and outcome.retry_at is not None
        assert (await lease()).id == "default"
        assert (await lease()).id == "later"
        again = await lease()
        assert (again.id, again.attempts) == ("high", 2)
        assert (await queue.fail(again, "boom twice", retry_after=5)).kind == "dead"

        assert await queue.dead_len() == 1
        [dead] = await queue.dead_items(0, 10)
        assert (dead.item.id, dead.item.attempts, dead.error) == ("high", 2, "boom twice")
        assert await queue.requeue_dead(["high"]) == 1
        assert (await lease()).attempts == 1
        assert await queue.requeue_all_dead() == 0
        assert await queue.purge_dead(["high"]) == 0
        assert await queue.purge_all_dead() == 0

        assert await queue.lease(30, block=False) is None, "the one left is due in 30 s"
        assert await queue.pause() is None  # type: ignore[func-returns-value]
        assert await queue.is_paused()
        await queue.add_item(leaseq.Item(b"", id="while paused"))
        waiting = asyncio.ensure_future(queue.lease(30, timeout=5))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        assert await queue.resume() is True
        paused_item = await asyncio.wait_for(waiting, 1)
        assert paused_item is not None and paused_item.id == "while paused"
        assert await queue.release(paused_item) is True
        assert await queue.release(paused_item) is False
        assert not await queue.is_paused()

        report = await queue.light_clean()
        assert (report.requeued, report.dropped, report.dead) == (0, 0, 0)

    loop.run_until_complete(main())


def test_asyncio_errors_come_through_the_awaitable(
    aio_queue: tuple[asyncio.AbstractEventLoop, aio.WorkQueue], redis_url: str, prefix: str
) -> None:
    loop, queue = aio_queue

    async def main() -> None:
        pending = queue.add_item_with(leaseq.Item(b""), priority=10)  # raises when awaited
        with pytest.raises(leaseq.InvalidArgumentError, match="priority"):
            await pending
        with pytest.raises(leaseq.InvalidArgumentError, match="not both"):
            await queue.add_item_with(leaseq.Item(b""), delay=1, at=time.time())
        with pytest.raises(TypeError):
            queue.add_item_with(leaseq.Item(b""), at=[])  # type: ignore[arg-type,unused-coroutine]
        with pytest.raises(leaseq.InvalidArgumentError, match="retry_after"):
            await queue.fail(leaseq.Item(b"", id="x"), "e", retry_after=-1)
        with pytest.raises(leaseq.InvalidArgumentError, match="count"):
            await queue.dead_items(0, 0)
        with pytest.raises(TypeError):
            queue.requeue_dead("abc")  # type: ignore[unused-coroutine]
        await queue.add_item(leaseq.Item(b"", id="mine"))
        item = await queue.lease(30)
        assert item is not None
        async with await aio.Connection.open(redis_url) as conn:
            other = aio.WorkQueue(conn, prefix)
            with pytest.raises(leaseq.LeaseLostError):
                await other.fail(item, "not mine")
            assert await other.release(item) is False
            with pytest.raises(leaseq.InvalidArgumentError, match="max_attempts"):
                aio.WorkQueue(conn, prefix, max_attempts=0)

    loop.run_until_complete(main())
