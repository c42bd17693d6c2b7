#!/usr/bin/env python3
"""Runs the language-neutral conformance cases (cases/*.json) through each language's runner.

    driver.py --redis-url URL [--lang rust,python,node,csharp] [--case REGEX] [--list] [--keep]

By default it runs all four languages and two API flavours of the same bindings: python-aio
(leaseq.aio) and csharp-async (the …Async methods).

For each language it starts that language's runner once (runners/ and core/examples/conformance.rs)
and, for each case: writes the case's setup into Redis with redis-py, sends the case (its `{p}`
replaced by a prefix unique to the case and the language) as one JSON line, reads one JSON line of
results back, compares them, then compares every key under `{p}:` (found with SCAN) with the
case's `after`. Failures name the case and the language; the exit status is non-zero if any case
failed in any language. The case format is described in README.md beside this file.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import queue
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import redis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES_DIR = HERE / "cases"
LANGS = ["rust", "python", "node", "csharp"]
# The same bindings through their other API: Python's leaseq.aio, .NET's …Async methods.
FLAVOURS = ["python-aio", "csharp-async"]
KINDS = {"Connection", "Timeout", "InvalidArgument", "LeaseLost", "Internal"}
OPS = {
    "add_item_with",
    "fail",
    "release",
    "dead_len",
    "dead_items",
    "requeue_dead",
    "purge_dead",
    "requeue_all_dead",
    "purge_all_dead",
    "pause",
    "resume",
    "is_paused",
    "prioritized_len",
    "delayed_len",
    "add_item",
    "add_unique_item",
    "add_items",
    "lease",
    "renew",
    "complete",
    "light_clean",
    "deep_clean",
    "queue_len",
    "processing",
    "sleep",
    "new_queue",
    "open",
    "close",
    "run_worker",
    "lease_many",
    "complete_many",
    "complete_and_lease",
}
# Matcher keys an `after` entry may use when it is an object rather than a string or a list.
KEY_MATCHERS = {
    "exists",
    "optional",
    "type",
    "value",
    "regex",
    "unordered",
    "ttl_ms_min",
    "ttl_ms_max",
    "persistent",
}
STEP_FIELDS = {"op", "args", "queue", "expect", "error", "within_ms"}
RANGE = re.compile(r"\{i=(-?\d+)\.\.(-?\d+)\}")
# How long a runner may take for one case beyond the sleeps and lease timeouts the case asks for.
CASE_SLACK_SECS = 60
# A runner that dies this many cases in a row is not started again for the remaining cases.
MAX_RESTARTS_IN_A_ROW = 3
# How long a runner may take to end once its stdin is closed.
EXIT_GRACE_SECS = 5
# Problems printed per failed case (a wrong 1000-element list would otherwise fill the screen).
MAX_PROBLEMS_SHOWN = 12


# ---------------------------------------------------------------------------------------------
# Loading cases


def load_cases(cases_dir: Path) -> list[dict[str, Any]]:
    """Every case of cases_dir/*.json, in file order, named `file/name`, checked for form."""
    cases: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for path in sorted(cases_dir.glob("*.json")):
        with path.open(encoding="utf-8") as file:
            document = json.load(file)
        for case in document["cases"]:
            name = f"{path.stem}/{case.get('name')}"
            if name in seen:
                problems.append(f"{name}: the name is used twice")
            seen.add(name)
            problems += [f"{name}: {problem}" for problem in lint(case)]
            cases.append({**case, "name": name})
    if problems:
        sys.exit("driver.py: malformed cases:\n  " + "\n  ".join(problems))
    return cases


def lint(case: dict[str, Any]) -> list[str]:
    problems = []
    unknown = set(case) - {"name", "about", "setup", "steps", "after", "queue_options", "skip"}
    if unknown:
        problems.append(f"unknown fields {sorted(unknown)}")
    skip = case.get("skip", {})
    if not isinstance(skip, dict) or set(skip) - set(LANGS + FLAVOURS):
        problems.append("`skip` must map languages to the reason the case cannot be written there")
    elif not all(isinstance(reason, str) and reason for reason in skip.values()):
        problems.append("`skip`: every language needs its reason")
    for command in case.get("setup", []):
        if not isinstance(command, list) or not command:
            problems.append(f"setup entry {command!r} is not a command")
    if not isinstance(case.get("after"), dict):
        problems.append("`after` is missing (write {} for no keys)")
    else:
        for key, matcher in case["after"].items():
            if isinstance(matcher, dict) and set(matcher) - KEY_MATCHERS:
                problems.append(
                    f"after[{key!r}]: unknown matchers {sorted(set(matcher) - KEY_MATCHERS)}"
                )
    for number, step in enumerate(case.get("steps", []), 1):
        op = step.get("op")
        if op not in OPS:
            problems.append(f"step {number}: unknown op {op!r}")
        if set(step) - STEP_FIELDS:
            problems.append(f"step {number}: unknown fields {sorted(set(step) - STEP_FIELDS)}")
        if "within_ms" in step and not (
            isinstance(step["within_ms"], list) and len(step["within_ms"]) == 2
        ):
            problems.append(f"step {number}: `within_ms` must be [least, most]")
        if "expect" in step and "error" in step:
            problems.append(f"step {number}: both `expect` and `error`")
        if "expect" not in step and "error" not in step and op != "sleep":
            problems.append(f"step {number}: says neither `expect` nor `error`")
        if "error" in step and step["error"] not in KINDS:
            problems.append(f"step {number}: unknown error kind {step['error']!r}")
        if op in ("lease", "lease_many") and "block" not in step.get("args", {}):
            problems.append(f"step {number}: a lease must say `block`")
        if op == "run_worker":
            problems += [f"step {number}: {problem}" for problem in lint_run_worker(step)]
    return problems


WORKER_ARGS = {"handler", "routes", "options", "until", "stop_first", "second_run"}
WORKER_OPTIONS = {
    "concurrency",
    "lease_ms",
    "job_timeout_ms",
    "shutdown_timeout_ms",
    "clean_every_ms",
}


def lint_run_worker(step: dict[str, Any]) -> list[str]:
    problems = []
    args = step.get("args", {})
    if set(args) - WORKER_ARGS:
        problems.append(f"unknown run_worker args {sorted(set(args) - WORKER_ARGS)}")
    if "handler" in args and "routes" in args:
        problems.append("run_worker takes `handler` or `routes`, not both")
    if set(args.get("options", {})) - WORKER_OPTIONS:
        problems.append(f"unknown worker options {sorted(set(args['options']) - WORKER_OPTIONS)}")
    if set(args.get("until", {})) - {"outcomes", "stop_after_ms"}:
        problems.append("`until` takes `outcomes` and `stop_after_ms`")
    actions = list(args.get("handler", {}).values())
    for route in args.get("routes", []):
        if not (isinstance(route, list) and len(route) == 2 and isinstance(route[0], str)):
            problems.append(f"route {route!r} is not [type, action]")
        else:
            actions.append(route[1])
    for action in actions:
        if action != "ok" and not (
            isinstance(action, dict) and action and set(action) <= {"sleep_ms", "raise"}
        ):
            problems.append(f'action {action!r} is not "ok" or {{sleep_ms?, raise?}}')
    return problems


def expand(value: Any) -> Any:
    """Expands `{i=A..B}`: a list element holding one becomes B-A+1 elements (A to B, either
    way), with `{i}` elsewhere in that element replaced too; an object key holding one becomes
    that many keys. The innermost list wins, so `["RPUSH", "q", "x{i=1..3}"]` is one command."""
    if isinstance(value, list):
        out = []
        for element in value:
            expanded = expand(element)
            bounds = find_range(expanded)
            if bounds is None:
                out.append(expanded)
            else:
                out += [with_index(expanded, i) for i in span(*bounds)]
        return out
    if isinstance(value, dict):
        out_dict = {}
        for key, element in value.items():
            expanded = expand(element)
            match = RANGE.search(key)
            if match is None:
                out_dict[key] = expanded
            else:
                for i in span(int(match[1]), int(match[2])):
                    out_dict[with_index(key, i)] = with_index(expanded, i)
        return out_dict
    return value


def find_range(value: Any) -> tuple[int, int] | None:
    if isinstance(value, str):
        match = RANGE.search(value)
        return (int(match[1]), int(match[2])) if match else None
    if isinstance(value, dict):
        for element in value.values():
            found = find_range(element)
            if found:
                return found
    return None


def span(first: int, last: int) -> range:
    return range(first, last + 1) if first <= last else range(first, last - 1, -1)


def with_index(value: Any, i: int) -> Any:
    return substitute(value, lambda text: RANGE.sub(str(i), text).replace("{i}", str(i)))


def substitute(value: Any, replace) -> Any:
    """`replace` applied to every string of `value`, object keys included."""
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [substitute(element, replace) for element in value]
    if isinstance(value, dict):
        return {replace(key): substitute(element, replace) for key, element in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Runners


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def runner_command(lang: str) -> tuple[list[str], dict[str, str]]:
    """The command that starts a language's runner, and the environment it needs."""
    env = dict(os.environ)
    if lang == "rust":
        return [str(build_rust_runner())], env
    if lang in ("python", "python-aio"):
        python = os.environ.get("LEASEQ_CONFORMANCE_PYTHON")
        if not python:
            venv = ROOT / "bindings-python" / ".venv" / "bin" / "python"
            python = str(venv) if venv.exists() else sys.executable
        flavour = ["--aio"] if lang == "python-aio" else []
        return [python, str(HERE / "runners" / "runner.py"), *flavour], env
    if lang == "node":
        return ["node", str(HERE / "runners" / "runner.js")], env
    if lang in ("csharp", "csharp-async"):
        out = ROOT / "bindings-csharp" / "out"
        env["MONO_PATH"] = os.pathsep.join(filter(None, [str(out), env.get("MONO_PATH")]))
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            filter(None, [str(out), env.get("LD_LIBRARY_PATH")])
        )
        flavour = ["--async"] if lang == "csharp-async" else []
        return ["mono", "--debug", str(build_csharp_runner()), *flavour], env
    raise ValueError(lang)


RUST_RUNNER_BUILT = False


def build_rust_runner() -> Path:
    """Builds the Rust runner once per driver run, then starts the binary itself: a `cargo run`
    per start would wait on the build lock (or rebuild) while other work shares the target
    directory, and a case's time would include that."""
    global RUST_RUNNER_BUILT
    if not RUST_RUNNER_BUILT:
        command = ["cargo", "build", "-q", "--release", "-p", "leaseq", "--example", "conformance"]
        built = subprocess.run(command, cwd=ROOT, check=False, capture_output=True, text=True)
        if built.returncode != 0:
            raise RunnerUnavailable("cargo build failed:\n" + built.stdout + built.stderr)
        RUST_RUNNER_BUILT = True
    return target_dir() / "release" / "examples" / "conformance"


def build_csharp_runner() -> Path:
    """Compiles runners/Runner.cs against the built binding when the exe is missing or older."""
    source = HERE / "runners" / "Runner.cs"
    library = ROOT / "bindings-csharp" / "out" / "Leaseq.dll"
    exe = target_dir() / "conformance" / "Runner.exe"
    if not library.exists():
        raise RunnerUnavailable(
            f"{library.relative_to(ROOT)} is not built (build bindings-csharp first)"
        )
    if exe.exists() and exe.stat().st_mtime >= max(source.stat().st_mtime, library.stat().st_mtime):
        return exe
    exe.parent.mkdir(parents=True, exist_ok=True)
    command = [
        "mcs",
        "-langversion:7.2",
        "-nologo",
        "-warnaserror",
        f"-r:{library}",
        "-r:System.Web.Extensions.dll",
        f"-out:{exe}",
        str(source),
    ]
    compiled = subprocess.run(command, check=False, capture_output=True, text=True)
    if compiled.returncode != 0:
        raise RunnerUnavailable("mcs failed:\n" + compiled.stdout + compiled.stderr)
    return exe


class RunnerUnavailable(Exception):
    pass


class Runner:
    """One running runner process: a case line in, a result line out."""

    def __init__(self, lang: str):
        self.lang = lang
        command, env = runner_command(lang)
        # Kept open for the runner's life; read back when it dies, closed by stop().
        self.stderr = tempfile.TemporaryFile(mode="w+")
        try:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
        except OSError as err:
            raise RunnerUnavailable(f"cannot start {command[0]}: {err}") from err
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[str] = self.process.stdin
        self.stdout: IO[str] = self.process.stdout
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def run(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Sends one case and returns the runner's reply; raises RunnerDied if there is none."""
        try:
            self.stdin.write(json.dumps(message) + "\n")
            self.stdin.flush()
        except OSError as err:
            raise RunnerDied(f"the runner is gone: {self.stderr_tail()}") from err
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                tail = self.stderr_tail()
                self.stop()
                raise RunnerDied(f"no answer within {timeout:.0f} s: {tail}") from None
            if line is None:
                self.process.wait()
                raise RunnerDied(
                    f"the runner exited ({self.process.returncode}): {self.stderr_tail()}"
                )
            if line.strip():
                break
        try:
            reply = json.loads(line)
        except json.JSONDecodeError as err:
            raise RunnerDied(
                f"the runner wrote something that is not JSON: {line[:500]!r}"
            ) from err
        if "fatal" in reply:
            raise CaseFailed(f"the runner could not run the case: {reply['fatal']}")
        return reply

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        text = self.stderr.read()
        return text[-2000:].strip() or "(nothing on stderr)"

    def stop(self) -> bool:
        """Closes the runner's stdin and waits for it to end; kills it if it does not. Returns
        whether it ended by itself (a process using a binding must be able to)."""
        exited = True
        if self.process.poll() is None:
            try:
                self.stdin.close()
                self.process.wait(timeout=EXIT_GRACE_SECS)
            except (OSError, subprocess.TimeoutExpired):
                exited = False
                self.process.kill()
                self.process.wait()
        self.stderr.close()
        return exited


class RunnerDied(Exception):
    pass


class CaseFailed(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Comparing


def matches(expected: Any, actual: Any) -> bool:
    """Strict structural equality (a bool is not an integer); `{"regex": R}` matches a string R
    matches whole, `{"between": [least, most]}` a number in that range (ends included),
    `{"each": E, "length": N}` a list of N elements that each match E."""
    if isinstance(expected, dict) and set(expected) == {"regex"}:
        return isinstance(actual, str) and re.fullmatch(expected["regex"], actual) is not None
    if isinstance(expected, dict) and set(expected) == {"each", "length"}:
        return (
            isinstance(actual, list)
            and len(actual) == expected["length"]
            and all(matches(expected["each"], element) for element in actual)
        )
    if isinstance(expected, dict) and set(expected) == {"between"}:
        least, most = expected["between"]
        return (
            isinstance(actual, (int, float))
            and not isinstance(actual, bool)
            and least <= actual <= most
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(actual) == set(expected)
            and all(matches(expected[key], actual[key]) for key in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and expected == actual
    return expected == actual


def check_results(steps: list[dict[str, Any]], results: list[Any]) -> list[str]:
    problems = []
    if len(results) != len(steps):
        problems.append(f"{len(steps)} steps but {len(results)} results")
    for number, (step, result) in enumerate(zip(steps, results, strict=False), 1):
        where = (
            f"step {number} ({step['op']}{'' if 'queue' not in step else ' via ' + step['queue']})"
        )
        got = describe(result)
        if "error" in step:
            if not isinstance(result, dict) or result.get("error") != step["error"]:
                problems.append(f"{where}: expected error {step['error']}, got {got}")
        elif (
            not isinstance(result, dict)
            or "ok" not in result
            or not matches(step.get("expect"), result["ok"])
        ):
            problems.append(f"{where}: expected {short(step.get('expect'))}, got {got}")
        if "within_ms" in step and isinstance(result, dict):
            least, most = step["within_ms"]
            took = result.get("ms")
            if not isinstance(took, (int, float)) or not least <= took <= most:
                problems.append(f"{where}: expected to take {least} to {most} ms, took {took}")
    return problems


def describe(result: Any) -> str:
    if isinstance(result, dict) and "ok" in result:
        return short(result["ok"])
    if isinstance(result, dict) and "error" in result:
        return f"error {result['error']} ({result.get('message', '')})"
    return f"malformed result {short(result)}"


def short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 300 else text[:300] + "…"


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def text_of(raw: Any) -> str:
    """A reply of the client (made without decode_responses) as text; bytes that are not UTF-8
    show as escapes rather than failing the run."""
    return raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else str(raw)


def snapshot(client: redis.Redis, prefix: str) -> dict[str, dict[str, Any]]:
    """Every key under `prefix:`, found with SCAN: its type, value and PTTL. A key that expires
    while it is being read counts as gone."""
    keys: dict[str, dict[str, Any]] = {}
    for raw_key in client.scan_iter(match=glob_escape(prefix) + ":*", count=1000):
        kind = text_of(client.type(raw_key))
        value: Any = None
        if kind == "string":
            raw_value = client.get(raw_key)
            if raw_value is None:
                continue
            value = text_of(raw_value)
        elif kind == "list":
            value = [text_of(element) for element in client.lrange(raw_key, 0, -1)]
        elif kind == "hash":
            value = {text_of(f): text_of(v) for f, v in client.hgetall(raw_key).items()}
        elif kind == "zset":
            # Members in score order; scores hold times and vary from run to run.
            value = [text_of(member) for member in client.zrange(raw_key, 0, -1)]
        pttl = client.pttl(raw_key)
        if kind == "none" or pttl == -2:
            continue
        keys[text_of(raw_key)] = {"raw": raw_key, "type": kind, "value": value, "pttl": pttl}
    return keys


def check_key(key: str, expected: Any, actual: dict[str, Any] | None) -> list[str]:
    if not isinstance(expected, dict):
        expected = {"value": expected, "persistent": True}
    if actual is None:
        return [] if expected.get("optional") else [f"key {key} is missing"]
    problems = []
    got = f"{actual['type']} {short(actual['value'])}, pttl {actual['pttl']}"
    value = expected.get("value")
    if "type" in expected and actual["type"] != expected["type"]:
        problems.append(f"key {key}: expected a {expected['type']}, got {got}")
    if isinstance(value, str) and (actual["type"] != "string" or actual["value"] != value):
        problems.append(f"key {key}: expected string {short(value)}, got {got}")
    if isinstance(value, list) and (
        actual["type"] != expected.get("type", "list") or not matches(value, actual["value"])
    ):
        problems.append(f"key {key}: expected list {short(value)}, got {got}")
    if isinstance(value, dict) and (
        actual["type"] != "hash" or not matches(value, actual["value"])
    ):
        problems.append(f"key {key}: expected hash {short(value)}, got {got}")
    if "regex" in expected and (
        actual["type"] != "string" or not re.fullmatch(expected["regex"], actual["value"])
    ):
        problems.append(f"key {key}: expected a string matching {expected['regex']!r}, got {got}")
    if "unordered" in expected and (
        actual["type"] not in ("list", "zset")
        or collections.Counter(actual["value"]) != collections.Counter(expected["unordered"])
    ):
        problems.append(
            f"key {key}: expected a list of {short(sorted(expected['unordered']))} "
            f"in any order, got {got}"
        )
    if expected.get("persistent") and actual["pttl"] != -1:
        problems.append(f"key {key}: expected no expiry, got {got}")
    if "ttl_ms_max" in expected and not 0 <= actual["pttl"] <= expected["ttl_ms_max"]:
        problems.append(
            f"key {key}: expected an expiry of at most {expected['ttl_ms_max']} ms, got {got}"
        )
    if "ttl_ms_min" in expected and not actual["pttl"] >= expected["ttl_ms_min"]:
        problems.append(
            f"key {key}: expected an expiry of at least {expected['ttl_ms_min']} ms, got {got}"
        )
    return problems


def check_after(after: dict[str, Any], keys: dict[str, dict[str, Any]]) -> list[str]:
    """Every key `after` names must match, and every other key under the prefix is a failure.
    A name written `re:<regex>` stands for every key it matches (at least one)."""
    problems = []
    unclaimed = dict(keys)
    for key, expected in after.items():
        if key.startswith("re:"):
            continue
        problems += check_key(key, expected, unclaimed.pop(key, None))
    for key, expected in after.items():
        if not key.startswith("re:"):
            continue
        claimed = [k for k in list(unclaimed) if re.fullmatch(key[3:], k)]
        if not claimed:
            problems.append(f"no key matches {key}")
        for k in claimed:
            problems += check_key(k, expected, unclaimed.pop(k))
    for key, actual in sorted(unclaimed.items()):
        problems.append(f"unexpected key {key}: {actual['type']} {short(actual['value'])}")
    return problems


# ---------------------------------------------------------------------------------------------
# Running


def raw_client(url: str) -> Any:
    """A redis-py client for setup and checks: RedisCluster for a `redis+cluster://` URL, the
    Sentinels' current master for a `redis+sentinel://` URL, a plain client otherwise."""
    for scheme in ("redis+cluster://", "redis+sentinel://"):
        if url.startswith(scheme):
            rest = url[len(scheme) :]
            hosts, _, master = rest.partition("/")
            addresses = [(h.rsplit(":", 1)[0], int(h.rsplit(":", 1)[1])) for h in hosts.split(",")]
            if scheme == "redis+cluster://":
                from redis.cluster import ClusterNode, RedisCluster

                return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in addresses])
            from redis.sentinel import Sentinel

            return Sentinel(addresses).master_for(master.split("/")[0])
    return redis.Redis.from_url(url)


def closed_port_url() -> str:
    """A URL no server listens on: a port the kernel just handed out and we closed again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}"


def prepare(case: dict[str, Any], prefix: str, url: str) -> dict[str, Any]:
    case = expand(case)
    # In a `re:` key the prefix must match literally.
    case["after"] = {
        (key.replace("{p}", re.escape(prefix)) if key.startswith("re:") else key): value
        for key, value in case["after"].items()
    }
    case = substitute(case, lambda text: text.replace("{p}", prefix).replace("{url}", url))
    for step in case["steps"]:
        if step["op"] == "open":
            target = step["args"].get("url")
            if target == "unreachable":
                step["args"]["url"] = closed_port_url()
            elif target == "wrong-password":
                step["args"]["url"] = url.replace("://", "://nobody:wrong@", 1)
    return case


def case_timeout(case: dict[str, Any]) -> float:
    waits = 0.0
    for step in case["steps"]:
        args = step.get("args", {})
        waits += float(args.get("ms", 0) if step["op"] == "sleep" else 0)
        waits += (
            max(0.0, float(args.get("timeout_ms") or 0))
            if step["op"] in ("lease", "lease_many")
            else 0.0
        )
        if step["op"] == "run_worker":
            # The run (stopped after 5 s at most unless the case says), a run after a stop (2 s
            # at most), the wait for late hooks (1 s).
            waits += float(args.get("until", {}).get("stop_after_ms", 5000)) + 3000
            waits += float(args.get("options", {}).get("shutdown_timeout_ms", 10000))
    return CASE_SLACK_SECS + waits / 1000


# Set LEASEQ_CONFORMANCE_RECORD=file to write, per case, the hash and zset keys a run left that
# its `after` does not name: a help when an operation starts keeping new bookkeeping.
RECORD: dict[str, Any] | None = {} if os.environ.get("LEASEQ_CONFORMANCE_RECORD") else None


def run_language(
    lang: str, cases: list[dict[str, Any]], url: str, run_id: str, keep: bool
) -> tuple[int, int, str]:
    """Runs every case in one language, printing each failure; returns how many passed, how many
    were skipped (a case's `skip` names the language), and a note for the summary ("" when there
    is nothing to say)."""
    client = raw_client(url)
    passed = 0
    skipped = 0
    runner: Runner | None = None
    deaths_in_a_row = 0
    unavailable: str | None = None
    for index, raw_case in enumerate(cases):
        name = raw_case["name"]
        if lang in raw_case.get("skip", {}):
            skipped += 1
            continue
        if unavailable:
            print(
                f"FAIL [{lang}] {len(cases) - index} more cases not run: {unavailable}", flush=True
            )
            break
        prefix = f"{{lqc:{run_id}:{lang}:{index}}}"
        case = prepare(raw_case, prefix, url)
        problems: list[str] = []
        replied = False
        try:
            stale = list(client.scan_iter(match=glob_escape(prefix) + ":*", count=1000))
            if stale:
                client.delete(*stale)
            for command in case.get("setup", []):
                client.execute_command(*command)
            if runner is None:
                runner = Runner(lang)
            message = {
                "case": name,
                "url": url,
                "prefix": prefix,
                "steps": [
                    {k: v for k, v in step.items() if k in ("op", "args", "queue")}
                    for step in case["steps"]
                ],
            }
            if "queue_options" in case:
                message["queue_options"] = case["queue_options"]
            began = time.monotonic()
            reply = runner.run(message, case_timeout(case))
            if os.environ.get("LEASEQ_CONFORMANCE_TIMES"):
                print(f"{time.monotonic() - began:7.3f} s  {lang} {name}", flush=True)
            deaths_in_a_row = 0
            replied = True
            problems += check_results(case["steps"], reply.get("results", []))
        except RunnerUnavailable as err:
            unavailable = f"the {lang} runner is unavailable: {err}"
            problems.append(unavailable)
        except RunnerDied as err:
            problems.append(str(err))
            runner = None
            deaths_in_a_row += 1
            if deaths_in_a_row >= MAX_RESTARTS_IN_A_ROW:
                unavailable = f"the {lang} runner died {deaths_in_a_row} times in a row"
        except CaseFailed as err:
            problems.append(str(err))
        except redis.RedisError as err:
            problems.append(f"setup failed: {err}")
        keys = snapshot(client, prefix)
        if replied:
            problems += check_after(case["after"], keys)
            if RECORD is not None:
                RECORD[name] = {
                    key.replace(prefix, "{p}"): {"type": entry["type"], "value": entry["value"]}
                    for key, entry in keys.items()
                    if entry["type"] in ("hash", "zset") and key not in case["after"]
                }
        if not keep and keys:
            client.delete(*[entry["raw"] for entry in keys.values()])
        if problems:
            if len(problems) > MAX_PROBLEMS_SHOWN:
                hidden = len(problems) - MAX_PROBLEMS_SHOWN
                problems = [*problems[:MAX_PROBLEMS_SHOWN], f"… and {hidden} more"]
            print(
                f"FAIL [{lang}] {name} (prefix {prefix}):\n    " + "\n    ".join(problems),
                flush=True,
            )
        else:
            passed += 1
    note = ""
    if runner is not None and not runner.stop():
        note = f"runner did not exit within {EXIT_GRACE_SECS} s of its stdin closing; killed"
        print(f"WARNING [{lang}] the {note}", flush=True)
    return passed, skipped, note


def write_record() -> None:
    if RECORD is not None:
        Path(os.environ["LEASEQ_CONFORMANCE_RECORD"]).write_text(json.dumps(RECORD, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("LEASEQ_REDIS_URL"),
        help="the Redis to run against (default: $LEASEQ_REDIS_URL)",
    )
    parser.add_argument(
        "--lang",
        default=",".join(LANGS + FLAVOURS),
        help=f"comma-separated languages (default: all of {','.join(LANGS + FLAVOURS)})",
    )
    parser.add_argument("--case", help="run only the cases whose file/name matches this regex")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument(
        "--cases-dir", type=Path, default=CASES_DIR, help="where the case files are"
    )
    parser.add_argument("--keep", action="store_true", help="leave each case's keys in Redis")
    options = parser.parse_args()

    cases = load_cases(options.cases_dir)
    if options.case:
        cases = [case for case in cases if re.search(options.case, case["name"])]
    if options.list:
        for case in cases:
            print(case["name"])
        print(f"{len(cases)} cases")
        return 0
    if not options.redis_url:
        parser.error("no --redis-url and no LEASEQ_REDIS_URL")
    langs = [lang.strip() for lang in options.lang.split(",") if lang.strip()]
    for lang in langs:
        if lang not in LANGS + FLAVOURS:
            parser.error(f"unknown language {lang!r} (known: {', '.join(LANGS + FLAVOURS)})")
    if not cases:
        parser.error("no case matches")

    run_id = secrets.token_hex(3)
    summary = []
    for lang in langs:
        started = time.monotonic()
        print(f"--- {lang}: {len(cases)} cases", flush=True)
        passed, skipped, note = run_language(lang, cases, options.redis_url, run_id, options.keep)
        failed = len(cases) - passed - skipped
        summary.append((lang, passed, failed, skipped, time.monotonic() - started, note))

    width = max(len("language"), *(len(lang) for lang in langs))
    print(f"\n{'language':<{width}}    passed  failed  skipped    time")
    for lang, passed, failed, skipped, seconds, note in summary:
        line = (
            f"{lang:<{width}} {passed:>5}/{len(cases):<4} {failed:>6} {skipped:>8}"
            f" {seconds:>6.1f} s"
        )
        print(f"{line}  {note}" if note else line)
    total_passed = sum(row[1] for row in summary)
    total_failed = sum(row[2] for row in summary)
    total_skipped = sum(row[3] for row in summary)
    print(
        f"conformance: {total_passed} passed, {total_failed} failed"
        + (f", {total_skipped} skipped" if total_skipped else "")
    )
    return 1 if total_failed else 0


if __name__ == "__main__":
    status = main()
    write_record()
    sys.exit(status)
