"""Types of the compiled module ``leaseq._native``. Import from ``leaseq`` and ``leaseq.aio``.

The docstrings repeat the compiled ones (``tests/test_stub.py`` keeps them equal), and
``python -m mypy.stubtest leaseq`` checks the names and signatures against the module.
"""

from collections.abc import Callable, Coroutine, Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, final

from typing_extensions import Self

from leaseq._worker import JobOutcome
from leaseq.exceptions import Error

__all__ = [
    "ERROR_KINDS",
    "AsyncConnection",
    "AsyncWorkQueue",
    "CleanReport",
    "Connection",
    "DeadItem",
    "FailOutcome",
    "Item",
    "WorkQueue",
    "Worker",
    "WorkerCounters",
    "__version__",
    "_panic_for_tests",
    "exception_class",
]

__version__: str
ERROR_KINDS: dict[int, str]
"""Every core error kind: its code and its name (``{1: "ECONNECTION", ...}``)."""

def exception_class(code: int) -> type[Error]:
    """The exception class raised for the core error kind numbered ``code``.

    Args:
        code: a key of ``ERROR_KINDS``.

    Returns:
        ``leaseq.Error`` or one of its subclasses.

    Raises:
        InvalidArgumentError: if no core kind has this number.
    """

def _panic_for_tests(asynchronous: bool) -> Coroutine[Any, Any, None] | None:
    """Panics inside the binding, for the tests: with ``asynchronous`` true, inside an asyncio
    operation (returns its awaitable), otherwise in a blocking call.
    """

@final
class Item:
    """An item of work: a unique id and opaque data.

    The id names the item's keys in Redis; two items with the same id are the same item.
    Items are immutable. Two items are equal when their ids and data are: ``attempts`` and
    ``fence`` are about one delivery, so a leased item equals the item that was added.

    Args:
        data: the item's data, stored as is (``str`` is encoded as UTF-8).
        id: the item's id; None makes a random UUID (v4). The id is checked when the item is
            added.
        attempts: how many times the item was leased; ``lease`` sets it. Only for rebuilding
            an item (pickling does); adding an item never writes it.
        fence: the fencing token of its delivery; ``lease`` sets it. Only for rebuilding a
            leased item (pickling does), so that a process it was sent to acts on that
            delivery.
    """
    def __new__(
        cls,
        data: bytes | bytearray | str,
        id: str | None = None,
        *,
        attempts: int = 0,
        fence: int = 0,
    ) -> Self: ...
    @staticmethod
    def from_json(value: Any) -> Item:
        """An item whose data is ``value`` serialized as JSON, with a new random id.

        The JSON is compact UTF-8 (``json.dumps`` with ``separators=(",", ":")``), and NaN or
        infinite floats are refused, as JSON has no such values.

        Args:
            value: anything ``json.dumps`` accepts.

        Returns:
            The new item.

        Raises:
            InvalidArgumentError: if ``value`` cannot be serialized as JSON.
        """
    def json(self) -> Any:
        """The item's data parsed as JSON.

        Returns:
            The parsed value (dict, list, str, int, float, bool or None).

        Raises:
            InvalidArgumentError: if the data is not valid UTF-8 JSON.
        """
    @property
    def id(self) -> str:
        """The item's id; ``Item(data)`` makes a random UUID."""
    @property
    def data(self) -> bytes:
        """The item's data, stored as is."""
    @property
    def attempts(self) -> int:
        """How many times the item has been leased, this lease included (1 on the first
        delivery); 0 for an item that did not come from ``lease``.
        """
    @property
    def fence(self) -> int:
        """The fencing token of this delivery: a number from a per-queue counter that only grows,
        so a later delivery of any item of the queue has a larger one. A handler can pass it to
        its own storage to refuse writes from a holder whose lease was superseded; with the
        queue's ``fencing`` on, ``renew``, ``complete``, ``fail`` and ``release`` of a
        superseded delivery raise LeaseLostError. 0 for an item that did not come from
        ``lease`` (those calls then do not check it).
        """
    @property
    def type_name(self) -> str | None:
        """The item's type: the string field ``"type"`` of its data, when that is a JSON object
        with one (``Item.from_json({"type": "email", ...})``); None otherwise. A worker with a
        handler per type routes the item by it.
        """
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[type[Item], tuple[bytes, str], dict[str, int]]]:
        """Pickling (multiprocessing pools pass items between processes)."""

@final
class CleanReport:
    """What a clean did."""
    @property
    def requeued(self) -> int:
        """Items whose lease had expired (or was never taken), returned to the queue."""
    @property
    def dropped(self) -> int:
        """Ids dropped from the lists because their item no longer exists."""
    @property
    def dead(self) -> int:
        """Items whose lease expired on their last attempt, moved to the dead letters."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class FailOutcome:
    """What ``fail`` did with the item."""
    @property
    def kind(self) -> Literal["retry", "dead", "gone"]:
        """``"retry"``: it will be leased again, not before ``retry_at``; ``"dead"``: that was
        its last attempt, it is in the dead letters with the error; ``"gone"``: the item no
        longer exists (it was completed), nothing changed.
        """
    @property
    def retry_at(self) -> float | None:
        """With ``kind`` ``"retry"``, when the retry becomes due (Unix seconds, Redis server
        clock); otherwise None.
        """
    def __eq__(self, value: object, /) -> bool: ...

@final
class DeadItem:
    """An item in the dead letters."""
    @property
    def item(self) -> Item:
        """The item, its data as added; its ``attempts`` is how many leases it had."""
    @property
    def error(self) -> str:
        """The error of its last failure (``"lease expired"`` when its last lease ran out)."""
    @property
    def died_at(self) -> float:
        """When it died (Unix seconds, Redis server clock)."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class Connection:
    """A connection to one Redis server, shared by any number of WorkQueues.

    Operations are multiplexed over one socket that reconnects by itself; a blocking lease waits
    on a connection of its own so it never stalls the others. After ``os.fork()``, a child
    reconnects on first use. Safe to share between threads. A context manager: leaving the
    ``with`` block closes it.

    Connects at once, so a server that cannot be reached raises ConnectionError here rather
    than at the first operation.

    Args:
        url: ``redis://[user:password@]host:port[/db]``, ``rediss://...`` (TLS) or
            ``unix:///path/to/redis.sock``; ``?eviction=refuse`` refuses a Redis that may evict
            keys, ``?eviction=ignore`` skips that check.
        connect_timeout: how long one attempt at opening a TCP/TLS connection may take, in
            seconds; after three failed attempts it is a ConnectionError.
        response_timeout: how long one operation may wait for Redis's answer, in seconds,
            before it raises TimeoutError; None waits for ever. A blocking lease's wait is not
            bounded by it (its own ``timeout`` is). After a timeout the operation's outcome is
            unknown (it may still run, as after any lost answer); the connection stays usable.

    Warns:
        RuntimeWarning: once, if Redis's ``maxmemory-policy`` is not ``noeviction`` (it may evict
            queue keys and lose items) or cannot be read; ``-W error::RuntimeWarning`` turns it
            into an exception.

    Raises:
        ConnectionError: if the server cannot be reached, or may evict keys and the URL has
            ``?eviction=refuse``.
        InvalidArgumentError: if the URL is not a Redis URL, or a timeout is 0, negative, NaN,
            infinite or too large.
    """
    def __new__(
        cls, url: str, *, connect_timeout: float = 5.0, response_timeout: float | None = 30.0
    ) -> Self: ...
    def close(self) -> None:
        """Closes the connection: every handle and queue using it fails with a connection error
        from now on, and blocking leases waiting on it end with that error at once. Dropping the
        last handle closes it too.
        """
    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *_exc_info: object) -> Literal[False]: ...

