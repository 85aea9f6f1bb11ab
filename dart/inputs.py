"""Reading a verb's inputs: parquet tables that must have some columns, JSON arguments.

One reader for every table the pipeline reads back (queries, contamination flags,
benchmarks): an unreadable file or a missing column is a DartError naming the file.

    frame = read_table("data/queries/gsm8k.parquet", {"query_id", "query"}, "queries")
    both = read_tables(["a.parquet", "b.parquet"], {"query_id"}, "queries")
    recipes = load_json_arg('{"uniform": {"recipe": "uniform", "k": 4}}', "recipes")
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from dart.errors import DartError


def read_table(path: str | os.PathLike, columns: Collection[str], what: str) -> pl.DataFrame:
    """The parquet file ``path``; it must have ``columns``. ``what`` names it in errors."""
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DartError(f"{path}: cannot read {what} ({exc})") from exc
    missing = set(columns) - set(frame.columns)
    if missing:
        raise DartError(f"{path}: {what} lacks column(s) {', '.join(sorted(missing))}")
    return frame


def read_tables(
    paths: Sequence[str | os.PathLike],
    columns: Collection[str],
    what: str,
    prepare: Callable[[pl.DataFrame], pl.DataFrame] = lambda frame: frame,
) -> pl.DataFrame:
    """:func:`read_table` of each path, ``prepare``-d, concatenated in order (columns that
    only some files have are filled with nulls); an empty frame when ``paths`` is empty."""
    frames = [prepare(read_table(path, columns, what)) for path in paths]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def load_json_arg(value: str, what: str) -> Any:
    """A JSON document given inline (starting with ``{`` or ``[``) or as a file path."""
    text = value if value.lstrip()[:1] in "{[" else None
    if text is None:
        try:
            text = Path(value).read_text()
        except OSError as exc:
            raise DartError(f"{value}: cannot read {what} ({exc})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DartError(f"{what}: invalid JSON ({exc})") from exc
