//! The long docstrings: the queue operations' (shared by the blocking and asyncio classes: the
//! core's rustdoc, in Python's `Args:`/`Returns:` style) and the Worker's.
//! `python/leaseq/_native.pyi` repeats them (scripts/sync_stub_docs.py writes them there); a
//! test keeps them equal.
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

doc!(
    doc_work_queue_options,
    "The options travel with each call (they are not stored in Redis), so every process working
a queue should use the same.

Args:
    connection: the connection to use.
    name: the key prefix, e.g. ``\"jobs\"`` or ``\"{jobs}\"``.
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
        NaN, infinite or over 365 days."
);

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
    "Leases the next item for the given duration, or returns None.

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
    doc_lease_many,
    "Leases up to ``count`` items (1 to ``MAX_BATCH``) in one round trip, each as ``lease``
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
        ``timeout`` is NaN, infinite, negative or too large, or ``lease_secs`` is 0."
);

doc!(
    doc_renew,
    "Extends the lease on the item to the given duration from now, only while this session
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
    "Marks the item done and removes it from the queue for good.

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
    doc_complete_many,
    "Completes a batch of items (1 to ``MAX_BATCH``) in one round trip, each as ``complete``
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
        empty."
);

doc!(
    doc_complete_and_lease,
    "Completes the item and leases up to ``count`` next items (1 to ``MAX_BATCH``) in one
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
        ``lease_secs`` is 0, NaN, infinite, negative or too large."
);

doc!(
    doc_fail,
    "Ends the lease on the item with a failure: it is retried after the given delay or,
without one, after the queue's exponential backoff with jitter, until its attempts reach the
queue's maximum; then it moves to the dead letters, keeping its data, attempts and error.

The delay is ``retry_after``; the maximum, the queue's ``max_attempts``. One round trip
(fail-14.lua).

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
bookkeeping (attempts, errors, priorities, fencing tokens, deadlines, dead letters) of items
that are gone.

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
    "A page of dead letters, oldest death first: at most 1000 from an offset.

``count`` of them from ``offset``. One round trip (dead-items-4.lua).

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
    "Puts dead items back in the queue at their priority with their attempts reset; returns
how many were dead. One round trip per 1000 ids (requeue-dead-6.lua).

Args:
    ids: the ids of the items to requeue (an iterable of str).

Returns:
    How many of them were dead (and are now queued)."
);

doc!(
    doc_purge_dead,
    "Deletes dead items for good; returns how many were dead. One round trip per 1000 ids
(purge-dead-6.lua).

Args:
    ids: the ids of the items to delete (an iterable of str).

Returns:
    How many of them were dead (and are now deleted)."
);

doc!(
    doc_requeue_all_dead,
    "Requeues every dead item, 1000 per round trip; returns how many.

Returns:
    How many were requeued."
);

doc!(
    doc_purge_all_dead,
    "Deletes every dead item, 1000 per round trip; returns how many.

Returns:
    How many were deleted."
);

doc!(
    doc_pause,
    "Pauses the queue: leases return nothing (blocking ones wait) until it is resumed; adds
still succeed. Clients of redis-work-queue do not know of pauses."
);

doc!(
    doc_resume,
    "Resumes a paused queue and wakes its blocked leases; returns whether it was paused.
One round trip (resume-2.lua).

Returns:
    True if the queue was paused."
);

doc!(
    doc_is_paused,
    "Whether the queue is paused.

Returns:
    True while the queue is paused."
);
doc!(
    doc_worker,
    "Runs a handler over a queue until stopped: leases items, runs the handler on each (up to
``concurrency`` at once), renews their leases while it runs, completes an item when the
handler returns and fails it when the handler raises or times out. The loop is the core's,
the same in every language.

A plain function runs on daemon threads the worker keeps for the run, so up to
``concurrency`` run in parallel (the GIL allowing). An ``async def`` function runs as a task
on an asyncio event loop: the one awaiting ``run_async``, or a private one on a thread of its
own for ``run``.
An exception fails the item with the error ``f\"{type(exc).__name__}: {exc}\"``: it is
retried after the queue's backoff, or goes to the dead letters on its last attempt.

Routing by type: with a mapping ``{type_name: handler}``, each item runs on the handler of
its ``Item.type_name`` (the string field ``\"type\"`` of its JSON object data); each handler
may be a function or an ``async def`` one. An item with no type, or of a type with no
handler, fails with an error that says so and names the types handled, e.g.
``unknown item type \"fax\"; this worker handles: email, resize``; it is retried like any
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
        ``\"completed\"``, ``\"failed\"``, ``\"released\"`` (the worker stopped first) or
        ``\"lease_lost\"``, with ``completed`` (this worker's ``complete`` was the one) and
        ``error`` (the failure's). Hooks run on leaseq's threads; an exception in one is
        reported through ``sys.unraisablehook`` and ignored.

Raises:
    InvalidArgumentError: if ``concurrency`` is below 1, a duration is 0 (where refused),
        negative, NaN, infinite or too large, or ``handler`` is an empty mapping or has an
        empty item type name.
    TypeError: if ``queue`` is not a WorkQueue, ``handler`` is neither callable nor a
        mapping, a type name in it is not a ``str`` or a handler in it not callable, or a
        hook is not callable."
);

doc!(
    doc_worker_run,
    "Runs until ``stop()``: blocks the calling thread (with the GIL released, so other
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
        worker is already running."
);

doc!(
    doc_worker_run_async,
    "Runs until ``stop()``, as a coroutine on the running event loop (where an ``async def``
handler runs too). Cancelling it stops the worker gracefully.

Args:
    stop_on_signals: also stop gracefully on SIGTERM and SIGINT: installs Python
        signal handlers for the run, so await it on the main thread. The previous
        handlers are put back when it ends.

Returns:
    A coroutine that ends once the worker has shut down.

Raises:
    InvalidArgumentError: if ``stop_on_signals`` is true off the main thread, or the
        worker is already running."
);

doc!(
    doc_worker_stop,
    "Asks the worker to stop: it leases nothing more, lets running handlers finish within
the shutdown timeout, and releases the rest. ``run`` returns once that is done. Safe
to call from any thread and from a signal handler."
);
