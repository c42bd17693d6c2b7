"""The one table, the targets, and bench/results.json."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from .cases import Case

Values = dict[str, list[float]]  # "case:metric" -> one value per run (NaN where a run failed)


@dataclass
class Target:
    name: str
    numerator: str  # "case:metric"
    denominator: str | None  # "case:metric", or None for an absolute limit
    limit: float
    higher_is_better: bool
    unit: str = ""  # of an absolute limit


TARGETS = [
    Target("Rust, 1 task, lease+complete >= 85% of redis-benchmark -c 1 two-EVALSHA rate",
           "rust:consume:1:rate", "rb:evalsha2:c1:p1:rate", 0.85, True),
    Target("Python, 1 thread >= 80% of Rust 1 task",
           "python:consume:1:rate", "rust:consume:1:rate", 0.80, True),
    Target("Node, 1 async loop >= 80% of Rust 1 task",
           "node:consume:1:rate", "rust:consume:1:rate", 0.80, True),
    Target("C#, 1 thread >= 80% of Rust 1 task",
           "csharp:consume:1:rate", "rust:consume:1:rate", 0.80, True),
    Target("Python >= 1.8x PyPI redis-work-queue lease+complete",
           "python:consume:1:rate", "pypi:consume:1:rate", 1.8, True),
    Target("Node, concurrency 16 >= 1.5x BullMQ Worker concurrency 16",
           "node:consume:16:rate", "bullmq:consume:16:rate", 1.5, True),
    Target("Rust, 16 tasks >= 1.5x crate redis-work-queue, 16 tasks, one shared connection",
           "rust:consume:16:rate", "crate:consume:16:rate", 1.5, True),
    Target("Redis CPU per job, single-form lease+complete (Rust, 1 task) <= 10 us",
           "rust:consume:1:redis_cpu", None, 10.0, False, "µs"),
    Target("Redis CPU per job, batched lease_many+complete_many of 16 <= 4 us",
           "rust:consume:batch16:redis_cpu", None, 4.0, False, "µs"),
    Target("Rust Worker, no-op handler, concurrency 16 >= 100,000 jobs/s",
           "rust:worker:16:rate", None, 100000.0, True, "/s"),
    Target("Rust Worker, concurrency 16 >= 4x crate redis-work-queue, 16 tasks",
           "rust:worker:16:rate", "crate:consume:16:rate", 4.0, True),
    Target("Python Worker, concurrency 16 >= 3x BullMQ Worker concurrency 16",
           "python:worker:16:rate", "bullmq:consume:16:rate", 3.0, True),
    Target("Python Worker, concurrency 16 >= 40% of Rust Worker concurrency 16",
           "python:worker:16:rate", "rust:worker:16:rate", 0.40, True),
    Target("Node Worker, concurrency 16 >= 3x BullMQ Worker concurrency 16",
           "node:worker:16:rate", "bullmq:consume:16:rate", 3.0, True),
    Target("Node Worker, concurrency 16 >= 40% of Rust Worker concurrency 16",
           "node:worker:16:rate", "rust:worker:16:rate", 0.40, True),
    Target("C# Worker, concurrency 16 >= 3x BullMQ Worker concurrency 16",
           "csharp:worker:16:rate", "bullmq:consume:16:rate", 3.0, True),
    Target("C# Worker, concurrency 16 >= 40% of Rust Worker concurrency 16",
           "csharp:worker:16:rate", "rust:worker:16:rate", 0.40, True),
    Target("Batched produce (add_items of 1000) >= 50% of redis-benchmark LPUSH -c 1 -P 16",
           "rust:produce:batch1000:rate", "rb:lpush:c1:p16:rate", 0.5, True),
    Target("Blocking-lease wake-up p99 < 2 ms",
           "rust:wakeup:wakeup_p99", None, 2.0, False, "ms"),
    Target("Memory per queued item <= PyPI redis-work-queue's (same item)",
           "rust:memory:hex:bytes_per_item", "pypi:memory:1:bytes_per_item", 1.0, False),
    Target("Deep clean of 1,000,000: longest single command < 10 ms",
           "rust:deep-clean:longest_ms", None, 10.0, False, "ms"),
    Target("... with 100 orphaned items among them: longest single command < 10 ms",
           "rust:deep-clean:orphans_longest_ms", None, 10.0, False, "ms"),
]


def clean(values: list[float]) -> list[float]:
    return [value for value in values if value == value]


def paired_ratio(values: Values, numerator: str, denominator: str) -> dict[str, float] | None:
    """Ratios run by run (the two were measured minutes apart at most), then their median."""
    pairs = [a / b for a, b in zip(values.get(numerator, []), values.get(denominator, []))
             if a == a and b == b and b]
    if not pairs:
        return None
    return {"median": statistics.median(pairs), "min": min(pairs), "max": max(pairs)}


def fmt(value: float, unit: str) -> str:
    if value != value:
        return "-"
    if unit in ("items/s", "/s"):
        return f"{value:,.0f}"
    if unit == "µs":
        return f"{value:,.0f}"
    if unit in ("ms", "s"):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if unit == "B":
        return f"{value:,.1f}"
    return f"{value:,.3g}"


METRIC_NAMES = {
    "rate": "", "seconds": "time", "lease_p50": "lease p50", "lease_p99": "lease p99",
    "complete_p50": "complete p50", "complete_p99": "complete p99", "wakeup_p50": "p50",
    "wakeup_p99": "p99", "bytes_per_item": "", "longest_ms": "longest command",
    "orphans_seconds": "wall time, +100 orphans", "orphans_longest_ms":
    "longest command, +100 orphans",
}


def short(label: str) -> str:
    return label.replace("redis-benchmark ", "").replace(": two EVALSHA in sequence", " EVALSHA x2")


def table(cases: list[Case], values: Values, skipped: dict[str, str], errors: dict[str, str],
          header: list[str]) -> list[str]:
    by_key = {case.key: case for case in cases}
    lines = list(header)
    section = None
    for case in cases:
        if case.section != section:
            section = case.section
            lines += ["", section]
        for metric, unit in case.metrics.items():
            if metric.endswith("_cpu"):
                continue  # in cpu_lines
            suffix = METRIC_NAMES.get(metric, metric)
            if metric == "seconds" and case.key == "rust:deep-clean":
                suffix = "wall time"
            name = f"{case.label}, {suffix}" if suffix else case.label
            if case.key in skipped:
                lines.append(f"  {name[:62]:62} {skipped[case.key]}")
                break
            key = f"{case.key}:{metric}"
            got = clean(values.get(key, []))
            if not got:
                lines.append(f"  {name[:62]:62} error: {errors.get(case.key, 'no value')[:70]}")
                break
            median = f"{fmt(statistics.median(got), unit)} {unit}"
            span = f"[{fmt(min(got), unit)} - {fmt(max(got), unit)}]"
            versus = ""
            if case.ref and metric == next(iter(case.metrics)):
                ratio = paired_ratio(values, key, case.ref)
                ref_case = by_key.get(case.ref.rsplit(":", 1)[0])
                if ratio and ref_case:
                    versus = f"{ratio['median']:.2f}x {short(ref_case.label)}"
            lines.append(f"  {name[:62]:62} {median:>16} {span:<22} {versus}".rstrip())
    return lines


def cpu_lines(cases: list[Case], values: Values) -> list[str]:
    """CPU time per item, client processes and Redis: where a CPU-bound workload's time goes."""
    lines = ["", "CPU time per lease+complete (median; the client processes, start-up included,"
             " from getrusage / Redis, from INFO cpu)"]
    for case in cases:
        client = clean(values.get(f"{case.key}:client_cpu", []))
        server = clean(values.get(f"{case.key}:redis_cpu", []))
        if client and server:
            lines.append(f"  {case.label[:62]:62} {statistics.median(client):>7.1f} µs client"
                         f" {statistics.median(server):>7.1f} µs Redis")
    return lines if len(lines) > 2 else []


