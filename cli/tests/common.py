"""Shared helpers for the CLI and dashboard tests: a real Redis (LEASEQ_REDIS_URL, from
scripts/with-redis.sh), the built binary, and a seeded queue written through the key schema."""
import json
import os
import socket
import subprocess
import time
import urllib.request

import redis as _unused  # noqa: F401  (imported so a missing venv fails loudly here)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("LEASEQ_BIN", os.path.join(ROOT, "target", "debug", "leaseq"))
URL = os.environ["LEASEQ_REDIS_URL"]
OUT = os.path.join(ROOT, "cli", "tests", "out")
GOLDEN = os.path.join(ROOT, "cli", "tests", "golden")


def r():
    import redis
    return redis.Redis.from_url(URL)


def leaseq(*args, stdin=None, url=URL):
    return subprocess.run([BINARY, "--url", url, *args], input=stdin, capture_output=True, text=True, timeout=60)


def seed():
    """Queue `emails`: 3 queued, 1 at priority 7, 1 delayed, 1 leased, 3 dead; queue `reports`: paused."""
    db = r()
    db.flushall()
    now_ms = int(time.time() * 1000)
    for n in (1, 2, 3):
        db.set(f"emails:item:e{n}", json.dumps({"to": f"user{n}@example.com"}))
        db.lpush("emails:queue", f"e{n}")
    db.set("emails:item:p1", json.dumps({"to": "vip@example.com"}))
    db.zadd("emails:prioritized", {"p1": (10 - 7) * 10**13 + now_ms})
    db.hset("emails:priority", "p1", 7)
    db.set("emails:item:d1", b"\x00\xffbinary")
    db.zadd("emails:delayed", {"d1": now_ms + 3_600_000})
    db.set("emails:item:l1", "plain text")
    db.lpush("emails:processing", "l1")
    db.set("emails:lease:l1", "session-one", px=600_000)
    db.zadd("emails:deadlines", {"l1": now_ms + 600_000})
    db.hset("emails:attempts", "l1", 2)
    dead = {"x1": ({"to": "a@example.com"}, "smtp timeout"), "x2": ({"to": "<script>window.pwned=1</script>"}, "bad address"),
            "x3": ({"to": "c@example.com"}, "smtp refused")}
    for i, (id_, (data, error)) in enumerate(dead.items()):
        db.set(f"emails:item:{id_}", json.dumps(data))
        db.zadd("emails:dead", {id_: now_ms - 1000 + i})
        db.hset("emails:attempts", id_, 25)
        db.hset("emails:errors", id_, error)
    db.set("reports:item:r1", json.dumps({"report": 1}))
    db.lpush("reports:queue", "r1")
    db.set("reports:paused", 1)
    return db


VOLATILE = {"oldest_queued_age_ms", "died_ms", "due_ms", "expires_in_ms"}


def masked(value):
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE and v is not None else masked(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def check_golden(name, output):
    value = masked(json.loads(output))
    path = os.path.join(GOLDEN, name + ".json")
    if os.environ.get("LEASEQ_UPDATE_GOLDEN") or not os.path.exists(path):
        with open(path, "w") as f:
            json.dump(value, f, indent=2, sort_keys=True)
            f.write("\n")
    with open(path) as f:
        expected = json.load(f)
    assert value == expected, f"{name}: {json.dumps(value, sort_keys=True)} != golden {path}"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Dashboard:
    """`leaseq dashboard` on a free port, stopped by its pid."""

    def __init__(self, *args):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([BINARY, "--url", URL, "dashboard", "--listen", f"127.0.0.1:{self.port}", *args],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dashboard did not start: " + self.process.stderr.read().decode())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)
