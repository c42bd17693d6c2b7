"""Running workloads: processes that print one JSON line, CPU accounting, Redis housekeeping."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import redis

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
BUILD = BENCH / ".build"


class Skip(Exception):
    """A workload that cannot run here (a binding not built, a tool missing): its reason."""


@dataclass
class Tools:
    """Where everything is; None when it is not built or not installed."""

    url: str
    seconds: float
    rust: Path
    python: Path
    python_leaseq: str | None  # None when importable, else why not
    node_addon: Path | None
    csharp_exe: Path | None
    bullmq: bool
    redis_benchmark: str | None
    verbose: bool = False

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/")[0])


def fresh_name(tag: str) -> str:
    return f"bench:{tag}:{uuid.uuid4().hex[:8]}"


def run_json(
    command: list[str | Path],
    tools: Tools,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> dict[str, Any]:
    """Runs a workload process to the end and returns the JSON object of its last JSON line."""
    proc = start(command, env)
    return finish(proc, command, tools, timeout)


def start(command: list[str | Path], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.Popen(
        [str(part) for part in command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=ROOT,
    )


def finish(
    proc: subprocess.Popen[str], command: list[str | Path], tools: Tools, timeout: float = 300
) -> dict[str, Any]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise RuntimeError(f"timed out after {timeout} s: {' '.join(map(str, command))}") from None
    if proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-8:])
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(map(str, command))}\n{tail}")
    if tools.verbose and err.strip():
        print(err.strip(), file=sys.stderr)
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON line from {' '.join(map(str, command))}:\n{out[-500:]}")


def rust(tools: Tools, subcommand: str, queue: str, **options: Any) -> list[str | Path]:
    command: list[str | Path] = [tools.rust, subcommand, "--url", tools.url, "--queue", queue]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    return command


def fill(tools: Tools, queue: str, count: int) -> None:
    run_json(rust(tools, "fill", queue, count=count), tools)


class Redis:
    """The harness's own connection, for housekeeping between runs."""

    def __init__(self, url: str) -> None:
        self.db = redis.Redis.from_url(url)

    def flush(self) -> None:
        self.db.flushall()

    def version(self) -> str:
        return str(self.db.info("server")["redis_version"])

    def script_load(self, body: str) -> str:
        return str(self.db.script_load(body))

    def config(self, name: str, value: str) -> None:
        self.db.config_set(name, value)


def redis_cpu_seconds(url: str) -> float:
    info = redis.Redis.from_url(url).info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def with_cpu(tools: Tools, ops_of: Callable[[dict[str, Any]], float],
             work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Runs `work` (which waits for its processes) and adds the CPU time per item it cost Redis
    and the client processes: `redis_cpu` and `client_cpu`, in µs."""
    redis_before, client_before = redis_cpu_seconds(tools.url), children_cpu_seconds()
    result = work()
    ops = max(1.0, ops_of(result))
    result["redis_cpu"] = (redis_cpu_seconds(tools.url) - redis_before) / ops * 1e6
    result["client_cpu"] = (children_cpu_seconds() - client_before) / ops * 1e6
    return result


def wall_clock_ms(delay_s: float) -> float:
    """A start instant `delay_s` from now, in ms since the epoch, for processes to meet at."""
    return time.time() * 1000 + delay_s * 1000
