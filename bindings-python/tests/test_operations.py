"""Every operation of the blocking API, and the conversions the binding adds (bytes, str, ids)."""

from __future__ import annotations

import pickle
import time

import pytest
import redis

import leaseq


def test_add_item_then_lease_then_complete(queue: leaseq.WorkQueue) -> None:
    item = leaseq.Item(b"resize photo 17")
    assert queue.add_item(item) is True
    assert (queue.queue_len(), queue.processing()) == (1, 0)

    leased = queue.lease(30)
    assert leased == item
    assert (leased.id, leased.data) == (item.id, b"resize photo 17")
    assert (queue.queue_len(), queue.processing()) == (0, 1)

    assert queue.complete(leased) is True
    assert queue.complete(leased) is False
    assert (queue.queue_len(), queue.processing()) == (0, 0)


def test_lease_many_then_complete_many(queue: leaseq.WorkQueue) -> None:
    items = [leaseq.Item(f"job {n}", id=f"id-{n}") for n in range(3)]
    for item in items:
        queue.add_item(item)
    leased = queue.lease_many(30, 5)
    assert leased == items, "in the order lease hands them out"
    assert [item.attempts for item in leased] == [1, 1, 1]
    assert (queue.queue_len(), queue.processing()) == (0, 3)
    assert queue.lease_many(30, 5, block=False) == []
    assert queue.lease_many(30, 5, timeout=0.05) == []

    assert queue.complete_many(leased[:2]) == [True, True]
    assert queue.complete_many(leased[:2]) == [False, False]
    assert queue.complete_many(iter(leased[2:])) == [True]
    assert (queue.queue_len(), queue.processing()) == (0, 0)


def test_complete_and_lease(queue: leaseq.WorkQueue) -> None:
    queue.add_items([leaseq.Item(f"job {n}", id=f"id-{n}") for n in range(4)])
    first = queue.lease(30)
    assert first is not None and first.id == "id-0"
    completed, leased = queue.complete_and_lease(first, 30, 2)
    assert completed is True
    assert [item.id for item in leased] == ["id-1", "id-2"]
    assert queue.complete_and_lease(first, 30, 5) == (False, [leaseq.Item(b"job 3", id="id-3")])
    assert queue.complete_and_lease(leased[0], 30, 1) == (True, [])


def test_batch_sizes_are_checked_by_the_core(queue: leaseq.WorkQueue) -> None:
    for count in (0, 1001, -1):
        with pytest.raises(leaseq.InvalidArgumentError, match=r"a batch is 1 to 1000 items"):
            queue.lease_many(30, count)
    with pytest.raises(leaseq.InvalidArgumentError, match=r"a batch is 1 to 1000 items, not 0"):
        queue.complete_many([])


def test_add_item_refuses_an_existing_id(queue: leaseq.WorkQueue) -> None:
    assert queue.add_item(leaseq.Item(b"first", id="job-1")) is True
    assert queue.add_item(leaseq.Item(b"second", id="job-1")) is False
    assert queue.queue_len() == 1
    leased = queue.lease(30)
    assert leased is not None and leased.data == b"first"


def test_add_unique_item_skips_the_check(queue: leaseq.WorkQueue) -> None:
    returned = queue.add_unique_item(leaseq.Item(b"v1", id="same"))  # type: ignore[func-returns-value]
    assert returned is None
    assert queue.queue_len() == 1
    # The caller broke the promise: the data is replaced and the id queued twice.
    queue.add_unique_item(leaseq.Item(b"v2", id="same"))
    assert queue.queue_len() == 2
    leased = queue.lease(30)
    assert leased is not None and leased.data == b"v2"


