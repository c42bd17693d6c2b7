"""Connection timeouts: an answer later than ``response_timeout`` raises TimeoutError and the
connection works on; bad timeouts are refused; the defaults shown are the core's."""

from __future__ import annotations

import asyncio
import builtins
import inspect
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

import leaseq

# Keeps Redis busy for ARGV[1] ms, looping on TIME (no DEBUG command needed).
BUSY_SCRIPT = (
    "local s=redis.call('TIME'); local t0=s[1]*1000000+s[2]; "
    "repeat local n=redis.call('TIME') until n[1]*1000000+n[2]-t0 >= tonumber(ARGV[1])*1000; "
    "return 1"
)
BUSY_SECS = 0.8
RESPONSE_TIMEOUT = 0.2
# The timeout, with room for a slow machine, but well before Redis answers.
LATEST_TIMEOUT_SECS = 0.6
BAD_TIMEOUTS = [0, 0.0, -1, -0.001, math.nan, math.inf, -math.inf, 1e30]


@pytest.fixture
def busy_redis(redis_url: str) -> Iterator[Callable[[], None]]:
    """Starts a script that keeps Redis busy for BUSY_SECS from a raw redis-py client on a
    thread; returns once the script runs. Waits for it to end after the test."""
    threads: list[threading.Thread] = []
    clients: list[redis.Redis] = []

    def start() -> None:
        client = redis.Redis.from_url(redis_url)
        client.ping()  # connected before the script starts, so it starts at once
        clients.append(client)
        thread = threading.Thread(
            target=client.eval, args=(BUSY_SCRIPT, 0, int(BUSY_SECS * 1000)), daemon=True
        )
        threads.append(thread)
        thread.start()
        time.sleep(0.1)  # the script is running

    yield start
    for thread in threads:
        thread.join(timeout=10)
    for client in clients:
        client.close()


def test_a_late_answer_raises_timeout_error(
    redis_url: str, prefix: str, busy_redis: Callable[[], None]
) -> None:
    with leaseq.Connection(redis_url, response_timeout=RESPONSE_TIMEOUT) as conn:
        queue = leaseq.WorkQueue(conn, prefix)
        queue.add_item(leaseq.Item(b"x", id="x"))
        assert queue.queue_len() == 1
        busy_redis()
        started = time.monotonic()
        with pytest.raises(leaseq.TimeoutError) as raised:
            queue.queue_len()
        elapsed = time.monotonic() - started
        assert isinstance(raised.value, builtins.TimeoutError)
        assert RESPONSE_TIMEOUT * 0.9 <= elapsed < LATEST_TIMEOUT_SECS, elapsed
        # Once Redis answers again, the same connection works, and the late answer does not
        # stand in for the next ones.
        time.sleep(BUSY_SECS)
        assert queue.is_paused() is False
        assert queue.queue_len() == 1
        assert queue.processing() == 0


def test_a_late_answer_raises_timeout_error_async(
    redis_url: str, prefix: str, busy_redis: Callable[[], None]
) -> None:
    async def main() -> None:
        conn = await leaseq.aio.Connection.open(redis_url, response_timeout=RESPONSE_TIMEOUT)
        async with conn:
            queue = leaseq.aio.WorkQueue(conn, prefix)
            await queue.add_item(leaseq.Item(b"x", id="x"))
            assert await queue.queue_len() == 1
            busy_redis()
            started = time.monotonic()
            with pytest.raises(leaseq.TimeoutError) as raised:
                await queue.queue_len()
            elapsed = time.monotonic() - started
            assert isinstance(raised.value, builtins.TimeoutError)
            assert RESPONSE_TIMEOUT * 0.9 <= elapsed < LATEST_TIMEOUT_SECS, elapsed
            await asyncio.sleep(BUSY_SECS)
            assert await queue.is_paused() is False
            assert await queue.queue_len() == 1
            assert await queue.processing() == 0

    asyncio.run(main())


def test_no_response_timeout_waits_for_the_answer(
    redis_url: str, prefix: str, busy_redis: Callable[[], None]
) -> None:
    """The control for the tests above: without a response timeout, the same call waits."""
    with leaseq.Connection(redis_url, connect_timeout=1.5, response_timeout=None) as conn:
        queue = leaseq.WorkQueue(conn, prefix)
        assert queue.queue_len() == 0
        busy_redis()
        started = time.monotonic()
        assert queue.queue_len() == 0
        assert time.monotonic() - started >= LATEST_TIMEOUT_SECS - 0.2

    async def main() -> None:
        async with await leaseq.aio.Connection.open(redis_url, response_timeout=None) as conn:
            queue = leaseq.aio.WorkQueue(conn, prefix)
            assert await queue.queue_len() == 0
            busy_redis()
            started = time.monotonic()
            assert await queue.queue_len() == 0
            assert time.monotonic() - started >= LATEST_TIMEOUT_SECS - 0.2

    asyncio.run(main())


@pytest.mark.parametrize("name", ["connect_timeout", "response_timeout"])
@pytest.mark.parametrize("value", BAD_TIMEOUTS)
def test_bad_timeouts_are_refused(redis_url: str, name: str, value: float) -> None:
    with pytest.raises(leaseq.InvalidArgumentError, match=name.replace("_", "[ _]")):
        leaseq.Connection(redis_url, **{name: value})

    async def main() -> None:
        opening = leaseq.aio.Connection.open(redis_url, **{name: value})
        with pytest.raises(leaseq.InvalidArgumentError, match=name.replace("_", "[ _]")):
            await opening

    asyncio.run(main())


def test_wrong_timeout_types(redis_url: str) -> None:
    with pytest.raises(TypeError):
        leaseq.Connection(redis_url, connect_timeout=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        leaseq.Connection(redis_url, response_timeout="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        leaseq.Connection(redis_url, 5.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _ = leaseq.aio.Connection.open(redis_url, connect_timeout="1")  # type: ignore[arg-type]


def core_default_secs(field: str) -> float | None:
    """A default of ``ConnectionOptions`` in core/src/connection.rs, in seconds; None when the
    core's sources are not there (an installed package tested outside the repository)."""
    source = Path(__file__).parents[2] / "core" / "src" / "connection.rs"
    if not source.is_file():
        return None
    body = source.read_text().split("impl Default for ConnectionOptions")[1].split("\n}\n")[0]
    match = re.search(rf"{field}: (?:Some\()?Duration::from_(secs|millis)\((\d+)\)", body)
    assert match, f"no {field} default in {source}: update this test"
    unit, amount = match.groups()
    return int(amount) / (1000 if unit == "millis" else 1)


def test_the_signatures_show_the_core_defaults() -> None:
    """The defaults come from the core; the signatures (and the stub) repeat them as numbers."""
    for opener in (leaseq.Connection, leaseq.aio.Connection.open):
        parameters = inspect.signature(opener).parameters
        assert list(parameters) == ["url", "connect_timeout", "response_timeout"]
        for name in ("connect_timeout", "response_timeout"):
            assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
            core = core_default_secs(name)
            if core is not None:
                assert parameters[name].default == core, (opener, name)


def test_explicit_timeouts_work(redis_url: str, prefix: str) -> None:
    with leaseq.Connection(redis_url, connect_timeout=0.5, response_timeout=2) as conn:
        assert leaseq.WorkQueue(conn, prefix).queue_len() == 0
    # Long ones too (a deadline far in the future must not overflow).
    with leaseq.Connection(redis_url, connect_timeout=1e6, response_timeout=1e6) as conn:
        assert leaseq.WorkQueue(conn, prefix).queue_len() == 0
