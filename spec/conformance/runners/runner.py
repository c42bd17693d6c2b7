"""The Python runner of the conformance cases in spec/conformance/: drives ``import leaseq`` only.

    runner.py          the blocking API (leaseq.Connection, leaseq.WorkQueue)
    runner.py --aio    the asyncio API (leaseq.aio), each call awaited on the runner's event loop

``driver.py`` starts it once and sends one case per line on stdin:
``{"case": name, "url": redis_url, "prefix": p, "queue_options"?: {...},
"steps": [{"op", "args", "queue"?}, ...]}``; every queue of the case is made with its
``queue_options`` (``max_attempts``, ``backoff_base_ms``, ``backoff_max_ms``,
``unique_window_ms``, ``clean_grace_ms``, ``wait_replicas``, ``wait_timeout_ms``, ``fencing``,
each optional). The items the case's ``lease`` steps returned are kept, in order: ``renew``,
``complete``, ``fail`` and ``release`` with ``"delivery": k`` act on the k-th (from 1), so its
fence travels; without it, on an item made from ``id`` alone (fence 0).
It runs the steps through leaseq's public (blocking) API and answers with one line,
``{"results": [{"ok": value} | {"error": kind, "message": text}, ...]}``, each result with the
step's wall time in ``"ms"``. The driver does the setup and checks the results and the keys.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Awaitable
from typing import Any

import leaseq

# Most specific first: each leaseq class also subclasses a builtin, and Error is the base.
KINDS = [
    (leaseq.ConnectionError, "Connection"),
    (leaseq.TimeoutError, "Timeout"),
    (leaseq.InvalidArgumentError, "InvalidArgument"),
    (leaseq.LeaseLostError, "LeaseLost"),
    (leaseq.Error, "Internal"),
]


# Operations that take no arguments and whose result is the step's result as is (ints, bools,
# and None for pause).
NO_ARGUMENTS = {
    "queue_len",
    "processing",
    "prioritized_len",
    "delayed_len",
    "dead_len",
    "requeue_all_dead",
    "purge_all_dead",
    "pause",
    "resume",
    "is_paused",
}


class Harness(Exception):
    """A case this runner cannot read; reported as kind "Harness", which no case expects."""


def kind_of(err: BaseException) -> str:
    for cls, kind in KINDS:
        if isinstance(err, cls):
            return kind
    # Not a leaseq exception: the binding broke its error contract; the driver shows the type.
    return f"Unexpected {type(err).__module__}.{type(err).__qualname__}"


def make_item(args: dict[str, Any]) -> leaseq.Item:
    data = args["data"].encode("utf-8")
    if args.get("id") is None:
        return leaseq.Item(data)
    return leaseq.Item(data, id=args["id"])


def secs(millis: float) -> float:
    # A negative value is passed on as is: the binding must refuse it, not the runner.
    return millis / 1000.0


def optional_secs(args: dict[str, Any], name: str) -> float | None:
    millis = args.get(name)
    return None if millis is None else secs(millis)


def item_json(
    item: leaseq.Item | None, with_attempts: bool = False, with_fence: bool = False
) -> dict[str, Any] | None:
    if item is None:
        return None
    found: dict[str, Any] = {"id": item.id, "data": item.data.decode("utf-8", "replace")}
    if with_attempts:
        found["attempts"] = item.attempts
    if with_fence:
        found["fence"] = item.fence
    return found


def report_json(report: Any) -> dict[str, int]:
    return {"requeued": report.requeued, "dropped": report.dropped, "dead": report.dead}


def dead_json(dead: Any) -> dict[str, Any]:
    item = dead.item
    data = item.data.decode("utf-8", "replace")
    return {"id": item.id, "data": data, "attempts": item.attempts, "error": dead.error}


def queue_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """The case's queue options as WorkQueue keyword arguments (seconds, as a user passes them)."""
    options = options or {}
    counts = ("max_attempts", "wait_replicas", "fencing")
    durations = ("backoff_base", "backoff_max", "unique_window", "clean_grace", "wait_timeout")
    known = {*counts, *(f"{name}_ms" for name in durations)}
    if set(options) - known:
        raise Harness(f"unknown queue options {sorted(set(options) - known)}")
    keywords: dict[str, Any] = {name: options[name] for name in counts if name in options}
    for name in durations:
        if f"{name}_ms" in options:
            keywords[name] = secs(options[f"{name}_ms"])
    return keywords


