"""Reading back the queries tables that ``dart queries`` wrote, in the order given.

queries = read_queries(["data/queries/gsm8k.parquet", "data/queries/math.parquet"])
texts = read_query_texts(["data/queries/gsm8k.parquet"])  # query_id, query[, pass_rate]
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import polars as pl

from dart.errors import DartError
from dart.inputs import read_table, read_tables

#: The columns every stage reads from a queries table.
QUERY_COLUMNS = ("query_id", "source", "query", "gold", "level")
#: The optional column of a query's known pass rate (``columns.pass_rate`` at ingestion).
PASS_RATE = "pass_rate"


def read_queries(paths: Sequence[str]) -> pl.DataFrame:
    """Concatenate queries parquet files (order kept); errors name the file."""
    return read_tables(
        paths, QUERY_COLUMNS, "queries", lambda f: f.with_columns(pl.col("level").cast(pl.Int64))
    )


def _texts(path: str | os.PathLike) -> pl.DataFrame:
    frame = read_table(path, ("query_id", "query"), "queries")
    if PASS_RATE not in frame.columns:
        return frame.select("query_id", "query")
    try:
        rates = frame[PASS_RATE].cast(pl.Float64, strict=True)
    except pl.exceptions.PolarsError:
        raise DartError(
            f"{path}: queries column {PASS_RATE!r} is not numeric ({frame[PASS_RATE].dtype})"
        ) from None
    bad = frame.filter(rates.is_null() | rates.is_nan() | (rates < 0) | (rates > 1))
    if bad.height:
        raise DartError(
            f"{path}: query {bad['query_id'][0]}: {PASS_RATE!r} must be a number in [0, 1], "
            f"got {bad[PASS_RATE][0]!r} ({bad.height} such row(s))"
        )
    return frame.select("query_id", "query", rates.alias(PASS_RATE))


def read_query_texts(paths: Sequence[str | os.PathLike]) -> pl.DataFrame:
    """``query_id``, ``query`` and, when any file has it, ``pass_rate`` (null for the
    queries of a file without it) of queries parquet files, concatenated in order;
    DartError naming the file and query for a pass rate outside [0, 1]."""
    frames = [_texts(path) for path in paths]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
