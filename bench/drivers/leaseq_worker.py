"""leaseq from Python: the binding's Worker with a no-op handler (a plain function, so it runs on
the worker's threads) at --concurrency, draining a queue the harness filled, for at most
--seconds. Timed from the worker's start until the queue is empty and nothing is in flight
(polled every 2 ms, as the Rust `worker` subcommand does), or until --seconds.

Prints one JSON line: {"ops", "seconds", "rate", "drained", "cpu_ops"}: ops are the items the
worker's counters show completed when the clock stopped; cpu_ops also those it finished while
stopping.
"""

import argparse
import json
import threading
import time

import leaseq


def handle(item: leaseq.Item) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    connection = leaseq.Connection(args.url)
    queue = leaseq.WorkQueue(connection, args.queue)
    worker = leaseq.Worker(queue, handle, concurrency=args.concurrency, lease_secs=300,
                           clean_every=None)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            worker.run()
        except BaseException as err:  # reported by the main thread
            failure.append(err)

    started = time.perf_counter()
    deadline = started + args.seconds
    thread = threading.Thread(target=run, name="leaseq-worker")
    thread.start()
    drained = False
    while time.perf_counter() < deadline and not failure:
        time.sleep(0.002)
        if queue.queue_len() == 0 and worker.counters.in_flight == 0:
            drained = True
            break
    elapsed = time.perf_counter() - started
    ops = worker.counters.completed
    worker.stop()
    thread.join()
    if failure:
        raise SystemExit(f"worker.run() raised {failure[0]!r}")
    counters = worker.counters
    if counters.failed:
        raise SystemExit(f"the worker failed {counters.failed} items: {counters}")
    print(json.dumps({"ops": ops, "seconds": elapsed, "rate": ops / elapsed, "drained": drained,
                      "cpu_ops": counters.completed}))


if __name__ == "__main__":
    main()
