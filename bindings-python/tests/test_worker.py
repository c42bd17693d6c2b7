"""leaseq.Worker: the core's worker runtime with Python handlers (functions on threads, async def
functions on an event loop, or a handler per item type), hooks, counters, graceful shutdown and
signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types
from collections.abc import Callable, Iterator
from queue import SimpleQueue
from typing import Any

import pytest
import redis

import leaseq
from leaseq import aio


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.01)


class Running:
    """A worker's blocking run() on a thread of its own."""

    def __init__(self, worker: leaseq.Worker) -> None:
        self.worker = worker
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.worker.run()
        except BaseException as err:
            self.errors.append(err)

    def stop(self, timeout: float = 10.0) -> float:
        """Stops the worker; returns how long run() took to return."""
        started = time.monotonic()
        self.worker.stop()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "run() did not return"
        assert not self.errors
        return time.monotonic() - started


@pytest.fixture
def release_handlers() -> Iterator[threading.Event]:
    """Set at the end of a test, so handlers that wait on it end (their threads too)."""
    event = threading.Event()
    yield event
    event.set()


class Peak:
    """Counts handlers running at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = self.done = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1
            self.done += 1


def test_concurrency_limit_is_respected(queue: leaseq.WorkQueue) -> None:
    peak = Peak()

    def handler(item: leaseq.Item) -> None:
        peak.enter()
        time.sleep(0.15)
        peak.leave()

    queue.add_items([leaseq.Item(str(n)) for n in range(12)])
    worker = leaseq.Worker(queue, handler, concurrency=4)
    running = Running(worker)
    wait_until(lambda: worker.counters.completed == 12)
    running.stop()
    assert peak.peak == 4, "up to the limit in parallel, never more"
    assert worker.counters.leased == 12
    assert (queue.queue_len(), queue.processing()) == (0, 0)


def test_async_concurrency_limit_is_respected(redis_url: str, prefix: str) -> None:
    peak = Peak()

    async def handler(item: leaseq.Item) -> None:
        peak.enter()
        await asyncio.sleep(0.15)
        peak.leave()

    async def main() -> None:
        async with await aio.Connection.open(redis_url) as conn:
            queue = aio.WorkQueue(conn, prefix)
            await queue.add_items([leaseq.Item(str(n)) for n in range(12)])
            worker = leaseq.Worker(queue, handler, concurrency=4)
            run = asyncio.ensure_future(worker.run_async())
            while worker.counters.completed < 12:
                await asyncio.sleep(0.01)
            worker.stop()
            await asyncio.wait_for(run, 5)
            assert await queue.processing() == 0

    asyncio.run(main())
    assert peak.peak == 4


def test_a_slow_job_is_renewed_and_never_delivered_twice(
    conn: leaseq.Connection, prefix: str
) -> None:
    deliveries: list[str] = []

    def slow(item: leaseq.Item) -> None:
        deliveries.append(item.id)
        time.sleep(1.2)

    leaseq.WorkQueue(conn, prefix).add_item(leaseq.Item(b"slow", id="slow"))
    workers = [
        leaseq.Worker(leaseq.WorkQueue(conn, prefix), slow, lease_secs=0.3, clean_every=0.1)
        for _ in range(2)
    ]
    runs = [Running(worker) for worker in workers]
    wait_until(lambda: sum(worker.counters.completed for worker in workers) == 1)
    time.sleep(0.3)  # room for a second delivery, if the lease had run out
    for run in runs:
        run.stop()
    assert deliveries == ["slow"]
    assert sum(worker.counters.renewed for worker in workers) >= 3, "1.2 s on a 0.3 s lease"


def test_a_handler_exception_fails_the_item(
    conn: leaseq.Connection, prefix: str, db: redis.Redis
) -> None:
    queue = leaseq.WorkQueue(conn, prefix, max_attempts=2, backoff_base=60, backoff_max=60)

    def handler(item: leaseq.Item) -> None:
        raise ValueError(f"cannot handle {item.data.decode()}")

    queue.add_item(leaseq.Item(b"this", id="a"))
    worker = leaseq.Worker(queue, handler)
    running = Running(worker)
    wait_until(lambda: worker.counters.failed == 1)
    running.stop()
    counters = worker.counters
    assert (counters.leased, counters.completed, counters.failed, counters.retried) == (1, 0, 1, 1)
    assert (queue.delayed_len(), queue.queue_len(), queue.processing()) == (1, 0, 0)
    assert db.hget(f"{prefix}:errors", "a") == b"ValueError: cannot handle this"


def test_an_async_handler_exception_on_the_last_attempt_buries_the_item(
    conn: leaseq.Connection, prefix: str
) -> None:
    queue = leaseq.WorkQueue(conn, prefix, max_attempts=1)

    class Broken(Exception):
        pass

    async def handler(item: leaseq.Item) -> None:
        await asyncio.sleep(0)
        raise Broken("no")

    queue.add_item(leaseq.Item(b"x", id="a"))
    worker = leaseq.Worker(queue, handler)
    running = Running(worker)
    wait_until(lambda: worker.counters.failed == 1)
    running.stop()
    [dead] = queue.dead_items()
    assert (dead.item.id, dead.error) == ("a", "Broken: no")
    assert worker.counters.retried == 0


def test_a_job_timeout_fails_the_item(
    conn: leaseq.Connection, prefix: str, release_handlers: threading.Event
) -> None:
    queue = leaseq.WorkQueue(conn, prefix, max_attempts=1)
    queue.add_item(leaseq.Item(b"x", id="a"))
    worker = leaseq.Worker(queue, lambda item: release_handlers.wait(10), job_timeout=0.2)
    running = Running(worker)
    wait_until(lambda: worker.counters.failed == 1, timeout=3)
    running.stop()
    [dead] = queue.dead_items()
    assert dead.error.startswith("timed out after"), dead.error
    assert queue.processing() == 0


def test_an_async_job_timeout_cancels_the_coroutine(conn: leaseq.Connection, prefix: str) -> None:
    queue = leaseq.WorkQueue(conn, prefix, backoff_base=60, backoff_max=60)
    cancelled = threading.Event()

    async def handler(item: leaseq.Item) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    queue.add_item(leaseq.Item(b"x", id="a"))
    worker = leaseq.Worker(queue, handler, job_timeout=0.2)
    running = Running(worker)
    wait_until(lambda: worker.counters.failed == 1, timeout=3)
    assert cancelled.wait(2), "the handler's task was cancelled"
    running.stop()
    assert (queue.delayed_len(), worker.counters.retried) == (1, 1)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_shutdown_releases_unfinished_items_at_once(
    queue: leaseq.WorkQueue, release_handlers: threading.Event, flavour: str
) -> None:
    outcomes: list[leaseq.JobOutcome] = []

    def handler(item: leaseq.Item) -> None:
        release_handlers.wait(10)

    async def async_handler(item: leaseq.Item) -> None:
        await asyncio.sleep(10)

    queue.add_items([leaseq.Item(str(n), id=str(n)) for n in range(3)])
    worker = leaseq.Worker(
        queue,
        handler if flavour == "sync" else async_handler,
        concurrency=2,
        shutdown_timeout=0.1,
        after=lambda item, outcome: outcomes.append(outcome),
    )
    running = Running(worker)
    wait_until(lambda: worker.counters.in_flight == 2)
    assert running.stop() < 1.0, "0.1 s to finish, then released at once"
    assert outcomes == ["released", "released"]
    assert (queue.queue_len(), queue.processing()) == (3, 0)
    item = queue.lease(30, block=False)
    assert item is not None and item.attempts == 1, "a release does not count the attempt"
    assert worker.counters.in_flight == 0


def test_handlers_finishing_within_the_shutdown_timeout_complete(queue: leaseq.WorkQueue) -> None:
    queue.add_item(leaseq.Item(b"x"))
    worker = leaseq.Worker(queue, lambda item: time.sleep(0.3), shutdown_timeout=5)
    running = Running(worker)
    wait_until(lambda: worker.counters.in_flight == 1)
    assert running.stop() < 2
    assert worker.counters.completed == 1
    assert (queue.queue_len(), queue.processing()) == (0, 0)


def test_sync_and_async_handlers_in_both_runs(redis_url: str, prefix: str) -> None:
    """run() and run_async(), each with a function and an async def handler, on either queue."""
    seen: list[tuple[str, str]] = []

    def handler(item: leaseq.Item) -> None:
        seen.append((item.id, threading.current_thread().name))

    async def async_handler(item: leaseq.Item) -> None:
        await asyncio.sleep(0)
        seen.append((item.id, threading.current_thread().name))

    class CallableObject:
        async def __call__(self, item: leaseq.Item) -> None:
            seen.append((item.id, "object"))

    with leaseq.Connection(redis_url) as conn:
        queue = leaseq.WorkQueue(conn, prefix)
        handlers: list[tuple[str, Callable[[leaseq.Item], object]]] = [
            ("f", handler),
            ("a", async_handler),
            ("o", CallableObject()),
        ]
        for name, handle in handlers:
            queue.add_item(leaseq.Item(b"", id=f"run-{name}"))
            worker = leaseq.Worker(queue, handle)
            running = Running(worker)
            wait_until(lambda w=worker: w.counters.completed == 1)  # type: ignore[misc]
            running.stop()

    async def main() -> None:
        async with await aio.Connection.open(redis_url) as conn:
            queue = aio.WorkQueue(conn, prefix)
            for name, handle in [("f", handler), ("a", async_handler)]:
                await queue.add_item(leaseq.Item(b"", id=f"run_async-{name}"))
                worker = leaseq.Worker(queue, handle)
                run = asyncio.ensure_future(worker.run_async())
                while worker.counters.completed < 1:
                    await asyncio.sleep(0.01)
                worker.stop()
                await run

    asyncio.run(main())
    threads = dict(seen)
    assert set(threads) == {"run-f", "run-a", "run-o", "run_async-f", "run_async-a"}
    assert threads["run-a"] == "leaseq-worker-loop", "run(): a private loop on its own thread"
    assert threads["run_async-a"] == "MainThread", "run_async(): the running loop"
    assert threads["run-f"] != "MainThread" and threads["run_async-f"] != "MainThread"


def test_a_function_returning_a_coroutine_fails_the_item(
    conn: leaseq.Connection, prefix: str
) -> None:
    queue = leaseq.WorkQueue(conn, prefix, max_attempts=1)

    async def work(item: leaseq.Item) -> None:
        pass

    queue.add_item(leaseq.Item(b"x"))
    worker = leaseq.Worker(queue, lambda item: work(item))
    running = Running(worker)
    wait_until(lambda: worker.counters.failed == 1)
    running.stop()
    [dead] = queue.dead_items()
    assert dead.error.startswith("TypeError: the handler returned an awaitable")


def test_item_type_name() -> None:
    assert leaseq.Item.from_json({"type": "email", "to": "a@example.com"}).type_name == "email"
    assert leaseq.Item(b'{"to": "a", "type": "resize"}').type_name == "resize"
    assert leaseq.Item('{"type": "\u00e9t\u00e9"}').type_name == "\u00e9t\u00e9"
    assert leaseq.Item.from_json({"type": ""}).type_name == ""
    untyped = [
        b"resize photo 17",  # not JSON
        b'{"kind": "email"}',  # no "type"
        b'{"type": 3}',  # not a string
        b'{"type": null}',
        b'"email"',  # not an object
        b"",
    ]
    for data in untyped:
        assert leaseq.Item(data).type_name is None, data
    item = leaseq.Item.from_json({"type": "email"})
    with pytest.raises(AttributeError):
        item.type_name = "resize"  # type: ignore[misc]


@pytest.mark.parametrize("flavour", ["run", "run_async"])
def test_routes_run_each_item_on_the_handler_of_its_type(
    redis_url: str, prefix: str, flavour: str
) -> None:
    """A plain function and an async def one in the same worker, each on its own runner."""
    seen: list[tuple[str, str, str]] = []

    def email(item: leaseq.Item) -> None:
        seen.append(("email", item.id, threading.current_thread().name))

    async def resize(item: leaseq.Item) -> None:
        await asyncio.sleep(0.01)
        seen.append(("resize", item.id, threading.current_thread().name))

    routes = {"email": email, "resize": resize}
    items = [
        leaseq.Item(json.dumps({"type": kind, "n": n}), id=f"{kind}-{n}")
        for n in range(3)
        for kind in ("email", "resize")
    ]
    if flavour == "run":
        with leaseq.Connection(redis_url) as conn:
            queue = leaseq.WorkQueue(conn, prefix)
            queue.add_items(items)
            worker = leaseq.Worker(queue, routes, concurrency=3)
            running = Running(worker)
            wait_until(lambda: worker.counters.completed == 6)
            running.stop()
    else:

        async def main() -> None:
            async with await aio.Connection.open(redis_url) as conn:
                queue = aio.WorkQueue(conn, prefix)
                await queue.add_items(items)
                worker = leaseq.Worker(queue, routes, concurrency=3)
                run = asyncio.ensure_future(worker.run_async())
                deadline = time.monotonic() + 10
                while worker.counters.completed < 6 and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                worker.stop()
                await asyncio.wait_for(run, 5)
                assert worker.counters.completed == 6, worker.counters

        asyncio.run(main())
    assert sorted((kind, id) for kind, id, _ in seen) == sorted(
        (kind, f"{kind}-{n}") for n in range(3) for kind in ("email", "resize")
    )
    threads = {kind: {thread for k, _, thread in seen if k == kind} for kind in routes}
    assert all(name.startswith("leaseq-handler-") for name in threads["email"]), threads
    loop_thread = "leaseq-worker-loop" if flavour == "run" else "MainThread"
    assert threads["resize"] == {loop_thread}


def test_an_unknown_or_missing_type_fails_the_item_with_the_core_error(
    conn: leaseq.Connection, prefix: str
) -> None:
    queue = leaseq.WorkQueue(conn, prefix, max_attempts=1)
    called: list[str] = []
    outcomes: list[tuple[str, leaseq.JobOutcome]] = []

    async def resize(item: leaseq.Item) -> None:
        called.append(item.id)

    queue.add_items(
        [
            leaseq.Item.from_json({"type": "fax", "to": "+1 555"}),
            leaseq.Item(b"resize photo 17", id="untyped"),
            leaseq.Item(b'{"type": 17}', id="number"),
        ]
    )
    worker = leaseq.Worker(
        queue,
        {"resize": resize, "email": lambda item: called.append(item.id)},
        after=lambda item, outcome: outcomes.append((item.id, outcome)),
    )
    running = Running(worker)
    wait_until(lambda: worker.counters.failed == 3)
    running.stop()
    assert called == []
    handles = "this worker handles: email, resize"
    untyped = (
        'item has no type (its data is not a JSON object with a string field "type"); ' + handles
    )
    errors = {dead.item.type_name or dead.item.id: dead.error for dead in queue.dead_items()}
    assert errors == {
        "fax": f'unknown item type "fax"; {handles}',
        "untyped": untyped,
        "number": untyped,
    }
    assert sorted(outcome.error or "" for _, outcome in outcomes) == sorted(errors.values())
    assert (worker.counters.completed, worker.counters.retried) == (0, 0)


def test_an_unknown_type_is_retried_for_a_worker_that_handles_it(
    conn: leaseq.Connection, prefix: str
) -> None:
    queue = leaseq.WorkQueue(conn, prefix, backoff_base=0.5, backoff_max=0.5)
    queue.add_item(leaseq.Item.from_json({"type": "fax"}))
    old = leaseq.Worker(queue, {"email": lambda item: None})
    running = Running(old)
    wait_until(lambda: old.counters.retried >= 1)
    running.stop()
    assert (queue.delayed_len(), queue.dead_len()) == (1, 0), "failed, to be retried"
    faxed: list[str | None] = []
    new = leaseq.Worker(
        queue, {"email": lambda item: None, "fax": lambda item: faxed.append(item.type_name)}
    )
    running = Running(new)
    wait_until(lambda: new.counters.completed == 1)
    running.stop()
    assert faxed == ["fax"]
    assert (queue.dead_len(), queue.queue_len(), queue.delayed_len()) == (0, 0, 0)


def test_bad_routes_are_refused(queue: leaseq.WorkQueue) -> None:
    def handler(item: leaseq.Item) -> None:
        pass

    # The core's check (Worker::for_host).
    with pytest.raises(leaseq.InvalidArgumentError, match="needs at least one item type"):
        leaseq.Worker(queue, {})
    with pytest.raises(ValueError, match="at least one"):
        leaseq.Worker(queue, types.MappingProxyType({}))
    with pytest.raises(leaseq.InvalidArgumentError, match=r"item type of a handler .* is empty"):
        leaseq.Worker(queue, {"": handler})
    with pytest.raises(TypeError, match=r"item type name must be a str, not int \(1\)"):
        leaseq.Worker(queue, {"email": handler, 1: handler})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"not bytes \(b'email'\)"):
        leaseq.Worker(queue, {b"email": handler})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r'^handler\["resize"\] must be callable, not str$'):
        leaseq.Worker(queue, {"email": handler, "resize": "resize"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="handler must be callable, or a mapping"):
        leaseq.Worker(queue, ["email"])  # type: ignore[arg-type]
    # Any Mapping will do.
    leaseq.Worker(queue, types.MappingProxyType({"email": handler}))


def test_hooks_are_called(queue: leaseq.WorkQueue) -> None:
    calls: list[tuple[str, ...]] = []
    outcomes: list[leaseq.JobOutcome] = []
    unraisable: list[Any] = []

    def handler(item: leaseq.Item) -> None:
        calls.append(("handler", item.id))
        if item.id == "bad":
            raise RuntimeError("bad")

    def before(item: leaseq.Item) -> None:
        calls.append(("before", item.id))
        if item.id == "good":
            raise KeyError("a broken hook is reported, not fatal")

    def after(item: leaseq.Item, outcome: leaseq.JobOutcome) -> None:
        calls.append(("after", item.id, outcome))
        outcomes.append(outcome)

    queue.add_items([leaseq.Item(b"", id="good"), leaseq.Item(b"", id="bad")])
    previous_hook = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        worker = leaseq.Worker(queue, handler, before=before, after=after)
        running = Running(worker)
        wait_until(lambda: len(calls) == 6)
        running.stop()
    finally:
        sys.unraisablehook = previous_hook
    # In order for each item; the core leases the next item while this one's complete is in
    # flight, so another item's calls may come in between.
    for item_id, outcome in [("good", "completed"), ("bad", "failed")]:
        assert [call for call in calls if call[1] == item_id] == [
            ("before", item_id),
            ("handler", item_id),
            ("after", item_id, outcome),
        ]
    assert [type(report.exc_value) for report in unraisable] == [KeyError]
    assert unraisable[0].object is before
    completed, failed = sorted(outcomes)
    assert isinstance(completed, str) and isinstance(completed, leaseq.JobOutcome)
    assert (completed, completed.completed, completed.error) == ("completed", True, None)
    assert (failed, failed.completed, failed.error) == ("failed", False, "RuntimeError: bad")
    assert repr(failed) == "JobOutcome('failed', completed=False, error='RuntimeError: bad')"


def test_counters(queue: leaseq.WorkQueue) -> None:
    worker = leaseq.Worker(queue, lambda item: None)
    counters = worker.counters
    assert counters == worker.counters
    assert repr(counters) == (
        "WorkerCounters(leased=0, completed=0, failed=0, retried=0, renewed=0, in_flight=0)"
    )
    assert repr(worker) == f"<leaseq.Worker on {queue.name!r} idle>".replace("'", '"')


def test_worker_arguments_are_checked(queue: leaseq.WorkQueue) -> None:
    def handler(item: leaseq.Item) -> None:
        pass

    bad: list[dict[str, Any]] = [
        {"concurrency": 0},
        {"concurrency": -1},
        {"lease_secs": 0},
        {"lease_secs": -1},
        {"job_timeout": 0},
        {"job_timeout": -1},
        {"shutdown_timeout": float("nan")},
        {"clean_every": 0},
    ]
    for options in bad:
        with pytest.raises(leaseq.InvalidArgumentError):
            leaseq.Worker(queue, handler, **options)
    with pytest.raises(TypeError, match="handler must be callable"):
        leaseq.Worker(queue, 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="after must be callable"):
        leaseq.Worker(queue, handler, after="print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="queue must be"):
        leaseq.Worker("jobs", handler)  # type: ignore[arg-type]
    leaseq.Worker(queue, handler, job_timeout=None, clean_every=None, shutdown_timeout=0)


def test_a_worker_runs_once_at_a_time(queue: leaseq.WorkQueue) -> None:
    worker = leaseq.Worker(queue, lambda item: None)
    running = Running(worker)
    wait_until(lambda: "running" in repr(worker))
    with pytest.raises(leaseq.InvalidArgumentError, match="already running"):
        worker.run()

    async def run_async() -> None:
        await worker.run_async()

    with pytest.raises(leaseq.InvalidArgumentError, match="already running"):
        asyncio.run(run_async())
    running.stop()
    running = Running(worker)  # and runs again once stopped
    running.stop()


def test_stop_on_signals_needs_the_main_thread(queue: leaseq.WorkQueue) -> None:
    worker = leaseq.Worker(queue, lambda item: None)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            worker.run(stop_on_signals=True)
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(5)
    assert len(errors) == 1 and isinstance(errors[0], leaseq.InvalidArgumentError)
    assert "main thread" in str(errors[0])
    assert "idle" in repr(worker)


def test_ctrl_c_stops_the_worker_gracefully_then_raises(
    queue: leaseq.WorkQueue, release_handlers: threading.Event
) -> None:
    class Interrupted(Exception):
        pass

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    queue.add_item(leaseq.Item(b"x", id="a"))
    worker = leaseq.Worker(queue, lambda item: release_handlers.wait(10), shutdown_timeout=0.1)
    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    started = time.monotonic()
    try:
        with pytest.raises(Interrupted):
            worker.run()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 1.5
    assert (queue.queue_len(), queue.processing()) == (1, 0), "released before raising"


def test_stop_on_signals_restores_the_previous_handlers(queue: leaseq.WorkQueue) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    worker = leaseq.Worker(queue, lambda item: None)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    worker.run(stop_on_signals=True)  # returns normally on SIGTERM
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.3, os.kill, os.getpid(), signal.SIGINT)
        await worker.run_async(stop_on_signals=True)

    asyncio.run(main())
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_cancelling_run_async_stops_the_worker_gracefully(redis_url: str, prefix: str) -> None:
    async def handler(item: leaseq.Item) -> None:
        await asyncio.sleep(10)

    async def main() -> None:
        async with await aio.Connection.open(redis_url) as conn:
            queue = aio.WorkQueue(conn, prefix)
            await queue.add_item(leaseq.Item(b"x", id="a"))
            worker = leaseq.Worker(queue, handler, shutdown_timeout=0.1)
            run = asyncio.ensure_future(worker.run_async())
            while worker.counters.in_flight < 1:
                await asyncio.sleep(0.01)
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
            for _ in range(100):
                if await queue.queue_len() == 1:
                    break
                await asyncio.sleep(0.02)
            assert (await queue.queue_len(), await queue.processing()) == (1, 0)

    asyncio.run(main())


CHILD = """
import asyncio, os, sys, time
import leaseq

