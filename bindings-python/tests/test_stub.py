"""The typing stub matches the compiled module: names and docstrings (``mypy.stubtest``, run by
test.sh, checks the signatures); the two flavours list the same operations, in the core's order,
with the same docstrings."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
from typing import Any

import leaseq
from leaseq import _native

STUB = Path(_native.__file__).with_name("_native.pyi")
# The order of spec/operations.json, which every binding lists the operations in.
OPERATIONS = [
    "add_item",
    "add_unique_item",
    "add_items",
    "add_item_with",
    "lease",
    "lease_many",
    "renew",
    "complete",
    "complete_many",
    "complete_and_lease",
    "fail",
    "release",
    "light_clean",
    "deep_clean",
    "queue_len",
    "processing",
    "prioritized_len",
    "delayed_len",
    "dead_len",
    "dead_items",
    "requeue_dead",
    "purge_dead",
    "requeue_all_dead",
    "purge_all_dead",
    "pause",
    "resume",
    "is_paused",
]


def stub_docstrings() -> dict[str, str]:
    """Qualified name -> docstring, for everything in the stub that has one."""
    tree = ast.parse(STUB.read_text())
    found: dict[str, str] = {}

    def visit(body: list[ast.stmt], scope: str) -> None:
        for node in body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                name = f"{scope}{node.name}"
                doc = ast.get_docstring(node)
                if doc:
                    found[name] = doc
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{name}.")

    visit(tree.body, "")
    return found


def runtime_object(qualified: str) -> Any:
    parent: Any = _native
    for part in qualified.split("."):
        parent = parent.__dict__[part] if isinstance(parent, type) else getattr(parent, part)
    return parent.__func__ if isinstance(parent, staticmethod) else parent


def test_stub_is_shipped_with_py_typed() -> None:
    assert STUB.is_file()
    assert STUB.with_name("py.typed").is_file()


def test_stub_docstrings_equal_the_compiled_ones() -> None:
    documented = stub_docstrings()
    assert len(documented) > 40
    for qualified, doc in documented.items():
        runtime_doc = inspect.cleandoc(runtime_object(qualified).__doc__ or "")
        assert runtime_doc == doc, f"{qualified}: run scripts/sync_stub_docs.py"


def test_every_compiled_docstring_is_in_the_stub() -> None:
    documented = stub_docstrings()
    for name in _native.__all__:
        value = getattr(_native, name)
        if not callable(value):
            continue
        if isinstance(value, type):
            for attribute, member in vars(value).items():
                if attribute.startswith("__") or not getattr(member, "__doc__", None):
                    continue
                assert f"{name}.{attribute}" in documented, f"{name}.{attribute}"
        assert value.__doc__ and name in documented, name


def public_methods(cls: type) -> list[str]:
    return [name for name in vars(cls) if not name.startswith("_")]


def test_operations_in_the_core_order() -> None:
    for cls in (leaseq.WorkQueue, leaseq.aio.WorkQueue):
        methods = [name for name in public_methods(cls) if name in OPERATIONS]
        assert methods == OPERATIONS, cls
    stub = STUB.read_text()
    for class_name in ("WorkQueue", "AsyncWorkQueue"):
        body = stub.split(f"class {class_name}:")[1].split("\nclass ")[0]
        positions = [body.index(f"def {name}(") for name in OPERATIONS]
        assert positions == sorted(positions), class_name


def test_both_flavours_share_their_docstrings() -> None:
    pairs = [
        (leaseq.WorkQueue, leaseq.aio.WorkQueue),
        (leaseq.Connection, leaseq.aio.Connection),
    ]
    for blocking, asynchronous in pairs:
        shared = set(public_methods(blocking)) & set(public_methods(asynchronous))
        assert shared
        for name in shared:
            assert vars(blocking)[name].__doc__ == vars(asynchronous)[name].__doc__, name
    assert set(public_methods(leaseq.WorkQueue)) == set(public_methods(leaseq.aio.WorkQueue))


def test_operations_are_the_specs() -> None:
    """OPERATIONS follows spec/operations.json; this catches an operation added there."""
    spec = Path(__file__).parents[2] / "spec" / "operations.json"
    if not spec.is_file():
        return  # an installed package tested outside the repository
    names = [operation["name"] for operation in json.loads(spec.read_text())["operations"]]
    assert names == OPERATIONS


def test_aio_names() -> None:
    assert leaseq.aio.Connection.__module__ == "leaseq.aio"
    assert leaseq.aio.Connection.__name__ == "Connection"
    assert leaseq.aio.WorkQueue.__name__ == "WorkQueue"
    assert leaseq.Item.__module__ == "leaseq"
    assert leaseq.aio.Item is leaseq.Item
    for shared in ("CleanReport", "DeadItem", "FailOutcome", "JobOutcome", "Worker"):
        assert getattr(leaseq.aio, shared) is getattr(leaseq, shared)
        assert getattr(leaseq, shared).__module__ == "leaseq"
