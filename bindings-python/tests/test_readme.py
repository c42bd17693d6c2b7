"""The README's examples run as written (against the test Redis, under a fresh prefix)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import leaseq

README = Path(__file__).parents[1] / "README.md"
EXAMPLE_URL = "redis://127.0.0.1:6379"


def python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    return [textwrap.dedent(block) for block in blocks]


def block_with(text: str) -> str:
    [block] = [block for block in python_blocks() if text in block]
    return block


def adapt(code: str, redis_url: str, prefix: str) -> str:
    assert '"jobs"' in code
    return code.replace(EXAMPLE_URL, redis_url).replace('"jobs"', repr(prefix))


@pytest.fixture
def sigterm_when(prefix: str) -> Iterator[Callable[[Callable[[], bool]], None]]:
    """Sends this process a SIGTERM once ``ready()`` is true (the example's worker runs until
    one); a handler of the test's own catches it should it come when no worker is running."""
    received: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    timers: list[threading.Thread] = []

    def arm(ready: Callable[[], bool]) -> None:
        def wait_then_signal() -> None:
            deadline = time.monotonic() + 10
            while not ready() and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.1)
            os.kill(os.getpid(), signal.SIGTERM)

        timer = threading.Thread(target=wait_then_signal, daemon=True)
        timers.append(timer)
        timer.start()

    yield arm
    for timer in timers:
        timer.join()
    signal.signal(signal.SIGTERM, previous)
    assert not received, "the example's worker was not running to take the SIGTERM"


def test_quick_start(
    redis_url: str, prefix: str, sigterm_when: Callable[[Callable[[], bool]], None]
) -> None:
    quick_start = python_blocks()[0]
    assert "leaseq.Worker(" in quick_start
    assert len(quick_start.strip().splitlines()) <= 10
    with leaseq.Connection(redis_url) as conn:
        queue = leaseq.WorkQueue(conn, prefix)
        added = threading.Event()
        sigterm_when(lambda: added.is_set() and (queue.queue_len(), queue.processing()) == (0, 0))
        original_add = 'queue.add_item(leaseq.Item(b"resize photo 17"))'
        code = adapt(quick_start, redis_url, prefix).replace(
            original_add, f"{original_add}; added.set()"
        )
        exec(code, {"added": added})  # returns on the SIGTERM
        assert (queue.queue_len(), queue.processing()) == (0, 0), "the item was completed"


def test_asyncio_worker_example(
    redis_url: str, prefix: str, sigterm_when: Callable[[Callable[[], bool]], None]
) -> None:
    example = block_with("run_async(")
    handled: list[bytes] = []
    code = adapt(example, redis_url, prefix).replace(
        "await asyncio.sleep(0.1)", "await asyncio.sleep(0.1); handled.append(item.data)"
    )
    with leaseq.Connection(redis_url) as conn:
        leaseq.WorkQueue(conn, prefix).add_item(leaseq.Item(b"x"))
    sigterm_when(lambda: bool(handled))
    exec(code, {"handled": handled, "__name__": "example"})  # returns on the SIGTERM
    assert handled == [b"x"]


def test_routing_example(
    redis_url: str,
    prefix: str,
    sigterm_when: Callable[[Callable[[], bool]], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = adapt(block_with('"resize": resize'), redis_url, prefix)
    with leaseq.Connection(redis_url) as conn:
        queue = leaseq.WorkQueue(conn, prefix)
        added = threading.Event()
        sigterm_when(lambda: added.is_set() and (queue.queue_len(), queue.processing()) == (0, 0))
        code = example.replace("    worker.run(", "    added.set(); worker.run(")
        assert code != example
        exec(code, {"added": added})  # returns on the SIGTERM
        assert (queue.queue_len(), queue.processing(), queue.dead_len()) == (0, 0, 0)
    printed = sorted(capsys.readouterr().out.splitlines())
    assert printed == ["emailing ann@example.com", "resizing 17"]


@pytest.mark.parametrize(
    "section",
    ["queue.fail(", 'add_item_with(leaseq.Item(b"send', "priority=9", "unique_window", "pause()"],
)
def test_lifecycle_examples(redis_url: str, section: str) -> None:
    prefix = f"leaseq-py-test:{uuid.uuid4().hex}"
    namespace: dict[str, Any] = {"leaseq": leaseq}
    with leaseq.Connection(redis_url) as conn:
        namespace["conn"] = conn
        exec(adapt(block_with(section), redis_url, prefix), namespace)
        queue = namespace["queue"]
        assert isinstance(queue, leaseq.WorkQueue)
        if section == "queue.fail(":
            assert (queue.dead_len(), queue.queue_len()) == (0, 1), "requeued"
        if section == "pause()":
            assert not queue.is_paused()


def test_asyncio_example(redis_url: str, prefix: str) -> None:
    example = adapt(block_with("await queue.lease("), redis_url, prefix)
    namespace: dict[str, object] = {"leaseq": leaseq}
    exec("async def example():\n" + textwrap.indent(example, "    "), namespace)
    with leaseq.Connection(redis_url) as conn:
        leaseq.WorkQueue(conn, prefix).add_item(leaseq.Item(b"x"))
    asyncio.run(namespace["example"]())  # type: ignore[operator]


def test_metrics_example(queue: leaseq.WorkQueue) -> None:
    from prometheus_client import REGISTRY

    example = block_with("WorkerCollector(").replace("start_http_server(9100)", "")
    namespace: dict[str, Any] = {
        "leaseq": leaseq,
        "worker": leaseq.Worker(queue, lambda item: None),
        "other_worker": leaseq.Worker(queue, lambda item: None),
    }
    exec(example, namespace)
    try:
        for name in ("jobs", "resize"):
            sample = REGISTRY.get_sample_value("leaseq_worker_leased_total", {"queue": name})
            assert sample == 0
    finally:
        REGISTRY.unregister(namespace["collector"])
