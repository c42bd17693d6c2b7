"""A leaseq producer, worker or cleaner for the cross-language run (Python).

Same arguments, queue options and log lines as every actor, and the same handling of poison and
flaky items as the Rust leaseq actor: see tests-cross/src/lib.rs and src/bin/leaseq-actor.rs.
"""
import os
import random
import sys
import time

import leaseq

# The data of an item no handler can finish (leaseq_cross::POISON).
POISON = b"poison"


def main() -> None:
    role, rest = sys.argv[1], sys.argv[2:]
    args = dict(zip((name.lstrip("-") for name in rest[::2]), rest[1::2]))
    connection = leaseq.Connection(args["url"])
    # As leaseq_cross::queue_options(): few attempts and short backoffs, so poison items die
    # and flaky ones retry within the run.
    # The failover mode passes the durability option (WAIT on).
    queue = leaseq.WorkQueue(
        connection, args["prefix"], max_attempts=10, backoff_base=0.05, backoff_max=0.4,
        wait_replicas=int(args.get("wait-replicas", 0)),
        wait_timeout=float(args.get("wait-timeout-ms", 1000)) / 1000,
    )
    log = os.open(args["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def line(event: str, item_id: str) -> None:
        os.write(log, f"{event} {item_id}\n".encode())

    lease_secs = float(args.get("lease-ms", 1000)) / 1000
    if role == "producer":
        count = int(args["count"])
        for start in range(0, count, 50):
            items = [leaseq.Item(f"payload {n}", id=f"{args['id-prefix']}-{n}")
                     for n in range(start, min(count, start + 50))]
            if start % 100 == 0:
                assert queue.add_items(items) == len(items)
            else:
                for item in items:
                    assert queue.add_item(item)
            for item in items:
                line("added", item.id)
        # Items that are not leasable for a while, and items no handler can ever finish.
        for n in range(int(args.get("delayed", 0))):
            item = leaseq.Item(f"delayed {n}", id=f"{args['id-prefix']}-delayed-{n}")
            assert queue.add_item_with(item, delay=random.uniform(0.1, 3.0))
            line("added", item.id)
        # At priority 1, which only leaseq workers see (a redis-work-queue worker cannot fail).
        for n in range(int(args.get("poison", 0))):
            item = leaseq.Item(POISON, id=f"{args['id-prefix']}-poison-{n}")
            assert queue.add_item_with(item, priority=1)
            line("poison", item.id)
        return
    if role == "paced-producer":
        # The failover mode's producer: batches of 50, --pause-ms apart. A batch that fails is
        # sent again item by item, each until it goes through: `added` if added then,
        # `unconfirmed` if refused because the failed call had added it (not acknowledged).
        count, pause = int(args["count"]), float(args.get("pause-ms", 0)) / 1000
        for start in range(0, count, 50):
            items = [leaseq.Item(f"payload {n}", id=f"{args['id-prefix']}-{n}")
                     for n in range(start, min(count, start + 50))]
            try:
                queue.add_items(items)
                for item in items:
                    line("added", item.id)
            except leaseq.Error as error:
                line("error", type(error).__name__)
                for item in items:
                    while True:
                        try:
                            added = queue.add_item(item)
                            break
                        except leaseq.Error as error:
                            line("error", type(error).__name__)
                            time.sleep(0.1)
                    line("added" if added else "unconfirmed", item.id)
            time.sleep(pause)
        return
    if role == "runtime-worker":
        # The failover mode's worker: the Worker runtime, which carries on by itself through a
        # failover.
        work = float(args.get("work-ms", 0)) / 1000

        def handler(item: leaseq.Item) -> None:
            line("delivered", item.id)
            time.sleep(work)
            line("completing", item.id)

        def after(item: leaseq.Item, outcome: leaseq.JobOutcome) -> None:
            if outcome == "completed" and outcome.completed:
                line("completed", item.id)

        leaseq.Worker(queue, handler, concurrency=int(args.get("concurrency", 4)),
                      lease_secs=lease_secs, clean_every=1.0, after=after).run()
        return
    if role == "cleaner":
        # A light (or with --clean deep, deep) clean every --every-ms; 0 is a tight loop.
        kind = args.get("clean", "light")
        clean = queue.deep_clean if kind == "deep" else queue.light_clean
        every = float(args.get("every-ms", 200)) / 1000
        while True:
            line(kind, str(clean().requeued))
            if every:
                time.sleep(every)
    skip, outlive, crash, fail = (
        float(args.get(k, 0)) for k in ("skip", "outlive", "crash", "fail")
    )
    while True:
        item = queue.lease(lease_secs, block=True, timeout=0.5)
        if item is None:
            continue
        line("delivered", item.id)
        if item.data == POISON:
            queue.fail(item, "poison: this item kills every handler")
            continue
        roll = random.random()
        if skip + outlive + crash <= roll < skip + outlive + crash + fail:
            queue.fail(item, "a flaky handler failed")
            continue
        if roll < skip:
            continue
        if roll < skip + outlive:
            time.sleep(lease_secs * 1.5)
        elif roll < skip + outlive + crash:
            os._exit(3)
        time.sleep(float(args.get("work-ms", 0)) / 1000)
        line("completing", item.id)
        if queue.complete(item):
            line("completed", item.id)


if __name__ == "__main__":
    main()
