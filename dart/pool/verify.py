"""Grading one generation shard of the pool against the reference answers (``dart verify``,
in :mod:`dart.pool.verify_cli`).

Every row is kept, right or wrong: the verified shard is the generation shard plus
``extracted``, ``verdict``, ``reason``, ``grader_version`` and ``correct``
(``verdict == "correct"``). Rows cut off by the length limit are ``truncated``.

    dart verify results/pool/smollm2/round0/gen/shard0.parquet \\
        -o results/pool/smollm2/round0/verified/shard0.parquet --workers 2 --timeout 5
"""

from __future__ import annotations

import collections
import logging
from pathlib import Path

import polars as pl

from dart.errors import DartError
from dart.grade import grade_rows
from dart.lineage.records import read_record

log = logging.getLogger(__name__)
GRADE_COLUMNS = {
    "extracted": pl.String,
    "verdict": pl.String,
    "reason": pl.String,
    "grader_version": pl.String,
}
NEEDED = ("sample_id", "response", "gold", "finish_reason")


def verify_frame(
    generated: pl.DataFrame,
    *,
    workers: int | None,
    timeout: float,
    memory_mb: int,
    queries: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Grade every row of a generation shard; return the verified frame and verdict counts.

    With ``queries`` (query_id, query) the grader sees each question too, which some rules
    need (a percent equals its number only when the question asks for a percent).
    """
    missing = [c for c in NEEDED if c not in generated.columns]
    if missing:
        raise DartError(f"generation shard lacks column(s) {', '.join(missing)}")
    inputs = ["response", "gold", "finish_reason"]
    inputs += ["kind"] if "kind" in generated.columns else []
    frame = generated.select(inputs)
    if queries is not None and "query_id" in generated.columns:
        question = generated.select("query_id").join(
            queries.select("query_id", "query"), on="query_id", how="left", maintain_order="left"
        )
        frame = frame.with_columns(question["query"])
    rows = frame.iter_rows(named=True)
    graded = {name: [] for name in GRADE_COLUMNS}
    counts: collections.Counter[str] = collections.Counter()
    for row in grade_rows(rows, workers=workers, timeout=timeout, memory_mb=memory_mb):
        for name in GRADE_COLUMNS:
            graded[name].append(row.get(name))
        counts[row["verdict"]] += 1
    verified = generated.with_columns(
        [pl.Series(name, graded[name], dtype=dtype) for name, dtype in GRADE_COLUMNS.items()]
    ).with_columns(correct=pl.col("verdict") == "correct")
    return verified, dict(sorted(counts.items()))


def with_engine_seconds(generated: pl.DataFrame, source: Path) -> pl.DataFrame:
    """Add ``gen_seconds``: the shard's engine time (from its provenance record) apportioned
    to rows by generated tokens. Kept out of the generation shard itself, whose bytes must
    not depend on timing; an estimate per row, exact per shard."""
    if "gen_seconds" in generated.columns:
        return generated
    record = read_record(source) or {}
    timing = (record.get("extra") or {}).get("timing") or {}
    # engine_seconds: dart.engines.runner's stats; "seconds" in records written before it
    seconds = float(timing.get("engine_seconds", timing.get("seconds")) or 0.0)
    tokens = generated["completion_tokens"].sum() if "completion_tokens" in generated.columns else 0
    if not tokens:
        return generated.with_columns(gen_seconds=pl.lit(0.0))
    return generated.with_columns(gen_seconds=pl.col("completion_tokens") * (seconds / tokens))
