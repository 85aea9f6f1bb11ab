"""Reading raw rows from a local file (JSONL, JSON, Parquet) or a model-hub dataset.

Every row comes with its row number (1-based, as a person counts lines), so that
errors can name the file and the row.

    rows = read_rows("train.jsonl")          # -> iterator of (row_number, dict)
    rows = read_rows("openai/gsm8k", subset="main", split="train")
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dart.errors import DartError
from dart.inputs import iter_table_rows, read_jsonl

LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet", ".pq")


def is_local(source: str) -> bool:
    return Path(source).suffix.lower() in LOCAL_SUFFIXES or Path(source).exists()


def read_rows(
    source: str,
    *,
    split: str = "train",
    subset: str | None = None,
    revision: str | None = None,
    limit: int | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(row_number, row)`` from a local file or a hub dataset id."""
    rows = (
        _read_local(Path(source))
        if is_local(source)
        else _read_hub(source, split, subset, revision)
    )
    for count, item in enumerate(rows, start=1):
        if limit is not None and count > limit:
            return
        yield item


def _read_local(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.exists():
        raise DartError(f"{path}: no such file")
    if not path.is_file():
        raise DartError(f"{path}: not a file (a directory?)")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from read_jsonl(path, "rows")
    elif suffix == ".json":
        yield from _read_json(path)
    elif suffix in (".parquet", ".pq"):
        yield from iter_table_rows(path, "rows")
    else:
        raise DartError(
            f"{path}: unknown file type {suffix!r} (expected .jsonl, .json or .parquet)"
        )


def _read_json(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DartError(f"{path}: line {line}: not valid UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DartError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if isinstance(data, dict):  # {"data": [...]} or {"train": [...]}
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else data
    if not isinstance(data, list):
        raise DartError(f"{path}: expected a JSON list of objects")
    for number, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            raise DartError(f"{path}: row {number}: expected a JSON object")
        yield number, row


def _read_hub(
    dataset_id: str, split: str, subset: str | None, revision: str | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is a default dependency
        raise DartError("reading a hub dataset needs the 'datasets' package") from exc
    try:
        ds = datasets.load_dataset(dataset_id, subset, split=split, revision=revision)
    except Exception as exc:  # network, auth, missing id: all surface as one clear error
        offline = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("HF_DATASETS_OFFLINE")
        hint = " (HF offline mode is set)" if offline else ""
        raise DartError(
            f"{dataset_id}: cannot load hub dataset (subset={subset}, split={split}){hint}: "
            f"{type(exc).__name__}: {exc}. Is the hub reachable? A local .jsonl/.parquet copy "
            "works as a source too."
        ) from None
    for number, row in enumerate(ds, start=1):
        yield number, dict(row)
