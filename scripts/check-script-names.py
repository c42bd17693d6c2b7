#!/usr/bin/env python3
"""Every Lua script a tracked file names (`lease-15.lua`, `add-items-n.lua`, ...) exists in
core/lua/: the names carry their key counts and change with them, and the bindings' doc comments
name them too, so a renamed script must not leave a stale name behind (`make lint` runs this)."""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
NAME = re.compile(r"\b([a-z]+(?:-[a-z]+)*-(?:\d+|n)\.lua)\b")


def main() -> int:
    scripts = {path.name for path in (ROOT / "core/lua").glob("*.lua")}
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files"], check=True,
                            capture_output=True, text=True).stdout.split()
    stale = []
    for relative in listed:
        path = ROOT / relative
        if path.suffix in (".lua", ".png", ".so", ".node", ".dll") or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for name in NAME.findall(line):
                if name not in scripts:
                    stale.append(f"{relative}:{number}: {name} is not in core/lua/")
    if stale:
        print("\n".join(stale))
        return 1
    print(f"check-script-names: every script name in {len(listed)} files exists "
          f"({len(scripts)} scripts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
