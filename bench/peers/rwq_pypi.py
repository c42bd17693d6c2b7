"""The PyPI package redis-work-queue 0.1.5 (redis-py underneath), timed like leaseq.

  consume  lease (non-blocking) + complete for --seconds on a queue the harness filled
  produce  add_item one at a time, or --batch items per pipeline (its batched form)
  memory   INFO used_memory growth per item after adding --count items to an empty server

Prints one JSON line.
"""

import argparse
import json
import time

from redis import Redis
from redis_work_queue import Item, KeyPrefix, WorkQueue

PAYLOAD = bytes(ord("a") + i % 26 for i in range(100))


def consume(db: Redis, queue: WorkQueue, args: argparse.Namespace) -> dict:
    ops, drained = 0, False
    started = time.perf_counter()
    deadline = started + args.seconds
    while time.perf_counter() < deadline:
        item = queue.lease(db, 300, block=False)
        if item is None:
            drained = True
            break
        if not queue.complete(db, item):
            raise SystemExit(f"complete({item.id()}) returned False")
        ops += 1
    elapsed = time.perf_counter() - started
    return {"ops": ops, "seconds": elapsed, "rate": ops / elapsed, "drained": drained}


def produce(db: Redis, queue: WorkQueue, args: argparse.Namespace) -> dict:
    ops = 0
    started = time.perf_counter()
    deadline = started + args.seconds
    while time.perf_counter() < deadline:
        if args.batch > 1:
            pipeline = db.pipeline(transaction=False)
            for _ in range(args.batch):
                queue.add_item_to_pipeline(pipeline, Item(PAYLOAD))
            pipeline.execute()
            ops += args.batch
        else:
            queue.add_item(db, Item(PAYLOAD))
            ops += 1
    elapsed = time.perf_counter() - started
    return {"ops": ops, "seconds": elapsed, "rate": ops / elapsed, "drained": False}


def memory(db: Redis, queue: WorkQueue, args: argparse.Namespace) -> dict:
    """The marginal cost of --count more items once 1000 are queued, measured with the filling
    connection closed (as for leaseq)."""
    info = Redis.from_url(args.url)

    def used_after_adding(count: int) -> int:
        db = Redis.from_url(args.url)
        for start in range(0, count, 1000):
            pipeline = db.pipeline(transaction=False)
            for _ in range(min(1000, count - start)):
                queue.add_item_to_pipeline(pipeline, Item(PAYLOAD))
            pipeline.execute()
        db.connection_pool.disconnect()
        time.sleep(0.2)
        return int(info.info("memory")["used_memory"])

    before = used_after_adding(1000)
    after = used_after_adding(args.count)
    return {
        "items": args.count,
        "used_memory_delta": after - before,
        "bytes_per_item": (after - before) / args.count,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["consume", "produce", "memory"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    db = Redis.from_url(args.url)
    queue = WorkQueue(KeyPrefix(args.queue))
    run = {"consume": consume, "produce": produce, "memory": memory}[args.mode]
    print(json.dumps(run(db, queue, args)))


if __name__ == "__main__":
    main()
