"""The workloads: each Case runs once per call and returns its metrics; the harness repeats it.

Sizing: a run lasts about `tools.seconds` (1.5 s by default), so a workload's five runs take
3-20 s with their set-up. Queues consumed during a run are filled beforehand (not timed) with
more items than the last run used, so a run ends by its clock, not by an empty queue (a run
that empties the queue still gives a valid rate, and is marked `drained`).
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from typing import Any, Callable

from .runner import (
    BENCH,
    BUILD,
    ROOT,
    Redis,
    Skip,
    Tools,
    fill,
    finish,
    fresh_name,
    run_json,
    rust,
    start,
    wall_clock_ms,
    with_cpu,
)

Result = dict[str, float]
State = dict[str, Any]


@dataclass
class Case:
    key: str
    section: str
    label: str
    metrics: dict[str, str]  # name -> unit; the first is the headline
    run: Callable[[Tools, State], Result]
    needs: Callable[[Tools], str | None] = lambda tools: None
    ref: str | None = None  # "case:metric" this row is shown relative to


# ---------------------------------------------------------------- redis-benchmark, the ceiling

ID = "xxxxxxxx-xxxx-xxxx-xxxx-__rand_int__"  # 36 characters, a UUID's length
TRIVIAL = "return 1"


def script_shape(state: State, operation: str) -> list[str]:
    """The keys and arguments leaseq's `operation` really sends (its first EVALSHA as MONITOR saw
    it in the round-trip count, which runs first), so redis-benchmark sends the same bytes to a
    script that does nothing: what two EVALSHA round trips cost with no work in them."""
    sample = state.get("roundtrips", {}).get(f"leaseq {operation}", {}).get("sample", [])
    if len(sample) < 3 or sample[0].upper() != "EVALSHA":
        raise Skip(f"no EVALSHA sample of leaseq {operation} (the round-trip count failed)")
    return [str(word) for word in sample[2:]]


def need_redis_benchmark(tools: Tools) -> str | None:
    return None if tools.redis_benchmark else "redis-benchmark not installed (Debian redis-tools)"


def redis_benchmark(tools: Tools, state: State, key: str, clients: int, pipeline: int,
                    command: list[str], share: float) -> float:
    """Requests per second; the request count is calibrated once so a run lasts about
    `share` x tools.seconds."""
    assert tools.redis_benchmark

    def once(requests: int) -> float:
        out = subprocess.run(
            [tools.redis_benchmark, "-p", str(tools.port), "-c", str(clients), "-P", str(pipeline),
             "-n", str(requests), "-r", "1000000", "--csv", *command],
            capture_output=True, text=True, check=True, timeout=300,
        ).stdout
        return float(out.strip().splitlines()[-1].split('","')[1])

    requests = state.get(f"{key}:requests")
    if requests is None:
        probe = 3000 * pipeline * (4 if clients > 1 else 1)
        requests = max(1000, int(once(probe) * tools.seconds * share))
        state[f"{key}:requests"] = requests
    Redis(tools.url).flush()
    return once(requests)


def evalsha_pair(clients: int, pipeline: int) -> Callable[[Tools, State], Result]:
    def run(tools: Tools, state: State) -> Result:
        lease_shape, complete_shape = script_shape(state, "lease"), script_shape(state, "complete")
        sha = Redis(tools.url).script_load(TRIVIAL)
        key = f"evalsha:c{clients}:p{pipeline}"
        lease = redis_benchmark(tools, state, key + ":lease", clients, pipeline,
                                ["EVALSHA", sha, *lease_shape], 0.5)
        complete = redis_benchmark(tools, state, key + ":complete", clients, pipeline,
                                   ["EVALSHA", sha, *complete_shape], 0.5)
        # Two calls in sequence: a lease+complete pair costs the sum of their times.
        return {"rate": 1 / (1 / lease + 1 / complete), "lease_rps": lease,
                "complete_rps": complete}

    return run


def lpush(clients: int, pipeline: int) -> Callable[[Tools, State], Result]:
    def run(tools: Tools, state: State) -> Result:
        rate = redis_benchmark(tools, state, f"lpush:c{clients}:p{pipeline}", clients, pipeline,
                               ["LPUSH", "bench:lpush", ID], 1.0)
        return {"rate": rate}

    return run


# ---------------------------------------------------------------- sizing helpers

def prefill_for(state: State, key: str, tools: Tools, guess: float, floor: int = 5000) -> int:
    """Items to queue before a timed consume: 1.6 x what the last run of this case used."""
    rate = state.get(f"{key}:rate", guess)
    return int(max(floor, rate * tools.seconds * 1.6))


def remember(state: State, key: str, result: Result) -> Result:
    state[f"{key}:rate"] = result["rate"]
    return result


def rate_of(result: dict[str, Any]) -> Result:
    rates = {"rate": float(result["rate"]), "drained": float(bool(result.get("drained")))}
    for cpu in ("redis_cpu", "client_cpu"):
        if cpu in result:
            rates[cpu] = float(result[cpu])
    return rates


def ops(result: dict[str, Any]) -> float:
    """Items the process handled in all (BullMQ's also counts its untimed warm-up)."""
    return float(result.get("cpu_ops", result["ops"]))


# ---------------------------------------------------------------- leaseq in Rust, and the crate

def rust_produce(mode: str, batch: int = 1, engine: str = "leaseq") -> Callable[..., Result]:
    def run(tools: Tools, state: State) -> Result:
        options: dict[str, Any] = {"engine": engine, "mode": mode, "seconds": tools.seconds}
        if mode == "batch":
            options["batch"] = batch
        return rate_of(run_json(rust(tools, "produce", fresh_name("produce"), **options), tools))

    return run


def rust_consume(tasks: int, engine: str, guess: float,
                 runtime: str = "multi-thread") -> Callable[..., Result]:
    def run(tools: Tools, state: State) -> Result:
        key = f"{engine}:consume:{tasks}:{runtime}"
        queue = fresh_name("consume")
        fill(tools, queue, prefill_for(state, key, tools, guess))
        command = rust(tools, "consume", queue, engine=engine, tasks=tasks, seconds=tools.seconds)
        env = {"BENCH_RUNTIME": runtime}
        result = with_cpu(tools, ops, lambda: run_json(command, tools, env))
        return remember(state, key, rate_of(result))

    return run


def rust_consume_batch(batch: int, guess: float) -> Callable[..., Result]:
    def run(tools: Tools, state: State) -> Result:
        key = f"leaseq-batch:consume:{batch}"
        queue = fresh_name("consume")
        fill(tools, queue, prefill_for(state, key, tools, guess))
        command = rust(tools, "consume", queue, engine="leaseq-batch", tasks=1, batch=batch,
                       seconds=tools.seconds)
        result = with_cpu(tools, ops, lambda: run_json(command, tools))
        return remember(state, key, rate_of(result))

    return run


def rust_worker(concurrency: int, guess: float) -> Callable[..., Result]:
    def run(tools: Tools, state: State) -> Result:
        key = f"leaseq:worker:{concurrency}"
        queue = fresh_name("worker")
        fill(tools, queue, prefill_for(state, key, tools, guess))
        command = rust(tools, "worker", queue, concurrency=concurrency, seconds=tools.seconds)
        result = with_cpu(tools, ops, lambda: run_json(command, tools))
        return remember(state, key, rate_of(result))

    return run


def rust_consume_processes(processes: int) -> Callable[..., Result]:
    def run(tools: Tools, state: State) -> Result:
        key = f"leaseq:consume:{processes}proc"
        queue = fresh_name("consume-procs")
        fill(tools, queue, prefill_for(state, key, tools, 30000))
        start_at = wall_clock_ms(0.8)
        commands = [rust(tools, "consume", queue, tasks=1, seconds=tools.seconds,
                         start_at=start_at) for _ in range(processes)]

        def work() -> dict[str, Any]:
            procs = [start(command) for command in commands]
            results = [finish(proc, command, tools) for proc, command in zip(procs, commands)]
            done = sum(result["ops"] for result in results)
            seconds = max(result["seconds"] for result in results)
            return {"ops": done, "rate": done / seconds,
                    "drained": any(result["drained"] for result in results)}

        return remember(state, key, rate_of(with_cpu(tools, ops, work)))

    return run


def rust_end_to_end(workers: int) -> Callable[..., Result]:
    """One producer (add_items, batches of 100) and `workers` worker processes (blocking lease +
    complete) start together on an empty queue; the time runs until the last completion."""

    def run(tools: Tools, state: State) -> Result:
        count = int(state.get("e2e:rate", 20000) * tools.seconds)
        queue = fresh_name("e2e")
        start_at = wall_clock_ms(0.8)
        commands = [rust(tools, "e2e-producer", queue, count=count, batch=100, start_at=start_at)]
        commands += [rust(tools, "e2e-worker", queue, start_at=start_at, idle_ms=300)
                     for _ in range(workers)]
        procs = [start(command) for command in commands]
        results = [finish(proc, command, tools) for proc, command in zip(procs, commands)]
        completed = sum(result["ops"] for result in results[1:])
        if completed != count:
            raise RuntimeError(f"end to end: {completed} of {count} items completed")
        seconds = (max(result["last_ms"] for result in results[1:]) - start_at) / 1000
        state["e2e:rate"] = count / seconds
        return {"rate": count / seconds, "seconds": seconds, "items": float(count),
                "producer_rate": results[0]["rate"]}

    return run


def rust_latency(tools: Tools, state: State) -> Result:
    prefill = prefill_for(state, "latency", tools, 8000)
    result = run_json(rust(tools, "latency", fresh_name("latency"), prefill=prefill,
                           seconds=tools.seconds), tools)
    state["latency:rate"] = result["lease"]["samples"] / tools.seconds
    return {"lease_p50": result["lease"]["p50_us"], "lease_p99": result["lease"]["p99_us"],
            "complete_p50": result["complete"]["p50_us"],
            "complete_p99": result["complete"]["p99_us"]}


def rust_wakeup(tools: Tools, state: State) -> Result:
    result = run_json(rust(tools, "wakeup", fresh_name("wakeup"), seconds=tools.seconds), tools)
    return {"wakeup_p50": result["wakeup"]["p50_us"] / 1000,
            "wakeup_p99": result["wakeup"]["p99_us"] / 1000,
            "samples": result["wakeup"]["samples"]}


def rust_complete_inflight(leased: int) -> Callable[..., Result]:
    def run(tools: Tools, state: State) -> Result:
        result = run_json(rust(tools, "complete-inflight", fresh_name("inflight"), leased=leased,
                               completes=1000), tools)
        return {"redis_us": result["redis_us_per_complete"]}

    return run


def rust_memory(id_style: str) -> Callable[..., Result]:
    def run(tools: Tools, state: State) -> Result:
        Redis(tools.url).flush()
        result = run_json(rust(tools, "memory", fresh_name("memory"), count=100_000,
                               id_style=id_style), tools)
        return {"bytes_per_item": result["bytes_per_item"]}

    return run


DEEP_CLEAN_ITEMS = 1_000_000
ORPHANS = 100


def script_names() -> dict[str, str]:
    """SHA1 -> file name of the core's scripts, to name the EVALSHAs SLOWLOG reports."""
    return {hashlib.sha1(path.read_bytes()).hexdigest(): path.name
            for path in sorted((ROOT / "core" / "lua").glob("*.lua"))}


def rust_deep_clean(tools: Tools, state: State) -> Result:
    result = run_json(rust(tools, "deep-clean", fresh_name("deep-clean"), count=DEEP_CLEAN_ITEMS,
                           orphans=ORPHANS), tools, timeout=600)
    plain, orphans = result["plain"], result["with_orphans"]
    names = script_names()
    for variant in (plain, orphans):
        words = variant["longest_command"].split()
        if len(words) == 2 and words[0] == "EVALSHA":
            variant["longest_command"] = f"EVALSHA {names.get(words[1], words[1])}"
    state["deep-clean:details"] = result
    state["notes:deep-clean"] = (
        f"deep clean: longest command {plain['longest_command']}"
        f" ({plain['longest_us'] / 1000:.2f} ms) with no orphans; {orphans['longest_command']}"
        f" ({orphans['longest_us'] / 1000:.2f} ms; inside it {orphans['longest_in_script_command']}"
        f" {orphans['longest_in_script_us'] / 1000:.2f} ms) with {ORPHANS} orphans (last run)")
    return {"seconds": plain["seconds"], "longest_ms": plain["longest_us"] / 1000,
            "orphans_seconds": orphans["seconds"],
            "orphans_longest_ms": orphans["longest_us"] / 1000}


# ---------------------------------------------------------------- the bindings, one thread

def need_python(tools: Tools) -> str | None:
    return tools.python_leaseq


def need_node(tools: Tools) -> str | None:
    return None if tools.node_addon else "not built: the Node addon (see bench/.build/logs/)"


def need_csharp(tools: Tools) -> str | None:
    return None if tools.csharp_exe else "not built: the .NET binding (see bench/.build/logs/)"


def need_bullmq(tools: Tools) -> str | None:
    return None if tools.bullmq else "not installed: bullmq in bench/node/node_modules"


def node_env(tools: Tools) -> dict[str, str]:
    return {"NAPI_RS_NATIVE_LIBRARY_PATH": str(tools.node_addon)} if tools.node_addon else {}


def binding_consume(language: str, guess: float, concurrency: int = 1) -> Callable[..., Result]:
    def run(tools: Tools, state: State) -> Result:
        key = f"{language}:consume:{concurrency}"
        queue = fresh_name(key)
        fill(tools, queue, prefill_for(state, key, tools, guess))
        seconds = str(tools.seconds)
        if language == "python":
            command: list[Any] = [tools.python, BENCH / "drivers/leaseq_lease_complete.py",
                                  "--url", tools.url, "--queue", queue, "--seconds", seconds]
            env = None
        elif language == "node":
            command = ["node", BENCH / "drivers/leaseq_lease_complete.mjs", "--url", tools.url,
                       "--queue", queue, "--seconds", seconds, "--concurrency", str(concurrency)]
            env = node_env(tools)
        elif language == "csharp":
            command = ["mono", tools.csharp_exe, tools.url, queue, seconds]
            env = None
        else:
            raise ValueError(language)
        return remember(state, key, rate_of(with_cpu(tools, ops,
                                                     lambda: run_json(command, tools, env))))

    return run


CSHARP_WORKER_EXE = BUILD / "cs" / "LeaseqWorker.exe"


def need_csharp_worker(tools: Tools) -> str | None:
    if not (tools.csharp_exe and CSHARP_WORKER_EXE.exists()):
        return "not built: the .NET binding's Worker driver (see bench/.build/logs/)"
    return None


def binding_worker(language: str, guess: float, concurrency: int = 16) -> Callable[..., Result]:
    """The binding's Worker (the README's main API) with a no-op handler at `concurrency` in one
    process, draining a prefilled queue: the drivers/leaseq_worker.* and LeaseqWorker.cs."""

    def run(tools: Tools, state: State) -> Result:
        key = f"{language}:worker:{concurrency}"
        queue = fresh_name(key)
        fill(tools, queue, prefill_for(state, key, tools, guess))
        seconds, width = str(tools.seconds), str(concurrency)
        env = None
        if language == "python":
            command: list[Any] = [tools.python, BENCH / "drivers/leaseq_worker.py", "--url",
                                  tools.url, "--queue", queue, "--seconds", seconds,
                                  "--concurrency", width]
        elif language == "node":
            command = ["node", BENCH / "drivers/leaseq_worker.mjs", "--url", tools.url,
                       "--queue", queue, "--seconds", seconds, "--concurrency", width]
            env = node_env(tools)
        elif language == "csharp":
            command = ["mono", CSHARP_WORKER_EXE, tools.url, queue, seconds, width]
        else:
            raise ValueError(language)
        return remember(state, key, rate_of(with_cpu(tools, ops,
                                                     lambda: run_json(command, tools, env))))

    return run


def client_alone(tasks: int) -> Callable[..., Result]:
    """redis-rs 1.x's ConnectionManager (what leaseq uses) sending two trivial EVALSHA per item
    from `tasks` tasks: the client library and Redis's script call, without leaseq's work."""

    def run(tools: Tools, state: State) -> Result:
        command = rust(tools, "probe", "unused", tasks=tasks, seconds=tools.seconds,
                       client="manager")
        return rate_of(with_cpu(tools, ops, lambda: run_json(command, tools)))

    return run


# ---------------------------------------------------------------- peers: PyPI package, BullMQ

def pypi(mode: str, guess: float = 0, batch: int = 1) -> Callable[..., Result]:
    def run(tools: Tools, state: State) -> Result:
        key = f"pypi:{mode}:{batch}"
        queue = fresh_name("pypi")
        command: list[Any] = [tools.python, BENCH / "peers/rwq_pypi.py", mode, "--url", tools.url,
                              "--queue", queue, "--seconds", str(tools.seconds)]
        if mode == "consume":
            fill(tools, queue, prefill_for(state, key, tools, guess, floor=2000))
            return remember(state, key, rate_of(with_cpu(tools, ops,
                                                         lambda: run_json(command, tools))))
        if mode == "produce":
            command += ["--batch", str(batch)]
            return remember(state, key, rate_of(run_json(command, tools)))
        Redis(tools.url).flush()
        command += ["--count", "100000"]
        return {"bytes_per_item": run_json(command, tools)["bytes_per_item"]}

    return run


def bullmq(mode: str, guess: float = 0, concurrency: int = 1,
           batch: int = 1000) -> Callable[..., Result]:
    def run(tools: Tools, state: State) -> Result:
        key = f"bullmq:{mode}:{concurrency}"
        queue = fresh_name("bullmq").replace(":", "-")

        def command(*options: Any) -> list[Any]:
            return ["node", BENCH / "peers/bullmq.mjs", *options, "--url", tools.url,
                    "--queue", queue, "--seconds", str(tools.seconds)]

        if mode == "consume":
            prefill = prefill_for(state, key, tools, guess, floor=2000)
            run_json(command("fill", "--count", prefill), tools)
            consume = command("consume", "--concurrency", concurrency, "--prefill", prefill)
            return remember(state, key, rate_of(with_cpu(tools, ops,
                                                         lambda: run_json(consume, tools))))
        if mode == "produce":
            return remember(state, key, rate_of(run_json(command("produce", "--batch", batch),
                                                         tools)))
        Redis(tools.url).flush()
        return {"bytes_per_item": run_json(command("memory", "--count", 100_000),
                                           tools)["bytes_per_item"]}

    return run


# ---------------------------------------------------------------- the list, in running order

PRODUCE = "produce (100-byte items, one producer)"
ONE = "lease+complete, one worker (one connection, one at a time)"
SIXTEEN = "lease+complete, 16 concurrent in one process (one shared connection)"
MORE = "lease+complete from several processes; end to end"
LATENCY = "latency (one worker)"
MEMORY = "Redis memory per queued 100-byte item"
INFLIGHT = "Redis time of one complete (INFO commandstats) while other items are leased"
CLEAN = f"deep clean of {DEEP_CLEAN_ITEMS:,} queued items"

RATE = {"rate": "items/s"}
# Consume rows also carry the CPU time one item cost the client processes and Redis.
CONSUME = {"rate": "items/s", "client_cpu": "µs", "redis_cpu": "µs"}
LPUSH_P16 = "rb:lpush:c1:p16:rate"


def all_cases() -> list[Case]:
    rb = need_redis_benchmark
    # Each row runs next to what it is compared with, so a ratio spans seconds, not minutes.
    return [
        Case("rb:lpush:c1:p1", PRODUCE, "redis-benchmark LPUSH -c 1", RATE, lpush(1, 1), rb),
        Case("rust:produce:single", PRODUCE, "leaseq Rust add_item, one at a time", RATE,
             rust_produce("single"), ref="rb:lpush:c1:p1:rate"),
        Case("pypi:produce:single", PRODUCE, "PyPI redis-work-queue add_item, one at a time",
             RATE, pypi("produce"), ref="rb:lpush:c1:p1:rate"),
        Case("rb:lpush:c1:p16", PRODUCE, "redis-benchmark LPUSH -c 1 -P 16", RATE, lpush(1, 16),
             rb),
        Case("rust:produce:batch1000", PRODUCE, "leaseq Rust add_items, batches of 1000", RATE,
             rust_produce("batch", 1000), ref=LPUSH_P16),
        Case("rust:produce:batch100", PRODUCE, "leaseq Rust add_items, batches of 100", RATE,
             rust_produce("batch", 100), ref=LPUSH_P16),
        Case("crate:produce:batch1000", PRODUCE, "crate redis-work-queue, pipelines of 1000",
             RATE, rust_produce("batch", 1000, "crate"), ref=LPUSH_P16),
        Case("pypi:produce:batch1000", PRODUCE, "PyPI redis-work-queue, pipelines of 1000", RATE,
             pypi("produce", batch=1000), ref=LPUSH_P16),
        Case("bullmq:produce:batch1000", PRODUCE, "BullMQ addBulk of 1000", RATE,
             bullmq("produce", batch=1000), need_bullmq, ref=LPUSH_P16),
        Case("rb:lpush:c50:p1", PRODUCE, "redis-benchmark LPUSH -c 50", RATE, lpush(50, 1), rb),
        Case("rb:lpush:c50:p16", PRODUCE, "redis-benchmark LPUSH -c 50 -P 16", RATE,
             lpush(50, 16), rb),

        Case("rb:evalsha2:c1:p1", ONE, "redis-benchmark -c 1: two EVALSHA in sequence", RATE,
             evalsha_pair(1, 1), rb),
        Case("rust:consume:1", ONE, "leaseq Rust, 1 task", CONSUME,
             rust_consume(1, "leaseq", 8000), ref="rb:evalsha2:c1:p1:rate"),
        Case("probe:1", ONE, "(diagnostic) redis-rs alone, 1 task, 2 trivial EVALSHA", CONSUME,
             client_alone(1), ref="rb:evalsha2:c1:p1:rate"),
        Case("rust:consume:1:ct", ONE, "(diagnostic) leaseq Rust, 1 task, current-thread runtime",
             CONSUME, rust_consume(1, "leaseq", 8000, "current-thread"),
             ref="rb:evalsha2:c1:p1:rate"),
        Case("python:consume:1", ONE, "leaseq Python, 1 thread", CONSUME,
             binding_consume("python", 6000), need_python, ref="rb:evalsha2:c1:p1:rate"),
        Case("pypi:consume:1", ONE, "PyPI redis-work-queue 0.1.5, 1 thread", CONSUME,
             pypi("consume", 3000), ref="rb:evalsha2:c1:p1:rate"),
        Case("node:consume:1", ONE, "leaseq Node, 1 async loop", CONSUME,
             binding_consume("node", 6000), need_node, ref="rb:evalsha2:c1:p1:rate"),
        Case("csharp:consume:1", ONE, "leaseq C# (Mono), 1 thread", CONSUME,
             binding_consume("csharp", 6000), need_csharp, ref="rb:evalsha2:c1:p1:rate"),
        Case("crate:consume:1", ONE, "crate redis-work-queue 0.3, 1 task", CONSUME,
             rust_consume(1, "crate", 6000), ref="rb:evalsha2:c1:p1:rate"),
        Case("bullmq:consume:1", ONE, "BullMQ Worker, concurrency 1", CONSUME,
             bullmq("consume", 8000, 1), need_bullmq, ref="rb:evalsha2:c1:p1:rate"),

        Case("rb:evalsha2:c1:p16", SIXTEEN, "redis-benchmark -c 1 -P 16: two EVALSHA", RATE,
             evalsha_pair(1, 16), rb),
        Case("rust:consume:16", SIXTEEN, "leaseq Rust, 16 tasks", CONSUME,
             rust_consume(16, "leaseq", 30000), ref="rb:evalsha2:c1:p16:rate"),
        Case("crate:consume:16", SIXTEEN, "crate redis-work-queue 0.3, 16 tasks", CONSUME,
             rust_consume(16, "crate", 30000), ref="rb:evalsha2:c1:p16:rate"),
        Case("rust:consume:batch16", SIXTEEN, "leaseq Rust, 1 task, lease_many+complete_many of 16",
             CONSUME, rust_consume_batch(16, 60000), ref="rb:evalsha2:c1:p16:rate"),
        Case("rust:worker:16", SIXTEEN, "leaseq Rust Worker, no-op handler, concurrency 16",
             CONSUME, rust_worker(16, 60000), ref="rb:evalsha2:c1:p16:rate"),
        Case("python:worker:16", SIXTEEN, "leaseq Python Worker, no-op def handler, concurrency 16",
             CONSUME, binding_worker("python", 30000), need_python,
             ref="rust:worker:16:rate"),
        Case("node:worker:16", SIXTEEN, "leaseq Node Worker, no-op async handler, concurrency 16",
             CONSUME, binding_worker("node", 30000), need_node, ref="rust:worker:16:rate"),
        Case("csharp:worker:16", SIXTEEN, "leaseq C# (Mono) Worker, no-op handler, concurrency 16",
             CONSUME, binding_worker("csharp", 30000), need_csharp_worker,
             ref="rust:worker:16:rate"),
        Case("bullmq:consume:16", SIXTEEN, "BullMQ Worker, concurrency 16", CONSUME,
             bullmq("consume", 20000, 16), need_bullmq, ref="rb:evalsha2:c1:p16:rate"),
        Case("node:consume:16", SIXTEEN, "leaseq Node, 16 async loops", CONSUME,
             binding_consume("node", 10000, 16), need_node, ref="rb:evalsha2:c1:p16:rate"),
        Case("rust:consume:16:ct", SIXTEEN, "(diagnostic) leaseq Rust, 16 tasks, current-thread"
             " runtime", CONSUME, rust_consume(16, "leaseq", 30000, "current-thread"),
             ref="rb:evalsha2:c1:p16:rate"),
        Case("crate:consume:16:ct", SIXTEEN, "(diagnostic) crate, 16 tasks, current-thread"
             " runtime", CONSUME, rust_consume(16, "crate", 30000, "current-thread"),
             ref="rb:evalsha2:c1:p16:rate"),
        Case("probe:16", SIXTEEN, "(diagnostic) redis-rs alone, 16 tasks, 2 trivial EVALSHA",
             CONSUME, client_alone(16), ref="rb:evalsha2:c1:p16:rate"),
        Case("rb:evalsha2:c50:p1", SIXTEEN, "redis-benchmark -c 50: two EVALSHA", RATE,
             evalsha_pair(50, 1), rb),
        Case("rb:evalsha2:c50:p16", SIXTEEN, "redis-benchmark -c 50 -P 16: two EVALSHA", RATE,
             evalsha_pair(50, 16), rb),

        Case("rust:consume:4proc", MORE, "leaseq Rust, 4 worker processes", CONSUME,
             rust_consume_processes(4), ref="rb:evalsha2:c50:p1:rate"),
        Case("rust:e2e", MORE, "leaseq Rust end to end: 1 producer + 4 worker processes",
             {"rate": "items/s", "seconds": "s"}, rust_end_to_end(4)),

        Case("rust:latency", LATENCY, "leaseq Rust",
             {"lease_p50": "µs", "lease_p99": "µs", "complete_p50": "µs", "complete_p99": "µs"},
             rust_latency),
        Case("rust:wakeup", LATENCY, "leaseq Rust blocking lease, wake-up after an add",
             {"wakeup_p50": "ms", "wakeup_p99": "ms"}, rust_wakeup),

        Case("rust:complete:10leased", INFLIGHT, "leaseq complete, 10 items leased",
             {"redis_us": "µs"}, rust_complete_inflight(10)),
        Case("rust:complete:10kleased", INFLIGHT, "leaseq complete, 10,000 items leased",
             {"redis_us": "µs"}, rust_complete_inflight(10_000),
             ref="rust:complete:10leased:redis_us"),
        Case("rust:complete:100kleased", INFLIGHT, "leaseq complete, 100,000 items leased",
             {"redis_us": "µs"}, rust_complete_inflight(100_000),
             ref="rust:complete:10leased:redis_us"),

        Case("rust:memory:hex", MEMORY, "leaseq, the PyPI package's id (32 hex)",
             {"bytes_per_item": "B"}, rust_memory("hex"), ref="pypi:memory:1:bytes_per_item"),
        Case("rust:memory:uuid", MEMORY, "leaseq, its own id (36-char UUID)",
             {"bytes_per_item": "B"}, rust_memory("uuid"), ref="pypi:memory:1:bytes_per_item"),
        Case("pypi:memory:1", MEMORY, "PyPI redis-work-queue 0.1.5", {"bytes_per_item": "B"},
             pypi("memory")),
        Case("bullmq:memory", MEMORY, "BullMQ (removeOnComplete)", {"bytes_per_item": "B"},
             bullmq("memory"), need_bullmq, ref="pypi:memory:1:bytes_per_item"),

        Case("rust:deep-clean", CLEAN, "leaseq Rust deep_clean",
             {"seconds": "s", "longest_ms": "ms", "orphans_seconds": "s",
              "orphans_longest_ms": "ms"}, rust_deep_clean),
    ]


def engineers_scripts(tools: Tools) -> dict[str, Any]:
    """The binding engineers' own benchmark scripts, run once each (they repeat internally)."""
    import json
    import re

    found: dict[str, Any] = {}
    env = {"LEASEQ_REDIS_URL": tools.url, **node_env(tools)}
    script = BENCH / "python_lease_complete.py"
    if script.exists():
        if tools.python_leaseq:
            found["python_lease_complete.py"] = {"skipped": tools.python_leaseq}
        else:
            found["python_lease_complete.py"] = _capture(
                [tools.python, script, "--json"], env,
                lambda out: {"rows": json.loads([line for line in out.splitlines()
                                                 if line.startswith("{")][-1])["rows"]})
    script = BENCH / "node_lease_complete.mjs"
    if script.exists():
        if not (tools.node_addon and tools.bullmq):
            found["node_lease_complete.mjs"] = {"skipped": "needs the Node addon and bullmq"}
        else:
            # | system | concurrency | items per run | runs (/s) | median (/s) |
            row = re.compile(r"^\|\s*(.+?)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(.+?)\s*\|"
                             r"\s*([\d.]+)\s*\|$")

            def parse(out: str) -> dict[str, Any]:
                rows = []
                for line in out.splitlines():
                    match = row.match(line.strip())
                    if match:
                        rows.append({"system": match[1], "concurrency": int(match[2]),
                                     "items": int(match[3]), "per_second": float(match[5])})
                return {"rows": rows}

            found["node_lease_complete.mjs"] = _capture(["node", script], env, parse)
    if (BENCH / "csharp" / "Bench.cs").exists():
        exe = BUILD / "cs" / "Bench.exe"
        if not exe.exists():
            found["csharp/Bench.cs"] = {"skipped": "not built (see bench/.build/logs/)"}
        else:
            line = re.compile(r"^\s*(.+?)\s{2,}([\d,]+) lease\+complete/s$")

            def parse_csharp(out: str) -> dict[str, Any]:
                rows = [{"mode": match[1], "per_second": float(match[2].replace(",", ""))}
                        for match in map(line.match, out.splitlines()) if match]
                return {"rows": rows}

            found["csharp/Bench.cs"] = _capture(["mono", exe, tools.url, "1.5", "3"], env,
                                                parse_csharp)
    return found


def _capture(command: list[Any], env: dict[str, str],
             parse: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    proc = start(command, env)
    try:
        out, err = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        proc.kill()
        return {"error": "timed out after 600 s"}
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {err.strip()[-400:]}"}
    try:
        return parse(out)
    except (ValueError, IndexError, KeyError) as err:
        return {"error": f"could not parse its output ({err})", "output": out[-600:]}


__all__ = ["Case", "all_cases", "engineers_scripts"]