def test_add_items_adds_a_batch(queue: leaseq.WorkQueue) -> None:
    queue.add_item(leaseq.Item(b"old", id="exists"))
    batch = [leaseq.Item(f"job {n}", id=f"id-{n}") for n in range(5)]
    batch += [leaseq.Item(b"dup", id="id-0"), leaseq.Item(b"new data", id="exists")]
    assert queue.add_items(batch) == 5
    assert queue.queue_len() == 6
    assert queue.add_items([]) == 0
    # Any iterable of items works.
    assert queue.add_items(leaseq.Item(str(n)) for n in range(3)) == 3
    assert queue.add_items((leaseq.Item(b"t"),)) == 1


def test_lease_takes_items_oldest_first(queue: leaseq.WorkQueue) -> None:
    items = [leaseq.Item(f"{n}") for n in range(5)]
    for item in items:
        queue.add_item(item)
    leased = [queue.lease(30, block=False) for _ in items]
    assert leased == items
    assert queue.lease(30, block=False) is None


def test_lease_without_block_returns_at_once(queue: leaseq.WorkQueue) -> None:
    started = time.monotonic()
    assert queue.lease(30, block=False) is None
    assert queue.lease(30, False, 5.0) is None
    assert time.monotonic() - started < 0.5


def test_renew_only_while_this_session_holds_the_lease(
    conn: leaseq.Connection, queue: leaseq.WorkQueue, prefix: str, db: redis.Redis
) -> None:
    queue.add_item(leaseq.Item(b"x"))
    leased = queue.lease(1)
    assert leased is not None
    assert queue.renew(leaseq.Item(b"", id=leased.id), 60) is True
    ttl = db.pttl(f"{prefix}:lease:{leased.id}")
    assert 50_000 < ttl <= 60_000
    other = leaseq.WorkQueue(conn, prefix)
    assert other.session != queue.session
    assert other.renew(leased, 60) is False
    assert queue.complete(leased) is True
    assert queue.renew(leased, 60) is False


def test_complete_returns_true_once_across_workers(
    conn: leaseq.Connection, queue: leaseq.WorkQueue, prefix: str
) -> None:
    queue.add_item(leaseq.Item(b"x"))
    first = queue.lease(0.05)
    assert first is not None
    time.sleep(0.15)
    assert queue.light_clean().requeued == 1
    second_worker = leaseq.WorkQueue(conn, prefix)
    second = second_worker.lease(30, block=False)
    assert second == first
    assert second_worker.complete(second) is True
    assert queue.complete(first) is False


def test_light_clean_requeues_expired_leases(queue: leaseq.WorkQueue) -> None:
    queue.add_item(leaseq.Item(b"short"))
    queue.add_item(leaseq.Item(b"long"))
    short = queue.lease(0.05)
    long = queue.lease(60)
    assert short is not None and long is not None
    time.sleep(0.15)
    report = queue.light_clean()
    assert (report.requeued, report.dropped) == (1, 0)
    assert (queue.queue_len(), queue.processing()) == (1, 1)
    assert queue.lease(30, block=False) == short


def test_light_clean_drops_ids_whose_item_is_gone(
    queue: leaseq.WorkQueue, prefix: str, db: redis.Redis
) -> None:
    queue.add_item(leaseq.Item(b"x", id="gone"))
    assert queue.lease(0.05) is not None
    db.delete(f"{prefix}:item:gone")
    time.sleep(0.15)
    report = queue.light_clean()
    assert (report.requeued, report.dropped) == (0, 1)
    assert (queue.queue_len(), queue.processing()) == (0, 0)


def test_deep_clean_requeues_orphans(queue: leaseq.WorkQueue, prefix: str, db: redis.Redis) -> None:
    queue.add_item(leaseq.Item(b"listed"))
    db.set(f"{prefix}:item:orphan", b"left by a crashed client")
    assert queue.light_clean().requeued == 0  # a light clean does not look for orphans
    report = queue.deep_clean()
    assert (report.requeued, report.dropped) == (1, 0)
    assert queue.queue_len() == 2
    ids = {queue.lease(30, block=False).id for _ in range(2)}  # type: ignore[union-attr]
    assert "orphan" in ids