@final
class WorkQueue:
    """A work queue: the keys under one prefix, reached through a shared Connection.

    Each WorkQueue gets a fresh session id, written into the leases it takes. Safe to share
    between threads: the GIL is released during every Redis call.

    The options travel with each call (they are not stored in Redis), so every process working
    a queue should use the same.

    Args:
        connection: the connection to use.
        name: the key prefix, e.g. ``"jobs"`` or ``"{jobs}"``.
        max_attempts: leases an item gets before a failure (``fail``, or an expired lease)
            sends it to the dead letters instead of back to the queue.
        backoff_base: the first retry's backoff in seconds; each later one doubles, with
            jitter.
        backoff_max: the longest backoff, in seconds.
        unique_window: how many seconds after an item is completed ``add_item`` refuses its
            id; 0 turns this off.
        clean_grace: how many seconds a clean leaves alone an id it finds in processing without
            a lease, or an item in no list, before it reclaims it (``redis-work-queue`` clients
            pop an id and write its lease in separate commands): such an id must be seen that
            way twice, this far apart. A clean that finds such ids takes this much longer.
        wait_replicas: durability opt-in: ``add_item`` (and the other adds) and ``complete``
            return only once this many replicas of the queue's master acknowledged the write
            (Redis ``WAIT``), so a failover that promotes one of them keeps it; 0 turns this
            off.
        wait_timeout: how many seconds adds and ``complete`` wait for ``wait_replicas``; if
            fewer acknowledge in time the call raises TimeoutError (the write is on the master,
            not yet on enough replicas).
        fencing: renew, complete, fail and release of an item from a lease that was superseded
            (the item was leased again since, by any leaseq client) raise LeaseLostError and
            change nothing, instead of acting on the newer holder's delivery. Every leased item
            carries its token (``Item.fence``) either way; this makes the calls check it.

    Raises:
        InvalidArgumentError: if ``name`` is empty, ``max_attempts`` is below 1,
            ``wait_replicas`` is negative, ``backoff_max`` is shorter than ``backoff_base``,
            ``wait_timeout`` is 0 while ``wait_replicas`` is set, or a duration is negative,
            NaN, infinite or over 365 days.
    """
    def __new__(
        cls,
        connection: Connection,
        name: str,
        *,
        max_attempts: int = 25,
        backoff_base: float = 1.0,
        backoff_max: float = 3600.0,
        unique_window: float = 0.0,
        clean_grace: float = 1.0,
        wait_replicas: int = 0,
        wait_timeout: float = 1.0,
        fencing: bool = False,
    ) -> Self: ...
    @property
    def name(self) -> str:
        """The key prefix this queue was made with."""
    @property
    def session(self) -> str:
        """The id this queue handle writes into the leases it takes."""
    def add_item(self, item: Item) -> bool:
        """Adds an item. Returns False, changing nothing, if an item with this id already
        exists (or was completed within the queue's uniqueness window).

        One round trip (add-3.lua).

        Args:
            item: the item to add.

        Returns:
            True if the item was added, False if its id already existed (or was completed within
            the uniqueness window).

        Raises:
            InvalidArgumentError: if the item's id is empty or its data is over 512 MB.
        """
    def add_unique_item(self, item: Item) -> None:
        """Adds an item whose id the caller knows is new, skipping the existence check.

        If the id did exist, its data is replaced and it is queued again. One round trip.

        Args:
            item: the item to add.

        Raises:
            InvalidArgumentError: if the item's id is empty or its data is over 512 MB.
        """
    def add_items(self, items: Iterable[Item]) -> int:
        """Adds a batch of items atomically, in one round trip; each is added unless its id
        exists.

        The batch as a whole must stay under 512 MB.

        Args:
            items: the items to add.

        Returns:
            How many were added.

        Raises:
            InvalidArgumentError: if an id is empty or the batch is over 512 MB.
        """
    def add_item_with(
        self,
        item: Item,
        *,
        priority: int = 0,
        delay: float | None = None,
        at: float | datetime | None = None,
    ) -> bool:
        """Adds an item at a priority level, and/or not leasable before a delay or a time.

        Returns False, changing nothing, if the id exists (or was completed within the uniqueness
        window). Delayed items become leasable when due, in due order, moved by the lease operation
        itself: no scheduler process is needed. One round trip (add-scheduled-7.lua).

        Args:
            item: the item to add.
            priority: 0 (the default, where redis-work-queue clients add) to 9; a lease always
                takes the highest level with a due item.
            delay: not leasable until this many seconds after the add (Redis server time).
            at: not leasable before this time (Redis server clock): Unix seconds, or a datetime
                (a naive one is local time). Give ``delay`` or ``at``, not both.

        Returns:
            True if the item was added, False if its id already existed (or was completed within
            the uniqueness window).

        Raises:
            InvalidArgumentError: if the item's id is empty or its data is over 512 MB, the
                priority is not between 0 and 9, ``delay`` is negative, NaN or infinite, ``at`` is
                before 1970, or both ``delay`` and ``at`` are given.
        """
    def lease(
        self, lease_secs: float, block: bool = True, timeout: float | None = None
    ) -> Item | None:
        """Leases the next item for the given duration, or returns None.

        Takes the highest priority level that has an item, oldest first; delayed items join when
        due. With ``block`` false, returns at once. With ``block`` true, waits until an item can be
        leased, or until ``timeout`` has passed (None waits for ever); durations keep millisecond
        precision. Complete the item with ``complete`` (or ``fail``) before the lease ends, or
        extend it with ``renew``; an expired lease counts as a failed attempt and the item goes
        back to the queue. A paused queue leases nothing. The item's ``attempts`` counts this lease.

        One round trip when an item is there (lease-15.lua), which also reclaims up to 10 expired
        leases and moves up to 100 due items, so no cleaner or scheduler process is needed. A
        blocking lease on an empty queue waits on connections of its own with BLMOVEs that move
        nothing; it wakes within milliseconds of an add, a due delayed item or a resume.
        Interrupting the wait (Ctrl-C, or cancelling the asyncio task) loses nothing, and closing
        the connection ends the wait with a ConnectionError.

        Args:
            lease_secs: how long the lease lasts, in seconds (above 0, at most 365 days).
            block: wait for an item when the queue is empty.
            timeout: with ``block``, the longest wait in seconds; None waits for ever.

        Returns:
            The leased item, or None.

        Raises:
            InvalidArgumentError: if ``lease_secs`` or ``timeout`` is NaN, infinite, negative or too
                large, or ``lease_secs`` is 0.
        """
    def lease_many(
        self, lease_secs: float, count: int, block: bool = True, timeout: float | None = None
    ) -> list[Item]:
        """Leases up to ``count`` items (1 to ``MAX_BATCH``) in one round trip, each as ``lease``
        would, in the order ``lease`` would hand them out; an empty list when there is nothing (with
        ``block``, once ``timeout`` has passed).

        A batch pays the lease script's fixed cost once. Every item's lease starts now, so take only
        as many as you will start before their leases run out (or renew them). Blocking waits for
        the first item only: the call returns what is there then, which may be fewer than ``count``.

        Args:
            lease_secs: how long each lease lasts, in seconds (above 0, at most 365 days).
            count: the most items to lease, 1 to 1000 (``MAX_BATCH``).
            block: wait for an item when the queue is empty.
            timeout: with ``block``, the longest wait in seconds; None waits for ever.

        Returns:
            The leased items, in the order ``lease`` would have returned them; an empty list when
            there was none.

        Raises:
            InvalidArgumentError: if ``count`` is below 1 or above 1000, ``lease_secs`` or
                ``timeout`` is NaN, infinite, negative or too large, or ``lease_secs`` is 0.
        """
    def renew(self, item: Item, lease_secs: float) -> bool:
        """Extends the lease on the item to the given duration from now, only while this session
        still holds it. Returns False (changing nothing) if the lease expired, the item was
        completed, or another session holds it. One round trip (renew-3.lua).

        Args:
            item: an item this queue handle leased.
            lease_secs: the new lease duration from now, in seconds.

        Returns:
            True if the lease was extended.

        Raises:
            LeaseLostError: with the queue's ``fencing`` on, if ``item`` is from a superseded
                delivery (the item was leased again since); nothing changed.
            InvalidArgumentError: if the item's id is empty or ``lease_secs`` is out of range.
        """
    def complete(self, item: Item) -> bool:
        """Marks the item done and removes it from the queue for good.

        Returns True for exactly one call per item, the one that deleted its data; every other call
        (a second worker that got the item after a lease expired, a repeated call) gets False.
        Completing after the lease was lost still counts if nobody completed it first.
        One round trip (complete-15.lua).

        Args:
            item: the item to complete.

        Returns:
            True for the one call that completed the item.

        Raises:
            LeaseLostError: with the queue's ``fencing`` on, if ``item`` is from a superseded
                delivery (the item was leased again since); nothing changed.
            InvalidArgumentError: if the item's id is empty.
        """
    def complete_many(self, items: Iterable[Item]) -> list[bool]:
        """Completes a batch of items (1 to ``MAX_BATCH``) in one round trip, each as ``complete``
        would; returns one bool per item, in order.

        A batch costs Redis far less per item than single calls: the bookkeeping of the whole batch
        is one command each (complete-items-n.lua). With the queue's ``fencing`` on, an item from a
        superseded delivery gets False and nothing changes for it (where ``complete`` raises
        LeaseLostError), so one stale item never fails the batch.

        Args:
            items: the items to complete (an iterable of Item, 1 to 1000).

        Returns:
            One bool per item, in order: True for the one call that completed it.

        Raises:
            InvalidArgumentError: if there are no items or more than 1000, or an item's id is
                empty.
        """
    def complete_and_lease(
        self, item: Item, lease_secs: float, count: int
    ) -> tuple[bool, list[Item]]:
        """Completes the item and leases up to ``count`` next items (1 to ``MAX_BATCH``) in one
        round trip, as ``complete`` then a non-blocking ``lease_many`` would; returns whether this
        call completed the item, and the items leased (empty when there is nothing to lease now).

        A worker that finishes one item and takes the next pays one round trip instead of two
        (complete-lease-n.lua). As in ``complete_many``, an item from a superseded delivery (the
        queue's ``fencing``) gets False. When the lease part fails the call raises and the complete
        stands, as if its reply had been lost: completing the item again returns False.

        Args:
            item: the item to complete.
            lease_secs: how long each new lease lasts, in seconds (above 0, at most 365 days).
            count: the most items to lease, 1 to 1000 (``MAX_BATCH``).

        Returns:
            A tuple: True for the one call that completed the item, and the leased items (a list,
            in the order ``lease`` would have returned them).

        Raises:
            InvalidArgumentError: if the item's id is empty, ``count`` is below 1 or above 1000, or
                ``lease_secs`` is 0, NaN, infinite, negative or too large.
        """
    def fail(self, item: Item, error: str, retry_after: float | None = None) -> FailOutcome:
        """Ends the lease on the item with a failure: it is retried after the given delay or,
        without one, after the queue's exponential backoff with jitter, until its attempts reach the
        queue's maximum; then it moves to the dead letters, keeping its data, attempts and error.

        The delay is ``retry_after``; the maximum, the queue's ``max_attempts``. One round trip
        (fail-14.lua).

        Args:
            item: an item this queue handle leased.
            error: the error text kept with the item (the last one is kept).
            retry_after: seconds before the retry; None uses the queue's backoff.

        Returns:
            A FailOutcome: ``kind`` ``"retry"`` (due at ``retry_at``, Unix seconds by the Redis
            clock), ``"dead"`` (that was its last attempt), or ``"gone"`` (the item no longer
            exists: it was completed; nothing changed).

        Raises:
            LeaseLostError: if this session no longer holds the item (its lease expired and it was
                requeued or leased by another worker), or, with the queue's ``fencing`` on, if
                ``item`` is from a superseded delivery; nothing changed.
            InvalidArgumentError: if the item's id is empty or ``retry_after`` is negative, NaN or
                infinite.
        """
    def release(self, item: Item) -> bool:
        """Gives a leased item back at once, first in line at its level, without counting the
        attempt: for work this worker will not do (it is shutting down). One round trip
        (release-10.lua).

        Args:
            item: an item this queue handle leased.

        Returns:
            True if it was given back, False if this session no longer holds the item.

        Raises:
            LeaseLostError: with the queue's ``fencing`` on, if ``item`` is from a superseded
                delivery (the item was leased again since); nothing changed.
            InvalidArgumentError: if the item's id is empty.
        """
    def light_clean(self) -> CleanReport:
        """Returns to the queue every leased item whose lease has expired (or, on its last
        attempt, moves it to the dead letters), and drops ids in processing whose item no longer
        exists.

        Leases taken by either key generation (``lease:`` and the older ``leased_by_session:``)
        count as live. Ids left in the old generation's ``cleaning`` list are finished. Runs as a
        series of short scripts (light-clean-12.lua), one per 200 leased ids, so Redis is never
        blocked for long; safe to run while workers lease and complete.

        Returns:
            A CleanReport: how many items were requeued, how many dangling ids were dropped, and
            how many items went to the dead letters.
        """
    def deep_clean(self) -> CleanReport:
        """A light clean, then requeues every item that exists but is in no list or set and
        holds no lease (left so by a crashed client of an older generation, or by hand), and drops
        bookkeeping (attempts, errors, priorities, fencing tokens, deadlines, dead letters) of items
        that are gone.

        Walks the item keys with SCAN in batches (never KEYS), compares them against a snapshot
        of the lists, and checks each miss atomically (clean-orphan-9.lua) before requeueing it. Its
        cost grows with the number of items, so run it rarely (at start-up, or hourly), not per job.

        Returns:
            A CleanReport: how many items were requeued, how many dangling ids and entries were
            dropped, and how many items went to the dead letters.
        """
    def queue_len(self) -> int:
        """The number of items waiting to be leased (not counting those being processed).

        Returns:
            The length of the queue list.
        """
    def processing(self) -> int:
        """The number of items currently leased (being processed, or waiting for a clean).

        Returns:
            The length of the processing list.
        """
    def prioritized_len(self) -> int:
        """The number of items waiting at a priority above the default.

        Returns:
            The size of the prioritized set.
        """
    def delayed_len(self) -> int:
        """The number of items added with a delay (or scheduled) or waiting to be retried, not
        yet due.

        Returns:
            The size of the delayed set.
        """
    def dead_len(self) -> int:
        """The number of items in the dead letters.

        Returns:
            The size of the dead-letter set.
        """
    def dead_items(self, offset: int = 0, count: int = 100) -> list[DeadItem]:
        """A page of dead letters, oldest death first: at most 1000 from an offset.

        ``count`` of them from ``offset``. One round trip (dead-items-4.lua).

        Args:
            offset: how many of the oldest deaths to skip.
            count: how many to return, 1 to 1000.

        Returns:
            A list of DeadItem: each item (with its ``attempts``), its last error and when it died.

        Raises:
            InvalidArgumentError: if ``count`` is not between 1 and 1000, or ``offset`` is
                negative.
        """
    def requeue_dead(self, ids: Iterable[str]) -> int:
        """Puts dead items back in the queue at their priority with their attempts reset; returns
        how many were dead. One round trip per 1000 ids (requeue-dead-6.lua).

        Args:
            ids: the ids of the items to requeue (an iterable of str).

        Returns:
            How many of them were dead (and are now queued).
        """
    def purge_dead(self, ids: Iterable[str]) -> int:
        """Deletes dead items for good; returns how many were dead. One round trip per 1000 ids
        (purge-dead-6.lua).

        Args:
            ids: the ids of the items to delete (an iterable of str).

        Returns:
            How many of them were dead (and are now deleted).
        """
    def requeue_all_dead(self) -> int:
        """Requeues every dead item, 1000 per round trip; returns how many.

        Returns:
            How many were requeued.
        """
    def purge_all_dead(self) -> int:
        """Deletes every dead item, 1000 per round trip; returns how many.

        Returns:
            How many were deleted.
        """
    def pause(self) -> None:
        """Pauses the queue: leases return nothing (blocking ones wait) until it is resumed; adds
        still succeed. Clients of redis-work-queue do not know of pauses.
        """
    def resume(self) -> bool:
        """Resumes a paused queue and wakes its blocked leases; returns whether it was paused.
        One round trip (resume-2.lua).

        Returns:
            True if the queue was paused.
        """
    def is_paused(self) -> bool:
        """Whether the queue is paused.

        Returns:
            True while the queue is paused.
        """

