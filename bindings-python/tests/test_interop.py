"""Interop with PyPI ``redis-work-queue`` 0.1.5, the older generation of the same key schema
(lease key ``<prefix>:leased_by_session:<id>``, a ``<prefix>:cleaning`` list)."""

from __future__ import annotations

import time

import pytest
import redis
from redis_work_queue import Item as OldItem
from redis_work_queue import KeyPrefix
from redis_work_queue import WorkQueue as OldWorkQueue

import leaseq


@pytest.fixture
def old(prefix: str) -> OldWorkQueue:
    return OldWorkQueue(KeyPrefix(prefix))


def assert_counts(
    queue: leaseq.WorkQueue, old: OldWorkQueue, db: redis.Redis, queued: int, processing: int
) -> None:
    assert (queue.queue_len(), queue.processing()) == (queued, processing)
    assert (old.queue_len(db), old.processing(db)) == (queued, processing)


def test_old_add_then_our_lease_and_complete(
    queue: leaseq.WorkQueue, old: OldWorkQueue, db: redis.Redis, prefix: str
) -> None:
    old.add_item(db, OldItem(b"made by 0.1.5", id="old-1"))
    old.add_item(db, OldItem.from_json_data({"photo": 17}, id="old-2"))
    assert_counts(queue, old, db, 2, 0)

    first = queue.lease(30)
    assert first == leaseq.Item(b"made by 0.1.5", id="old-1")
    assert_counts(queue, old, db, 1, 1)
    second = queue.lease(30)
    assert second is not None and second.json() == {"photo": 17}
    assert_counts(queue, old, db, 0, 2)

    assert queue.complete(first) and queue.complete(second)
    assert_counts(queue, old, db, 0, 0)
    assert not db.exists(f"{prefix}:item:old-1", f"{prefix}:lease:old-1")


def test_our_add_then_old_lease_and_complete(
    queue: leaseq.WorkQueue, old: OldWorkQueue, db: redis.Redis, prefix: str
) -> None:
    queue.add_item(leaseq.Item(b"made by leaseq", id="new-1"))
    queue.add_items([leaseq.Item.from_json([1, 2])])
    assert_counts(queue, old, db, 2, 0)

    leased = old.lease(db, 30, block=True, timeout=1)
    assert leased is not None and (leased.id(), leased.data()) == ("new-1", b"made by leaseq")
    assert db.get(f"{prefix}:leased_by_session:new-1") is not None
    assert_counts(queue, old, db, 1, 1)
    assert old.complete(db, leased) is True
    assert_counts(queue, old, db, 1, 0)

    leased = old.lease(db, 30, block=False)
    assert leased is not None and leased.data_json() == [1, 2]
    assert old.complete(db, leased) is True
    assert_counts(queue, old, db, 0, 0)
    assert queue.complete(leaseq.Item(b"", id="new-1")) is False, "already completed"


def test_our_clean_keeps_an_old_lease_until_it_expires(
    queue: leaseq.WorkQueue, old: OldWorkQueue, db: redis.Redis, prefix: str
) -> None:
    queue.add_item(leaseq.Item(b"x", id="held"))
    leased = old.lease(db, 1, block=False)  # 0.1.5 leases in whole seconds
    assert leased is not None
    report = queue.light_clean()
    assert (report.requeued, report.dropped) == (0, 0), "a live old lease is not robbed"
    assert queue.deep_clean().requeued == 0
    assert_counts(queue, old, db, 0, 1)

    deadline = time.monotonic() + 3
    while db.exists(f"{prefix}:leased_by_session:held") and time.monotonic() < deadline:
        time.sleep(0.05)
    report = queue.light_clean()
    assert (report.requeued, report.dropped) == (1, 0)
    assert_counts(queue, old, db, 1, 0)
    again = queue.lease(30)
    assert again is not None and again.id == "held"
    assert queue.complete(again)
    assert old.complete(db, leased) is False, "completed once only"


def test_our_clean_finishes_ids_left_in_the_cleaning_list(
    queue: leaseq.WorkQueue, old: OldWorkQueue, db: redis.Redis, prefix: str
) -> None:
    # 0.1.5's light_clean crashed after moving "lost" out of processing into `cleaning` and
    # before requeueing it; "live" is in `cleaning` too but holds a live old lease.
    db.set(f"{prefix}:item:lost", b"crashed mid-clean")
    db.lpush(f"{prefix}:cleaning", "lost")
    queue.add_item(leaseq.Item(b"y", id="live"))
    assert old.lease(db, 30, block=False) is not None
    db.lpush(f"{prefix}:cleaning", "live")

    report = queue.light_clean()
    assert report.requeued == 1
    assert db.llen(f"{prefix}:cleaning") == 0
    assert_counts(queue, old, db, 1, 1)
    leased = queue.lease(30, block=False)
    assert leased == leaseq.Item(b"crashed mid-clean", id="lost")


def test_counts_agree_through_a_mixed_run(
    queue: leaseq.WorkQueue, old: OldWorkQueue, db: redis.Redis
) -> None:
    for n in range(10):
        if n % 2:
            old.add_item(db, OldItem(f"old {n}", id=f"i{n}"))
        else:
            queue.add_item(leaseq.Item(f"new {n}", id=f"i{n}"))
    assert_counts(queue, old, db, 10, 0)
    ours = [queue.lease(30, block=False) for _ in range(3)]
    theirs = [old.lease(db, 30, block=False) for _ in range(3)]
    assert_counts(queue, old, db, 4, 6)
    assert all(queue.complete(item) for item in ours if item)
    assert all(old.complete(db, item) for item in theirs if item)
    assert_counts(queue, old, db, 4, 0)
    assert queue.light_clean().requeued == 0
    assert_counts(queue, old, db, 4, 0)
