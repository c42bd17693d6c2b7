"""A leaseq producer, worker or cleaner for the cross-language run (Python).

Same arguments and log lines as every actor: see tests-cross/src/lib.rs.
"""
import os
import random
import sys
import time

import leaseq


def main() -> None:
    role, rest = sys.argv[1], sys.argv[2:]
    args = dict(zip((name.lstrip("-") for name in rest[::2]), rest[1::2]))
    connection = leaseq.Connection(args["url"])
    queue = leaseq.WorkQueue(connection, args["prefix"])
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
        return
    if role == "cleaner":
        while True:
            queue.light_clean()
            time.sleep(float(args.get("every-ms", 200)) / 1000)
    skip, outlive, crash = (float(args.get(k, 0)) for k in ("skip", "outlive", "crash"))
    while True:
        item = queue.lease(lease_secs, block=True, timeout=0.5)
        if item is None:
            continue
        line("delivered", item.id)
        roll = random.random()
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
