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

The failover mode (--mode failover; under scripts/with-servers.sh) kills the master that holds
the queue, on the Cluster (the queue named with a hash tag) and the Sentinel topology, while
paced Rust and Python producers add and Worker runtimes in Rust, Python and Node complete: the
killed server comes back as a replica, and nothing is restarted but it. Each run reports lost
items (an add returned, the item never ran), double-true completes, and how long after the kill
each worker completes items again (at most 10 s). With the durability option (WAIT 1) on,
lost and double-true completes must be 0; with it off they are measured and printed.

Usage: driver.py quick|long [--mode crash|cleaner|all|failover] [--langs rust,crate,pypi,python,node,csharp]
                 [--redis-url URL] [--clean-grace-ms MS] [--topologies cluster,sentinel] [--wait on,off]
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
import threading
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
# Keys a queue keeps by design once drained (spec/key-schema.md): the fencing token counter (never
# reset) and the per-minute statistics (aged out by `leaseq clean`).
KEPT_KEYS = ("last_fence", "stats")


def left_behind(db: redis.Redis, prefix: str, expected: set[str] = frozenset()) -> list[str]:
    """The queue's keys still in Redis but for those kept by design and `expected`."""
    return sorted(key for key in (k.decode() for k in db.scan_iter(match=f"{prefix}:*", count=1000))
                  if key not in expected and key not in {f"{prefix}:{name}" for name in KEPT_KEYS})


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
    parser.add_argument("--mode", choices=("crash", "cleaner", "all", "failover"), default="all",
                        help="all: crash and cleaner; failover runs on its own")
    parser.add_argument("--langs", default=",".join(ACTORS))
    parser.add_argument("--redis-url", default=os.environ.get("LEASEQ_REDIS_URL"))
    parser.add_argument("--clean-grace-ms", help="the Rust cleaners' clean_grace (cleaner mode; "
                        "0 shows the doubling the grace prevents)")
    parser.add_argument("--topologies", default="cluster,sentinel", help="failover mode: cluster,sentinel")
    parser.add_argument("--wait", default="on,off", help="failover mode: the WAIT option, on,off")
    options = parser.parse_args()
    failed = 0
    if options.mode == "failover":
        return failover_mode(options)
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
    leftover = left_behind(db, run.prefix, poison_keys)
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
    leftover = left_behind(db, run.prefix)
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


# Failover mode: items in all (half from each producer), the pause between a producer's batches
# of 50, and the time limit per run (s).
FAILOVER_SIZES = {
    "quick": dict(items=4_000, pause_ms=30, limit=120),
    "long": dict(items=20_000, pause_ms=30, limit=600),
}
FAILOVER_PRODUCERS = ("rust", "python")
FAILOVER_WORKERS = ("rust", "python", "node")
# The master is killed once this share of the items is completed (the producers are still
# adding then: they are paced).
FAILOVER_KILL_AT = 0.3
# A worker has recovered once it has completed this many more items than when the master was
# killed (the first few may be completes that were in flight at the kill: 4 at a time each).
RECOVERY_MARGIN = 10
# The target: every worker completes items again within this long after the kill.
RECOVERY_LIMIT_S = 10.0
FAILOVER_LEASE_MS = "2000"
WAIT_TIMEOUT_MS = "1000"


def node(port: str | int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=int(port), socket_timeout=1, socket_connect_timeout=1)


