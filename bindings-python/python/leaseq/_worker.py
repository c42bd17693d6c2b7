"""The host side of ``leaseq.Worker`` (src/worker.rs). The core (``leaseq::Worker::for_host``)
leases, routes, times out, completes or fails; a run's ``Host`` gets its calls in order on
leaseq's completer thread, runs the handlers and answers each job with ``worker._finish``.

Handlers run on daemon threads of Python's (plain ones on reused threads, ``async def`` ones on
``run``'s private loop): at exit, CPython before 3.14 ends a thread that waits for the GIL with
``pthread_exit``, which aborts the process in a thread with Rust frames on its stack.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import itertools
import json
import queue
import signal
import threading
from collections.abc import Mapping
from typing import Any

from leaseq.exceptions import InvalidArgumentError

_names = itertools.count(1)


class JobOutcome(str):
    """How an item's run ended, as a worker's ``after`` hook sees it: a ``str``, one of
    ``"completed"`` (the handler returned and the item was completed), ``"failed"`` (the
    handler raised or timed out; the item was retried or buried), ``"released"`` (the worker
    stopped before the handler finished; the item went back to the queue) and ``"lease_lost"``
    (a renew failed; another worker may have the item), with the details below."""

    __module__ = "leaseq"

    completed: bool
    """With ``"completed"``: True if this worker's ``complete`` was the one that completed the
    item (False: it was completed already, by a worker that got it after a lease ran out)."""
    error: str | None
    """With ``"failed"``: the error the item was failed with; None otherwise."""

    def __new__(cls, kind: str, completed: bool = False, error: str | None = None) -> JobOutcome:
        outcome = super().__new__(cls, kind)
        outcome.completed, outcome.error = completed, error
        return outcome

    def __repr__(self) -> str:
        return f"JobOutcome({str(self)!r}, completed={self.completed}, error={self.error!r})"


def handlers(handler: Any, before: Any, after: Any) -> tuple[list[str] | None, list[Any], Any, Any]:
    """A Worker's routes (None for one handler, else the mapping's item type names, which the
    core checks), its handlers in route order and its hooks, of the right types."""
    if callable(handler):
        routes, functions = None, [handler]
    elif isinstance(handler, Mapping):
        routes, functions = list(handler), list(handler.values())
        for name, function in zip(routes, functions):
            if not isinstance(name, str):
                kind = type(name).__name__
                raise TypeError(f"handler: an item type name must be a str, not {kind} ({name!r})")
            _callable(f"handler[{json.dumps(name, ensure_ascii=False)}]", function)
    else:
        raise TypeError(
            "handler must be callable, or a mapping of item type names to callables, "
            f"not {type(handler).__name__}"
        )
    return routes, functions, _callable("before", before), _callable("after", after)


class Host:
    """One run of a Worker, host side: the core's calls ``handle``, ``cancel``, ``before`` and
    ``after``. Plain handlers run on ``_work`` threads (an idle one is reused, a new one starts
    when all are busy); ``async def`` ones on ``loop`` (the one awaiting ``run_async``) or a
    private one. With ``stop_on_signals``, SIGTERM and SIGINT stop the worker until ``close``."""

    def __init__(self, worker: Any, checked: Any, loop: Any, stop_on_signals: bool) -> None:
        self._finish, self._stop = worker._finish, worker.stop
        _, functions, self.before, self._after = checked
        self._functions = [(function, _is_async(function)) for function in functions]
        self._tasks: dict[int, concurrent.futures.Future[Any]] = {}
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._closed = False
        self._signals: list[tuple[int, Any]] = []
        self._loop_thread: threading.Thread | None = None
        if loop is None and any(is_async for _, is_async in self._functions):
            loop = self._start_loop()
        self._loop = loop
        for signum in (signal.SIGTERM, signal.SIGINT) if stop_on_signals else ():
            try:
                self._signals.append((signum, signal.signal(signum, lambda *_: self._stop())))
            except ValueError as exc:
                self.close()
                raise InvalidArgumentError(
                    f"stop_on_signals needs the main thread, where Python handles signals: {exc}"
                ) from exc

    def handle(self, job: int, route: int, item: Any) -> None:
        """Runs handler ``route`` on ``item``, then ``_finish(job, None or the error text)``."""
        function, is_async = self._functions[route]
        coroutine: Any = None
        try:
            if not is_async:
                with self._lock:
                    reuse = self._idle > 0 and not self._closed
                    self._idle -= reuse
                if not reuse:
                    name = f"leaseq-handler-{next(_names)}"
                    threading.Thread(target=self._work, name=name, daemon=True).start()
                self._jobs.put((job, function, item))
                return
            coroutine = function(item)
            task = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        except BaseException as exc:
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # the loop is closed: no "coroutine was never awaited" warning
            self._finish(job, error_text(exc))
            return
        self._tasks[job] = task
        task.add_done_callback(lambda task: self._done(job, task))

    def _work(self) -> None:
        """A plain handlers' thread: runs jobs until ``close`` (a busy one ends after its job)."""
        while (job := self._jobs.get()) is not None:
            error = _run(job[1], job[2])
            with self._lock:
                closed = self._closed
                self._idle += not closed  # before the answer: the next job may reuse it
            self._finish(job[0], error)
            if closed:
                return

    def _done(self, job: int, task: concurrent.futures.Future[Any]) -> None:
        self._tasks.pop(job, None)
        if task.cancelled():
            self._finish(job, "CancelledError: the handler's task was cancelled")
        else:
            exc = task.exception()
            self._finish(job, None if exc is None else error_text(exc))

    def cancel(self, job: int) -> None:
        """The core gave up on ``job``: cancels its task (a plain handler runs to its end)."""
        task = self._tasks.pop(job, None)
        if task is not None:
            task.cancel()

    def after(self, item: Any, kind: str, completed: bool, error: str | None) -> None:
        self._after(item, JobOutcome(kind, completed, error))

    def close(self, run: asyncio.Future[None] | None = None) -> None:
        """Ends the run's threads once idle and its private loop (cancelling what still runs
        there, as ``asyncio.run`` does), and puts the signal handlers back (one not set from
        Python as SIG_DFL). As the done callback of ``run_async``'s Future: if it was
        cancelled, stops the worker first."""
        if run is not None and run.cancelled():
            self._stop()
        with self._lock:
            self._closed = True
            for _ in range(self._idle):
                self._jobs.put(None)
        if self._loop_thread is not None:
            self._loop.call_soon_threadsafe(self._loop_closed.set_result, None)
            self._loop_thread.join()
        while self._signals:
            signum, previous = self._signals.pop()
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)

    def _start_loop(self) -> asyncio.AbstractEventLoop:
        """``run``'s event loop for ``async def`` handlers, on a thread of its own."""
        running: concurrent.futures.Future[asyncio.Future[None]] = concurrent.futures.Future()

        async def serve() -> None:
            running.set_result(asyncio.get_running_loop().create_future())
            await running.result()

        name = "leaseq-worker-loop"
        self._loop_thread = threading.Thread(target=asyncio.run, args=(serve(),), name=name)
        self._loop_thread.daemon = True
        self._loop_thread.start()
        self._loop_closed = running.result()
        return self._loop_closed.get_loop()


def error_text(exc: BaseException) -> str:
    """The error a failed item keeps."""
    return f"{type(exc).__name__}: {exc}"


def _callable(what: str, function: Any) -> Any:
    if function is not None and not callable(function):
        raise TypeError(f"{what} must be callable, not {type(function).__name__}")
    return function


def _is_async(function: object) -> bool:
    """An ``async def`` function, or an object whose ``__call__`` is one."""
    call = getattr(function, "__call__", None)  # noqa: B004 (the method itself is checked)
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(call)


def _run(handler: Any, item: Any) -> str | None:
    """Runs a plain handler; returns None, or the error text its item is failed with."""
    try:
        returned = handler(item)
    except BaseException as exc:  # any exception fails the item, as its error
        return error_text(exc)
    if not inspect.isawaitable(returned):
        return None
    getattr(returned, "close", lambda: None)()  # no "coroutine was never awaited" warning
    return (
        "TypeError: the handler returned an awaitable without running it; make the handler "
        "an async def function to have it awaited"
    )
