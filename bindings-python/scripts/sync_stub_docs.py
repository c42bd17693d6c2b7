"""Writes the generated parts of python/leaseq/_native.pyi.

- Class AsyncWorkQueue is generated from class WorkQueue (the compiled classes come from one
  list, src/operations.rs): the same methods and docstrings, each operation returning a
  coroutine of what the blocking one returns, the constructor taking an AsyncConnection.
  Edit WorkQueue, then run this.
- Every docstring the stub has is the compiled module's: the Rust glue (``#[doc]``, ``///``,
  src/docs.rs) is where they are written. tests/test_stub.py reports missing ones.

The stub is then formatted with ruff. With the package built (``maturin develop`` or test.sh):

    bindings-python/.venv/bin/python bindings-python/scripts/sync_stub_docs.py [--check]

``--check`` (test.sh) changes nothing and exits 1, printing the diff, when the stub is stale.
"""

from __future__ import annotations

import ast
import difflib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from leaseq import _native

STUB = Path(__file__).parents[1] / "python" / "leaseq" / "_native.pyi"
BLOCKING, ASYNCHRONOUS = "WorkQueue", "AsyncWorkQueue"
MARKER = "# Generated from WorkQueue by scripts/sync_stub_docs.py: edit WorkQueue, then run it.\n"


def class_node(tree: ast.Module, name: str) -> ast.ClassDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise SystemExit(f"{STUB}: no class {name}")


def first_line(node: ast.ClassDef) -> int:
    """The 0-based index of the class's first line, its decorators included."""
    return min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)]) - 1


def asynchronous_class(source: list[str], blocking: ast.ClassDef) -> list[str]:
    """The text of AsyncWorkQueue, from WorkQueue's (its class docstring is set afterwards)."""
    start = first_line(blocking)
    lines = source[start : blocking.end_lineno]
    # (line, start column, end column, replacement), relative to `lines`, applied last first.
    edits: list[tuple[int, int, int, str]] = []

    def replace(node: ast.expr, text: str) -> None:
        assert node.end_lineno is not None and node.end_col_offset is not None
        if node.lineno != node.end_lineno:
            raise SystemExit(f"{STUB}:{node.lineno}: annotation over several lines")
        edits.append((node.lineno - 1 - start, node.col_offset, node.end_col_offset, text))

    for method in blocking.body:
        if not isinstance(method, ast.FunctionDef):
            continue
        if method.name == "__new__":
            for argument in method.args.args:
                if argument.arg == "connection" and argument.annotation is not None:
                    replace(argument.annotation, "AsyncConnection")
        elif method.returns is not None and not method.name.startswith("_"):
            if not any(ast.unparse(decorator) == "property" for decorator in method.decorator_list):
                returns = ast.get_source_segment("".join(source), method.returns)
                replace(method.returns, f"Coroutine[Any, Any, {returns}]")
    for index, begin, end, text in sorted(edits, reverse=True):
        lines[index] = lines[index][:begin] + text + lines[index][end:]
    header = f"class {BLOCKING}:"
    lines = [f"class {ASYNCHRONOUS}:\n" if line.rstrip() == header else line for line in lines]
    return [MARKER, *lines]


def with_asynchronous_class(source: list[str]) -> list[str]:
    tree = ast.parse("".join(source))
    generated = asynchronous_class(source, class_node(tree, BLOCKING))
    old = class_node(tree, ASYNCHRONOUS)
    start = first_line(old)
    if start > 0 and source[start - 1] == MARKER:
        start -= 1
    return [*source[:start], *generated, *source[old.end_lineno :]]


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


def with_compiled_docstrings(source: list[str]) -> list[str]:
    """Every docstring the stub has, rewritten to the compiled module's."""
    source = list(source)
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
                    rendered = render(doc, first.col_offset)
                    edits.append((first.lineno - 1, first.end_lineno, rendered))
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{name}.")

    visit(ast.parse("".join(source)).body, "")
    for start, end, lines in sorted(edits, reverse=True):
        source[start:end] = lines
    return source


def ruff_format(text: str) -> str:
    ruff = Path(sys.executable).with_name("ruff")
    command = str(ruff) if ruff.is_file() else shutil.which("ruff")
    if command is None:
        raise SystemExit("sync_stub_docs.py: ruff not found (pip install ruff)")
    formatted = subprocess.run(
        [command, "format", "--stdin-filename", str(STUB), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    return formatted.stdout


def main(arguments: list[str]) -> int:
    check = arguments == ["--check"]
    if arguments and not check:
        print(__doc__, file=sys.stderr)
        return 2
    current = STUB.read_text()
    source = with_asynchronous_class(current.splitlines(keepends=True))
    updated = ruff_format("".join(with_compiled_docstrings(source)))
    if updated == current:
        return 0
    if check:
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            updated.splitlines(keepends=True),
            "committed",
            "generated",
        )
        sys.stdout.writelines(diff)
        print(f"{STUB} is stale: run bindings-python/scripts/sync_stub_docs.py", file=sys.stderr)
        return 1
    STUB.write_text(updated)
    print(f"updated {STUB}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
