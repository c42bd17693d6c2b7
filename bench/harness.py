"""Runs every workload of bench/benchlib/cases.py against one Redis, interleaved run by run,
then prints one table and writes bench/results.json. bench/run.sh builds what this needs and
calls it; run it yourself with --only to repeat a few workloads:

    bench/.venv/bin/python bench/harness.py --url redis://127.0.0.1:PORT --only 'consume:1'
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchlib.cases import all_cases, engineers_scripts
from benchlib.report import (
    Values,
    cpu_lines,
    evaluate,
    roundtrip_lines,
    table,
    target_lines,
)
from benchlib.runner import BENCH, BUILD, ROOT, Redis, Skip, Tools, fresh_name, run_json, rust


def detect(args: argparse.Namespace) -> Tools:
    python = Path(sys.executable)
    probe = subprocess.run([python, "-c", "import leaseq"], capture_output=True, text=True)
    python_leaseq = None
    if probe.returncode != 0:
        python_leaseq = "not built: leaseq's Python package (see bench/.build/logs/python.log)"
    addon = BUILD / "leaseq.node"
    csharp = BUILD / "cs" / "LeaseqLeaseComplete.exe"
    return Tools(
        url=args.url,
        seconds=args.seconds,
        rust=Path(args.rust),
        python=python,
        python_leaseq=python_leaseq,
        node_addon=addon if addon.exists() and shutil.which("node") else None,
        csharp_exe=csharp if csharp.exists() and shutil.which("mono") else None,
        bullmq=(BENCH / "node" / "node_modules" / "bullmq").exists() and bool(shutil.which("node")),
        redis_benchmark=shutil.which("redis-benchmark"),
        verbose=args.verbose,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("LEASEQ_REDIS_URL"),
                        help="the Redis to use (default: $LEASEQ_REDIS_URL, which run.sh sets)")
    parser.add_argument("--rust", default=str(BUILD / "target/release/leaseq-bench"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.5, help="length of one timed run")
    parser.add_argument("--only", help="regular expression: run only the matching case keys")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip the binding engineers' own scripts")
    parser.add_argument("--out", default=str(BENCH / "results.json"))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url, or run under scripts/with-redis.sh (bench/run.sh does)")

    tools = detect(args)
    housekeeping = Redis(args.url)
    cases = [case for case in all_cases() if not args.only or re.search(args.only, case.key)]
    values: Values = {}
    skipped: dict[str, str] = {}
    errors: dict[str, str] = {}
    state: dict[str, object] = {}
    for case in cases:
        reason = case.needs(tools)
        if reason:
            skipped[case.key] = reason
    load_start = os.getloadavg()
    started = time.time()
    # First, as the redis-benchmark rows copy the shape of the EVALSHAs it records.
    roundtrips = None
    try:
        roundtrips = run_json(rust(tools, "roundtrips", fresh_name("roundtrips"), ops=200), tools)
        state["roundtrips"] = roundtrips
    except RuntimeError as err:
        errors["roundtrips"] = str(err)
    housekeeping.flush()

    for run in range(args.runs):
        # Alternate the order, so slow drift of the machine's load favours no workload.
        order = cases if run % 2 == 0 else list(reversed(cases))
        for case in order:
            if case.key in skipped:
                continue
            began = time.perf_counter()
            try:
                result = case.run(tools, state)
            except Skip as reason:
                skipped[case.key] = str(reason)
                continue
            except (RuntimeError, subprocess.CalledProcessError, OSError, KeyError,
                    ValueError) as err:
                message = str(err).strip().splitlines()
                errors[case.key] = message[-1] if message else repr(err)
                print(f"[run {run + 1}/{args.runs}] {case.key}: ERROR {err}", file=sys.stderr)
                result = {}
            finally:
                housekeeping.flush()
            for metric in case.metrics:
                values.setdefault(f"{case.key}:{metric}", [float("nan")] * args.runs)
                if metric in result:
                    values[f"{case.key}:{metric}"][run] = float(result[metric])
            headline = next(iter(case.metrics))
            shown = result.get(headline)
            print(f"[run {run + 1}/{args.runs}] {case.key:26} "
                  f"{'-' if shown is None else f'{shown:,.2f}'} {case.metrics[headline]}"
                  f"{' (queue drained)' if result.get('drained') else ''}"
                  f" ({time.perf_counter() - began:.1f} s)", file=sys.stderr)

    extras: dict[str, object] = {}
    if not args.no_extras:
        extras = engineers_scripts(tools)
        housekeeping.flush()

    targets = evaluate(values)
    if roundtrips:
        expected = {"leaseq add_item": 1, "leaseq add_items (per batch)": 1, "leaseq lease": 1,
                    "leaseq complete": 1}
        observed = {name: roundtrips[name]["commands_sent_per_op"] for name in expected}
        ok = all(abs(observed[name] - count) < 1e-9 for name, count in expected.items())
        targets.insert(0, {
            "target": "Round trips: 1 per add, per add_items batch, per non-blocking lease, per"
                      " complete",
            "status": "PASS" if ok else "MISS", "observed": observed,
            "text": ", ".join(f"{name.removeprefix('leaseq ')} {value:g}"
                              for name, value in observed.items())})

    load_end = os.getloadavg()
    header = [
        f"leaseq benchmarks, {datetime.datetime.now():%Y-%m-%d %H:%M}: Redis"
        f" {housekeeping.version()} on loopback, {os.cpu_count()} CPUs, load average"
        f" {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end",
        f"Each figure: median of {args.runs} runs of ~{args.seconds:g} s [min - max], runs"
        " interleaved across workloads; 'vs': median of the run-by-run ratios to the named row.",
        "100-byte items. redis-benchmark rows are the raw ceiling: a trivial script with the"
        " same keys and arguments, LPUSH of a 36-byte id.",
    ]
    lines = table(cases, values, skipped, errors, header)
    notes = [str(value) for key, value in sorted(state.items()) if key.startswith("notes:")]
    if notes:
        lines += ["", *notes]
    lines += cpu_lines(cases, values)
    lines += roundtrip_lines(roundtrips)
    lines += target_lines(targets)
    if extras:
        lines += ["", "the binding engineers' own scripts (their items and sizes; not used above)"]
        for name, entry in extras.items():
            rows = entry.get("rows") if isinstance(entry, dict) else None
            if not rows:
                lines.append(f"  {name}: {json.dumps(entry)[:200]}")
                continue
            for row in rows:
                what = ", ".join(f"{key} {value}" for key, value in row.items()
                                 if key not in ("per_second", "items"))
                lines.append(f"  {name:26} {what[:52]:52} {row['per_second']:>10,.0f} /s")
    lines.append(f"\ntotal {time.time() - started:.0f} s; JSON in {args.out}")
    print("\n".join(lines))

    details = {key: value for key, value in state.items()
               if key.endswith(":details") or key.startswith("notes:")}
    Path(args.out).write_text(json.dumps({
        "when": datetime.datetime.now().isoformat(timespec="seconds"),
        "redis": housekeeping.version(),
        "cpus": os.cpu_count(),
        "load_average": {"start": load_start, "end": load_end},
        "runs": args.runs,
        "seconds_per_run": args.seconds,
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
        "cases": {
            case.key: {
                "section": case.section, "label": case.label, "ref": case.ref,
                "skipped": skipped.get(case.key), "error": errors.get(case.key),
                "metrics": {metric: {"unit": unit, "values": values.get(f"{case.key}:{metric}")}
                            for metric, unit in case.metrics.items()},
            } for case in cases
        },
        "targets": targets,
        "roundtrips": roundtrips,
        "details": details,
        "engineers_scripts": extras,
        "table": lines,
    }, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
