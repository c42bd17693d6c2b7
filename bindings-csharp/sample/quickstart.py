#!/usr/bin/env python3
"""The README's worker quick-start, checked as written (used by test.sh).

quickstart.py generate README.md QuickStart.cs.in > QuickStart.cs
    puts the README's quick-start lines (the block after the `worker-quick-start` marker, ten
    lines at most) into the wrapper at `// README`, with only the URL pointed at
    $LEASEQ_REDIS_URL;
quickstart.py run COMMAND...
    runs the built program in a pseudo-terminal (Mono's Console.CancelKeyPress needs one),
    waits until it has worked on its four items (three from the wrapper, one from the README),
    sends SIGINT (Ctrl+C) and expects it to end by itself with "quick-start: ok".
"""

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

MARKER = re.compile(r"<!-- worker-quick-start[^>]*-->\n```csharp\n(.*?)```", re.S)
URL = '"redis://127.0.0.1:6379"'
MAX_LINES = 10
ITEMS = 4  # the wrapper's three and the one the README's lines add


def generate(readme_path: str, template_path: str) -> None:
    with open(readme_path, encoding="utf-8") as readme:
        found = MARKER.search(readme.read())
    if not found:
        sys.exit("quickstart: README.md has no worker quick-start block")
    lines = found.group(1).rstrip("\n").split("\n")
    if len(lines) > MAX_LINES:
        sys.exit(
            f"quickstart: the README's worker quick-start has {len(lines)} lines;"
            f" {MAX_LINES} at most"
        )
    block = "\n".join("        " + line for line in lines)
    if URL not in block:
        sys.exit(f"quickstart: the README's worker quick-start does not connect to {URL}")
    block = block.replace(URL, 'Environment.GetEnvironmentVariable("LEASEQ_REDIS_URL")')
    with open(template_path, encoding="utf-8") as template:
        program = template.read()
    if "        // README\n" not in program:
        sys.exit("quickstart: the wrapper has no `// README` line")
    sys.stdout.write(program.replace("        // README\n", block + "\n"))


def run(command: list[str]) -> None:
    master, slave = pty.openpty()
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    output = bytearray()

    def read(seconds: float) -> bool:
        """Reads what is there; false once the terminal is closed (the program ended)."""
        ready, _, _ = select.select([master], [], [], seconds)
        if not ready:
            return True
        try:
            chunk = os.read(master, 65536)
        except OSError:
            return False
        output.extend(chunk)
        return bool(chunk)

    def shown() -> str:
        text = re.sub(r"\x1b(\[[0-9;?]*[A-Za-z]|[=>])", "", output.decode("utf-8", "replace"))
        return "\n".join(line.strip() for line in text.splitlines() if line.strip())

    deadline = time.monotonic() + 60
    while output.count(b"working on") < ITEMS:
        if time.monotonic() > deadline or not read(0.5):
            process.kill()
            sys.exit("quickstart: the program did not work on its items:\n" + shown())
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and read(0.5):
        pass
    try:
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        sys.exit("quickstart: the program did not end after Ctrl+C:\n" + shown())
    print(shown())
    if process.returncode != 0 or "quick-start: ok" not in shown():
        sys.exit(f"quickstart: the program failed (exit {process.returncode})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["generate"] and len(sys.argv) == 4:
        generate(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["run"] and len(sys.argv) > 2:
        run(sys.argv[2:])
    else:
        sys.exit(__doc__)
