"""Reading a verb's inputs: parquet tables, JSONL rows, JSON arguments.

The one place that reads parquet (every table the pipeline reads back: queries, plans,
shards, tallies, benchmarks, datasets) and JSONL: an unreadable file, a missing column or
a bad line is a DartError naming the file (and the line).

    frame = read_table("data/queries/gsm8k.parquet", {"query_id", "query"}, "queries")
    both = read_tables(["a.parquet", "b.parquet"], {"query_id"}, "queries")
    lazy = scan_tables(["r1/v-0.parquet", "r2/v-0.parquet"], "verified shard")
    for number, row in read_jsonl("graded.jsonl", "rows"): ...
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
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dart.errors import DartError

if TYPE_CHECKING:
    import polars as pl

# polars is imported where used: `dart train` reads its dataset here on a GPU image that
# has pyarrow but not polars (read_arrow)


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
    import polars as pl

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
    import polars as pl

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
    import polars as pl

    frames = [prepare(read_table(path, columns, what)) for path in paths]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def scan_tables(
    paths: str | os.PathLike | Sequence[str | os.PathLike], what: str, **kwargs: Any
) -> pl.LazyFrame:
    """The parquet file(s) ``paths`` as one lazy frame (``pl.scan_parquet``'s keyword
    arguments pass through); a missing or unreadable file is named when it is opened
    here, not at ``collect()``."""
    import polars as pl

    listed = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    for path in listed:
        table_columns(path, what)
    return pl.scan_parquet(listed if len(listed) != 1 else listed[0], **kwargs)


def iter_table_rows(
    path: str | os.PathLike, what: str, batch_size: int = 8192
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row number, row)`` of a parquet file, 1-based, a batch at a time (a large
    file is never held whole); DartError naming the file and the row where it breaks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    _must_be_file(path, what)
    try:
        reader = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _unreadable(path, what, exc) from None
    number = 0
    try:
        for batch in reader.iter_batches(batch_size=batch_size):
            for row in batch.to_pylist():
                number += 1
                yield number, row
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise DartError(f"{path}: row {number + 1}: unreadable {what} ({exc})") from None


def read_arrow(
    path: str | os.PathLike, columns: Sequence[str], what: str, *, text: bool = False
) -> Any:
    """The parquet file ``path`` as a pyarrow table of ``columns`` (pyarrow only: no
    polars needed); ``text=True`` requires them to be string columns. DartError naming
    the file for a missing or unreadable file, a missing column or a wrong type."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    _must_be_file(path, what)
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(path, what, exc) from None
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise DartError(
            f"{path}: {what} lacks column(s) {', '.join(missing)} (has {', '.join(schema.names)})"
        )
    for column in columns if text else ():
        kind = schema.field(column).type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise DartError(f"{path}: column {column!r} must be text, got {kind}")
    try:
        return pq.read_table(path, columns=list(columns))
    except (pa.ArrowException, OSError) as exc:  # a truncated file can pass the schema read
        raise _unreadable(path, what, exc) from None


def read_jsonl(
    path: str | os.PathLike, what: str, *, keep_bad_bytes: bool = False
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of each non-blank line of a JSONL file, streamed.

    DartError naming the file and line for a line that is not JSON or not an object, and
    for one that is not valid UTF-8, unless ``keep_bad_bytes``: then its bad bytes are
    read as lone surrogates (``surrogateescape``), so that a grader can give that row a
    verdict of its own instead of failing the whole file."""
    _must_be_file(path, what)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise DartError(f"{path}: cannot read {what} ({exc.strerror})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8", errors="surrogateescape" if keep_bad_bytes else "strict")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 4]
                raise DartError(
                    f"{path}: row {number}: not valid UTF-8 (byte {exc.start} of the line: {bad!r})"
                ) from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DartError(f"{path}: row {number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise DartError(
                    f"{path}: row {number}: expected a JSON object, got {type(row).__name__}"
                )
            yield number, row


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
