"""Python parts of ``leaseq.Worker``: ``JobOutcome``, what its ``after`` hook gets; and helpers of
the native Worker, the threads plain handlers run on and the private event loop ``Worker.run``
(the blocking call) runs ``async def`` handlers on. A worker with a handler per item type may
have both kinds; the native Worker picks the handler (the core's ``Router``) and hands it here.

Both are Python threads on purpose. When the interpreter exits, CPython before 3.14 ends a
thread that waits for the GIL with ``pthread_exit``; that is safe in a thread that runs only
Python and C frames, but aborts the process in a thread with Rust frames on its stack. A plain
handler the worker gave up on (timed out, or past the shutdown timeout) may still be running
then, so it runs here, never on a thread of leaseq's runtime.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any, Optional, Tuple


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
        outcome.completed = completed
        outcome.error = error
        return outcome

    def __repr__(self) -> str:
        return f"JobOutcome({str(self)!r}, completed={self.completed}, error={self.error!r})"


# A handler, the item to run it on, and the function its outcome goes to: None (success) or the
# error text.
_Job = Optional[Tuple[Callable[[Any], object], Any, Callable[[Optional[str]], object]]]
_names = itertools.count(1)


def error_text(exc: BaseException) -> str:
    """The error a failed item keeps."""
    return f"{type(exc).__name__}: {exc}"


class HandlerThreads:
    """Daemon threads that run plain handlers, one item at a time each. An idle thread is
    reused; a new one starts when all are busy, so a handler the worker gave up on never holds
    up the next item. One set per run, shared by all its plain handlers: ``close()`` ends them
    once they are idle."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._threads = 0
        self._closed = False

    def submit(
        self,
        handler: Callable[[Any], object],
        item: Any,
        done: Callable[[Optional[str]], object],
    ) -> None:
        """Runs ``handler(item)`` on a thread, then ``done(None)`` or ``done(error_text)``."""
        with self._lock:
            if self._closed:
                # A job that came after the run ended (its shutdown raced it): a thread of its
                # own, for that job only.
                self._start(self._work_once, handler, item, done)
                return
            if self._idle:
                self._idle -= 1
            else:
                self._threads += 1
                self._start(self._work)
        self._jobs.put((handler, item, done))

    def close(self) -> None:
        """Ends every thread once it is idle (a busy one finishes its item first)."""
        with self._lock:
            self._closed = True
            for _ in range(self._threads):
                self._jobs.put(None)

    def _start(self, target: Callable[..., None], *args: Any) -> None:
        name = f"leaseq-handler-{next(_names)}"
        threading.Thread(target=target, args=args, name=name, daemon=True).start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            self._work_once(*job)
            with self._lock:
                self._idle += 1

    def _work_once(
        self,
        handler: Callable[[Any], object],
        item: Any,
        done: Callable[[Optional[str]], object],
    ) -> None:
        done(_run(handler, item))


def _run(handler: Callable[[Any], object], item: Any) -> str | None:
    """Runs a plain handler; returns None, or the error text its item is failed with."""
    try:
        returned = handler(item)
    except BaseException as exc:  # any exception fails the item, as its error
        return error_text(exc)
    if inspect.isawaitable(returned):
        close = getattr(returned, "close", None)
        if close is not None:
            close()  # no "coroutine was never awaited" warning
        return (
            "TypeError: the handler returned an awaitable without running it; make the "
            "handler an async def function to have it awaited"
        )
    return None


class LoopThread:
    """An event loop running on a daemon thread of its own, until ``close()``."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="leaseq-worker-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def close(self) -> None:
        """Cancels what still runs on the loop (handlers the worker gave up on), as
        ``asyncio.run`` does on its way out, then stops the loop and closes it."""
        asyncio.run_coroutine_threadsafe(_cancel_the_rest(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


async def _cancel_the_rest() -> None:
    current = asyncio.current_task()
    rest = [task for task in asyncio.all_tasks() if task is not current]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)
    loop = asyncio.get_running_loop()
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()