class Servers:
    """The failover mode's view of a topology of scripts/with-servers.sh: which server is the
    queue's master now, where its files are, how to kill it and start it again as a replica."""

    def __init__(self, topology: str, prefix: str) -> None:
        self.topology = topology
        self.dir = Path(os.environ["LEASEQ_SERVERS_DIR"])
        self.key = f"{prefix}:queue"
        if topology == "cluster":
            self.url = os.environ["LEASEQ_CLUSTER_URL"]
            self.ports = os.environ["LEASEQ_CLUSTER_PORTS"].split()
        else:
            self.url = os.environ["LEASEQ_SENTINEL_URL"]
            self.ports = os.environ["LEASEQ_SENTINEL_DATA_PORTS"].split()
            self.sentinels = os.environ["LEASEQ_SENTINEL_PORTS"].split()
            # with-servers.sh's directories of the master and its replicas, in port order.
            self.dirs = dict(zip(self.ports, ("sentinel-master", "sentinel-replica", "sentinel-replica2")))

    def master_port(self) -> str | None:
        """The port of the master that holds the queue now, as the first server that answers
        (a Cluster node, a Sentinel) sees it; None if it knows none."""
        if self.topology == "sentinel":
            for port in self.sentinels:
                try:
                    return node(port).execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "leaseq")[1].decode()
                except (redis.RedisError, OSError):
                    continue
            return None
        for port in self.ports:
            try:
                slot = node(port).execute_command("CLUSTER", "KEYSLOT", self.key)
                nodes = node(port).execute_command("CLUSTER", "NODES").decode()
            except (redis.RedisError, OSError):
                continue
            for line in nodes.splitlines():
                fields = line.split(" ")
                if len(fields) < 9 or "master" not in fields[2] or "fail" in fields[2]:
                    continue
                for slots in fields[8:]:
                    start, _, end = slots.partition("-")
                    if start.isdigit() and int(start) <= slot <= int(end or start):
                        return fields[1].split("@")[0].rsplit(":", 1)[1]
            return None
        return None

    def epoch(self) -> int | None:
        """The configuration epoch: a failover raises it by one (Sentinel: the master's
        config-epoch; Cluster: cluster_current_epoch), so a run shows how many it saw."""
        ports = self.sentinels if self.topology == "sentinel" else self.ports
        for port in ports:
            try:
                if self.topology == "sentinel":
                    master = node(port).execute_command("SENTINEL", "MASTER", "leaseq")
                    return int(master[b"config-epoch"])
                info = node(port).execute_command("CLUSTER", "INFO").decode()
                return int(info.split("cluster_current_epoch:")[1].split()[0])
            except (redis.RedisError, OSError, KeyError, IndexError, ValueError):
                continue
        return None

    def master(self) -> redis.Redis | None:
        port = self.master_port()
        return node(port) if port else None

    def server_dir(self, port: str) -> Path:
        return self.dir / (f"cluster-{port}" if self.topology == "cluster" else self.dirs[port])

    def sentinels_settled(self, master: str) -> bool:
        """Every Sentinel names `master` and none is still failing over."""
        for port in self.sentinels:
            try:
                state = node(port).execute_command("SENTINEL", "MASTER", "leaseq")
            except (redis.RedisError, OSError):
                return False
            if state[b"port"].decode() != master or b"failover" in state[b"flags"]:
                return False
        return True

    def healthy(self) -> bool:
        """Every server up, every replica's link up (and on a Cluster, cluster_state:ok)."""
        replicas = 0
        for port in self.ports:
            try:
                info = node(port).info("replication")
                if self.topology == "cluster":
                    if b"cluster_state:ok" not in node(port).execute_command("CLUSTER", "INFO"):
                        return False
            except (redis.RedisError, OSError):
                return False
            if info["role"] == "slave":
                replicas += 1
                if info.get("master_link_status") != "up":
                    return False
        if self.topology == "sentinel":
            # The Sentinels know both replicas and see none of them down.
            for port in self.sentinels:
                try:
                    known = node(port).execute_command("SENTINEL", "REPLICAS", "leaseq")
                except (redis.RedisError, OSError):
                    return False
                flags = [(r if isinstance(r, dict) else dict(zip(r[::2], r[1::2])))[b"flags"] for r in known]
                if len(flags) != 2 or any(b"down" in f for f in flags):
                    return False
            master = self.master_port()
            if master is None or not self.sentinels_settled(master):
                return False
        return replicas == len(self.ports) // 2 if self.topology == "cluster" else replicas == 2

    def fail_over(self, times: dict[str, float]) -> None:
        """SIGKILLs the queue's master, waits for a replica to take over, and starts the killed
        server again as a replica (with-servers.sh's arguments). Records in `times` when each
        step was seen (time.monotonic())."""
        port = self.master_port()
        assert port, "no master holds the queue"
        directory = self.server_dir(port)
        pid_file = directory / "redis.pid"
        os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
        times["killed"] = time.monotonic()
        pid_file.unlink()
        while (now := self.master_port()) in (None, port):
            if time.monotonic() - times["killed"] > 30:
                raise RuntimeError(f"no replica took over from {port} in 30 s")
            time.sleep(0.05)
        times["promoted"] = time.monotonic()
        if self.topology == "sentinel":
            # Not back before every Sentinel has ended the failover: one that still takes it for
            # the master sees it reboot mid-failover.
            while not self.sentinels_settled(now):
                if time.monotonic() - times["killed"] > 30:
                    raise RuntimeError("the Sentinels did not agree on the new master in 30 s")
                time.sleep(0.05)
        # A Cluster node comes back from its nodes.conf as a replica of the node that took its
        # slots; a Sentinel server is told whose replica it is (the Sentinels would make it one
        # too, but only some 10 s after it is back).
        extra = (["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                  "--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0"]
                 if self.topology == "cluster" else ["--replicaof", "127.0.0.1", now])
        subprocess.run(["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--daemonize", "yes", "--pidfile", str(pid_file),
                        "--logfile", str(directory / "redis.log"), "--dir", str(directory),
                        "--repl-diskless-sync-delay", "0", *extra], check=True, stdout=subprocess.DEVNULL)
        while True:
            try:
                if node(port).info("replication").get("master_link_status") == "up":
                    break
            except (redis.RedisError, OSError):
                pass
            if time.monotonic() - times["killed"] > 60:
                raise RuntimeError(f"the killed server {port} did not come back as a replica")
            time.sleep(0.05)
        times["replica again"] = time.monotonic()


class LogTail:
    """Counts the `completed` lines each worker log has gained so far, reading only what is new."""

    def __init__(self) -> None:
        self.offsets: dict[Path, int] = {}
        self.completed: collections.Counter[str] = collections.Counter()

    def read(self, workers: list[Actor]) -> None:
        for actor in workers:
            if not actor.log.exists():
                continue
            with actor.log.open("rb") as log:
                log.seek(self.offsets.get(actor.log, 0))
                data = log.read()
            # Only whole lines: the rest is read next time.
            data = data[: data.rfind(b"\n") + 1]
            self.offsets[actor.log] = self.offsets.get(actor.log, 0) + len(data)
            self.completed[actor.kind] += data.count(b"completed ")


def failover_mode(options: argparse.Namespace) -> int:
    size = FAILOVER_SIZES[options.size]
    runs = [(topology, wait) for topology in options.topologies.split(",")
            for wait in options.wait.split(",")]
    results = []
    for number, (topology, wait) in enumerate(runs):
        result = failover_run(options, size, topology, wait == "on", number * 2)
        if result["extra failovers"]:
            # A second failover, of a master that was alive, is not the one this run is about
            # (it loses writes WAIT 1 acknowledged, with 2 replicas): shown, then run again once.
            print(f"  ^ {result['row'][7]} failovers in that run, not 1 (a server too slow for its "
                  "timeouts, on this loaded machine): its figures are shown, and it runs again", flush=True)
            results.append(dict(result, problems=[], row=(f"{result['row'][0]} (void)",) + result["row"][1:]))
            result = failover_run(options, size, topology, wait == "on", number * 2 + 1)
        results.append(result)
    print(f"\nfailover under load ({options.size}: {size['items']} items per run; producers "
          f"{', '.join(FAILOVER_PRODUCERS)}; workers {', '.join(FAILOVER_WORKERS)})")
    header = ("topology", "WAIT", "items", "lost", "double-true", "completes unconfirmed", "redelivered",
              "failovers", "promoted", "replica again", "workers completing again (s after the kill)", "took")
    rows = [header] + [r["row"] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
    failed = [r for r in results if r["problems"]]
    for r in failed:
        for problem in r["problems"]:
            print(f"FAIL (failover mode, {r['row'][0]} WAIT {r['row'][1]}): {problem}")
    if not failed:
        print("OK (failover mode): with WAIT on nothing lost and nothing completed true twice; "
              f"every worker completing again within {RECOVERY_LIMIT_S:.0f} s of the kill, without a restart")
    return 1 if failed else 0


def failover_run(options: argparse.Namespace, size: dict, topology: str, wait: bool, number: int) -> dict:
    # A hash tag: on a Cluster the queue's keys must share one slot (and its master is killed).
    prefix = f"{{cross-failover:{os.getpid()}:{number}:{topology}:{'wait' if wait else 'nowait'}}}"
    servers = Servers(topology, prefix)
    started = time.monotonic()
    while not servers.healthy():
        if time.monotonic() - started > 60:
            return dict(row=(topology, "on" if wait else "off") + ("-",) * 10,
                        problems=["the servers were not all up with their replicas within 60 s"],
                        **{"extra failovers": False})
        time.sleep(0.1)
    run = Run(servers.url, prefix, Path(tempfile.mkdtemp(prefix="leaseq-cross-failover-")))
    print(f"\ncross run, failover mode ({options.size}): {topology} master killed, WAIT "
          f"{'on' if wait else 'off'}, on {servers.url}, logs in {run.logs}", flush=True)
    durability = ["--wait-replicas", "1" if wait else "0", "--wait-timeout-ms", WAIT_TIMEOUT_MS,
                  "--lease-ms", FAILOVER_LEASE_MS]
    workers = [run.start(kind, "runtime-worker", "--work-ms", "2", *durability) for kind in FAILOVER_WORKERS]
    per_producer = size["items"] // len(FAILOVER_PRODUCERS)
    producers = [run.start(kind, "paced-producer", "--id-prefix", kind, "--count", str(per_producer),
                           "--pause-ms", str(size["pause_ms"]), *durability) for kind in FAILOVER_PRODUCERS]
    expected = per_producer * len(FAILOVER_PRODUCERS)

    epoch_before = servers.epoch()
    tail = LogTail()
    times: dict[str, float] = {}
    failover_error: list[BaseException] = []
    failing_over = None
    at_kill: collections.Counter[str] = collections.Counter()
    added_at_kill = 0
    recovered: dict[str, float] = {}
    failure = None
    deep_requeued = 0
    started = time.monotonic()
    while True:
        time.sleep(0.05)
        now = time.monotonic()
        tail.read(workers)
        for actor in run.actors:
            code = actor.process.poll()
            if code is not None and (actor.role != "paced-producer" or code != 0):
                failure = f"{actor.role} {actor.log.name} exited with {code}"
        adding = all(p.log.exists() and p.log.stat().st_size for p in producers)
        if failing_over is None and adding and sum(tail.completed.values()) >= FAILOVER_KILL_AT * expected:

            def fail_over() -> None:
                try:
                    servers.fail_over(times)
                except BaseException as error:  # reported by the run
                    failover_error.append(error)

            failing_over = threading.Thread(target=fail_over)
            failing_over.start()
            while "killed" not in times and failing_over.is_alive():
                time.sleep(0.001)
            # Counted once the master is dead: whatever completes after this ran on the new one
            # (but for the few completes in flight at the kill, which RECOVERY_MARGIN covers).
            tail.read(workers)
            at_kill = tail.completed.copy()
            added_at_kill = sum(p.log.read_bytes().count(b"added ") for p in producers)
        if "killed" in times:
            for kind in FAILOVER_WORKERS:
                if kind not in recovered and tail.completed[kind] >= at_kill[kind] + RECOVERY_MARGIN:
                    recovered[kind] = now - times["killed"]
        if failover_error:
            failure = f"the failover: {failover_error[0]}"
        producers_done = all(p.process.poll() == 0 for p in producers)
        if producers_done and failing_over is not None and not failing_over.is_alive():
            try:
                db = servers.master()
                waiting = None if db is None else (
                    sum(db.llen(f"{prefix}:{key}") for key in ("queue", "processing"))
                    + sum(db.zcard(f"{prefix}:{key}") for key in ("delayed", "prioritized")))
            except (redis.RedisError, OSError):
                waiting = None
            if waiting == 0:
                # An item whose data survived a failover but whose id did not is in no list:
                # only a deep clean finds it.
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
    if failing_over is not None:
        failing_over.join()
    # Settled once the killed server is back: the epoch moved on by one per failover.
    epoch_after = servers.epoch()
    failovers = epoch_after - epoch_before if epoch_before is not None and epoch_after is not None else None

    added: set[str] = set()
    delivered: collections.Counter[str] = collections.Counter()
    handled: set[str] = set()
    completed: collections.Counter[str] = collections.Counter()
    completed_by: collections.Counter[str] = collections.Counter()
    add_errors = 0
    unconfirmed_adds: set[str] = set()
    for actor in run.actors:
        if not actor.log.exists():
            continue
        for raw in actor.log.read_text().splitlines():
            event, value = raw.split(" ", 1)
            if event == "added":
                added.add(value)
            elif event == "delivered":
                delivered[value] += 1
            elif event == "completing":
                handled.add(value)
            elif event == "completed":
                completed[value] += 1
                completed_by[actor.kind] += 1
            elif event == "error":
                add_errors += 1
            elif event == "unconfirmed":
                unconfirmed_adds.add(value)
    # Lost: an add that returned successfully, and the item never ran (the queue is empty).
    lost = sorted(added - handled)
    # Items whose add failed but got in (a retry found the id): not acknowledged, so WAIT makes
    # no promise for them; counted apart.
    lost_unconfirmed = sorted(unconfirmed_adds - handled)
    double_true = sorted(i for i, n in completed.items() if n > 1)
    # The handler ran but no complete returned true: the complete failed (the master was
    # killed under it, or WAIT timed out) and took effect anyway, so no later run completed it.
    unconfirmed = len(handled - set(completed))
    redelivered = sum(1 for n in delivered.values() if n > 1)
    unknown = sorted((handled | set(completed)) - added - unconfirmed_adds)
    try:
        db = servers.master()
        leftover = left_behind(db, prefix) if db else ["(no master found)"]
    except (redis.RedisError, OSError):
        leftover = ["(the master did not answer)"]
    since_kill = {kind: t for kind, t in recovered.items()}

    def after_kill(name: str) -> str:
        return f"{times[name] - times['killed']:.1f} s" if name in times and "killed" in times else "-"

    print(f"  items added            {len(added)} acknowledged + {len(unconfirmed_adds)} unconfirmed "
          f"(expected {expected}; {added_at_kill} when the master was killed)")
    print(f"  add calls failed       {add_errors} (in the failover; sent again, item by item)")
    print(f"  completed true         {sum(completed.values())} ({', '.join(f'{k} {n}' for k, n in sorted(completed_by.items()))})")
    print(f"  lost                   {len(lost)} (+ {len(lost_unconfirmed)} of the unconfirmed adds)")
    print(f"  completed true twice   {len(double_true)}")
    print(f"  completed, unconfirmed {unconfirmed} (the complete took effect but did not return true)")
    print(f"  delivered > once       {redelivered}")
    print(f"  deep clean requeued    {deep_requeued}")
    print(f"  new master after       {after_kill('promoted')}; killed server a replica again after {after_kill('replica again')}")
    print(f"  failovers              {failovers if failovers is not None else '?'} (the configuration epoch's "
          f"rise; 1 is the kill's, more were servers too slow for their timeouts)")
    print(f"  completing again after " + ", ".join(
        f"{kind} {since_kill[kind]:.1f} s" if kind in since_kill else f"{kind} never"
        for kind in FAILOVER_WORKERS) + " (after the kill)")
    print(f"  keys left behind       {len(leftover)} {leftover[:5] if leftover else ''}")
    print(f"  took                   {elapsed:.1f} s", flush=True)
    problems = []
    if failure:
        problems.append(failure)
    if elapsed > size["limit"]:
        problems.append(f"did not finish within {size['limit']} s")
    if len(added | unconfirmed_adds) != expected:
        problems.append(f"{expected - len(added | unconfirmed_adds)} items were never added")
    if unknown:
        problems.append(f"ran or completed but never added: {unknown[:10]}")
    if failing_over is None:
        problems.append("the master was never killed")
    late = [kind for kind in FAILOVER_WORKERS if since_kill.get(kind, float("inf")) > RECOVERY_LIMIT_S]
    if failing_over is not None and late:
        problems.append(f"workers not completing again within {RECOVERY_LIMIT_S:.0f} s of the kill: {late}")
    if failovers is not None and failovers > 1 and (lost or double_true):
        problems.append(f"{failovers} failovers in the run, not 1: a server was too slow for its "
                        "timeouts, and a master that was still alive was replaced")
    if wait and lost:
        problems.append(f"with WAIT on, lost: {lost[:10]}")
    if wait and double_true:
        problems.append(f"with WAIT on, completed true twice: {double_true[:10]}")
    if problems:
        for err in sorted(run.logs.glob("*.err")):
            text = err.read_text().strip()
            if text:
                print(f"--- {err.name}\n{text[-2000:]}")
        # The servers' logs go with the harness's directory: keep a copy beside the actors'.
        for server_log in servers.dir.glob("*/redis.log"):
            shutil.copy(server_log, run.logs / f"server-{server_log.parent.name}.log")
        print(f"  (actors' and servers' logs kept in {run.logs})")
    else:
        shutil.rmtree(run.logs, ignore_errors=True)
    recovery = ", ".join(f"{kind} {since_kill[kind]:.1f}" if kind in since_kill else f"{kind} -"
                         for kind in FAILOVER_WORKERS)
    lost_cell = str(len(lost)) + (f" (+{len(lost_unconfirmed)} unconfirmed)" if lost_unconfirmed else "")
    row = (topology, "on" if wait else "off", str(len(added | unconfirmed_adds)), lost_cell,
           str(len(double_true)), str(unconfirmed), str(redelivered), str(failovers),
           after_kill("promoted"), after_kill("replica again"), recovery, f"{elapsed:.0f} s")
    return dict(row=row, problems=problems, **{"extra failovers": bool(failovers and failovers > 1)})


if __name__ == "__main__":
    sys.exit(main())
