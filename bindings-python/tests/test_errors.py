"""Error mapping: every core error kind has its class, and every error a caller can cause is
raised as the right class with a clear message."""

from __future__ import annotations

import asyncio
import builtins
import math
from typing import Any

import pytest
import redis

import leaseq
import leaseq.exceptions
from leaseq import _native

# The table every binding mirrors: core kind name -> (Python class, builtin it also is).
EXPECTED: dict[str, tuple[type[leaseq.Error], type[BaseException] | None]] = {
    "ECONNECTION": (leaseq.ConnectionError, builtins.ConnectionError),
    "ETIMEOUT": (leaseq.TimeoutError, builtins.TimeoutError),
    "EINVAL": (leaseq.InvalidArgumentError, ValueError),
    "ELEASE_LOST": (leaseq.LeaseLostError, None),
    "EINTERNAL": (leaseq.Error, None),
}

BAD_LEASES = [0, 0.0, -1, -0.001, math.nan, math.inf, -math.inf, 1e30, 366 * 24 * 3600]
BAD_TIMEOUTS = [-1, -0.5, math.nan, math.inf, -math.inf, 1e30]


def test_every_core_error_kind_has_its_class() -> None:
    assert _native.ERROR_KINDS, "the native module lists the core's kinds"
    assert set(_native.ERROR_KINDS.values()) == set(EXPECTED)
    for code, name in _native.ERROR_KINDS.items():
        cls = _native.exception_class(code)
        expected, builtin = EXPECTED[name]
        assert cls is expected
        assert issubclass(cls, leaseq.Error)
        assert (cls.code, cls.kind) == (code, name)
        if builtin is not None:
            assert issubclass(cls, builtin)
        assert cls.__name__ in leaseq.__all__


def test_every_exception_class_is_used() -> None:
    used = {_native.exception_class(code) for code in _native.ERROR_KINDS}
    defined = {getattr(leaseq.exceptions, name) for name in leaseq.exceptions.__all__}
    assert used == defined


def test_unknown_error_code() -> None:
    with pytest.raises(leaseq.InvalidArgumentError, match="no leaseq error kind has code 99"):
        _native.exception_class(99)


def test_builtin_except_clauses_catch_ours() -> None:
    with pytest.raises(ValueError):
        raise leaseq.InvalidArgumentError("x")
    with pytest.raises(builtins.ConnectionError):
        raise leaseq.ConnectionError("x")
    with pytest.raises(builtins.TimeoutError):
        raise leaseq.TimeoutError("x")
    assert str(leaseq.ConnectionError("one message")) == "one message"


def test_empty_queue_name(conn: leaseq.Connection) -> None:
    with pytest.raises(leaseq.InvalidArgumentError, match="must not be empty"):
        leaseq.WorkQueue(conn, "")


@pytest.mark.parametrize("lease_secs", BAD_LEASES)
def test_bad_lease_durations(queue: leaseq.WorkQueue, lease_secs: float) -> None:
    queue.add_item(leaseq.Item(b"x", id="x"))
    for block in (True, False):
        with pytest.raises(leaseq.InvalidArgumentError, match="lease duration"):
            queue.lease(lease_secs, block=block)
    with pytest.raises(leaseq.InvalidArgumentError, match="lease duration"):
        queue.renew(leaseq.Item(b"x", id="x"), lease_secs)
    assert (queue.queue_len(), queue.processing()) == (1, 0), "nothing was leased"


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS)
def test_bad_timeouts(queue: leaseq.WorkQueue, timeout: float) -> None:
    with pytest.raises(leaseq.InvalidArgumentError, match="timeout"):
        queue.lease(30, timeout=timeout)


def test_smallest_and_largest_valid_leases(queue: leaseq.WorkQueue) -> None:
    # One item at a time: a 1 ms lease runs out at once, and the next lease may reclaim its item.
    queue.add_item(leaseq.Item(b"a"))
    shortest = queue.lease(0.0001)  # rounded up to 1 ms, never a zero lease
    assert shortest is not None and queue.complete(shortest)
    queue.add_item(leaseq.Item(b"b"))
    longest = queue.lease(365 * 24 * 3600)
    assert longest is not None and queue.complete(longest)
    assert queue.lease(30, timeout=0) is None


@pytest.mark.parametrize(
    "call",
    [
        lambda q: q.lease("10"),
        lambda q: q.lease(None),
        lambda q: q.lease(10, timeout="1"),
        lambda q: q.add_item("not an item"),
        lambda q: q.add_item(b"bytes"),
        lambda q: q.add_unique_item(None),
        lambda q: q.add_items([leaseq.Item(b"ok"), 1]),
        lambda q: q.add_items(5),
        lambda q: q.complete("id"),
        lambda q: q.renew("id", 10),
        lambda q: q.renew(leaseq.Item(b"x"), "10"),
    ],
)
def test_wrong_argument_types(queue: leaseq.WorkQueue, call: Any) -> None:
    with pytest.raises(TypeError):
        call(queue)
    assert queue.queue_len() == 0


