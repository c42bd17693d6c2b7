"""Fixtures: a real Redis (``LEASEQ_REDIS_URL``, started by test.sh) and a fresh key prefix
per test."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
import redis

import leaseq


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("LEASEQ_REDIS_URL")
    if not url:
        pytest.exit("LEASEQ_REDIS_URL is not set: run bindings-python/test.sh", returncode=2)
    return url


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses."""
    return f"leaseq-py-test:{uuid.uuid4().hex}"


@pytest.fixture
def conn(redis_url: str) -> Iterator[leaseq.Connection]:
    with leaseq.Connection(redis_url) as connection:
        yield connection


@pytest.fixture
def queue(conn: leaseq.Connection, prefix: str) -> leaseq.WorkQueue:
    return leaseq.WorkQueue(conn, prefix)


@pytest.fixture
def db(redis_url: str) -> Iterator[redis.Redis]:
    """A redis-py client on the same server, to look at and set up keys directly."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def unreachable_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}"
