"""`leaseq` commands against a real Redis: golden --json output, bulk actions, bad input."""
import json
import os

from common import check_golden, leaseq, seed, OUT


def ok(run):
    assert run.returncode == 0, run.stderr
    return run.stdout


def one_line_error(run):
    assert run.returncode != 0, run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("leaseq: error: "), run.stderr
    assert "panicked" not in run.stderr and "RUST_BACKTRACE" not in run.stderr
    return lines[0]


def test_queues_golden():
    seed()
    check_golden("queues", ok(leaseq("queues", "--json")))
    table = ok(leaseq("queues"))
    assert "emails" in table and "reports" in table and "yes" in table


def test_queues_reads_the_registry_and_scans_on_request():
    db = seed()  # emails and reports: written by hand, so not in the registry
    names = lambda run: [q["name"] for q in json.loads(ok(run))]
    ok(leaseq("add", "registered", "--json", stdin='{"a": 1}\n'))
    assert db.smembers("leaseq:queues") == {b"registered"}
    # Registered queues only (no keyspace walk), unless --scan asks for every queue.
    assert names(leaseq("queues", "--json")) == ["registered"]
    assert names(leaseq("queues", "--scan", "--json")) == ["emails", "registered", "reports"]
    # A registered queue whose keys are all gone is not listed; with none left, a scan runs.
    db.delete("registered:queue", *db.scan_iter("registered:item:*"))
    assert names(leaseq("queues", "--json")) == ["emails", "reports"]


def test_stats_peek_item_golden():
    seed()
    check_golden("stats", ok(leaseq("stats", "emails", "--json")))
    check_golden("peek", ok(leaseq("peek", "emails", "--json")))
    check_golden("peek-hex", ok(leaseq("peek", "emails", "--json", "--format", "hex", "-n", "2")))
    for id_ in ("e1", "p1", "d1", "l1", "x1", "nope"):
        check_golden(f"item-{id_}", ok(leaseq("item", "emails", id_, "--json")))
    leased = json.loads(ok(leaseq("item", "emails", "l1", "--json")))
    assert leased["state"] == "leased" and leased["session"] == "session-one" and 0 < leased["expires_in_ms"] <= 600_000
    assert "binary" not in ok(leaseq("item", "emails", "d1", "--format", "hex"))


def test_dead_filters_and_bulk():
    db = seed()
    check_golden("dead-smtp", ok(leaseq("dead", "emails", "--error", "smtp", "--json")))
    only = json.loads(ok(leaseq("dead", "emails", "--grep", "script", "--json")))
    assert [i["id"] for i in only["items"]] == ["x2"]
    dry = json.loads(ok(leaseq("requeue", "emails", "--error", "smtp", "--dry-run", "--json")))
    assert sorted(dry["ids"]) == ["x1", "x3"] and db.zcard("emails:dead") == 3
    done = json.loads(ok(leaseq("requeue", "emails", "--error", "timeout", "--json")))
    assert done["requeued"] == 1
    assert db.zscore("emails:dead", "x1") is None and db.zscore("emails:dead", "x3") is not None
    assert b"x1" in db.lrange("emails:queue", 0, -1)
    # purge refuses without --yes when stdin is not a terminal, and changes nothing
    one_line_error(leaseq("purge", "emails", "--grep", "script"))
    assert db.zcard("emails:dead") == 2
    assert json.loads(ok(leaseq("purge", "emails", "--grep", "script", "--yes", "--json")))["purged"] == 1
    assert db.exists("emails:item:x2") == 0 and db.zcard("emails:dead") == 1


def test_pause_resume_clean_add(tmp_path):
    db = seed()
    ok(leaseq("pause", "emails"))
    assert db.exists("emails:paused")
    assert json.loads(ok(leaseq("resume", "emails", "--json")))["was_paused"] is True
    db.delete("emails:lease:l1")  # the lease ran out: a light clean returns the item
    assert json.loads(ok(leaseq("clean", "emails", "--json")))["requeued"] == 1
    ok(leaseq("clean", "emails", "--deep"))
    lines = tmp_path / "items.jsonl"
    lines.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(2500)))
    added = json.loads(ok(leaseq("add", "bulk", "--file", str(lines), "--batch", "1000", "--json")))
    assert added == {"queue": "bulk", "read": 2500, "added": 2500}
    assert db.llen("bulk:queue") == 2500
    assert json.loads(ok(leaseq("add", "bulk", "--json", stdin='{"a": 1}\n\n"x"\n')))["added"] == 2
    error = one_line_error(leaseq("add", "bulk", stdin='{"a": 1}\nnot json\n'))
    assert "line 2" in error


def test_bad_input():
    db = seed()
    assert "invalid Redis URL" in one_line_error(leaseq("queues", url="nonsense://x"))
    assert "cannot connect" in one_line_error(leaseq("queues", url="redis://127.0.0.1:1"))
    assert "unknown queue" in one_line_error(leaseq("stats", "no-such-queue"))
    assert "unknown queue" in one_line_error(leaseq("dead", "no-such-queue"))
    db.set("wrong:queue", "a string where a list belongs")
    assert "wrong type" in one_line_error(leaseq("stats", "wrong"))
    assert "count" in one_line_error(leaseq("peek", "emails", "-n", "0"))
    usage = leaseq("frobnicate")
    assert usage.returncode == 2 and "panicked" not in usage.stderr
    os.makedirs(OUT, exist_ok=True)