def test_wrong_types_for_constructors(redis_url: str) -> None:
    with pytest.raises(TypeError, match="item data must be bytes or str, not int"):
        leaseq.Item(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="item data must be bytes or str, not list"):
        leaseq.Item([1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        leaseq.Item(b"x", id=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        leaseq.Connection(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        leaseq.WorkQueue("redis://x", "jobs")  # type: ignore[arg-type]
    with leaseq.Connection(redis_url) as blocking_conn, pytest.raises(TypeError):
        leaseq.aio.WorkQueue(blocking_conn, "jobs")  # type: ignore[arg-type]


def test_empty_item_id(queue: leaseq.WorkQueue) -> None:
    empty = leaseq.Item(b"x", id="")
    for call in (queue.add_item, queue.add_unique_item, queue.complete):
        with pytest.raises(leaseq.InvalidArgumentError, match="item id must not be empty"):
            call(empty)
    with pytest.raises(leaseq.InvalidArgumentError, match="item id must not be empty"):
        queue.renew(empty, 10)
    with pytest.raises(leaseq.InvalidArgumentError, match="item id must not be empty"):
        queue.add_items([leaseq.Item(b"fine"), empty])
    assert queue.queue_len() == 0, "a batch with a bad item adds nothing"


def test_bad_json() -> None:
    with pytest.raises(leaseq.InvalidArgumentError, match="json") as raised:
        leaseq.Item.from_json({1, 2})
    assert isinstance(raised.value.__cause__, TypeError)
    with pytest.raises(leaseq.InvalidArgumentError, match="json"):
        leaseq.Item.from_json(math.nan)
    with pytest.raises(leaseq.InvalidArgumentError, match="json"):
        leaseq.Item(b"{not json").json()
    with pytest.raises(leaseq.InvalidArgumentError, match="json"):
        leaseq.Item(b"\xff\xfe").json()


def test_unreachable_server(unreachable_url: str) -> None:
    with pytest.raises(leaseq.ConnectionError) as raised:
        leaseq.Connection(unreachable_url)
    assert isinstance(raised.value, builtins.ConnectionError)
    assert "refused" in str(raised.value).lower()


def test_unreachable_server_async(unreachable_url: str) -> None:
    async def main() -> None:
        with pytest.raises(ConnectionError):
            await leaseq.aio.Connection.open(unreachable_url)

    asyncio.run(main())


def test_invalid_url() -> None:
    with pytest.raises(leaseq.InvalidArgumentError, match="invalid Redis URL"):
        leaseq.Connection("http://example.com")


def test_redis_error_reply_is_internal(
    queue: leaseq.WorkQueue, prefix: str, db: redis.Redis
) -> None:
    db.set(f"{prefix}:queue", "not a list")
    with pytest.raises(leaseq.Error, match="WRONGTYPE") as raised:
        queue.queue_len()
    assert type(raised.value) is leaseq.Error


def test_panic_becomes_an_exception() -> None:
    with pytest.raises(leaseq.Error, match=r"panicked.*a test panic") as raised:
        _native._panic_for_tests(False)
    assert type(raised.value) is leaseq.Error

    async def main() -> None:
        future = _native._panic_for_tests(True)
        assert future is not None
        with pytest.raises(leaseq.Error, match=r"panicked.*a test panic"):
            await future

    asyncio.run(main())
    # The interpreter, the runtime and the completer thread all carry on.
    assert _native.exception_class(1) is leaseq.ConnectionError


def test_async_errors_come_through_the_awaitable(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        async with await leaseq.aio.Connection.open(redis_url) as conn:
            queue = leaseq.aio.WorkQueue(conn, prefix)
            for lease_secs in BAD_LEASES:
                pending = queue.lease(lease_secs)  # raises when awaited, as a coroutine does
                with pytest.raises(leaseq.InvalidArgumentError):
                    await pending
                with pytest.raises(leaseq.InvalidArgumentError):
                    await queue.renew(leaseq.Item(b"x"), lease_secs)
            for timeout in BAD_TIMEOUTS:
                with pytest.raises(leaseq.InvalidArgumentError):
                    await queue.lease(10, timeout=timeout)
            with pytest.raises(leaseq.InvalidArgumentError):
                await queue.add_item(leaseq.Item(b"x", id=""))
            with pytest.raises(TypeError):
                await queue.add_item("x")  # type: ignore[arg-type]
            with pytest.raises(leaseq.InvalidArgumentError):
                leaseq.aio.WorkQueue(conn, "")
        with pytest.raises(leaseq.ConnectionError, match="closed"):
            await queue.queue_len()

    asyncio.run(main())


def test_a_finished_operation_cannot_be_awaited_again(redis_url: str, prefix: str) -> None:
    async def main() -> None:
        async with await leaseq.aio.Connection.open(redis_url) as conn:
            operation = leaseq.aio.WorkQueue(conn, prefix).queue_len()
            assert await operation == 0
            with pytest.raises(RuntimeError, match="already awaited"):
                await operation

    asyncio.run(main())


def test_lone_surrogate_is_invalid_argument(queue: leaseq.WorkQueue) -> None:
    for make in (
        lambda: leaseq.Item(b"x", id="a\ud800"),
        lambda: leaseq.Item("data \udfff"),
        lambda: queue.requeue_dead(["ok", "\ud800"]),
    ):
        with pytest.raises(leaseq.InvalidArgumentError, match="lone surrogate"):
            make()