# ---------------------------------------------------------------------------------------------
# run_worker: a Worker with a scripted handler (README.md, "Worker cases")

# How long a run may go at most when the case gives no stop_after_ms.
DEFAULT_STOP_AFTER_MS = 5000
# How long the runner waits, after a run returned, for after hooks still on their way.
LATE_HOOKS_SECS = 1.0
# How long a run after a stop may take before the runner calls it not returned at once.
STOPPED_RUN_LIMIT_SECS = 2.0
# How long a second run has to refuse before the runner calls it running.
SECOND_RUN_WAIT_SECS = 0.5


class HandlerError(Exception):
    """What a scripted handler raises; the item keeps ``"HandlerError: <message>"``."""


def check_action(action: Any) -> dict[str, Any]:
    """An action as {sleep_ms?, raise?}: ``"ok"`` is neither."""
    if action == "ok":
        return {}
    if isinstance(action, dict) and set(action) <= {"sleep_ms", "raise"}:
        return action
    raise Harness(f"an action is 'ok' or {{sleep_ms?, raise?}}, not {action!r}")


class WorkerScript:
    """A case's run_worker args: the scripted handler(s), the options, when to stop, and the
    after hook's outcomes as they come."""

    def __init__(self, args: dict[str, Any]) -> None:
        self.args = args
        self.by_id = {key: check_action(value) for key, value in args.get("handler", {}).items()}
        routes = args.get("routes")
        self.routes: dict[str, dict[str, Any]] | None = None
        if routes is not None:
            self.routes = {}
            for type_name, action in routes:
                if type_name in self.routes:
                    raise Harness("a dict cannot hold an item type twice (the case should skip)")
                self.routes[type_name] = check_action(action)
        until = args.get("until", {})
        self.wanted: int | None = until.get("outcomes")
        self.stop_after = until.get("stop_after_ms", DEFAULT_STOP_AFTER_MS) / 1000.0
        self.lock = threading.Lock()
        self.before_ids: list[str] = []
        self.outcomes: list[dict[str, Any]] = []

    def worker(self, queue: Any, make: Any) -> Any:
        """A Worker over the queue with this case's handler(s) (made by `make`), options and
        hooks."""
        return leaseq.Worker(
            queue, self.handler(make), **self.options(), before=self.before, after=self.after
        )

    def options(self) -> dict[str, Any]:
        given = self.args.get("options", {})
        options: dict[str, Any] = {"clean_every": None}  # a clean mid-case would change its keys
        if "concurrency" in given:
            options["concurrency"] = given["concurrency"]
        for name, keyword in (
            ("lease_ms", "lease_secs"),
            ("job_timeout_ms", "job_timeout"),
            ("shutdown_timeout_ms", "shutdown_timeout"),
            ("clean_every_ms", "clean_every"),
        ):
            if name in given:
                options[keyword] = secs(given[name])
        return options

    def handler(self, make: Any) -> Any:
        """One handler scripted by item id, or a dict of one per route; ``make`` turns an action
        (or a function of the item giving one) into a plain or an async def handler."""
        if self.routes is not None:
            return {name: make(lambda _item, a=action: a) for name, action in self.routes.items()}
        return make(lambda item: self.by_id.get(item.id, self.by_id.get("*", {})))

    def before(self, item: leaseq.Item) -> None:
        with self.lock:
            self.before_ids.append(item.id)

    def after(self, item: leaseq.Item, outcome: Any) -> None:
        kind = str(outcome)
        record: dict[str, Any] = {"id": item.id, "outcome": kind}
        if kind == "completed":
            record["completed"] = outcome.completed
        if kind == "failed":
            record["error"] = outcome.error
        with self.lock:
            if item.id in self.before_ids:
                self.before_ids.remove(item.id)
            else:
                record["hooks"] = "after without before"
            self.outcomes.append(record)

    def seen(self) -> tuple[int, int]:
        with self.lock:
            return len(self.before_ids), len(self.outcomes)

    def done(self, started: float) -> bool:
        """Whether to stop the run: the outcomes asked for came, or the time is up."""
        if time.monotonic() - started >= self.stop_after:
            return True
        return self.wanted is not None and self.seen()[1] >= self.wanted

    def late(self) -> bool:
        return self.wanted is not None and self.seen()[1] < self.wanted

    def result(self, worker: Any, result: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            # By id; one item's outcomes stay in the order they came (sort is stable).
            result["outcomes"] = sorted(self.outcomes, key=lambda record: record["id"])
        counters = worker.counters
        result["counters"] = {
            name: getattr(counters, name)
            for name in ("leased", "completed", "failed", "retried", "renewed", "in_flight")
        }
        return result


def plain_handler(action_of: Any) -> Any:
    def handle(item: leaseq.Item) -> None:
        action = action_of(item)
        if action.get("sleep_ms"):
            time.sleep(action["sleep_ms"] / 1000.0)
        if "raise" in action:
            raise HandlerError(action["raise"])

    return handle


def async_handler(action_of: Any) -> Any:
    async def handle(item: leaseq.Item) -> None:
        action = action_of(item)
        if action.get("sleep_ms"):
            await asyncio.sleep(action["sleep_ms"] / 1000.0)
        if "raise" in action:
            raise HandlerError(action["raise"])

    return handle


class RunThread(threading.Thread):
    """Worker.run on a thread of its own (it blocks), keeping what it raised."""

    def __init__(self, worker: Any) -> None:
        super().__init__(daemon=True)
        self.worker = worker
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.worker.run()
        except BaseException as err:  # reported as the step's result
            self.error = err


class Blocking:
    """The blocking API."""

    def connect(self, url: str) -> Any:
        return leaseq.Connection(url)

    def queue(self, connection: Any, name: str, options: dict[str, Any]) -> Any:
        return leaseq.WorkQueue(connection, name, **options)

    def run_worker(self, queue: Any, args: dict[str, Any]) -> Any:
        script = WorkerScript(args)
        worker = script.worker(queue, plain_handler)
        result: dict[str, Any] = {}
        if args.get("stop_first"):
            worker.stop()
            started = time.monotonic()
            stopped = RunThread(worker)
            stopped.start()
            stopped.join(STOPPED_RUN_LIMIT_SECS)
            if stopped.is_alive():  # not returned at once: stop it again; the time says so
                worker.stop()
                stopped.join()
            result["stopped_run_ms"] = (time.monotonic() - started) * 1000.0
            if stopped.error is not None:
                raise stopped.error
        started = time.monotonic()
        first = RunThread(worker)
        first.start()
        second = None
        if args.get("second_run"):
            # Once an item's before hook ran, the first run is surely going.
            while script.seen() == (0, 0) and time.monotonic() - started < script.stop_after:
                time.sleep(0.005)
            second = RunThread(worker)
            second.start()
            second.join(SECOND_RUN_WAIT_SECS)
            if second.is_alive():
                result["second_run"] = "running"
            else:
                result["second_run"] = "ok" if second.error is None else kind_of(second.error)
        while not script.done(started):
            time.sleep(0.005)
        # Stopped until every run ended: a binding that let a second run start may end the
        # first, which readies the worker to run again, while the second still goes.
        for run in (first, second):
            while run is not None and run.is_alive():
                worker.stop()
                run.join(0.02)
        if first.error is not None:
            raise first.error
        late = time.monotonic()
        while script.late() and time.monotonic() - late < LATE_HOOKS_SECS:
            time.sleep(0.005)
        return script.result(worker, result)


class Aio:
    """The asyncio API (leaseq.aio), each operation awaited to its end on one event loop, so the
    steps read as with the blocking API."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def wait(self, awaitable: Awaitable[Any]) -> Any:
        async def awaited() -> Any:
            return await awaitable

        return self.loop.run_until_complete(awaited())

    def connect(self, url: str) -> Any:
        return self.wait(leaseq.aio.Connection.open(url))

    def queue(self, connection: Any, name: str, options: dict[str, Any]) -> Any:
        return AioQueue(self, leaseq.aio.WorkQueue(connection, name, **options))

    def run_worker(self, queue: AioQueue, args: dict[str, Any]) -> Any:
        return self.wait(self.run_worker_async(queue.queue, args))

    async def run_worker_async(self, queue: Any, args: dict[str, Any]) -> Any:
        script = WorkerScript(args)
        worker = script.worker(queue, async_handler)
        result: dict[str, Any] = {}
        if args.get("stop_first"):
            worker.stop()
            started = time.monotonic()
            stopped = asyncio.ensure_future(worker.run_async())
            await asyncio.wait({stopped}, timeout=STOPPED_RUN_LIMIT_SECS)
            if not stopped.done():  # not returned at once: stop it again; the time says so
                worker.stop()
            await stopped
            result["stopped_run_ms"] = (time.monotonic() - started) * 1000.0
        started = time.monotonic()
        first = asyncio.ensure_future(worker.run_async())
        second = None
        if args.get("second_run"):
            # Once an item's before hook ran, the first run is surely going.
            while script.seen() == (0, 0) and time.monotonic() - started < script.stop_after:
                await asyncio.sleep(0.005)
            second = asyncio.ensure_future(worker.run_async())
            await asyncio.wait({second}, timeout=SECOND_RUN_WAIT_SECS)
            refused = second.exception() if second.done() else None
            if not second.done():
                result["second_run"] = "running"
            elif refused is None:
                result["second_run"] = "ok"
            else:
                result["second_run"] = kind_of(refused)
        while not script.done(started):
            await asyncio.sleep(0.005)
        # Stopped until every run ended: a binding that let a second run start may end the
        # first, which readies the worker to run again, while the second still goes.
        runs = {first} if second is None else {first, second}
        while not all(run.done() for run in runs):
            worker.stop()
            await asyncio.wait(runs, timeout=0.02)
        await first
        late = time.monotonic()
        while script.late() and time.monotonic() - late < LATE_HOOKS_SECS:
            await asyncio.sleep(0.005)
        return script.result(worker, result)


class AioQueue:
    """A leaseq.aio.WorkQueue whose operations return their result instead of an awaitable."""

    def __init__(self, aio: Aio, queue: Any) -> None:
        self.aio = aio
        self.queue = queue

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self.queue, name)
        return lambda *args, **kwargs: self.aio.wait(operation(*args, **kwargs))


class CaseRun:
    """The handles one case acts through: ``main`` and any other name (``second``, ...) is a
    WorkQueue of its own (its own session) on the case's prefix, made on first use, unless a
    ``new_queue`` step registered that name for another prefix."""

    def __init__(self, api: Blocking | Aio, url: str, prefix: str, options: dict[str, Any]):
        self.api = api
        self.options = options
        self.connection = api.connect(url)
        self.prefix = prefix
        self.queues: dict[str, Any] = {}
        # Every item a lease step returned, in order: "delivery": k names the k-th.
        self.deliveries: list[leaseq.Item] = []

    def queue(self, name: str) -> Any:
        if name not in self.queues:
            self.queues[name] = self.api.queue(self.connection, self.prefix, self.options)
        return self.queues[name]

    def leased_item(self, args: dict[str, Any]) -> leaseq.Item:
        """The item renew, complete, fail and release act on: the k-th leased item for
        ``"delivery": k`` (its fence travels), else one made from the id alone (fence 0; the
        data an item carries plays no part in these calls)."""
        delivery = args.get("delivery")
        if delivery is None:
            return leaseq.Item(b"", id=args["id"])
        if not isinstance(delivery, int) or not 1 <= delivery <= len(self.deliveries):
            raise Harness(f"delivery {delivery!r}: this case has {len(self.deliveries)} so far")
        return self.deliveries[delivery - 1]

    def batch_item(self, entry: Any) -> leaseq.Item:
        """A complete_many entry: an id (an item made from it alone) or a delivery number."""
        if isinstance(entry, str):
            return leaseq.Item(b"", id=entry)
        return self.leased_item({"delivery": entry})

    def step(self, step: dict[str, Any]) -> Any:
        op = step["op"]
        args = step.get("args") or {}
        if op == "sleep":
            time.sleep(args["ms"] / 1000.0)
            return None
        if op == "new_queue":
            queue = self.api.queue(self.connection, args["name"], self.options)
            if args.get("as"):
                self.queues[args["as"]] = queue
            return None
        if op == "open":
            self.api.connect(args["url"]).close()
            return None
        if op == "close":
            self.connection.close()
            return None
        queue = self.queue(step.get("queue", "main"))
        if op == "add_item":
            return queue.add_item(make_item(args))
        if op == "add_unique_item":
            return queue.add_unique_item(make_item(args))
        if op == "add_items":
            return queue.add_items([make_item(entry) for entry in args["items"]])
        if op == "add_item_with":
            at = args.get("at_ms")
            return queue.add_item_with(
                make_item(args),
                priority=args.get("priority", 0),
                delay=optional_secs(args, "delay_ms"),
                at=None if at is None else secs(at),
            )
        if op == "lease":
            leased = queue.lease(
                secs(args["lease_ms"]),
                block=args.get("block", False),
                timeout=optional_secs(args, "timeout_ms"),
            )
            if leased is not None:
                self.deliveries.append(leased)
            return item_json(
                leased,
                with_attempts=args.get("with_attempts") is True,
                with_fence=args.get("with_fence") is True,
            )
        if op == "lease_many":
            items = queue.lease_many(
                secs(args["lease_ms"]),
                args["count"],
                block=args.get("block", False),
                timeout=optional_secs(args, "timeout_ms"),
            )
            self.deliveries += items
            return [
                item_json(
                    item,
                    with_attempts=args.get("with_attempts") is True,
                    with_fence=args.get("with_fence") is True,
                )
                for item in items
            ]
        if op == "complete_and_lease":
            completed, items = queue.complete_and_lease(
                self.leased_item(args), secs(args["lease_ms"]), args["count"]
            )
            self.deliveries += items
            return {
                "completed": completed,
                "leased": [
                    item_json(
                        item,
                        with_attempts=args.get("with_attempts") is True,
                        with_fence=args.get("with_fence") is True,
                    )
                    for item in items
                ],
            }
        if op == "complete_many":
            return queue.complete_many([self.batch_item(entry) for entry in args["items"]])
        if op == "renew":
            return queue.renew(self.leased_item(args), secs(args["lease_ms"]))
        if op == "complete":
            return queue.complete(self.leased_item(args))
        if op == "fail":
            retry_after = optional_secs(args, "retry_after_ms")
            return queue.fail(self.leased_item(args), args["error"], retry_after=retry_after).kind
        if op == "release":
            return queue.release(self.leased_item(args))
        if op == "light_clean":
            return report_json(queue.light_clean())
        if op == "deep_clean":
            return report_json(queue.deep_clean())
        if op in NO_ARGUMENTS:
            return getattr(queue, op)()
        if op == "run_worker":
            return self.api.run_worker(queue, args)
        if op == "dead_items":
            return [dead_json(dead) for dead in queue.dead_items(args["offset"], args["count"])]
        if op in ("requeue_dead", "purge_dead"):
            return getattr(queue, op)(args["ids"])
        raise Harness(f"unknown op {op!r}")


def run_case(api: Blocking | Aio, case: dict[str, Any]) -> dict[str, Any]:
    try:
        options = queue_options(case.get("queue_options"))
    except Harness as err:
        return {"fatal": str(err)}
    try:
        run = CaseRun(api, case["url"], case["prefix"], options)
    except Exception as err:  # reported to the driver, which fails the case
        return {"fatal": f"cannot open {case['url']}: {err!r}"}
    results = []
    for step in case["steps"]:
        started = time.monotonic()
        try:
            result: dict[str, Any] = {"ok": run.step(step)}
        except Harness as err:
            result = {"error": "Harness", "message": str(err)}
        except Exception as err:  # every error is a result the driver compares
            result = {"error": kind_of(err), "message": str(err)}
        result["ms"] = (time.monotonic() - started) * 1000.0
        results.append(result)
    run.connection.close()
    return {"results": results}


def main() -> None:
    api = Aio() if "--aio" in sys.argv[1:] else Blocking()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = run_case(api, json.loads(line))
        except (ValueError, KeyError) as err:
            reply = {"fatal": f"cannot read the case line: {err!r}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