queue = leaseq.WorkQueue(leaseq.Connection(os.environ["LEASEQ_REDIS_URL"]), sys.argv[1])

def handler(item):
    print("working", flush=True)
    time.sleep(30)

async def async_handler(item):
    print("working", flush=True)
    await asyncio.sleep(30)

if sys.argv[2] == "sync":
    worker = leaseq.Worker(queue, handler, shutdown_timeout=0.3)
    worker.run(stop_on_signals=True)
else:
    worker = leaseq.Worker(queue, async_handler, shutdown_timeout=0.3)
    asyncio.run(worker.run_async(stop_on_signals=True))
print("stopped", worker.counters.leased, flush=True)
"""


@pytest.mark.parametrize(
    ("flavour", "signum"),
    [("sync", signal.SIGTERM), ("async", signal.SIGTERM), ("sync", signal.SIGINT)],
)
def test_a_signal_stops_a_worker_in_a_child_process(
    queue: leaseq.WorkQueue, redis_url: str, prefix: str, flavour: str, signum: int
) -> None:
    queue.add_item(leaseq.Item(b"x", id="a"))
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), prefix, flavour],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LEASEQ_REDIS_URL": redis_url},
    )
    try:
        assert child.stdout is not None and child.stderr is not None
        assert child.stdout.readline() == "working\n"
        child.send_signal(signum)
        started = time.monotonic()
        returncode = child.wait(timeout=5)
        took = time.monotonic() - started
        errors = child.stderr.read()
        assert (returncode, errors) == (0, ""), f"exit {returncode} after {took:.2f} s"
        assert took < 2.0
        assert child.stdout.read() == "stopped 1\n"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert (queue.queue_len(), queue.processing()) == (1, 0), "the item was released"


def test_handler_threads_are_reused_and_end_when_closed() -> None:
    from leaseq._worker import Host, handlers

    names: list[str] = []
    finished: SimpleQueue[tuple[int, str | None]] = SimpleQueue()

    class Worker:
        def _finish(self, job: int, error: str | None) -> None:
            finished.put((job, error))

        def stop(self) -> None:
            pass

    def handler(item: object) -> None:
        names.append(threading.current_thread().name)
        if item == "bad":
            raise ValueError("bad item")

    host = Host(Worker(), handlers(handler, None, None), None, False)
    for job, item in enumerate(["a", "b", "bad"]):
        host.handle(job, 0, item)
        assert finished.get(timeout=5) == (job, "ValueError: bad item" if item == "bad" else None)
    assert len(set(names)) == 1, "one at a time: the idle thread is reused"
    host.close()
    wait_until(lambda: not any(t.name == names[0] for t in threading.enumerate()), timeout=5)
    host.handle(3, 0, "late")  # after close: a thread for that job only
    assert finished.get(timeout=5) == (3, None)
