//! The docstrings shared by the blocking and asyncio classes: the core's rustdoc, in Python's
//! `Args:`/`Returns:` style. `python/leaseq/_native.pyi` repeats them; a test keeps them equal.
//! (Macros, because pyo3 reads `#[doc = ...]` attributes, which take a literal or a macro; they
//! are textually scoped, so `lib.rs` declares this module first, with `#[macro_use]`.)

macro_rules! doc {
    ($name:ident, $text:literal) => {
        macro_rules! $name {
            () => {
                $text
            };
        }
    };
}

doc!(
    doc_connection_close,
    "Closes the connection: every handle and queue using it fails with a connection error
from now on. Dropping the last handle closes it too."
);

doc!(doc_connection_closed, "True once ``close()`` was called.");

doc!(doc_queue_name, "The key prefix this queue was made with.");

doc!(
    doc_queue_session,
    "The id this queue handle writes into the leases it takes."
);

doc!(
    doc_add_item,
    "Adds an item. Returns False, changing nothing, if an item with this id already
exists.

One round trip (add-2.lua).

Args:
    item: the item to add.

Returns:
    True if the item was added, False if an item with its id already existed.

Raises:
    InvalidArgumentError: if the item's id is empty or its data is over 512 MB."
);

doc!(
    doc_add_unique_item,
    "Adds an item whose id the caller knows is new, skipping the existence check.

If the id did exist, its data is replaced and it is queued again. One round trip.

Args:
    item: the item to add.

Raises:
    InvalidArgumentError: if the item's id is empty or its data is over 512 MB."
);

doc!(
    doc_add_items,
    "Adds a batch of items atomically, in one round trip; each is added unless its id
exists.

The batch as a whole must stay under 512 MB.

Args:
    items: the items to add.

Returns:
    How many were added.

Raises:
    InvalidArgumentError: if an id is empty or the batch is over 512 MB."
);

doc!(
    doc_lease,
    "Leases the next item for ``lease_secs``, or returns None.

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
        large, or ``lease_secs`` is 0."
);

doc!(
    doc_renew,
    "Extends the lease on ``item`` to ``lease_secs`` from now, only while this session
still holds it. Returns False (changing nothing) if the lease expired, the item was
completed, or another session holds it. One round trip (renew-1.lua).

Args:
    item: an item this queue handle leased.
    lease_secs: the new lease duration from now, in seconds.

Returns:
    True if the lease was extended.

Raises:
    InvalidArgumentError: if the item's id is empty or ``lease_secs`` is out of range."
);

doc!(
    doc_complete,
    "Marks ``item`` done and removes it from the queue for good.

Returns True for exactly one call per item, the one that deleted its data; every other call
(a second worker that got the item after a lease expired, a repeated call) gets False.
Completing after the lease was lost still counts if nobody completed it first.
One round trip (complete-5.lua).

Args:
    item: the item to complete.

Returns:
    True for the one call that completed the item.

Raises:
    InvalidArgumentError: if the item's id is empty."
);

doc!(
    doc_light_clean,
    "Returns to the queue every leased item whose lease has expired, and drops ids in
processing whose item no longer exists.

Leases taken by either key generation (``lease:`` and the older ``leased_by_session:``)
count as live. Ids left in the old generation's ``cleaning`` list are finished. Runs as a
series of short scripts (light-clean-5.lua), one per 200 leased ids, so Redis is never
blocked for long; safe to run while workers lease and complete.

Returns:
    A CleanReport: how many items were requeued and how many dangling ids were dropped."
);

doc!(
    doc_deep_clean,
    "A light clean, then requeues every item that exists but is in no list and holds no
lease (left so by a crashed client of an older generation, or by hand).

Walks the item keys with SCAN in batches (never KEYS), compares them against a snapshot
of the lists, and checks each miss atomically (clean-orphan-6.lua) before requeueing it. Its
cost grows with the number of items, so run it rarely (at start-up, or hourly), not per job.

Returns:
    A CleanReport: how many items were requeued and how many dangling ids were dropped."
);

doc!(
    doc_queue_len,
    "The number of items waiting to be leased (not counting those being processed).

Returns:
    The length of the queue list."
);

doc!(
    doc_processing,
    "The number of items currently leased (being processed, or waiting for a clean).

Returns:
    The length of the processing list."
);
