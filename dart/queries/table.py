"""Reading back the queries tables that ``dart queries`` wrote, in the order given.

queries = read_queries(["data/queries/gsm8k.parquet", "data/queries/math.parquet"])
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from dart.inputs import read_tables

#: The columns every stage reads from a queries table.
QUERY_COLUMNS = ("query_id", "source", "query", "gold", "level")


def read_queries(paths: Sequence[str]) -> pl.DataFrame:
    """Concatenate queries parquet files (order kept); errors name the file."""
    return read_tables(
        paths, QUERY_COLUMNS, "queries", lambda f: f.with_columns(pl.col("level").cast(pl.Int64))
    )
