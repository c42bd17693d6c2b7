#!/usr/bin/env python3
"""Every binding documents each queue operation with the one description in spec/operations.json.

    scripts/check-docs.py            check; exit 1 naming each doc comment that does not agree
    scripts/check-docs.py --show     print each operation's summary as every language has it
    scripts/check-docs.py --fix      rewrite each first sentence that does not agree to the spec's
    scripts/check-docs.py --only=core  one language (core, python, node, .NET)

For each operation of spec/operations.json it reads the doc comment of the method in the core
(core/src, rustdoc), the Python stub (python/leaseq/_native.pyi, class WorkQueue), the Node
declarations (index.d.ts, class WorkQueue; napi generates them from bindings-node/src) and the
.NET class (Leaseq/WorkQueue.cs, the synchronous method), and checks that it starts with the
spec's summary. Markup is ignored (backticks, <c>, <see cref>, links), as are case and the
language's word for nothing ({none}: None, null). The spec's list is also the order every
binding lists the operations in: a binding that lists them in another order fails too.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# In the order of the spec's list: add, lease and renew, complete/fail/release, cleans, counts,
# dead letters and pausing.
CORE_FILES = ["add", "lease", "complete", "clean", "queue", "dead"]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def pascal(name: str) -> str:
    # .NET spells the counts out: queue_len is QueueLength.
    return "".join(part.title() for part in name.split("_")).replace("Len", "Length")


def doc_above(lines: list[str], index: int, prefix: str) -> str:
    """The comment lines starting with `prefix` right above line `index` (attributes skipped)."""
    doc: list[str] = []
    j = index - 1
    while j >= 0:
        stripped = lines[j].strip()
        if stripped.startswith(prefix):
            doc.insert(0, stripped[len(prefix) :].strip())
        elif not stripped.startswith("#["):
            break
        j -= 1
    return " ".join(doc)


def rust_docs() -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for name in CORE_FILES:
        path = ROOT / "core" / "src" / f"{name}.rs"
        lines = path.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            match = re.match(r"\s*pub async fn (\w+)\b", line)
            if match and match.group(1) not in found:
                found[match.group(1)] = (len(found), doc_above(lines, index, "///"))
    return found


def class_block(text: str, start: str) -> list[str]:
    """The lines of the class whose declaration line starts with `start` (to its closing line)."""
    lines = text.splitlines()
    begin = next(i for i, line in enumerate(lines) if line.startswith(start))
    end = next(
        (i for i in range(begin + 1, len(lines)) if re.match(r"(class |\}|export )", lines[i])),
        len(lines),
    )
    return lines[begin:end]


def python_docs() -> dict[str, tuple[int, str]]:
    stub = ROOT / "bindings-python" / "python" / "leaseq" / "_native.pyi"
    lines = class_block(stub.read_text(encoding="utf-8"), "class WorkQueue")
    found: dict[str, tuple[int, str]] = {}
    for index, line in enumerate(lines):
        match = re.match(r"    def (\w+)\(", line)
        if not match or match.group(1).startswith("_"):
            continue
        rest = "\n".join(lines[index:])
        docstring = re.search(r'"""(.*?)"""', rest, re.S)
        found[match.group(1)] = (len(found), docstring.group(1) if docstring else "")
    return found


def node_docs() -> dict[str, tuple[int, str]]:
    declarations = ROOT / "bindings-node" / "index.d.ts"
    lines = class_block(declarations.read_text(encoding="utf-8"), "export declare class WorkQueue")
    found: dict[str, tuple[int, str]] = {}
    for index, line in enumerate(lines):
        match = re.match(r"  (\w+)\(", line)
        if not match:
            continue
        doc: list[str] = []
        j = index - 1
        one_line = re.match(r"\s*/\*\*(.*)\*/\s*$", lines[j])
        if one_line:
            doc.append(one_line.group(1).strip())
        elif lines[j].strip() == "*/":
            while j > 0 and not lines[j].strip().startswith("/**"):
                j -= 1
                doc.insert(0, lines[j].strip().lstrip("/*").strip())
        found[match.group(1)] = (len(found), " ".join(doc))
    return found


def dotnet_docs() -> dict[str, tuple[int, str]]:
    source = ROOT / "bindings-csharp" / "Leaseq" / "WorkQueue.cs"
    lines = source.read_text(encoding="utf-8").splitlines()
    found: dict[str, tuple[int, str]] = {}
    for index, line in enumerate(lines):
        match = re.match(r"\s+public (?!.*Async\()[\w<>\[\], ?]+ (\w+)\(", line)
        if match and match.group(1) not in found:
            doc = doc_above(lines, index, "///")
            summary = re.search(r"<summary>(.*?)</summary>", doc, re.S)
            found[match.group(1)] = (len(found), summary.group(1) if summary else doc)
    return found


def normalized(text: str) -> str:
    text = re.sub(r'<see\s+langword="null"\s*/>', "null", text)
    text = re.sub(r'<see\s+cref="(?:[\w.]*\.)?([^"]+)"\s*/>', r"\1", text)
    text = re.sub(r"</?(c|code|para|paramref[^>]*)>", "", text)
    text = re.sub(r"\{@link\s+([^}]+)\}", r"\1", text)
    text = re.sub(r"\[`?([^\]`]+)`?\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[`([^`]+)`\]", r"\1", text)
    text = text.replace("``", "").replace("`", "")
    text = re.sub(r"\b(none|null)\b", "{none}", text.replace("{none}", "none").lower())
    return " ".join(text.split())


# Where --fix rewrites a language's doc comments (Node's index.d.ts is generated from its
# Rust source), and how each writes {none}.
FIX_FILES = {
    "core": [f"core/src/{name}.rs" for name in CORE_FILES],
    "python": ["bindings-python/python/leaseq/_native.pyi"],
    "node": ["bindings-node/src/queue.rs"],
    ".NET": ["bindings-csharp/Leaseq/WorkQueue.cs"],
}
NONE = {"core": "`None`", "python": "``None``", "node": "`null`", ".NET": "<c>null</c>"}
WIDTH = 100


def first_sentence(doc: str) -> str:
    text = " ".join(doc.split())
    match = re.match(r"(.+?\.)(\s|$)", text)
    return match.group(1) if match else text


def fix(language: str, old: str, new: str) -> bool:
    """Replaces the sentence `old` (wrapped over comment lines) by `new` in the language's files,
    re-wrapping the lines it spans; true if some file had it."""
    tokens = [re.escape(token) for token in old.split()]
    pattern = re.compile(r"\s+(?:(?:///|\*)[ \t]*)?".join(tokens))
    changed = False
    for relative in FIX_FILES[language]:
        path = ROOT / relative
        text = path.read_text(encoding="utf-8")
        # One place per file: a sentence that is there twice is left for a person to look at.
        if match := pattern.search(text):
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            line_end = len(text) if line_end < 0 else line_end
            lead = text[line_start : match.start()]
            prefix = re.match(r"\s*(?:(?:///|\*)[ \t]*)?", lead).group(0)
            body = text[match.start() : match.start()] + new + text[match.end() : line_end]
            wrapped = textwrap.wrap(
                lead[len(prefix) :] + body,
                width=WIDTH - len(prefix),
                break_long_words=False,
                break_on_hyphens=False,
            )
            replacement = "\n".join(prefix + line for line in wrapped)
            text = text[:line_start] + replacement + text[line_end:]
            changed = True
        path.write_text(text, encoding="utf-8")
    return changed


def main() -> int:
    spec = json.loads((ROOT / "spec" / "operations.json").read_text(encoding="utf-8"))
    operations = spec["operations"]
    languages_all = {
        "core": (rust_docs(), lambda name: name),
        "python": (python_docs(), lambda name: name),
        "node": (node_docs(), camel),
        ".NET": (dotnet_docs(), pascal),
    }
    only = [arg.split("=", 1)[1] for arg in sys.argv[1:] if arg.startswith("--only=")]
    languages = {k: v for k, v in languages_all.items() if not only or k in only}
    show = "--show" in sys.argv[1:]
    fixing = "--fix" in sys.argv[1:]
    problems: list[str] = []
    for language, (docs, spelled) in languages.items():
        positions = []
        for operation in operations:
            name = spelled(operation["name"])
            if name not in docs:
                problems.append(f"{language}: no documented method {name}")
                continue
            position, doc = docs[name]
            positions.append((position, name))
            want = normalized(operation["summary"])
            if show:
                print(f"{language:>7} {name}: {' '.join(doc.split())[:160]}")
            if not normalized(doc).startswith(want):
                summary = operation["summary"].replace("{none}", NONE[language])
                if fixing and fix(language, first_sentence(doc), summary):
                    print(f"fixed {language} {name}")
                    continue
                problems.append(
                    f"{language}: {name} does not start with the spec's summary\n"
                    f"    spec: {operation['summary']}\n    doc:  {' '.join(doc.split())[:240]}"
                )
        order = [name for _, name in sorted(positions)]
        listed = [name for _, name in positions]
        if order != listed:
            problems.append(f"{language}: operations not in the spec's order: {', '.join(order)}")
    for problem in problems:
        print(problem)
    checked = len(operations) * len(languages)
    print(f"check-docs: {len(operations)} operations x {len(languages)} languages, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
