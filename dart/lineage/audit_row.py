"""One dataset row back to the call that generated it (``dart audit DATASET --row N``).

Reads the row's ids from the dataset, finds the verified shard of its round and shard
among the dataset's recorded inputs (by the shard records' wildcards, else by content),
and the generation shard that shard was verified from; prints the trial, round, shard,
seed, prompt template and grader versions, the raw generated response and its verdict.

    dart audit results/datasets/uniform.parquet --row 1
    dart audit results/datasets/uniform.parquet --row 1 --json
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from dart.errors import DartError
from dart.inputs import read_table, scan_tables
from dart.lineage.audit import display, find_root, resolve
from dart.lineage.records import read_record

GENERATED = ("response", "finish_reason", "prompt_tokens", "completion_tokens", "seed",
             "trial", "template", "template_version", "model")  # fmt: skip
VERIFIED = ("extracted", "verdict", "reason", "correct", "grader_version")


def dataset_row(path: Path, n: int) -> dict[str, Any]:
    """Row ``n`` (1-based, as every verb counts rows) of a dataset file."""
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no such file"
        raise DartError(f"{path}: --row needs a dataset parquet file ({what})")
    frame = read_table(path, (), "dataset")
    if "sample_id" not in frame.columns:
        raise DartError(f"{path}: no sample_id column, so --row needs a dataset file")
    if not 1 <= n <= frame.height:
        raise DartError(f"{path}: row {n} out of range (the dataset has rows 1..{frame.height})")
    return frame.row(n - 1, named=True)


def _shard_with(paths: list[Path], row: dict[str, Any], step: str) -> Path:
    """The input of ``step`` holding the row: by its record's round/shard, else by content."""
    want = {"round": str(row.get("round")), "shard": str(row.get("shard"))}
    for p in paths:
        rec = read_record(p) or {}
        wildcards = rec.get("wildcards") or {}
        if rec.get("step") == step and all(wildcards.get(k) == v for k, v in want.items()):
            return p
    for p in paths:
        if p.exists() and _find(p, row["sample_id"]) is not None:
            return p
    raise DartError(f"no {step} shard among the inputs holds sample {row['sample_id']}")


def _find(path: Path, sample_id: str) -> dict[str, Any] | None:
    hit = scan_tables(path, "shard").filter(pl.col("sample_id") == sample_id).collect()
    return hit.row(0, named=True) if hit.height else None


def _inputs(path: Path) -> list[Path]:
    record = read_record(path)
    if record is None:
        raise DartError(f"{path}: no provenance record ({path}.prov.json)")
    root, _ = find_root(path, record)
    return [resolve(e["path"], root) for e in record.get("inputs", [])]


def row_lineage(dataset: str, n: int) -> dict[str, Any]:
    """Row ``n`` of ``dataset`` with its generation and verification rows."""
    path = Path(dataset)
    row = dataset_row(path, n)
    verified = _shard_with(_inputs(path), row, "verify")
    generated = _shard_with(_inputs(verified), row, "generate")
    ver, gen = _find(verified, row["sample_id"]), _find(generated, row["sample_id"])
    if ver is None or gen is None:
        missing = verified if ver is None else generated
        raise DartError(f"{missing}: sample {row['sample_id']} not found")
    return {
        "dataset": display(path),
        "row": n,
        **{k: row.get(k) for k in ("query_id", "sample_id", "trial", "round", "shard", "seed")},
        "template_version": gen.get("template_version"),
        "grader_version": ver.get("grader_version"),
        "query": row.get("query"),
        "generation": {"file": display(generated), **{k: gen.get(k) for k in GENERATED}},
        "verification": {"file": display(verified), **{k: ver.get(k) for k in VERIFIED}},
        "response_matches_dataset": gen.get("response") == row.get("response"),
    }


def render_row(info: dict[str, Any]) -> str:
    gen, ver = info["generation"], info["verification"]
    lines = [
        f"{info['dataset']} row {info['row']}: query {info['query_id']}, "
        f"sample {info['sample_id']}",
        f"  trial {info['trial']}, round {info['round']}, shard {info['shard']}, "
        f"seed {info['seed']}",
        f"  template {gen['template']} version {info['template_version']}, "
        f"grader version {info['grader_version']}, model {gen['model']}",
        f"  generated in {gen['file']}: finish={gen['finish_reason']}, "
        f"{gen['completion_tokens']} tokens",
        f"  verified in {ver['file']}: verdict={ver['verdict']} reason={ver['reason']} "
        f"extracted={ver['extracted']!r}",
        f"  query: {info['query']}",
        "  raw response:",
        *("    " + line for line in str(gen["response"]).splitlines() or [""]),
    ]
    if not info["response_matches_dataset"]:
        lines.append("  WARNING: the dataset's response differs from the generated one")
    return "\n".join(lines) + "\n"