@final
class AsyncConnection:
    """A connection to one Redis server, shared by any number of ``leaseq.aio.WorkQueue``s.

    Make one with ``await Connection.open(url)``. Operations are multiplexed over one socket
    that reconnects by itself; a blocking lease waits on a connection of its own so it never
    stalls the others. An async context manager: leaving the ``async with`` block closes it.
    """
    @staticmethod
    def open(
        url: str, *, connect_timeout: float = 5.0, response_timeout: float | None = 30.0
    ) -> Coroutine[Any, Any, AsyncConnection]:
        """Opens a connection from a URL.

        Connects at once, so a server that cannot be reached raises ConnectionError here
        rather than at the first operation.

        Args:
            url: ``redis://[user:password@]host:port[/db]``, ``rediss://...`` (TLS) or
                ``unix:///path/to/redis.sock``; ``?eviction=refuse`` refuses a Redis that may
                evict keys, ``?eviction=ignore`` skips that check.
            connect_timeout: how long one attempt at opening a TCP/TLS connection may take, in
                seconds; after three failed attempts it is a ConnectionError.
            response_timeout: how long one operation may wait for Redis's answer, in seconds,
                before it raises TimeoutError; None waits for ever. A blocking lease's wait is
                not bounded by it (its own ``timeout`` is). After a timeout the operation's
                outcome is unknown (it may still run, as after any lost answer); the connection
                stays usable.

        Returns:
            The open connection (a coroutine).

        Warns:
            RuntimeWarning: once, if Redis's ``maxmemory-policy`` is not ``noeviction`` (it may
                evict queue keys and lose items) or cannot be read.

        Raises:
            ConnectionError: if the server cannot be reached, or may evict keys and the URL has
                ``?eviction=refuse``.
            InvalidArgumentError: if the URL is not a Redis URL, or a timeout is 0, negative,
                NaN, infinite or too large.
        """
    def close(self) -> None:
        """Closes the connection: every handle and queue using it fails with a connection error
        from now on, and blocking leases waiting on it end with that error at once. Dropping the
        last handle closes it too.
        """
    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
    def __aenter__(self) -> Coroutine[Any, Any, Self]: ...
    def __aexit__(self, *_exc_info: object) -> Coroutine[Any, Any, Literal[False]]: ...

