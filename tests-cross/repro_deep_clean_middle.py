"""Reproduction for the lead (issue 13, case 8 cleaner mode): a deep clean requeues items that are in the middle of a long queue (never orphans).

A raw producer writes item data and pushes its id in one MULTI (atomic: never an orphan, even
for a moment) while the queue holds a backlog of >2000 ids; a leaseq deep clean runs in a loop.
Any `requeued` > 0 is an id queued twice.
Run: scripts/with-redis.sh bindings-python/.venv/bin/python tests-cross/repro_deep_clean_middle.py"""
import os, threading, time
import redis, leaseq

url = os.environ["LEASEQ_REDIS_URL"]
db = redis.Redis.from_url(url)
prefix = f"repro:{os.getpid()}"
queue = leaseq.WorkQueue(leaseq.Connection(url), prefix)
stop = False

def produce():
    n = 0
    while not stop:
        pipe = db.pipeline(transaction=True)
        for _ in range(50):
            pipe.set(f"{prefix}:item:p-{n}", b"x")
            pipe.lpush(f"{prefix}:queue", f"p-{n}")
            n += 1
        pipe.execute()

threading.Thread(target=produce, daemon=True).start()
requeued = calls = 0
start = time.monotonic()
while time.monotonic() - start < 20:
    requeued += queue.deep_clean().requeued
    calls += 1
stop = True
time.sleep(0.2)
length = db.llen(f"{prefix}:queue")
distinct = len(set(db.lrange(f"{prefix}:queue", 0, -1)))
print(f"deep cleans {calls}, requeued {requeued}, queue length {length}, distinct ids {distinct}, "
      f"queued twice {length - distinct}")
