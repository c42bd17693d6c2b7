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
from now on, and blocking leases waiting on it end with that error at once. Dropping the
last handle closes it too."
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
exists (or was completed within the queue's uniqueness window).

One round trip (add-3.lua).

Args:
    item: the item to add.

Returns:
    True if the item was added, False if its id already existed (or was completed within
    the uniqueness window).

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
    doc_add_item_with,
    "Adds an item at a priority level, and/or not leasable before a delay or a time.

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
        before 1970, or both ``delay`` and ``at`` are given."
);

doc!(
    doc_lease,
    "Leases the next item for ``lease_secs``, or returns None.

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
        large, or ``lease_secs`` is 0."
);

doc!(
    doc_renew,
    "Extends the lease on ``item`` to ``lease_secs`` from now, only while this session
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
    InvalidArgumentError: if the item's id is empty or ``lease_secs`` is out of range."
);

doc!(
    doc_complete,
    "Marks ``item`` done and removes it from the queue for good.

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
    InvalidArgumentError: if the item's id is empty."
);

doc!(
    doc_fail,
    "Ends the lease on ``item`` with a failure: it is retried after ``retry_after``, or
after the queue's exponential backoff with jitter when None, until its attempts reach the
queue's ``max_attempts``; then it moves to the dead letters, keeping its data, attempts and
``error``. One round trip (fail-14.lua).

Args:
    item: an item this queue handle leased.
    error: the error text kept with the item (the last one is kept).
    retry_after: seconds before the retry; None uses the queue's backoff.

Returns:
    A FailOutcome: ``kind`` ``\"retry\"`` (due at ``retry_at``, Unix seconds by the Redis
    clock), ``\"dead\"`` (that was its last attempt), or ``\"gone\"`` (the item no longer
    exists: it was completed; nothing changed).

Raises:
    LeaseLostError: if this session no longer holds the item (its lease expired and it was
        requeued or leased by another worker), or, with the queue's ``fencing`` on, if
        ``item`` is from a superseded delivery; nothing changed.
    InvalidArgumentError: if the item's id is empty or ``retry_after`` is negative, NaN or
        infinite."
);

doc!(
    doc_release,
    "Gives a leased item back at once, first in line at its level, without counting the
attempt: for work this worker will not do (it is shutting down). One round trip
(release-10.lua).

Args:
    item: an item this queue handle leased.

Returns:
    True if it was given back, False if this session no longer holds the item.

Raises:
    LeaseLostError: with the queue's ``fencing`` on, if ``item`` is from a superseded
        delivery (the item was leased again since); nothing changed.
    InvalidArgumentError: if the item's id is empty."
);

doc!(
    doc_light_clean,
    "Returns to the queue every leased item whose lease has expired (or, on its last
attempt, moves it to the dead letters), and drops ids in processing whose item no longer
exists.

Leases taken by either key generation (``lease:`` and the older ``leased_by_session:``)
count as live. Ids left in the old generation's ``cleaning`` list are finished. Runs as a
series of short scripts (light-clean-12.lua), one per 200 leased ids, so Redis is never
blocked for long; safe to run while workers lease and complete.

Returns:
    A CleanReport: how many items were requeued, how many dangling ids were dropped, and
    how many items went to the dead letters."
);

doc!(
    doc_deep_clean,
    "A light clean, then requeues every item that exists but is in no list or set and
holds no lease (left so by a crashed client of an older generation, or by hand), and drops
bookkeeping (attempts, errors, priorities, deadlines, dead letters) of items that are gone.

Walks the item keys with SCAN in batches (never KEYS), compares them against a snapshot
of the lists, and checks each miss atomically (clean-orphan-9.lua) before requeueing it. Its
cost grows with the number of items, so run it rarely (at start-up, or hourly), not per job.

Returns:
    A CleanReport: how many items were requeued, how many dangling ids and entries were
    dropped, and how many items went to the dead letters."
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

doc!(
    doc_prioritized_len,
    "The number of items waiting at a priority above the default.

Returns:
    The size of the prioritized set."
);

doc!(
    doc_delayed_len,
    "The number of items added with a delay (or scheduled) or waiting to be retried, not
yet due.

Returns:
    The size of the delayed set."
);

doc!(
    doc_dead_len,
    "The number of items in the dead letters.

Returns:
    The size of the dead-letter set."
);

doc!(
    doc_dead_items,
    "A page of dead letters, oldest death first: ``count`` (at most 1000) from ``offset``.
One round trip (dead-items-4.lua).

Args:
    offset: how many of the oldest deaths to skip.
    count: how many to return, 1 to 1000.

Returns:
    A list of DeadItem: each item (with its ``attempts``), its last error and when it died.

Raises:
    InvalidArgumentError: if ``count`` is not between 1 and 1000, or ``offset`` is
        negative."
);

doc!(
    doc_requeue_dead,
    "Puts dead items back in the queue at their priority with their attempts reset.
One round trip per 1000 ids (requeue-dead-6.lua).

Args:
    ids: the ids of the items to requeue (an iterable of str).

Returns:
    How many of them were dead (and are now queued)."
);

doc!(
    doc_purge_dead,
    "Deletes dead items for good. One round trip per 1000 ids (purge-dead-6.lua).

Args:
    ids: the ids of the items to delete (an iterable of str).

Returns:
    How many of them were dead (and are now deleted)."
);

doc!(
    doc_requeue_all_dead,
    "Requeues every dead item, 1000 per round trip.

Returns:
    How many were requeued."
);

doc!(
    doc_purge_all_dead,
    "Deletes every dead item, 1000 per round trip.

Returns:
    How many were deleted."
);

doc!(
    doc_pause,
    "Pauses the queue: leases return nothing (blocking ones wait) until ``resume``; adds
still succeed. Clients of redis-work-queue do not know of pauses."
);

doc!(
    doc_resume,
    "Resumes a paused queue and wakes its blocked leases. One round trip (resume-2.lua).

Returns:
    True if the queue was paused."
);

doc!(
    doc_is_paused,
    "Whether the queue is paused.

Returns:
    True while the queue is paused."
);