# Generated from WorkQueue by scripts/sync_stub_docs.py: edit WorkQueue, then run it.
@final
class AsyncWorkQueue:
    """A work queue: the keys under one prefix, reached through a shared ``leaseq.aio.Connection``.

    Every operation is a coroutine: awaiting it never blocks the event loop, and cancelling it
    loses no item. Each WorkQueue gets a fresh session id.

    The options travel with each call (they are not stored in Redis), so every process working
    a queue should use the same.

    Args:
        connection: the connection to use.
        name: the key prefix, e.g. ``"jobs"`` or ``"{jobs}"``.
        max_attempts: leases an item gets before a failure (``fail``, or an expired lease)
            sends it to the dead letters instead of back to the queue.
        backoff_base: the first retry's backoff in seconds; each later one doubles, with
            jitter.
        backoff_max: the longest backoff, in seconds.
        unique_window: how many seconds after an item is completed ``add_item`` refuses its
            id; 0 turns this off.
        clean_grace: how many seconds a clean leaves alone an id it finds in processing without
            a lease, or an item in no list, before it reclaims it (``redis-work-queue`` clients
            pop an id and write its lease in separate commands): such an id must be seen that
            way twice, this far apart. A clean that finds such ids takes this much longer.
        wait_replicas: durability opt-in: ``add_item`` (and the other adds) and ``complete``
            return only once this many replicas of the queue's master acknowledged the write
            (Redis ``WAIT``), so a failover that promotes one of them keeps it; 0 turns this
            off.
        wait_timeout: how many seconds adds and ``complete`` wait for ``wait_replicas``; if
            fewer acknowledge in time the call raises TimeoutError (the write is on the master,
            not yet on enough replicas).
        fencing: renew, complete, fail and release of an item from a lease that was superseded
            (the item was leased again since, by any leaseq client) raise LeaseLostError and
            change nothing, instead of acting on the newer holder's delivery. Every leased item
            carries its token (``Item.fence``) either way; this makes the calls check it.

    Raises:
        InvalidArgumentError: if ``name`` is empty, ``max_attempts`` is below 1,
            ``wait_replicas`` is negative, ``backoff_max`` is shorter than ``backoff_base``,
            ``wait_timeout`` is 0 while ``wait_replicas`` is set, or a duration is negative,
            NaN, infinite or over 365 days.
    """
    def __new__(
        cls,
        connection: AsyncConnection,
        name: str,
        *,
        max_attempts: int = 25,
        backoff_base: float = 1.0,
        backoff_max: float = 3600.0,
        unique_window: float = 0.0,
        clean_grace: float = 1.0,
        wait_replicas: int = 0,
        wait_timeout: float = 1.0,
        fencing: bool = False,
    ) -> Self: ...
    @property
    def name(self) -> str:
        """The key prefix this queue was made with."""
    @property
    def session(self) -> str:
        """The id this queue handle writes into the leases it takes."""
    def add_item(self, item: Item) -> Coroutine[Any, Any, bool]:
        """Adds an item. Returns False, changing nothing, if an item with this id already
        exists (or was completed within the queue's uniqueness window).

        One round trip (add-3.lua).

        Args:
            item: the item to add.

        Returns:
            True if the item was added, False if its id already existed (or was completed within
            the uniqueness window).

        Raises:
            InvalidArgumentError: if the item's id is empty or its data is over 512 MB.
        """
    def add_unique_item(self, item: Item) -> Coroutine[Any, Any, None]:
        """Adds an item whose id the caller knows is new, skipping the existence check.

        If the id did exist, its data is replaced and it is queued again. One round trip.

        Args:
            item: the item to add.

        Raises:
            InvalidArgumentError: if the item's id is empty or its data is over 512 MB.
        """
    def add_items(self, items: Iterable[Item]) -> Coroutine[Any, Any, int]:
        """Adds a batch of items atomically, in one round trip; each is added unless its id
        exists.

        The batch as a whole must stay under 512 MB.

        Args:
            items: the items to add.

        Returns:
            How many were added.

        Raises:
            InvalidArgumentError: if an id is empty or the batch is over 512 MB.
        """
    def add_item_with(
        self,
        item: Item,
        *,
        priority: int = 0,
        delay: float | None = None,
        at: float | datetime | None = None,
    ) -> Coroutine[Any, Any, bool]:
        """Adds an item at a priority level, and/or not leasable before a delay or a time.

        Returns False, changing nothing, if the id exists (or was completed within the uniqueness
        window). Delayed items become leasable when due, in due order, moved by the lease operation
        itself: no scheduler process is needed. One round trip (add-scheduled-7.lua).

        Args:
            item: the item to add.
            priority: 0 (the default, where redis-work-queue clients add) to 9; a lease always
                takes the highest level with a due item.
            delay: not leasable until this many seconds after the add (Redis server time).
            at: not leasable before this time (Redis server clock): Unix seconds, or a datetime
                (a naive one is local time). Give ``delay`` or ``at``, not both.

        Returns:
            True if the item was added, False if its id already existed (or was completed within
            the uniqueness window).

        Raises:
            InvalidArgumentError: if the item's id is empty or its data is over 512 MB, the
                priority is not between 0 and 9, ``delay`` is negative, NaN or infinite, ``at`` is
                before 1970, or both ``delay`` and ``at`` are given.
        """
    def lease(
        self, lease_secs: float, block: bool = True, timeout: float | None = None
    ) -> Coroutine[Any, Any, Item | None]:
        """Leases the next item for the given duration, or returns None.

        Takes the highest priority level that has an item, oldest first; delayed items join when
        due. With ``block`` false, returns at once. With ``block`` true, waits until an item can be
        leased, or until ``timeout`` has passed (None waits for ever); durations keep millisecond
        precision. Complete the item with ``complete`` (or ``fail``) before the lease ends, or
        extend it with ``renew``; an expired lease counts as a failed attempt and the item goes
        back to the queue. A paused queue leases nothing. The item's ``attempts`` counts this lease.

        One round trip when an item is there (lease-15.lua), which also reclaims up to 10 expired
        leases and moves up to 100 due items, so no cleaner or scheduler process is needed. A
        blocking lease on an empty queue waits on connections of its own with BLMOVEs that move
        nothing; it wakes within milliseconds of an add, a due delayed item or a resume.
        Interrupting the wait (Ctrl-C, or cancelling the asyncio task) loses nothing, and closing
        the connection ends the wait with a ConnectionError.

        Args:
            lease_secs: how long the lease lasts, in seconds (above 0, at most 365 days).
            block: wait for an item when the queue is empty.
            timeout: with ``block``, the longest wait in seconds; None waits for ever.

        Returns:
            The leased item, or None.

        Raises:
            InvalidArgumentError: if ``lease_secs`` or ``timeout`` is NaN, infinite, negative or too
                large, or ``lease_secs`` is 0.
        """
    def lease_many(
        self, lease_secs: float, count: int, block: bool = True, timeout: float | None = None
    ) -> Coroutine[Any, Any, list[Item]]:
        """Leases up to ``count`` items (1 to ``MAX_BATCH``) in one round trip, each as ``lease``
        would, in the order ``lease`` would hand them out; an empty list when there is nothing (with
        ``block``, once ``timeout`` has passed).

        A batch pays the lease script's fixed cost once. Every item's lease starts now, so take only
        as many as you will start before their leases run out (or renew them). Blocking waits for
        the first item only: the call returns what is there then, which may be fewer than ``count``.

        Args:
            lease_secs: how long each lease lasts, in seconds (above 0, at most 365 days).
            count: the most items to lease, 1 to 1000 (``MAX_BATCH``).
            block: wait for an item when the queue is empty.
            timeout: with ``block``, the longest wait in seconds; None waits for ever.

        Returns:
            The leased items, in the order ``lease`` would have returned them; an empty list when
            there was none.

        Raises:
            InvalidArgumentError: if ``count`` is below 1 or above 1000, ``lease_secs`` or
                ``timeout`` is NaN, infinite, negative or too large, or ``lease_secs`` is 0.
        """
    def renew(self, item: Item, lease_secs: float) -> Coroutine[Any, Any, bool]:
        """Extends the lease on the item to the given duration from now, only while this session
        still holds it. Returns False (changing nothing) if the lease expired, the item was
        completed, or another session holds it. One round trip (renew-3.lua).

        Args:
            item: an item this queue handle leased.
            lease_secs: the new lease duration from now, in seconds.

        Returns:
            True if the lease was extended.

        Raises:
            LeaseLostError: with the queue's ``fencing`` on, if ``item`` is from a superseded
                delivery (the item was leased again since); nothing changed.
            InvalidArgumentError: if the item's id is empty or ``lease_secs`` is out of range.
        """
    def complete(self, item: Item) -> Coroutine[Any, Any, bool]:
        """Marks the item done and removes it from the queue for good.

        Returns True for exactly one call per item, the one that deleted its data; every other call
        (a second worker that got the item after a lease expired, a repeated call) gets False.
        Completing after the lease was lost still counts if nobody completed it first.
        One round trip (complete-15.lua).

        Args:
            item: the item to complete.

        Returns:
            True for the one call that completed the item.

        Raises:
            LeaseLostError: with the queue's ``fencing`` on, if ``item`` is from a superseded
                delivery (the item was leased again since); nothing changed.
            InvalidArgumentError: if the item's id is empty.
        """
    def complete_many(self, items: Iterable[Item]) -> Coroutine[Any, Any, list[bool]]:
        """Completes a batch of items (1 to ``MAX_BATCH``) in one round trip, each as ``complete``
        would; returns one bool per item, in order.

        A batch costs Redis far less per item than single calls: the bookkeeping of the whole batch
        is one command each (complete-items-n.lua). With the queue's ``fencing`` on, an item from a
        superseded delivery gets False and nothing changes for it (where ``complete`` raises
        LeaseLostError), so one stale item never fails the batch.

        Args:
            items: the items to complete (an iterable of Item, 1 to 1000).

        Returns:
            One bool per item, in order: True for the one call that completed it.

        Raises:
            InvalidArgumentError: if there are no items or more than 1000, or an item's id is
                empty.
        """
    def complete_and_lease(
        self, item: Item, lease_secs: float, count: int
    ) -> Coroutine[Any, Any, tuple[bool, list[Item]]]:
        """Completes the item and leases up to ``count`` next items (1 to ``MAX_BATCH``) in one
        round trip, as ``complete`` then a non-blocking ``lease_many`` would; returns whether this
        call completed the item, and the items leased (empty when there is nothing to lease now).

        A worker that finishes one item and takes the next pays one round trip instead of two
        (complete-lease-n.lua). As in ``complete_many``, an item from a superseded delivery (the
        queue's ``fencing``) gets False. When the lease part fails the call raises and the complete
        stands, as if its reply had been lost: completing the item again returns False.

        Args:
            item: the item to complete.
            lease_secs: how long each new lease lasts, in seconds (above 0, at most 365 days).
            count: the most items to lease, 1 to 1000 (``MAX_BATCH``).

        Returns:
            A tuple: True for the one call that completed the item, and the leased items (a list,
            in the order ``lease`` would have returned them).

        Raises:
            InvalidArgumentError: if the item's id is empty, ``count`` is below 1 or above 1000, or
                ``lease_secs`` is 0, NaN, infinite, negative or too large.
        """
    def fail(
        self, item: Item, error: str, retry_after: float | None = None
    ) -> Coroutine[Any, Any, FailOutcome]:
        """Ends the lease on the item with a failure: it is retried after the given delay or,
        without one, after the queue's exponential backoff with jitter, until its attempts reach the
        queue's maximum; then it moves to the dead letters, keeping its data, attempts and error.

        The delay is ``retry_after``; the maximum, the queue's ``max_attempts``. One round trip
        (fail-14.lua).

        Args:
            item: an item this queue handle leased.
            error: the error text kept with the item (the last one is kept).
            retry_after: seconds before the retry; None uses the queue's backoff.

        Returns:
            A FailOutcome: ``kind`` ``"retry"`` (due at ``retry_at``, Unix seconds by the Redis
            clock), ``"dead"`` (that was its last attempt), or ``"gone"`` (the item no longer
            exists: it was completed; nothing changed).

        Raises:
            LeaseLostError: if this session no longer holds the item (its lease expired and it was
                requeued or leased by another worker), or, with the queue's ``fencing`` on, if
                ``item`` is from a superseded delivery; nothing changed.
            InvalidArgumentError: if the item's id is empty or ``retry_after`` is negative, NaN or
                infinite.
        """
    def release(self, item: Item) -> Coroutine[Any, Any, bool]:
        """Gives a leased item back at once, first in line at its level, without counting the
        attempt: for work this worker will not do (it is shutting down). One round trip
        (release-10.lua).

        Args:
            item: an item this queue handle leased.

        Returns:
            True if it was given back, False if this session no longer holds the item.

        Raises:
            LeaseLostError: with the queue's ``fencing`` on, if ``item`` is from a superseded
                delivery (the item was leased again since); nothing changed.
            InvalidArgumentError: if the item's id is empty.
        """
    def light_clean(self) -> Coroutine[Any, Any, CleanReport]:
        """Returns to the queue every leased item whose lease has expired (or, on its last
        attempt, moves it to the dead letters), and drops ids in processing whose item no longer
        exists.

        Leases taken by either key generation (``lease:`` and the older ``leased_by_session:``)
        count as live. Ids left in the old generation's ``cleaning`` list are finished. Runs as a
        series of short scripts (light-clean-12.lua), one per 200 leased ids, so Redis is never
        blocked for long; safe to run while workers lease and complete.

        Returns:
            A CleanReport: how many items were requeued, how many dangling ids were dropped, and
            how many items went to the dead letters.
        """
    def deep_clean(self) -> Coroutine[Any, Any, CleanReport]:
        """A light clean, then requeues every item that exists but is in no list or set and
        holds no lease (left so by a crashed client of an older generation, or by hand), and drops
        bookkeeping (attempts, errors, priorities, fencing tokens, deadlines, dead letters) of items
        that are gone.

        Walks the item keys with SCAN in batches (never KEYS), compares them against a snapshot
        of the lists, and checks each miss atomically (clean-orphan-9.lua) before requeueing it. Its
        cost grows with the number of items, so run it rarely (at start-up, or hourly), not per job.

        Returns:
            A CleanReport: how many items were requeued, how many dangling ids and entries were
            dropped, and how many items went to the dead letters.
        """
    def queue_len(self) -> Coroutine[Any, Any, int]:
        """The number of items waiting to be leased (not counting those being processed).

        Returns:
            The length of the queue list.
        """
    def processing(self) -> Coroutine[Any, Any, int]:
        """The number of items currently leased (being processed, or waiting for a clean).

        Returns:
            The length of the processing list.
        """
    def prioritized_len(self) -> Coroutine[Any, Any, int]:
        """The number of items waiting at a priority above the default.

        Returns:
            The size of the prioritized set.
        """
    def delayed_len(self) -> Coroutine[Any, Any, int]:
        """The number of items added with a delay (or scheduled) or waiting to be retried, not
        yet due.

        Returns:
            The size of the delayed set.
        """
    def dead_len(self) -> Coroutine[Any, Any, int]:
        """The number of items in the dead letters.

        Returns:
            The size of the dead-letter set.
        """
    def dead_items(self, offset: int = 0, count: int = 100) -> Coroutine[Any, Any, list[DeadItem]]:
        """A page of dead letters, oldest death first: at most 1000 from an offset.

        ``count`` of them from ``offset``. One round trip (dead-items-4.lua).

        Args:
            offset: how many of the oldest deaths to skip.
            count: how many to return, 1 to 1000.

        Returns:
            A list of DeadItem: each item (with its ``attempts``), its last error and when it died.

        Raises:
            InvalidArgumentError: if ``count`` is not between 1 and 1000, or ``offset`` is
                negative.
        """
    def requeue_dead(self, ids: Iterable[str]) -> Coroutine[Any, Any, int]:
        """Puts dead items back in the queue at their priority with their attempts reset; returns
        how many were dead. One round trip per 1000 ids (requeue-dead-6.lua).

        Args:
            ids: the ids of the items to requeue (an iterable of str).

        Returns:
            How many of them were dead (and are now queued).
        """
    def purge_dead(self, ids: Iterable[str]) -> Coroutine[Any, Any, int]:
        """Deletes dead items for good; returns how many were dead. One round trip per 1000 ids
        (purge-dead-6.lua).

        Args:
            ids: the ids of the items to delete (an iterable of str).

        Returns:
            How many of them were dead (and are now deleted).
        """
    def requeue_all_dead(self) -> Coroutine[Any, Any, int]:
        """Requeues every dead item, 1000 per round trip; returns how many.

        Returns:
            How many were requeued.
        """
    def purge_all_dead(self) -> Coroutine[Any, Any, int]:
        """Deletes every dead item, 1000 per round trip; returns how many.

        Returns:
            How many were deleted.
        """
    def pause(self) -> Coroutine[Any, Any, None]:
        """Pauses the queue: leases return nothing (blocking ones wait) until it is resumed; adds
        still succeed. Clients of redis-work-queue do not know of pauses.
        """
    def resume(self) -> Coroutine[Any, Any, bool]:
        """Resumes a paused queue and wakes its blocked leases; returns whether it was paused.
        One round trip (resume-2.lua).

        Returns:
            True if the queue was paused.
        """
    def is_paused(self) -> Coroutine[Any, Any, bool]:
        """Whether the queue is paused.

        Returns:
            True while the queue is paused.
        """

