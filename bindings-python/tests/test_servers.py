"""Beyond one server, through the Python binding: a Cluster, a Sentinel master, TLS with an ACL
user whose keys are `{app}*` (scripts/with-servers.sh starts them; `make test-servers` runs this
file). Without LEASEQ_CLUSTER_URL the tests are skipped (bindings-python/test.sh runs against one
plain server)."""

from __future__ import annotations

import os
import time
import uuid

import pytest

import leaseq

needs_servers = pytest.mark.skipif(
    not os.environ.get("LEASEQ_CLUSTER_URL"), reason="run under scripts/with-servers.sh"
)


@needs_servers
def test_cluster_queue_round_trip_and_hash_tag_rule() -> None:
    connection = leaseq.Connection(os.environ["LEASEQ_CLUSTER_URL"])
    with pytest.raises(leaseq.InvalidArgumentError, match=r"\{jobs\}"):
        leaseq.WorkQueue(connection, "jobs")
    queue = leaseq.WorkQueue(connection, f"{{py-{uuid.uuid4().hex}}}")
    assert queue.add_item(leaseq.Item(b"x", id="a"))
    item = queue.lease(30, block=True, timeout=2)
    assert item is not None and item.id == "a"
    assert queue.complete(item)
    assert queue.queue_len() == 0


@needs_servers
def test_sentinel_queue_round_trip() -> None:
    connection = leaseq.Connection(os.environ["LEASEQ_SENTINEL_URL"])
    queue = leaseq.WorkQueue(connection, f"py-{uuid.uuid4().hex}")
    assert queue.add_item(leaseq.Item(b"x", id="a"))
    item = queue.lease(30, block=False)
    assert item is not None
    assert queue.complete(item)


@needs_servers
def test_a_user_without_permission_gets_a_connection_error_at_once() -> None:
    connection = leaseq.Connection(os.environ["LEASEQ_TLS_URL"])
    allowed = leaseq.WorkQueue(connection, f"{{app}}py-{uuid.uuid4().hex}")
    assert allowed.add_item(leaseq.Item(b"x"))
    refused = leaseq.WorkQueue(connection, "{other}")
    started = time.monotonic()
    with pytest.raises(leaseq.ConnectionError, match="NOPERM"):
        refused.add_item(leaseq.Item(b"x"))
    with pytest.raises(leaseq.ConnectionError, match="NOPERM"):
        refused.lease(30, block=True, timeout=30)
    assert time.monotonic() - started < 2
