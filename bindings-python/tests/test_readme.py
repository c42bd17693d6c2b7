"""The README's examples run as written (against the test Redis, under a fresh prefix)."""

from __future__ import annotations

import asyncio
import re
import textwrap
from pathlib import Path

import leaseq

README = Path(__file__).parents[1] / "README.md"
EXAMPLE_URL = "redis://127.0.0.1:6379"


def python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    return [textwrap.dedent(block) for block in blocks]


def adapt(code: str, redis_url: str, prefix: str) -> str:
    assert EXAMPLE_URL in code and '"jobs"' in code
    return code.replace(EXAMPLE_URL, redis_url).replace('"jobs"', repr(prefix))


def test_quick_start(redis_url: str, prefix: str) -> None:
    quick_start = python_blocks()[0]
    assert len(quick_start.strip().splitlines()) <= 15
    exec(adapt(quick_start, redis_url, prefix), {})
    with leaseq.Connection(redis_url) as conn:
        queue = leaseq.WorkQueue(conn, prefix)
        assert (queue.queue_len(), queue.processing()) == (0, 0), "the item was completed"


def test_asyncio_example(redis_url: str, prefix: str) -> None:
    example = adapt(python_blocks()[1], redis_url, prefix)
    namespace: dict[str, object] = {"leaseq": leaseq}
    exec("async def example():\n" + textwrap.indent(example, "    "), namespace)
    with leaseq.Connection(redis_url) as conn:
        leaseq.WorkQueue(conn, prefix).add_item(leaseq.Item(b"x"))
    asyncio.run(namespace["example"]())  # type: ignore[operator]
