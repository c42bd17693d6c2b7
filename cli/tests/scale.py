#!/usr/bin/env python3
"""The `leaseq queues` target: 1,000 queues and 1,000,000 items answered in under 2 s, with no
Redis command over 10 ms. Loads the data with redis-cli --pipe into the Redis at LEASEQ_REDIS_URL
(a throw-away one: scripts/with-redis.sh), then times the command and reads the SLOWLOG.
Usage: scripts/with-redis.sh cli/tests/scale.py [QUEUES ITEMS_PER_QUEUE]"""
import json, os, subprocess, sys, time, uuid

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
    loader.stdin.write("".join(chunk))
loader.stdin.close()
loader.wait()
print(f"loaded {queues} queues x {per_queue} items in {time.time() - start:.1f} s; dbsize {cli('DBSIZE').strip()}")

cli("CONFIG", "SET", "slowlog-log-slower-than", "0")
cli("CONFIG", "SET", "slowlog-max-len", "100000")
cli("SLOWLOG", "RESET")
start = time.time()
run = subprocess.run([binary, "--url", url, "queues", "--json"], capture_output=True, text=True)
elapsed = time.time() - start
assert run.returncode == 0, run.stderr
found = json.loads(run.stdout)
assert len(found) == queues, len(found)
assert sum(q["queued"] for q in found) + sum(q["dead"] for q in found) == queues * per_queue
entries = json.loads(subprocess.run(["redis-cli", "-p", port, "--json", "SLOWLOG", "GET", "100000"],
                                    capture_output=True, text=True).stdout) if False else None
raw = cli("SLOWLOG", "GET", "100000").split("\n")
# redis-cli prints each entry as: id, timestamp, duration (µs), then the arguments.
count = int(cli("SLOWLOG", "LEN").strip())
durations = []
lines = [l for l in raw if l != ""]
i = 0
while i + 2 < len(lines):
    if lines[i].isdigit() and lines[i + 1].isdigit() and lines[i + 2].isdigit() and len(lines[i + 1]) >= 9:
        durations.append(int(lines[i + 2]))
        i += 3
    else:
        i += 1
cli("CONFIG", "SET", "slowlog-log-slower-than", "10000")
print(f"leaseq queues: {elapsed:.2f} s for {len(found)} queues; {count} commands logged, slowest {max(durations)} us "
      f"(target: < 2 s, none over 10000 us)")
assert elapsed < 2.0, "over 2 s"
assert max(durations) < 10_000, "a command took over 10 ms"
