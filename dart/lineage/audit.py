"""The lineage walk behind ``dart audit FILE`` (:mod:`dart.lineage.cli`): a file's
provenance followed back to the raw sources, and checked.

Works on any output with a record (queries, model folders, pool files, datasets,
fine-tuned models, evaluation results, the summary): the checks read only the generic
record fields. Every file on the way is re-hashed. A file is

- ``ok`` when its bytes match its own record and what its consumer recorded;
- ``modified`` when its bytes no longer match (its own record, or its consumer's);
- ``stale`` when it was rebuilt after its consumer was made (the consumer's record
  names an older record id of it), or when it was made with code versions
  (``dart.lineage.versions``: grader, template, engine, assembly, ...) or rule parameters
  (``snakemake --list-changes params``) that no longer hold, or when it is an
  evaluation whose ``weights_sha256`` is not the evaluated model's weights hash (the one
  the model's record holds);
- ``missing`` when it no longer exists;
- ``source`` when it has no record of its own (a raw input), checked against the hash
  its consumer recorded.

Recorded paths are relative to the workflow root the record names (the directory its
job ran in); when the audited file is not under that root any more (a moved or copied
tree), the root is found from the file's own location. The root used is printed.

    tree, auditor = audit_with("results/datasets/uniform.parquet")
    print("\n".join(render(tree)))
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dart.lineage import staleness
from dart.lineage.records import hash_path, read_record

BAD = ("modified", "stale", "missing")


@dataclass
class Node:
    path: str
    status: str
    detail: str = ""
    record: dict[str, Any] | None = None
    children: list[Node] = field(default_factory=list)
    repeated: bool = False
    root: str | None = None
    stale: list[str] = field(default_factory=list)


def display(path: str | os.PathLike) -> str:
    """A path as shown: relative to the current directory when under it, else absolute."""
    p = Path(os.path.abspath(path))
    try:
        return p.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(p)


def find_root(file: str | os.PathLike, record: dict[str, Any] | None) -> tuple[Path, str]:
    """The workflow root that ``record``'s relative paths are relative to, and why."""
    here = Path(os.path.abspath(file))
    rec = record or {}
    recorded = (rec.get("workflow") or {}).get("root")
    rel = rec.get("path")
    if recorded and rel and not os.path.isabs(rel):
        candidate = Path(recorded) / rel
        if candidate.exists() and os.path.samefile(candidate, here):
            return Path(recorded), "the workflow root recorded in its record"
    if rel and not os.path.isabs(rel):
        parts = Path(rel).parts
        if here.parts[-len(parts) :] == parts:
            base = Path(*here.parts[: -len(parts)]) if len(here.parts) > len(parts) else Path("/")
            return base, "derived from the audited file's location (its record's path)"
    if recorded and Path(recorded).is_dir():
        return Path(recorded), "the workflow root recorded in its record"
    return Path.cwd(), "the current directory (the record names no usable root)"


def resolve(path: str, root: Path) -> Path:
    """A recorded input path, resolved against its consumer's workflow root."""
    return Path(path) if os.path.isabs(path) else root / path