@final
class Worker:
    """Runs a handler over a queue until stopped: leases items, runs the handler on each (up to
    ``concurrency`` at once), renews their leases while it runs, completes an item when the
    handler returns and fails it when the handler raises or times out. The loop is the core's,
    the same in every language.

    A plain function runs on daemon threads the worker keeps for the run, so up to
    ``concurrency`` run in parallel (the GIL allowing). An ``async def`` function runs as a task
    on an asyncio event loop: the one awaiting ``run_async``, or a private one on a thread of its
    own for ``run``.
    An exception fails the item with the error ``f"{type(exc).__name__}: {exc}"``: it is
    retried after the queue's backoff, or goes to the dead letters on its last attempt.

    Routing by type: with a mapping ``{type_name: handler}``, each item runs on the handler of
    its ``Item.type_name`` (the string field ``"type"`` of its JSON object data); each handler
    may be a function or an ``async def`` one. An item with no type, or of a type with no
    handler, fails with an error that says so and names the types handled, e.g.
    ``unknown item type "fax"; this worker handles: email, resize``; it is retried like any
    failure, so a worker deployed later with that handler can still run it.

    Graceful shutdown: after ``stop()``, the worker leases nothing more, lets running handlers
    finish within ``shutdown_timeout``, and releases the rest back to the queue at once. A plain
    handler given up on (timed out, or past the shutdown timeout) still runs on its thread to
    its end; its result is ignored. An async one is cancelled.

    Args:
        queue: the queue to work (a ``leaseq.WorkQueue`` or a ``leaseq.aio.WorkQueue``).
        handler: called with each Item: a function, or an ``async def`` function; or a
            mapping of item type names to such functions, one per type.
        concurrency: items run at once.
        lease_secs: the lease taken on each item, renewed every third of it while the handler
            runs.
        job_timeout: seconds after which a handler is given up on and its item failed with a
            timeout; None never.
        shutdown_timeout: after ``stop()``, how many seconds running handlers may still
            finish.
        clean_every: how often, in seconds, the worker runs a light clean (for leases of
            redis-work-queue clients and dead workers); None never.
        before: called with each item before its handler runs (middleware: logging, metrics,
            tracing).
        after: called with each item and how its run ended, a JobOutcome: a ``str``,
            ``"completed"``, ``"failed"``, ``"released"`` (the worker stopped first) or
            ``"lease_lost"``, with ``completed`` (this worker's ``complete`` was the one) and
            ``error`` (the failure's). Hooks run on leaseq's threads; an exception in one is
            reported through ``sys.unraisablehook`` and ignored.

    Raises:
        InvalidArgumentError: if ``concurrency`` is below 1, a duration is 0 (where refused),
            negative, NaN, infinite or too large, or ``handler`` is an empty mapping or has an
            empty item type name.
        TypeError: if ``queue`` is not a WorkQueue, ``handler`` is neither callable nor a
            mapping, a type name in it is not a ``str`` or a handler in it not callable, or a
            hook is not callable.
    """
    def __new__(
        cls,
        queue: WorkQueue | AsyncWorkQueue,
        handler: Callable[[Item], object] | Mapping[str, Callable[[Item], object]],
        *,
        concurrency: int = 1,
        lease_secs: float = 30.0,
        job_timeout: float | None = None,
        shutdown_timeout: float = 10.0,
        clean_every: float | None = 5.0,
        before: Callable[[Item], object] | None = None,
        after: Callable[[Item, JobOutcome], object] | None = None,
    ) -> Self: ...
    def run(self, stop_on_signals: bool = False) -> None:
        """Runs until ``stop()``: blocks the calling thread (with the GIL released, so other
        threads and the handlers run). Returns once the worker has shut down: handlers
        finished, or their items released after the shutdown timeout.

        Ctrl-C (KeyboardInterrupt) stops the worker the same way, then is raised. Errors
        talking to Redis are retried after a short pause rather than ending the run.

        Args:
            stop_on_signals: also stop gracefully on SIGTERM and SIGINT (and return normally):
                installs Python signal handlers for the run, so call it from the main thread.
                The previous handlers are put back when it returns.

        Raises:
            InvalidArgumentError: if ``stop_on_signals`` is true off the main thread, or the
                worker is already running.
        """
    def run_async(self, stop_on_signals: bool = False) -> Coroutine[Any, Any, None]:
        """Runs until ``stop()``, as a coroutine on the running event loop (where an ``async def``
        handler runs too). Cancelling it stops the worker gracefully.

        Args:
            stop_on_signals: also stop gracefully on SIGTERM and SIGINT: installs Python
                signal handlers for the run, so await it on the main thread. The previous
                handlers are put back when it ends.

        Returns:
            A coroutine that ends once the worker has shut down.

        Raises:
            InvalidArgumentError: if ``stop_on_signals`` is true off the main thread, or the
                worker is already running.
        """
    def stop(self) -> None:
        """Asks the worker to stop: it leases nothing more, lets running handlers finish within
        the shutdown timeout, and releases the rest. ``run`` returns once that is done. Safe
        to call from any thread and from a signal handler.
        """
    @property
    def counters(self) -> WorkerCounters:
        """What the worker has done so far (a WorkerCounters snapshot)."""

@final
class WorkerCounters:
    """What a worker has done so far: a snapshot."""
    @property
    def leased(self) -> int:
        """Items leased."""
    @property
    def completed(self) -> int:
        """Items completed (the handler succeeded and ``complete`` returned True)."""
    @property
    def failed(self) -> int:
        """Handler failures and timeouts."""
    @property
    def retried(self) -> int:
        """Failures that were scheduled for a retry (the rest went to the dead letters)."""
    @property
    def renewed(self) -> int:
        """Successful lease renewals (heartbeats)."""
    @property
    def in_flight(self) -> int:
        """Items held now: the handler running, or the complete on its way."""
    def __eq__(self, value: object, /) -> bool: ...
