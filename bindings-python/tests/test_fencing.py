"""Fencing tokens (``Item.fence``, the queue's ``fencing``) and the queue options that came with
them (``clean_grace``, ``wait_replicas``, ``wait_timeout``), blocking and asyncio (#13, #16)."""

from __future__ import annotations

import asyncio
import math
import pickle
import time
from typing import Any

import pytest

import leaseq
from leaseq import aio


def leased(queue: leaseq.WorkQueue, lease_secs: float = 30.0) -> leaseq.Item:
    item = queue.lease(lease_secs, block=False)
    assert item is not None
    return item


def test_the_new_queue_options_are_accepted(conn: leaseq.Connection, prefix: str) -> None:
    leaseq.WorkQueue(conn, prefix, clean_grace=0, wait_replicas=0, wait_timeout=0, fencing=True)
    leaseq.WorkQueue(conn, prefix, clean_grace=2.5, wait_replicas=2, wait_timeout=0.25)
    leaseq.WorkQueue(conn, prefix, clean_grace=365 * 24 * 3600, fencing=False)


def test_the_new_queue_options_are_checked(conn: leaseq.Connection, prefix: str) -> None:
    bad: list[tuple[dict[str, Any], str]] = [
        ({"clean_grace": -1}, "clean_grace"),
        ({"clean_grace": math.nan}, "clean_grace"),
        ({"clean_grace": math.inf}, "clean_grace"),
        ({"clean_grace": 366 * 24 * 3600}, "clean_grace"),
        ({"wait_replicas": -1}, "wait_replicas"),
        ({"wait_replicas": 2**40}, "wait_replicas"),
        ({"wait_timeout": -0.5}, "wait_timeout"),
        ({"wait_timeout": math.nan}, "wait_timeout"),
        ({"wait_timeout": 1e300}, "wait_timeout"),
        ({"wait_replicas": 1, "wait_timeout": 0}, "wait_timeout"),
    ]
    for options, named in bad:
        with pytest.raises(leaseq.InvalidArgumentError, match=named):
            leaseq.WorkQueue(conn, prefix, **options)
    with pytest.raises(TypeError):
        leaseq.WorkQueue(conn, prefix, wait_replicas=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        leaseq.WorkQueue(conn, prefix, fencing="yes")  # type: ignore[arg-type]


def test_wait_replicas_times_out_without_replicas(conn: leaseq.Connection, prefix: str) -> None:
    # The test server has no replicas: the add is written, then the wait for one fails.
    queue = leaseq.WorkQueue(conn, prefix, wait_replicas=1, wait_timeout=0.1)
    started = time.monotonic()
    with pytest.raises(leaseq.TimeoutError, match="replicas"):
        queue.add_item(leaseq.Item(b"x", id="a"))
    assert time.monotonic() - started < 2.0
    assert queue.queue_len() == 1, "written on the master"


def test_leases_carry_growing_fences(queue: leaseq.WorkQueue) -> None:
    assert leaseq.Item(b"x").fence == 0, "an item that was not leased"
    queue.add_items([leaseq.Item(b"1", id="a"), leaseq.Item(b"2", id="b")])
    first, second = leased(queue), leased(queue)
    assert first.fence > 0
    assert second.fence > first.fence, "a later delivery of another item"
    assert first == leaseq.Item(b"1", id="a"), "the fence is about one delivery, not the item"
    copy = pickle.loads(pickle.dumps(second))
    assert (copy.id, copy.attempts, copy.fence) == ("b", 1, second.fence)
    assert leaseq.Item(b"y", fence=7).fence == 7
    with pytest.raises(OverflowError):
        leaseq.Item(b"y", fence=-1)


def superseded(queue: leaseq.WorkQueue) -> tuple[leaseq.Item, leaseq.Item]:
    """Item "a" leased, its lease expired and reclaimed, and leased again: both deliveries."""
    queue.add_item(leaseq.Item(b"x", id="a"))
    first = leased(queue, 0.05)
    time.sleep(0.1)
    assert queue.light_clean().requeued == 1
    second = leased(queue)
    assert second.id == "a" and second.fence > first.fence
    return first, second


def test_fencing_refuses_a_superseded_delivery(conn: leaseq.Connection, prefix: str) -> None:
    queue = leaseq.WorkQueue(conn, prefix, fencing=True)
    first, second = superseded(queue)
    with pytest.raises(leaseq.LeaseLostError):
        queue.renew(first, 30)
    with pytest.raises(leaseq.LeaseLostError):
        queue.fail(first, "late")
    with pytest.raises(leaseq.LeaseLostError):
        queue.release(first)
    with pytest.raises(leaseq.LeaseLostError):
        queue.complete(first)
    assert queue.processing() == 1, "nothing changed"
    # An item made from the id alone has fence 0, which is not checked.
    assert queue.renew(leaseq.Item(b"", id="a"), 30) is True
    assert queue.complete(second) is True


def test_without_fencing_a_superseded_delivery_still_acts(
    conn: leaseq.Connection, prefix: str
) -> None:
    queue = leaseq.WorkQueue(conn, prefix)
    first, _second = superseded(queue)
    assert queue.complete(first) is True, "the default: fences are carried, not checked"


def test_asyncio_fences_and_fencing(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        async with await aio.Connection.open(redis_url) as conn:
            with pytest.raises(leaseq.InvalidArgumentError, match="wait_replicas"):
                aio.WorkQueue(conn, prefix, wait_replicas=-1)
            with pytest.raises(leaseq.InvalidArgumentError, match="clean_grace"):
                aio.WorkQueue(conn, prefix, clean_grace=math.nan)
            queue = aio.WorkQueue(
                conn, prefix, fencing=True, clean_grace=0.5, wait_replicas=0, wait_timeout=2
            )
            await queue.add_item(leaseq.Item(b"x", id="a"))
            first = await queue.lease(0.05, block=False)
            assert first is not None and first.fence > 0
            await asyncio.sleep(0.1)
            assert (await queue.light_clean()).requeued == 1
            second = await queue.lease(30, block=False)
            assert second is not None and second.fence > first.fence
            with pytest.raises(leaseq.LeaseLostError):
                await queue.complete(first)
            with pytest.raises(leaseq.LeaseLostError):
                await queue.release(first)
            assert await queue.complete(second) is True

    asyncio.run(main())
