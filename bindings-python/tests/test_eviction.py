"""The eviction check at connect: a Redis whose ``maxmemory-policy`` is not ``noeviction`` may
evict queue keys, so opening a connection emits one ``RuntimeWarning`` (the core's
``Connection::warnings``), or refuses with ``?eviction=refuse``. The evicting server is one of
this module's own, so no other test sees its policy."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator

import pytest
import redis

import leaseq

FIX = "CONFIG SET maxmemory-policy noeviction"


@pytest.fixture(scope="module")
def evicting_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of this module's own with ``maxmemory-policy allkeys-lru``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("evicting-redis")
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--maxmemory-policy",
            "allkeys-lru",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.025)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_an_evicting_server_warns_once_at_the_callers_line(evicting_url: str) -> None:
    with pytest.warns(RuntimeWarning, match="maxmemory-policy allkeys-lru") as record:
        conn = leaseq.Connection(evicting_url)
    conn.close()
    assert len(record) == 1, [str(warning.message) for warning in record]
    message = str(record[0].message)
    assert "lose items" in message and FIX in message and "eviction=ignore" in message
    # stacklevel 1 from native code: the warning points at the line that opened the connection
    assert record[0].filename == __file__


def test_an_evicting_server_warns_on_connect_async(evicting_url: str) -> None:
    async def open_and_close() -> None:
        conn = await leaseq.aio.Connection.open(evicting_url)
        conn.close()

    with pytest.warns(RuntimeWarning, match="maxmemory-policy allkeys-lru") as record:
        asyncio.run(open_and_close())
    assert len(record) == 1


def test_a_noeviction_server_gives_no_warning(redis_url: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with leaseq.Connection(redis_url), leaseq.Connection(redis_url + "?eviction=refuse"):
            pass


def test_eviction_refuse_raises_connection_error(evicting_url: str) -> None:
    with pytest.raises(leaseq.ConnectionError, match="maxmemory-policy allkeys-lru") as raised:
        leaseq.Connection(evicting_url + "?eviction=refuse")
    assert FIX in str(raised.value)


def test_eviction_ignore_skips_the_check(evicting_url: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with leaseq.Connection(evicting_url + "?eviction=ignore"):
            pass


def test_a_warning_made_an_error_refuses_the_server(evicting_url: str) -> None:
    # What -W error::RuntimeWarning does.
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match="allkeys-lru"):
            leaseq.Connection(evicting_url)


def test_a_bad_eviction_parameter_is_invalid_argument(redis_url: str) -> None:
    with pytest.raises(leaseq.InvalidArgumentError, match="warn, refuse or ignore"):
        leaseq.Connection(redis_url + "?eviction=sometimes")
