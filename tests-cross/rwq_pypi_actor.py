"""A producer or worker using the published PyPI package redis-work-queue 0.1.5 on a leaseq queue.

Same arguments and log lines as every actor (see tests-cross/src/lib.rs). Its own light_clean is
never run: it cannot see leaseq's lease keys (spec/key-schema.md).
"""
import os
import random
import sys
import time

from redis import Redis
from redis_work_queue import Item, KeyPrefix, WorkQueue


def main() -> None:
    role, rest = sys.argv[1], sys.argv[2:]
    args = dict(zip((name.lstrip("-") for name in rest[::2]), rest[1::2]))
    db = Redis.from_url(args["url"])
    queue = WorkQueue(KeyPrefix(args["prefix"]))
    log = os.open(args["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def line(event: str, item_id: str) -> None:
        os.write(log, f"{event} {item_id}\n".encode())

    lease_secs = max(1, round(float(args.get("lease-ms", 1000)) / 1000))
    if role == "producer":
        for n in range(int(args["count"])):
            item = Item(f"payload {n}".encode(), id=f"{args['id-prefix']}-{n}")
            queue.add_item(db, item)
            line("added", item.id())
        return
    skip, outlive, crash, fail = (float(args.get(k, 0)) for k in ("skip", "outlive", "crash", "fail"))
    while True:
        item = queue.lease(db, lease_secs, block=True, timeout=1)
        if item is None:
            continue
        line("delivered", item.id())
        if item.data() == b"":
            # 0.1.5 hands out an id whose data is gone as empty data; a real worker must skip it.
            line("ghost", item.id())
            continue
        if item.data() == b"poison":
            continue  # this client cannot fail an item: a poison item never completes here
        roll = random.random()
        if roll < skip or skip + outlive + crash <= roll < skip + outlive + crash + fail:
            continue
        if roll < skip + outlive:
            time.sleep(lease_secs * 1.5)
        elif roll < skip + outlive + crash:
            os._exit(3)
        time.sleep(float(args.get("work-ms", 0)) / 1000)
        line("completing", item.id())
        if queue.complete(db, item):
            line("completed", item.id())


if __name__ == "__main__":
    main()
