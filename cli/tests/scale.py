#!/usr/bin/env python3
"""The `leaseq queues` target: 1,000 queues and 1,000,000 items answered in under 2 s, with no
Redis command over 10 ms. Loads the data with redis-cli --pipe into the Redis at LEASEQ_REDIS_URL
(a throw-away one: scripts/with-redis.sh), registering each queue as leaseq's first add does,
then times `leaseq queues` (the registry) and `leaseq queues --scan` (a walk of the whole
keyspace, for queues only foreign clients wrote) and reads the SLOWLOG after each.
Usage: scripts/with-redis.sh target/cli-test-venv/bin/python cli/tests/scale.py [QUEUES ITEMS_PER_QUEUE]
(the venv cli/test.sh makes has the redis package)."""
import json, os, subprocess, sys, time, uuid

import redis

port = os.environ["LEASEQ_REDIS_PORT"]
url = os.environ["LEASEQ_REDIS_URL"]
queues = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
per_queue = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
binary = os.environ.get("LEASEQ_BIN", "target/release/leaseq")

def cli(*args):
    return subprocess.run(["redis-cli", "-p", port, *args], check=True, capture_output=True, text=True).stdout

def resp(*parts):
    out = [f"*{len(parts)}\r\n"]
    for part in parts:
        part = str(part)
        out.append(f"${len(part.encode())}\r\n{part}\r\n")
    return "".join(out)

start = time.time()
loader = subprocess.Popen(["redis-cli", "-p", port, "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
now_ms = int(time.time() * 1000)
for q in range(queues):
    prefix = f"scale{q:04d}"
    chunk = []
    for i in range(per_queue):
        item = str(uuid.UUID(int=q * 10_000_000 + i))
        chunk.append(resp("SET", f"{prefix}:item:{item}", json.dumps({"n": i, "queue": q})))
        if i % 100 == 1:  # a few at priority 5, a few dead
            chunk.append(resp("ZADD", f"{prefix}:prioritized", (10 - 5) * 10**13 + now_ms - i, item))
        elif i % 100 == 2:
            chunk.append(resp("ZADD", f"{prefix}:dead", now_ms - i, item))
        else:
            chunk.append(resp("LPUSH", f"{prefix}:queue", item))
    chunk.append(resp("SADD", "leaseq:queues", prefix))  # what leaseq's first add writes
    loader.stdin.write("".join(chunk))
loader.stdin.close()
loader.wait()
print(f"loaded {queues} queues x {per_queue} items in {time.time() - start:.1f} s; dbsize {cli('DBSIZE').strip()}")

db = redis.Redis.from_url(url)
db.config_set("slowlog-max-len", 100000)


def timed(*args):
    """Runs `leaseq queues ARGS --json`: (seconds, queues found, commands logged, slowest in us)."""
    db.config_set("slowlog-log-slower-than", 0)
    db.slowlog_reset()
    start = time.time()
    run = subprocess.run([binary, "--url", url, "queues", *args, "--json"], capture_output=True, text=True)
    elapsed = time.time() - start
    db.config_set("slowlog-log-slower-than", 10000)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert len(found) == queues, len(found)
    assert sum(q["queued"] for q in found) + sum(q["dead"] for q in found) == queues * per_queue
    slowest = max(db.slowlog_get(100000), key=lambda e: e["duration"])
    name = slowest["command"].split(b" ")[0].decode()
    return elapsed, len(found), db.slowlog_len(), f"{slowest['duration']} us ({name})", slowest["duration"]


failed = []
for args in ((), ("--scan",)):
    elapsed, found, logged, slowest_text, slowest = timed(*args)
    print(f"leaseq queues {' '.join(args)}: {elapsed:.2f} s for {found} queues; {logged} commands "
          f"logged, slowest {slowest_text} (target: < 2 s, none over 10000 us)")
    if slowest >= 10_000:
        failed.append(f"queues {' '.join(args)}: a command took over 10 ms")
    if not args and elapsed >= 2.0:
        failed.append("queues: over 2 s")
assert not failed, failed