def test_empty_clean_report(queue: leaseq.WorkQueue) -> None:
    report = queue.light_clean()
    assert (report.requeued, report.dropped) == (0, 0)
    assert report == queue.deep_clean()
    assert repr(report) == "CleanReport(requeued=0, dropped=0, dead=0)"


def test_item_data_accepts_bytes_str_and_bytearray() -> None:
    assert leaseq.Item(b"\x00\xff").data == b"\x00\xff"
    assert leaseq.Item("héllo ✓").data == "héllo ✓".encode()
    assert leaseq.Item(bytearray(b"abc")).data == b"abc"
    assert leaseq.Item(b"").data == b""


def test_item_ids() -> None:
    first, second = leaseq.Item(b"a"), leaseq.Item(b"a")
    assert first.id != second.id and len(first.id) == 36
    assert first != second
    assert leaseq.Item(b"a", id="x") == leaseq.Item("a", id="x")
    assert hash(leaseq.Item(b"a", id="x")) == hash(leaseq.Item(b"a", id="x"))
    assert leaseq.Item(b"a", id="x") != "x"


def test_item_repr_and_pickle() -> None:
    item = leaseq.Item(b"data", id="id-1")
    assert repr(item) == "Item(b'data', id=\"id-1\")"
    assert "(1000 bytes)" in repr(leaseq.Item(b"z" * 1000))
    assert pickle.loads(pickle.dumps(item)) == item


def test_item_json_round_trip() -> None:
    value = {"photo": 17, "sizes": [64, 128], "name": "ünï", "ok": True, "none": None}
    item = leaseq.Item.from_json(value)
    assert item.json() == value
    expected = '{"photo":17,"sizes":[64,128],"name":"ünï","ok":true,"none":null}'
    assert item.data == expected.encode()
    assert leaseq.Item(b"[1, 2]").json() == [1, 2]


def test_binary_and_large_data_round_trip(queue: leaseq.WorkQueue) -> None:
    every_byte = bytes(range(256))
    large = every_byte * 4096  # 1 MiB
    queue.add_items([leaseq.Item(every_byte, id="bytes"), leaseq.Item(large, id="large")])
    assert queue.lease(30).data == every_byte  # type: ignore[union-attr]
    assert queue.lease(30).data == large  # type: ignore[union-attr]


def test_unicode_ids(queue: leaseq.WorkQueue, db: redis.Redis, prefix: str) -> None:
    item = leaseq.Item(b"x", id="работа/1 ✓")
    assert queue.add_item(item)
    assert db.exists(f"{prefix}:item:работа/1 ✓")
    assert queue.lease(30) == item
    assert queue.complete(item)


def test_queue_properties(conn: leaseq.Connection, prefix: str) -> None:
    queue = leaseq.WorkQueue(conn, prefix)
    assert queue.name == prefix
    assert len(queue.session) == 32
    assert leaseq.WorkQueue(conn, prefix).session != queue.session
    assert repr(queue) == f'<leaseq.WorkQueue "{prefix}">'


def test_connection_context_manager_closes(redis_url: str, prefix: str) -> None:
    with leaseq.Connection(redis_url) as conn:
        assert not conn.closed
        queue = leaseq.WorkQueue(conn, prefix)
        assert queue.queue_len() == 0
    assert conn.closed
    assert repr(conn) == "<leaseq.Connection closed>"
    with pytest.raises(leaseq.ConnectionError, match="closed"):
        queue.queue_len()
    with pytest.raises(ConnectionError):
        queue.add_item(leaseq.Item(b"x"))


def test_close_is_idempotent(redis_url: str) -> None:
    conn = leaseq.Connection(redis_url)
    conn.close()
    conn.close()
    assert conn.closed


def test_exceptions_propagate_through_with(redis_url: str) -> None:
    with pytest.raises(KeyError), leaseq.Connection(redis_url) as conn:
        raise KeyError("from the body")
    assert conn.closed