class Auditor:
    def __init__(self, *, ask_snakemake: bool = True) -> None:
        self._hashes: dict[str, str] = {}
        self._seen: set[str] = set()
        self._views: dict[tuple, staleness.SnakemakeView] = {}
        self.ask_snakemake = ask_snakemake
        self.top_root: tuple[Path, str] | None = None

    def _hash(self, path: Path) -> str:
        key = str(path)
        if key not in self._hashes:
            self._hashes[key] = hash_path(path)
        return self._hashes[key]

    def walk(self, path: Path, expected: dict[str, Any] | None = None) -> Node:
        if not path.exists():
            return Node(display(path), "missing", "no such file")
        record = read_record(path)
        status, detail = self._status(record, self._hash(path), expected)
        root, why = find_root(path, record)
        if self.top_root is None:
            self.top_root = (root, why)
        node = Node(display(path), status, detail, record, root=str(root))
        if record is not None:
            self._check_stale(node, path, root)
        key = os.path.realpath(path)
        if key in self._seen:
            node.repeated = True
            return node
        self._seen.add(key)
        for entry in (record or {}).get("inputs", []):
            node.children.append(self.walk(resolve(entry["path"], root), entry))
        _check_weights(node, path)
        return node

    def _check_stale(self, node: Node, path: Path, root: Path) -> None:
        record = node.record or {}
        node.stale += [f"code version {c}" for c in staleness.version_changes(record)]
        view = staleness.view_for(record, root, self._views) if self.ask_snakemake else None
        if view is not None and view.is_changed(path):
            node.stale.append("rule params changed (snakemake --list-changes params)")
        if node.stale and node.status in ("ok", "source"):
            node.status, node.detail = "stale", "; ".join(node.stale)

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

    def snakemake_failures(self) -> list[str]:
        """Why each Snakemake check that was asked for could not be made (``[]`` when
        every one was): a check that failed leaves the params question open, so the
        audit is not OK."""
        return [f"{view.root}: {view.error}" for view in self._views.values() if view.error]

    def snakemake_notes(self) -> list[str]:
        """What asking Snakemake gave: the command per root, or why it failed."""
        notes = []
        for view in self._views.values():
            state = view.error or f"{len(view.changed())} output(s) with changed params"
            notes.append(f"snakemake view of {view.root}: {state}")
        return notes


#: step of an evaluation record -> the steps of the input whose weight hash it repeats
_WEIGHTS_FROM = {"evaluate-generate": ("model", "train"), "evaluate-score": ("evaluate-generate",)}


def _claimed_weights(node: Node, path: Path) -> tuple[bool, str | None]:
    """(whether ``node`` states a weight hash, the hash): a generation's record, a result."""
    record = node.record or {}
    if record.get("step") == "evaluate-generate":
        return True, (record.get("model") or {}).get("weights_sha256")
    if record.get("step") == "evaluate-score" and path.suffix == ".json" and path.is_file():
        try:
            result = json.loads(path.read_text())
        except (OSError, ValueError):
            return False, None
        if isinstance(result, dict) and "weights_sha256" in result:
            return True, result["weights_sha256"]
    return False, None


def _check_weights(node: Node, path: Path) -> None:
    """An evaluation's ``weights_sha256`` must be the evaluated weights' own hash, the one
    the model's record holds (through the generations for a result)."""
    wanted = _WEIGHTS_FROM.get((node.record or {}).get("step"))
    states, claimed = _claimed_weights(node, path)
    if not wanted or not states or node.status not in ("ok", "source"):
        return
    for child in node.children:
        if (child.record or {}).get("step") not in wanted:
            continue
        theirs = (child.record.get("model") or {}).get("weights_sha256")
        if theirs and claimed != theirs:
            node.status = "stale"
            node.detail = (
                f"weights_sha256 {str(claimed)[:12]} is not {child.path}'s weights hash "
                f"{theirs[:12]} (its record's); rerun the evaluation"
            )
            return


def first_problem(node: Node) -> Node | None:
    if node.status in BAD:
        return node
    for child in node.children:
        found = first_problem(child)
        if found is not None:
            return found
    return None


def stale_nodes(node: Node) -> list[Node]:
    """Every node that is stale for its code versions or params (each file once)."""
    found = [node] if node.stale and not node.repeated else []
    for child in node.children:
        found += stale_nodes(child)
    return found


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
    if record.get("versions"):
        parts.append("versions=" + ",".join(f"{k}={v}" for k, v in record["versions"].items()))
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
        "stale": node.stale,
        "root": node.root,
        "record": node.record,
        "inputs": [to_json(c) for c in node.children],
    }


def audit(path: str, *, ask_snakemake: bool = True) -> tuple[Node, Node | None]:
    root, _ = audit_with(path, ask_snakemake=ask_snakemake)
    return root, first_problem(root)


def audit_with(path: str, *, ask_snakemake: bool = True) -> tuple[Node, Auditor]:
    auditor = Auditor(ask_snakemake=ask_snakemake)
    return auditor.walk(Path(path)), auditor
