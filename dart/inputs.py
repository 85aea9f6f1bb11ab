"""Reading a verb's inputs: parquet tables that must have some columns, JSON arguments.

One reader for every table the pipeline reads back (queries, contamination flags,
benchmarks): an unreadable file or a missing column is a DartError naming the file.

    frame = read_table("data/queries/gsm8k.parquet", {"query_id", "query"}, "queries")
    both = read_tables(["a.parquet", "b.parquet"], {"query_id"}, "queries")
    recipes = load_json_arg('{"uniform": {"recipe": "uniform", "k": 4}}', "recipes")
    plan = read_json_cached("results/pool/smollm2/round0/plan.json")   # {} when absent

``read_json_cached`` reads a JSON file once per (path, mtime, size): the workflow's many
input functions that ask the same question during one DAG build read each plan and tally
once, and a file rewritten during the run (a re-plan) is read again.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from dart.errors import DartError


def _must_be_file(path: str | os.PathLike, what: str) -> None:
    if not Path(path).is_file():
        why = "a folder, not a file" if Path(path).is_dir() else "no such file"
        raise DartError(f"{path}: cannot read {what} ({why})")


def _unreadable(path: str | os.PathLike, what: str, exc: BaseException) -> DartError:
    """One line: a truncated file's polars error, first line only."""
    text = str(exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    return DartError(f"{path}: cannot read {what} ({reason})")


def table_columns(path: str | os.PathLike, what: str) -> dict[str, Any]:
    """The column types of the parquet file ``path`` (its footer only), with the errors of
    :func:`read_table`: a missing, truncated or unreadable file is named."""
    _must_be_file(path, what)
    try:
        return dict(pl.read_parquet_schema(path))
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _unreadable(path, what, exc) from None


def read_table(
    path: str | os.PathLike, columns: Collection[str], what: str, **kwargs: Any
) -> pl.DataFrame:
    """The parquet file ``path``; it must have ``columns``. ``what`` names it in errors
    (a missing file, a folder, a truncated file: one line naming it)."""
    _must_be_file(path, what)
    try:
        frame = pl.read_parquet(path, **kwargs)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _unreadable(path, what, exc) from None
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
        where = what if text is value else f"{value}: {what}"
        raise DartError(f"{where}: invalid JSON ({exc})") from exc


# --------------------------------------------------------------------------- cached JSON reads


def _stat_key(path: str | os.PathLike) -> tuple[str, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (os.fspath(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4096)
def _read_json_at(key: tuple[str, int, int]) -> Any:
    return json.loads(Path(key[0]).read_text())


def read_json_cached(path: str | os.PathLike) -> Any:
    """A JSON file's content, read once per (path, mtime, size); {} when absent."""
    key = _stat_key(path)
    return {} if key is None else _read_json_at(key)


def file_key(path: str | os.PathLike | None) -> tuple[str, int, int] | None:
    """(path, mtime, size) of a file, the cache key of what was read from it."""
    return None if path is None else _stat_key(path)