def evaluate(values: Values) -> list[dict[str, Any]]:
    results = []
    for target in TARGETS:
        entry: dict[str, Any] = {"target": target.name}
        if target.denominator is None:
            got = clean(values.get(target.numerator, []))
            if not got:
                entry.update(status="NOT MEASURED")
            else:
                measured = statistics.median(got)
                if target.higher_is_better:
                    ok = measured >= target.limit
                else:
                    ok = measured < target.limit
                entry.update(status="PASS" if ok else "MISS", measured=measured,
                             limit=target.limit, unit=target.unit,
                             text=f"{measured:.2f} {target.unit} (limit {target.limit:g})")
        else:
            ratio = paired_ratio(values, target.numerator, target.denominator)
            if ratio is None:
                entry.update(status="NOT MEASURED")
            else:
                measured = ratio["median"]
                if target.higher_is_better:
                    ok = measured >= target.limit
                else:
                    ok = measured <= target.limit
                num = statistics.median(clean(values[target.numerator]))
                den = statistics.median(clean(values[target.denominator]))
                entry.update(status="PASS" if ok else "MISS", ratio=measured,
                             ratio_min=ratio["min"], ratio_max=ratio["max"], limit=target.limit,
                             numerator=num, denominator=den,
                             text=f"{measured:.2f}x [{ratio['min']:.2f} - {ratio['max']:.2f}]"
                                  f" (needs {'>=' if target.higher_is_better else '<='}"
                                  f" {target.limit:g}x; {num:,.1f} vs {den:,.1f})")
        results.append(entry)
    return results


def target_lines(results: list[dict[str, Any]]) -> list[str]:
    lines = ["", "targets (issue 7), ratios taken run by run within this run"]
    for entry in results:
        lines.append(f"  {entry['status']:<12} {entry['target']}")
        if "text" in entry:
            lines.append(f"  {'':12}   {entry['text']}")
    return lines


def roundtrip_lines(roundtrips: dict[str, Any] | None) -> list[str]:
    if not roundtrips:
        return []
    lines = ["", "per operation: commands sent (MONITOR; leaseq pipelines nothing, so each is one"
             " round trip; the crate's complete is one pipeline), commands run inside scripts, and"
             " Redis's own time (INFO commandstats, without MONITOR)"]
    for name, entry in roundtrips.items():
        sent = ", ".join(f"{command} {count:g}" for command, count in entry["by_command"].items())
        server = entry.get("server_usec_per_op")
        lines.append(f"  {name:30} {entry['commands_sent_per_op']:>5.2f} sent ({sent});"
                     f" {entry['commands_in_scripts_per_op']:.0f} in scripts"
                     + (f"; {server:.1f} µs in Redis" if server is not None else ""))
    return lines
