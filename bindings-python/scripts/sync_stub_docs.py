"""Rewrites the docstrings of python/leaseq/_native.pyi from the compiled module's.

The Rust glue (``#[doc]`` and ``///``) is where the docstrings are written; run this after
changing one, with the package built (``maturin develop`` or test.sh), then check the diff:

    bindings-python/.venv/bin/python bindings-python/scripts/sync_stub_docs.py

Only docstrings the stub already has are rewritten; tests/test_stub.py reports missing ones.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

from leaseq import _native

STUB = Path(__file__).parents[1] / "python" / "leaseq" / "_native.pyi"


def runtime_doc(qualified: str) -> str | None:
    target: Any = _native
    for part in qualified.split("."):
        target = target.__dict__[part] if isinstance(target, type) else getattr(target, part)
    if isinstance(target, staticmethod):
        target = target.__func__
    doc = getattr(target, "__doc__", None)
    return doc if isinstance(doc, str) else None


def render(doc: str, indent: int) -> list[str]:
    pad = " " * indent
    lines = doc.strip("\n").split("\n")
    if len(lines) == 1:
        return [f'{pad}"""{lines[0]}"""\n']
    body = [f"{pad}{line}\n" if line else "\n" for line in lines[1:]]
    return [f'{pad}"""{lines[0]}\n', *body, f'{pad}"""\n']


def main() -> int:
    source = STUB.read_text().splitlines(keepends=True)
    edits: list[tuple[int, int, list[str]]] = []

    def visit(body: list[ast.stmt], scope: str) -> None:
        for node in body:
            if not isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                continue
            name = f"{scope}{node.name}"
            first = node.body[0]
            if ast.get_docstring(node) is not None and first.end_lineno is not None:
                doc = runtime_doc(name)
                if doc:
                    lines = render(doc, first.col_offset)
                    edits.append((first.lineno - 1, first.end_lineno, lines))
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{name}.")

    visit(ast.parse("".join(source)).body, "")
    for start, end, lines in sorted(edits, reverse=True):
        source[start:end] = lines
    updated = "".join(source)
    if updated != STUB.read_text():
        STUB.write_text(updated)
        print(f"updated {STUB}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
