"""``dart audit FILE``: walk a file's provenance back to the raw sources and check it.

Every file on the way is re-hashed. A file is

- ``ok`` when its bytes match its own record and what its consumer recorded;
- ``modified`` when its bytes no longer match (its own record, or its consumer's);
- ``stale`` when it was rebuilt after its consumer was made (the consumer's record
  names an older record id of it), so the consumer is out of date;
- ``missing`` when it no longer exists;
- ``source`` when it has no record of its own (a raw input), checked against the hash
  its consumer recorded.

The exit status is 0 when everything is ok, 1 otherwise, and the last line names the
first file at fault.

    dart audit results/datasets/uniform.parquet
    dart audit data/queries/generated.parquet --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dart.provenance import hash_path, read_record

BAD = ("modified", "stale", "missing")


@dataclass
class Node:
    path: str
    status: str
    detail: str = ""
    record: dict[str, Any] | None = None
    children: list[Node] = field(default_factory=list)
    repeated: bool = False


class Auditor:
    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}
        self._seen: set[str] = set()

    def _hash(self, path: str) -> str:
        if path not in self._hashes:
            self._hashes[path] = hash_path(path)
        return self._hashes[path]

    def walk(self, path: str, expected: dict[str, Any] | None = None) -> Node:
        if not os.path.exists(path):
            return Node(path, "missing", "no such file")
        record = read_record(path)
        actual = self._hash(path)
        status, detail = self._status(record, actual, expected)
        node = Node(path, status, detail, record)
        key = os.path.realpath(path)
        if key in self._seen:
            node.repeated = True
            return node
        self._seen.add(key)
        for entry in (record or {}).get("inputs", []):
            node.children.append(self.walk(_resolve(entry["path"]), entry))
        return node

    @staticmethod
    def _status(
        record: dict[str, Any] | None, actual: str, expected: dict[str, Any] | None
    ) -> tuple[str, str]:
        if record is not None and record.get("sha256") != actual:
            return "modified", f"sha256 {actual[:12]} but its record says {record['sha256'][:12]}"
        if expected is not None and expected.get("sha256") != actual:
            if record is not None and expected.get("record_id") not in (None, record["record_id"]):
                return "stale", (
                    f"rebuilt since its consumer was made (record {record['record_id']}, "
                    f"consumer used {expected['record_id']})"
                )
            return (
                "modified",
                f"sha256 {actual[:12]} but its consumer recorded {expected['sha256'][:12]}",
            )
        return ("ok" if record is not None else "source"), ""


def _resolve(path: str) -> str:
    return path if os.path.isabs(path) or os.path.exists(path) else str(Path(path))


def first_problem(node: Node) -> Node | None:
    if node.status in BAD:
        return node
    for child in node.children:
        found = first_problem(child)
        if found is not None:
            return found
    return None


def _summary(record: dict[str, Any] | None) -> str:
    if record is None:
        return ""
    code = record.get("code", {})
    commit = (code.get("git_commit") or "no-git")[:10] + ("+dirty" if code.get("git_dirty") else "")
    parts = [
        f"step={record.get('step')}",
        f"rule={record.get('rule')}",
        f"code={code.get('version')}@{commit}",
    ]
    if record.get("rows") is not None:
        parts.append(f"rows={record['rows']}")
    model = record.get("model") or {}
    if model:
        parts.append(f"model={model.get('model_id') or model.get('path')}@{model.get('revision')}")
    if record.get("seeds"):
        parts.append(f"seeds={json.dumps(record['seeds'], sort_keys=True)}")
    parts.append(record.get("created", ""))
    return " ".join(parts)


def render(node: Node, prefix: str = "", last: bool = True, top: bool = True) -> list[str]:
    branch = "" if top else ("└── " if last else "├── ")
    sha = (node.record or {}).get("sha256", "")[:12]
    line = f"{prefix}{branch}{node.path}  [{node.status}]"
    if sha:
        line += f"  sha256:{sha}"
    if node.detail:
        line += f"  ({node.detail})"
    if node.repeated:
        line += "  (inputs shown above)"
    lines = [line]
    child_prefix = prefix + ("" if top else ("    " if last else "│   "))
    info = _summary(node.record)
    if info and not node.repeated:
        lines.append(f"{child_prefix}{'│   ' if node.children else '    '}{info}")
        params = (node.record or {}).get("params")
        if params:
            text = json.dumps(params, sort_keys=True, default=str)
            text = text if len(text) <= 160 else text[:157] + "..."
            lines.append(f"{child_prefix}{'│   ' if node.children else '    '}params={text}")
    for i, child in enumerate(node.children):
        lines += render(child, child_prefix, i == len(node.children) - 1, top=False)
    return lines


def to_json(node: Node) -> dict[str, Any]:
    return {
        "path": node.path,
        "status": node.status,
        "detail": node.detail,
        "record": node.record,
        "inputs": [to_json(c) for c in node.children],
    }


def audit(path: str) -> tuple[Node, Node | None]:
    root = Auditor().walk(path)
    return root, first_problem(root)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a dataset, model folder, result or any recorded file")
    parser.add_argument("--json", action="store_true", help="print the lineage as JSON")


def run(args: argparse.Namespace) -> int:
    root, problem = audit(args.file)
    if root.record is None and root.status != "missing":
        sys.stdout.write(f"{args.file}: no provenance record ({args.file}.prov.json)\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(to_json(root), indent=2, default=str) + "\n")
    else:
        sys.stdout.write("\n".join(render(root)) + "\n")
    if problem is not None:
        sys.stdout.write(f"FAILED: {problem.path}: {problem.status}: {problem.detail}\n")
        return 1
    sys.stdout.write("OK: every file on the way matches its record\n")
    return 0
