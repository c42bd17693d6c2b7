"""leaseq from Python, one thread: lease+complete for --seconds on a queue the harness filled.

Prints one JSON line: {"ops", "seconds", "rate", "drained"}.
"""

import argparse
import json
import time

import leaseq


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    connection = leaseq.Connection(args.url)
    queue = leaseq.WorkQueue(connection, args.queue)
    ops, drained = 0, False
    started = time.perf_counter()
    deadline = started + args.seconds
    while time.perf_counter() < deadline:
        item = queue.lease(300, block=False)
        if item is None:
            drained = True
            break
        if not queue.complete(item):
            raise SystemExit(f"complete({item.id}) returned False")
        ops += 1
    elapsed = time.perf_counter() - started
    print(json.dumps({"ops": ops, "seconds": elapsed, "rate": ops / elapsed, "drained": drained}))


if __name__ == "__main__":
    main()
