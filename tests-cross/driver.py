"""Cross-language crash test: producers, workers and cleaners of every language on one Redis.

Workers misbehave on purpose (skip `complete`, outlive their lease, crash between lease and
complete) and the driver SIGKILLs random workers and starts new ones. At the end it checks, from
the actors' logs and from Redis:

- every item added was completed (`complete() == true`) exactly once, except items whose
  completing worker was SIGKILLed between `complete` and writing its log line: those must be
  gone from Redis (the completion happened) and are reported separately;
- no key of the queue is left behind;
and reports how many items were delivered more than once.

The cleaner mode (--mode cleaner) runs producers and workers of the crate and PyPI
`redis-work-queue` clients, which lease and add in several round trips, beside leaseq workers and
leaseq light and deep cleaners in a tight loop, with leases that never expire and nobody killed:
every item must be delivered once and completed true once (spec/key-schema.md, "Grace for young
entries").

Usage: driver.py quick|long [--mode crash|cleaner|all] [--langs rust,crate,pypi,python,node,csharp]
                 [--redis-url URL] [--clean-grace-ms MS]
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / "bindings-python/.venv/bin/python")

# How to start an actor of each kind, and which roles it can play.
ACTORS = {
    "rust": ([str(ROOT / "target/release/leaseq-actor")], {"producer", "worker", "cleaner"}),
    "crate": ([str(ROOT / "target/release/rwq-crate-actor")], {"producer", "worker"}),
    "pypi": ([PYTHON, str(ROOT / "tests-cross/rwq_pypi_actor.py")], {"producer", "worker"}),
    "python": ([PYTHON, str(ROOT / "tests-cross/actor.py")], {"producer", "worker", "cleaner"}),
    "node": (["node", str(ROOT / "tests-cross/actor.js")], {"producer", "worker", "cleaner"}),
    "csharp": (["mono", str(ROOT / "tests-cross/out/Actor.exe")], {"producer", "worker"}),
}
# leaseq workers that `fail` poison items (data "poison", added at priority 1, which only leaseq
# workers lease). Poison items are only added when every leaseq kind in the run does this.
POISON_AWARE = {"rust", "crate", "pypi", "node", "python", "csharp"}

SIZES = {
    # items per producer, workers per kind, seconds between kills, time limit (s)
    "quick": dict(items=1000, workers=2, kill_every=0.25, limit=150),
    "long": dict(items=17_000, workers=3, kill_every=0.25, limit=3600),
}

# Odds per leased item; every item also takes --work-ms of "work" between lease and complete.
MISBEHAVE = ["--skip", "0.01", "--outlive", "0.005", "--crash", "0.005", "--fail", "0.03",
             "--work-ms", "10"]
LEASE_MS = "1000"


@dataclass
class Actor:
    kind: str
    role: str
    log: Path
    process: subprocess.Popen
    killed: bool = False


@dataclass
class Run:
    url: str
    prefix: str
    logs: Path
    actors: list[Actor] = field(default_factory=list)
    serial: int = 0

    def start(self, kind: str, role: str, *extra: str) -> Actor:
        self.serial += 1
        log = self.logs / f"{kind}-{role}-{self.serial}.log"
        command = ACTORS[kind][0] + [role, "--url", self.url, "--prefix", self.prefix,
                                     "--log", str(log), "--lease-ms", LEASE_MS, *extra]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(log.with_suffix(".err"), "w"),
                                   cwd=ROOT)
        actor = Actor(kind, role, log, process)
        self.actors.append(actor)
        return actor


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("size", choices=SIZES)
    parser.add_argument("--mode", choices=("crash", "cleaner", "all"), default="all")
    parser.add_argument("--langs", default=",".join(ACTORS))
    parser.add_argument("--redis-url", default=os.environ.get("LEASEQ_REDIS_URL"))
    parser.add_argument("--clean-grace-ms", help="the Rust cleaners' clean_grace (cleaner mode; "
                        "0 shows the doubling the grace prevents)")
    options = parser.parse_args()
    failed = 0
    if options.mode in ("crash", "all"):
        failed |= crash_mode(options)
    if options.mode in ("cleaner", "all"):
        failed |= cleaner_mode(options)
    return failed


def crash_mode(options: argparse.Namespace) -> int:
    size = SIZES[options.size]
    kinds = options.langs.split(",")
    db = redis.Redis.from_url(options.redis_url)
    run = Run(options.redis_url, f"cross:{os.getpid()}", Path(tempfile.mkdtemp(prefix="leaseq-cross-")))
    print(f"cross run ({options.size}): {', '.join(kinds)} on {options.redis_url}, logs in {run.logs}")

    poison = 5 if set(kinds) <= POISON_AWARE else 0
    producers = [run.start(kind, "producer", "--id-prefix", f"{kind}", "--count", str(size["items"]),
                           *(["--delayed", "50", "--poison", str(poison)] if kind == "rust" else []))
                 for kind in kinds if "producer" in ACTORS[kind][1]]
    for kind in kinds:
        if "worker" in ACTORS[kind][1]:
            for _ in range(size["workers"]):
                run.start(kind, "worker", *MISBEHAVE)
    cleaners = [kind for kind in kinds if "cleaner" in ACTORS[kind][1]]
    for kind in cleaners:
        run.start(kind, "cleaner")
    expected = size["items"] * len(producers) + (50 if "rust" in kinds else 0)

    started = time.monotonic()
    kills = restarts = deep_requeued = 0
    next_kill = started + size["kill_every"]
    failure = None
    while True:
        time.sleep(0.05)
        now = time.monotonic()
        for actor in run.actors:
            if actor.role == "producer" and actor.process.poll() not in (None, 0):
                failure = f"producer {actor.log.name} failed with {actor.process.returncode}"
        # Workers that crashed on purpose (exit 3) or were killed are replaced.
        for actor in list(run.actors):
            if actor.role == "worker" and actor.process.poll() is not None and not getattr(actor, "replaced", False):
                actor.replaced = True  # type: ignore[attr-defined]
                if actor.process.returncode not in (3, -signal.SIGKILL):
                    failure = f"worker {actor.log.name} exited with {actor.process.returncode}"
                run.start(actor.kind, "worker", *MISBEHAVE)
                restarts += 1
        if now >= next_kill:
            live = [a for a in run.actors if a.role == "worker" and a.process.poll() is None]
            if live:
                victim = random.choice(live)
                victim.process.send_signal(signal.SIGKILL)
                victim.killed = True
                kills += 1
            next_kill = now + size["kill_every"] * random.uniform(0.5, 1.5)
        producers_done = all(p.process.poll() == 0 for p in producers)
        waiting = sum(db.llen(f"{run.prefix}:{key}") for key in ("queue", "processing")) + sum(
            db.zcard(f"{run.prefix}:{key}") for key in ("delayed", "prioritized"))
        if producers_done and waiting == 0:
            # An old-generation client killed inside its non-atomic complete leaves its item in
            # no list: only a deep clean finds it. Workers finish what it requeues.
            requeued = int(subprocess.run(
                ACTORS["rust"][0] + ["deep-clean", "--url", run.url, "--prefix", run.prefix,
                                     "--log", str(run.logs / "deep-clean.log")],
                check=True, capture_output=True, text=True).stdout.strip())
            deep_requeued += requeued
            if requeued == 0:
                break
        if failure or now - started > size["limit"]:
            break
    elapsed = time.monotonic() - started
    for actor in run.actors:
        if actor.process.poll() is None:
            actor.process.kill()
        actor.process.wait()
    time.sleep(2.5)  # let the last abandoned lease keys (and a wake-up flag) expire

    added: set[str] = set()
    completed = collections.Counter()
    delivered = collections.Counter()
    completing_by_killed: set[str] = set()
    poisoned: set[str] = set()
    ghosts = 0
    for actor in run.actors:
        if not actor.log.exists():
            continue
        last_completing = None
        for raw in actor.log.read_text().splitlines():
            event, item_id = raw.split(" ", 1)
            if event == "added":
                added.add(item_id)
            elif event == "delivered":
                delivered[item_id] += 1
            elif event == "completing":
                last_completing = item_id
            elif event == "completed":
                completed[item_id] += 1
                last_completing = None
            elif event == "ghost":
                ghosts += 1
            elif event == "poison":
                poisoned.add(item_id)
        if last_completing is not None and actor.process.returncode in (-signal.SIGKILL, 3):
            completing_by_killed.add(last_completing)

    # Poison items stay in the dead letters, with their data, attempts and error.
    dead = {m.decode() for m in db.zrange(f"{run.prefix}:dead", 0, -1)}
    errors = {k.decode(): v.decode() for k, v in db.hgetall(f"{run.prefix}:errors").items()}
    unburied = sorted(i for i in poisoned if i not in dead or not errors.get(i, "").startswith("poison"))
    poison_keys = {f"{run.prefix}:{name}" for name in ("dead", "errors", "attempts", "priority")} | {
        f"{run.prefix}:item:{i}" for i in poisoned}
    leftover = sorted(k.decode() for k in db.scan_iter(match=f"{run.prefix}:*", count=1000)
                      if k.decode() not in poison_keys)
    stray = sorted(i for i in dead | set(errors) if i not in poisoned)
    twice = sorted(i for i, n in completed.items() if n > 1)
    never = added - set(completed)
    # Completed in Redis, but the worker was killed before it could log it.
    unlogged = {i for i in never if i in completing_by_killed and not db.exists(f"{run.prefix}:item:{i}")}
    lost = never - unlogged
    unknown = set(completed) - added
    redelivered = sum(1 for n in delivered.values() if n > 1)

    print(f"  items added          {len(added)} (expected {expected})")
    print(f"  completed true       {sum(completed.values())}")
    print(f"  completed unlogged   {len(unlogged)} (worker SIGKILLed between complete and its log line)")
    print(f"  lost                 {len(lost)}")
    print(f"  completed true twice {len(twice)}")
    print(f"  delivered > once     {redelivered}")
    print(f"  poison items buried  {len(poisoned) - len(unburied)} of {len(poisoned)} (in the dead letters with their error)")
    print(f"  ghost ids skipped    {ghosts} (PyPI 0.1.5 workers handed an id whose data was gone)")
    print(f"  kills                {kills} SIGKILL, {restarts} workers restarted")
    print(f"  deep clean requeued  {deep_requeued} (items an old-generation client left in no list)")
    print(f"  keys left behind     {len(leftover)}")
    print(f"  took                 {elapsed:.1f} s")
    problems = []
    if failure:
        problems.append(failure)
    if elapsed > size["limit"]:
        problems.append(f"did not finish within {size['limit']} s")
    if len(added) != expected:
        problems.append(f"{expected - len(added)} items were never added")
    if lost:
        problems.append(f"lost: {sorted(lost)[:10]}")
    if twice:
        problems.append(f"completed twice: {twice[:10]}")
    if unknown:
        problems.append(f"completed but never added: {sorted(unknown)[:10]}")
    if leftover:
        problems.append(f"keys left behind: {leftover[:10]}")
    if unburied:
        problems.append(f"poison items not in the dead letters with their error: {unburied[:10]}")
    if stray:
        problems.append(f"dead letters or errors for items that are not poison: {stray[:10]}")
    poison_completed = sorted(i for i in poisoned if completed[i])
    if poison_completed:
        problems.append(f"poison items completed: {poison_completed[:10]}")
    for problem in problems:
        print(f"FAIL: {problem}")
    if problems:
        for err in sorted(run.logs.glob("*.err")):
            text = err.read_text().strip()
            if text:
                print(f"--- {err.name}\n{text[-2000:]}")
        return 1
    print("OK: nothing lost, nothing completed twice, no keys left behind")
    shutil.rmtree(run.logs, ignore_errors=True)
    return 0


# Cleaner mode: items per producer, workers per kind, time limit (s).
CLEANER_SIZES = {
    "quick": dict(items=10_000, workers=2, limit=120),
    "long": dict(items=50_000, workers=3, limit=1800),
}
# Long enough that no lease expires in the run: any second delivery is a cleaner's doing.
CLEANER_LEASE_MS = "120000"
# Tight loops (no sleep): light cleans in every leaseq language that has a cleaner, deep cleans
# in Rust and Python.
CLEANERS = [("rust", "light"), ("rust", "deep"), ("python", "light"), ("python", "deep"),
            ("node", "light")]


def cleaner_mode(options: argparse.Namespace) -> int:
    size = CLEANER_SIZES[options.size]
    kinds = [k for k in options.langs.split(",") if k in ("crate", "pypi", "rust", "python", "node")]
    db = redis.Redis.from_url(options.redis_url)
    run = Run(options.redis_url, f"cross-clean:{os.getpid()}",
              Path(tempfile.mkdtemp(prefix="leaseq-cross-clean-")))
    print(f"cross run, cleaner mode ({options.size}): {', '.join(kinds)} on {options.redis_url}, "
          f"logs in {run.logs}")

    # run.start passes the crash mode's lease; a later --lease-ms wins in every actor.
    start = run.start
    # The foreign clients produce most items (the crate adds with SET NX, then LPUSH); leaseq
    # producers add a tenth as many.
    producers = []
    for kind in kinds:
        if kind in ("crate", "pypi", "rust", "python"):
            count = size["items"] if kind in ("crate", "pypi") else size["items"] // 10
            producers.append(start(kind, "producer", "--id-prefix", kind, "--count", str(count),
                                   "--lease-ms", CLEANER_LEASE_MS))
    expected = sum(size["items"] if k in ("crate", "pypi") else size["items"] // 10
                   for k in kinds if k in ("crate", "pypi", "rust", "python"))
    for kind in kinds:
        # The foreign clients, which lease in three round trips, get twice as many workers.
        for _ in range(size["workers"] * (2 if kind in ("crate", "pypi") else 1)):
            start(kind, "worker", "--work-ms", "2", "--lease-ms", CLEANER_LEASE_MS)
    grace = ["--clean-grace-ms", options.clean_grace_ms] if options.clean_grace_ms else []
    for kind, clean in CLEANERS:
        if kind in kinds:
            start(kind, "cleaner", "--clean", clean, "--every-ms", "0", "--lease-ms", CLEANER_LEASE_MS,
                  *(grace if kind == "rust" else []))

    started = time.monotonic()
    failure = None
    # A deep clean checks a suspected orphan against only the 1000 ids at each end of the queue:
    # the backlog shows whether that limit was in play.
    largest_backlog = 0
    while True:
        time.sleep(0.2)
        for actor in run.actors:
            if actor.process.poll() not in (None, 0):
                failure = f"{actor.role} {actor.log.name} exited with {actor.process.returncode}"
        producers_done = all(p.process.poll() == 0 for p in producers)
        waiting = sum(db.llen(f"{run.prefix}:{key}") for key in ("queue", "processing")) + sum(
            db.zcard(f"{run.prefix}:{key}") for key in ("delayed", "prioritized"))
        largest_backlog = max(largest_backlog, waiting)
        if producers_done and waiting == 0:
            completed_lines = sum(1 for log in run.logs.glob("*-worker-*.log")
                                  for raw in log.read_text().splitlines() if raw.startswith("completed "))
            if completed_lines >= expected:
                break
        if failure or time.monotonic() - started > size["limit"]:
            break
    elapsed = time.monotonic() - started
    # Nobody is SIGKILLed in this mode: every actor is asked to stop once the work is done.
    for actor in run.actors:
        if actor.process.poll() is None:
            actor.process.terminate()
    for actor in run.actors:
        try:
            actor.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            actor.process.kill()
            actor.process.wait()

    added: set[str] = set()
    delivered: collections.Counter[str] = collections.Counter()
    delivered_by: dict[str, list[str]] = collections.defaultdict(list)
    completed: collections.Counter[str] = collections.Counter()
    cleans: collections.Counter[str] = collections.Counter()
    requeued_by: collections.Counter[str] = collections.Counter()
    ghosts = 0
    for actor in run.actors:
        if not actor.log.exists():
            continue
        for raw in actor.log.read_text().splitlines():
            event, value = raw.split(" ", 1)
            if event == "added":
                added.add(value)
            elif event == "delivered":
                delivered[value] += 1
                delivered_by[value].append(actor.kind)
            elif event == "completed":
                completed[value] += 1
            elif event == "ghost":
                ghosts += 1
            elif event in ("light", "deep"):
                cleans[f"{actor.kind} {event}"] += 1
                requeued_by[f"{actor.kind} {event}"] += int(value)
    leftover = sorted(k.decode() for k in db.scan_iter(match=f"{run.prefix}:*", count=1000))
    lost = added - set(completed)
    twice = sorted(i for i, n in delivered.items() if n > 1)
    double_true = sorted(i for i, n in completed.items() if n > 1)
    unknown = (set(completed) | set(delivered)) - added
    # Which workers' clients handed out the second copies, and whose producer added the item.
    by_worker = collections.Counter(kind for i in twice for kind in delivered_by[i])
    by_producer = collections.Counter(i.split("-", 1)[0] for i in twice)

    print(f"  items added            {len(added)} (expected {expected})")
    print(f"  delivered              {sum(delivered.values())}")
    print(f"  completed true         {sum(completed.values())}")
    print(f"  lost                   {len(lost)}")
    print(f"  delivered twice        {len(twice)}"
          + (f" (deliveries by worker: {dict(by_worker)}; added by: {dict(by_producer)})"
             if twice else ""))
    print(f"  completed true twice   {len(double_true)}")
    print(f"  ghost ids (PyPI)       {ghosts}")
    print(f"  clean calls            {sum(cleans.values())} "
          f"({', '.join(f'{k} {n}' for k, n in sorted(cleans.items()))})")
    print(f"  requeued by cleans     {sum(requeued_by.values())} (no lease expired: should be 0)")
    print(f"  keys left behind       {len(leftover)}")
    print(f"  largest backlog        {largest_backlog} ids waiting or leased")
    print(f"  took                   {elapsed:.1f} s")
    problems = []
    if failure:
        problems.append(failure)
    if elapsed > size["limit"]:
        problems.append(f"did not finish within {size['limit']} s")
    if len(added) != expected:
        problems.append(f"{expected - len(added)} items were never added")
    if lost:
        problems.append(f"lost: {sorted(lost)[:10]}")
    if twice:
        problems.append(f"delivered twice: {twice[:10]}")
    if double_true:
        problems.append(f"completed true twice: {double_true[:10]}")
    if unknown:
        problems.append(f"delivered or completed but never added: {sorted(unknown)[:10]}")
    if leftover:
        problems.append(f"keys left behind: {leftover[:10]}")
    if not cleans:
        problems.append("no clean call was made")
    for problem in problems:
        print(f"FAIL (cleaner mode): {problem}")
    if problems:
        for err in sorted(run.logs.glob("*.err")):
            text = err.read_text().strip()
            if text:
                print(f"--- {err.name}\n{text[-2000:]}")
        return 1
    print("OK (cleaner mode): every item delivered once and completed true once, "
          "with cleaners in a tight loop")
    shutil.rmtree(run.logs, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
