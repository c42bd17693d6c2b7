"""Types of the compiled module ``leaseq._native``. Import from ``leaseq`` and ``leaseq.aio``.

The docstrings repeat the compiled ones (``tests/test_stub.py`` keeps them equal), and
``python -m mypy.stubtest leaseq`` checks the names and signatures against the module.
"""

from collections.abc import Coroutine, Iterable
from typing import Any, Literal, final

from typing_extensions import Self

from leaseq.exceptions import Error

__all__ = [
    "ERROR_KINDS",
    "AsyncConnection",
    "AsyncWorkQueue",
    "CleanReport",
    "Connection",
    "Item",
    "WorkQueue",
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
    Items are immutable.

    Args:
        data: the item's data, stored as is (``str`` is encoded as UTF-8).
        id: the item's id; None makes a random UUID (v4). The id is checked when the item is
            added.
    """
    def __new__(cls, data: bytes | bytearray | str, id: str | None = None) -> Self: ...
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
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[type[Item], tuple[bytes, str]]:
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
            ``unix:///path/to/redis.sock``.

    Raises:
        ConnectionError: if the server cannot be reached.
        InvalidArgumentError: if the URL is not a Redis URL.
    """
    def __new__(cls, url: str) -> Self: ...
    def close(self) -> None:
        """Closes the connection: every handle and queue using it fails with a connection error
        from now on. Dropping the last handle closes it too.
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

    Args:
        connection: the connection to use.
        name: the key prefix, e.g. ``"jobs"`` or ``"{jobs}"``.

    Raises:
        InvalidArgumentError: if ``name`` is empty.
    """
    def __new__(cls, connection: Connection, name: str) -> Self: ...
    @property
    def name(self) -> str:
        """The key prefix this queue was made with."""
    @property
    def session(self) -> str:
        """The id this queue handle writes into the leases it takes."""
    def add_item(self, item: Item) -> bool:
        """Adds an item. Returns False, changing nothing, if an item with this id already
        exists.

        One round trip (add-2.lua).

        Args:
            item: the item to add.

        Returns:
            True if the item was added, False if an item with its id already existed.

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
    def lease(
        self, lease_secs: float, block: bool = True, timeout: float | None = None
    ) -> Item | None:
        """Leases the next item for ``lease_secs``, or returns None.

        With ``block`` false, returns at once. With ``block`` true, waits until an item can be
        leased, or until ``timeout`` has passed (None waits for ever). Durations keep millisecond
        precision. Complete the item with ``complete`` before the lease ends, or extend it with
        ``renew``; otherwise a clean returns it to the queue for another worker.

        One round trip when an item is there (lease-4.lua). A blocking lease on an empty queue
        waits on a connection of its own with a BLMOVE that moves nothing, then leases with the
        same script. Interrupting the wait (Ctrl-C, or cancelling the asyncio task) loses nothing.

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
    def renew(self, item: Item, lease_secs: float) -> bool:
        """Extends the lease on ``item`` to ``lease_secs`` from now, only while this session
        still holds it. Returns False (changing nothing) if the lease expired, the item was
        completed, or another session holds it. One round trip (renew-1.lua).

        Args:
            item: an item this queue handle leased.
            lease_secs: the new lease duration from now, in seconds.

        Returns:
            True if the lease was extended.

        Raises:
            InvalidArgumentError: if the item's id is empty or ``lease_secs`` is out of range.
        """
    def complete(self, item: Item) -> bool:
        """Marks ``item`` done and removes it from the queue for good.

        Returns True for exactly one call per item, the one that deleted its data; every other call
        (a second worker that got the item after a lease expired, a repeated call) gets False.
        Completing after the lease was lost still counts if nobody completed it first.
        One round trip (complete-5.lua).

        Args:
            item: the item to complete.

        Returns:
            True for the one call that completed the item.

        Raises:
            InvalidArgumentError: if the item's id is empty.
        """
    def light_clean(self) -> CleanReport:
        """Returns to the queue every leased item whose lease has expired, and drops ids in
        processing whose item no longer exists.

        Leases taken by either key generation (``lease:`` and the older ``leased_by_session:``)
        count as live. Ids left in the old generation's ``cleaning`` list are finished. Runs as a
        series of short scripts (light-clean-5.lua), one per 200 leased ids, so Redis is never
        blocked for long; safe to run while workers lease and complete.

        Returns:
            A CleanReport: how many items were requeued and how many dangling ids were dropped.
        """
    def deep_clean(self) -> CleanReport:
        """A light clean, then requeues every item that exists but is in no list and holds no
        lease (left so by a crashed client of an older generation, or by hand).

        Walks the item keys with SCAN in batches (never KEYS), compares them against a snapshot
        of the lists, and checks each miss atomically (clean-orphan-6.lua) before requeueing it. Its
        cost grows with the number of items, so run it rarely (at start-up, or hourly), not per job.

        Returns:
            A CleanReport: how many items were requeued and how many dangling ids were dropped.
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

@final
class AsyncConnection:
    """A connection to one Redis server, shared by any number of ``leaseq.aio.WorkQueue``s.

    Make one with ``await Connection.open(url)``. Operations are multiplexed over one socket
    that reconnects by itself; a blocking lease waits on a connection of its own so it never
    stalls the others. An async context manager: leaving the ``async with`` block closes it.
    """
    @staticmethod
    def open(url: str) -> Coroutine[Any, Any, AsyncConnection]:
        """Opens a connection from a URL.

        Connects at once, so a server that cannot be reached raises ConnectionError here
        rather than at the first operation.

        Args:
            url: ``redis://[user:password@]host:port[/db]``, ``rediss://...`` (TLS) or
                ``unix:///path/to/redis.sock``.

        Returns:
            The open connection (a coroutine).

        Raises:
            ConnectionError: if the server cannot be reached.
            InvalidArgumentError: if the URL is not a Redis URL.
        """
    def close(self) -> None:
        """Closes the connection: every handle and queue using it fails with a connection error
        from now on. Dropping the last handle closes it too.
        """
    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
    def __aenter__(self) -> Coroutine[Any, Any, Self]: ...
    def __aexit__(self, *_exc_info: object) -> Coroutine[Any, Any, Literal[False]]: ...

@final
class AsyncWorkQueue:
    """A work queue: the keys under one prefix, reached through a shared ``leaseq.aio.Connection``.

    Every operation is a coroutine: awaiting it never blocks the event loop, and cancelling it
    loses no item. Each WorkQueue gets a fresh session id.

    Args:
        connection: the connection to use.
        name: the key prefix, e.g. ``"jobs"`` or ``"{jobs}"``.

    Raises:
        InvalidArgumentError: if ``name`` is empty.
    """
    def __new__(cls, connection: AsyncConnection, name: str) -> Self: ...
    @property
    def name(self) -> str:
        """The key prefix this queue was made with."""
    @property
    def session(self) -> str:
        """The id this queue handle writes into the leases it takes."""
    def add_item(self, item: Item) -> Coroutine[Any, Any, bool]:
        """Adds an item. Returns False, changing nothing, if an item with this id already
        exists.

        One round trip (add-2.lua).

        Args:
            item: the item to add.

        Returns:
            True if the item was added, False if an item with its id already existed.

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
    def lease(
        self, lease_secs: float, block: bool = True, timeout: float | None = None
    ) -> Coroutine[Any, Any, Item | None]:
        """Leases the next item for ``lease_secs``, or returns None.

        With ``block`` false, returns at once. With ``block`` true, waits until an item can be
        leased, or until ``timeout`` has passed (None waits for ever). Durations keep millisecond
        precision. Complete the item with ``complete`` before the lease ends, or extend it with
        ``renew``; otherwise a clean returns it to the queue for another worker.

        One round trip when an item is there (lease-4.lua). A blocking lease on an empty queue
        waits on a connection of its own with a BLMOVE that moves nothing, then leases with the
        same script. Interrupting the wait (Ctrl-C, or cancelling the asyncio task) loses nothing.

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
    def renew(self, item: Item, lease_secs: float) -> Coroutine[Any, Any, bool]:
        """Extends the lease on ``item`` to ``lease_secs`` from now, only while this session
        still holds it. Returns False (changing nothing) if the lease expired, the item was
        completed, or another session holds it. One round trip (renew-1.lua).

        Args:
            item: an item this queue handle leased.
            lease_secs: the new lease duration from now, in seconds.

        Returns:
            True if the lease was extended.

        Raises:
            InvalidArgumentError: if the item's id is empty or ``lease_secs`` is out of range.
        """
    def complete(self, item: Item) -> Coroutine[Any, Any, bool]:
        """Marks ``item`` done and removes it from the queue for good.

        Returns True for exactly one call per item, the one that deleted its data; every other call
        (a second worker that got the item after a lease expired, a repeated call) gets False.
        Completing after the lease was lost still counts if nobody completed it first.
        One round trip (complete-5.lua).

        Args:
            item: the item to complete.

        Returns:
            True for the one call that completed the item.

        Raises:
            InvalidArgumentError: if the item's id is empty.
        """
    def light_clean(self) -> Coroutine[Any, Any, CleanReport]:
        """Returns to the queue every leased item whose lease has expired, and drops ids in
        processing whose item no longer exists.

        Leases taken by either key generation (``lease:`` and the older ``leased_by_session:``)
        count as live. Ids left in the old generation's ``cleaning`` list are finished. Runs as a
        series of short scripts (light-clean-5.lua), one per 200 leased ids, so Redis is never
        blocked for long; safe to run while workers lease and complete.

        Returns:
            A CleanReport: how many items were requeued and how many dangling ids were dropped.
        """
    def deep_clean(self) -> Coroutine[Any, Any, CleanReport]:
        """A light clean, then requeues every item that exists but is in no list and holds no
        lease (left so by a crashed client of an older generation, or by hand).

        Walks the item keys with SCAN in batches (never KEYS), compares them against a snapshot
        of the lists, and checks each miss atomically (clean-orphan-6.lua) before requeueing it. Its
        cost grows with the number of items, so run it rarely (at start-up, or hourly), not per job.

        Returns:
            A CleanReport: how many items were requeued and how many dangling ids were dropped.
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
