#!/usr/bin/env python3
"""Redis time per job (lease + complete) of the scripts at two git revisions, side by side.

  scripts/with-redis.sh bench/script_cost.py BASE [OTHER] [--blocks N]

OTHER defaults to the working tree. Both versions run on one Redis in alternating blocks of 2,000
jobs (lease with a 30 s lease, then complete), and each block reads EVALSHA's time from INFO
commandstats; the paired difference per block cancels the machine's load drift, so the median of
the differences is the figure to read (a change of the per-job path should keep it near 0).
Needs the `redis` Python package (bindings-python/.venv has it).
"""
import argparse
import os
import statistics
import subprocess
import time
import uuid

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The scripts' names carry their key counts, which change between revisions: found by prefix.
SCRIPTS = ("lib/wrong-types.lua", "lease-", "complete-")


def script_path(revision, name):
    """`name` itself when it ends in .lua, else the one core/lua/<name>*.lua at `revision`."""
    if name.endswith(".lua"):
        return name
    if revision is None:
        found = [f for f in os.listdir(os.path.join(ROOT, "core/lua")) if f.startswith(name)]
    else:
        listed = subprocess.run(["git", "-C", ROOT, "ls-tree", "--name-only", revision,
                                 "core/lua/"], check=True, capture_output=True, text=True)
        found = [os.path.basename(f) for f in listed.stdout.split()
                 if os.path.basename(f).startswith(name)]
    (only,) = found
    return only


def read(revision, path, optional=False):
    """A script's text at `revision` (None: the working tree); "" for an optional file it lacks."""
    if revision is None:
        full = os.path.join(ROOT, "core/lua", path)
        if optional and not os.path.exists(full):
            return ""
        with open(full) as f:
            return f.read()
    shown = subprocess.run(["git", "-C", ROOT, "show", f"{revision}:core/lua/{path}"],
                           check=not optional, capture_output=True, text=True)
    return shown.stdout if shown.returncode == 0 else ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("other", nargs="?")
    parser.add_argument("--blocks", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2000)
    args = parser.parse_args()
    r = redis.Redis.from_url(os.environ["LEASEQ_REDIS_URL"])
    shas = {}
    for name, revision in (("base", args.base), ("other", args.other)):
        lib, lease, complete = (read(revision, script_path(revision, name)) for name in SCRIPTS)
        # Lease also reads attempt counts: core/src/scripts.rs adds this library to it (newer
        # revisions only).
        counts = read(revision, "lib/attempt-count.lua", optional=True)
        shas[name] = (r.script_load(lib + counts + lease), r.script_load(lib + complete))
    p = "cost" + uuid.uuid4().hex[:8]
    lease_keys = [f"{p}:{k}" for k in ("queue", "processing", "lease:", "item:", "prioritized",
                                       "delayed", "deadlines", "attempts", "priority", "paused",
                                       "dead", "errors", "signal", "last_fence", "fences")]

    def complete_keys(i):
        return [f"{p}:item:{i}", f"{p}:processing", f"{p}:lease:{i}", f"{p}:queue",
                f"{p}:leased_by_session:{i}", f"{p}:deadlines", f"{p}:attempts", f"{p}:errors",
                f"{p}:priority", f"{p}:prioritized", f"{p}:delayed", f"{p}:dead", f"{p}:done:{i}",
                f"{p}:fences", f"{p}:stats"]

    # Older revisions read fewer keys and arguments; the extra ones are ignored there.
    minute = int(time.time() // 60)

    per_job = {"base": [], "other": []}
    for block in range(args.blocks):
        for name in ("base", "other") if block % 2 == 0 else ("other", "base"):
            lease_sha, complete_sha = shas[name]
            pipe = r.pipeline(transaction=False)
            for i in range(args.jobs):
                pipe.set(f"{p}:item:{i}", "x")
                pipe.lpush(f"{p}:queue", i)
            pipe.execute()
            r.config_resetstat()
            for _ in range(args.jobs):
                leased = r.evalsha(lease_sha, len(lease_keys), *lease_keys, 30000, "session", 5)
                item_id = leased[1].decode()
                keys = complete_keys(item_id)
                r.evalsha(complete_sha, len(keys), *keys, item_id, 0, 0, minute, 0)
            stats = r.info("commandstats")["cmdstat_evalsha"]
            per_job[name].append(2 * stats["usec"] / stats["calls"])
    differences = [o - b for b, o in zip(per_job["base"], per_job["other"])]
    label = args.other or "working tree"
    print(f"Redis us per job (lease+complete), medians of {args.blocks} blocks of {args.jobs}:")
    print(f"  {args.base:>14}: {statistics.median(per_job['base']):.1f}")
    print(f"  {label:>14}: {statistics.median(per_job['other']):.1f}")
    print(f"  paired difference (other - base), median: {statistics.median(differences):+.2f} us")


if __name__ == "__main__":
    main()
