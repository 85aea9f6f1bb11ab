"""Per-query tallies of a pool: cumulative over rounds 0..r.

A tally has one row per query that has trials: ``query_id, level, source,
trials, correct, tokens, tokens_correct, tokens_sumsq, tokens_sumsq_correct,
prompt_tokens, gen_seconds, outcomes, last_round``. ``tokens`` sums the completion
tokens of all trials, ``tokens_correct`` those of the correct ones; the two ``sumsq``
columns sum their squares, so the spread of response lengths (within a query, by
outcome) is known to the cost forecast (``dart.pool.estimate``).
``outcomes`` holds one character per trial in trial order (``1`` correct, ``0``
not), so any recipe can be answered from it, e.g. Prop2Diff's fail rate over the
first ``n_probe`` trials. Trials are numbered contiguously per query across rounds;
a round whose trials do not continue the previous tally is an error.

    dart tally --previous results/pool/smollm2/round0/tally.parquet \\
        --verified results/pool/smollm2/round1/verified/shard*.parquet \\
        -o results/pool/smollm2/round1/tally.parquet
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import polars as pl

from dart.errors import DartError
from dart.inputs import scan_tables, table_columns

SCHEMA: dict[str, pl.DataType] = {
    "query_id": pl.String(),
    "level": pl.Int64(),
    "source": pl.String(),
    "trials": pl.Int64(),
    "correct": pl.Int64(),
    "tokens": pl.Int64(),
    "tokens_correct": pl.Int64(),
    "tokens_sumsq": pl.Int64(),
    "tokens_sumsq_correct": pl.Int64(),
    "prompt_tokens": pl.Int64(),
    "gen_seconds": pl.Float64(),
    "outcomes": pl.String(),
    "last_round": pl.Int64(),
}
REQUIRED = ("query_id", "trial", "round", "level", "correct")


def empty_tally() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def read_verified(paths: Sequence[str | os.PathLike]) -> pl.DataFrame:
    """The light columns of verified shards (no response text), with the file of each row."""
    if not paths:
        return pl.DataFrame(schema={c: pl.String() for c in REQUIRED})
    frames = []
    for path in paths:
        names = table_columns(path, "verified shard")
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise DartError(f"{path}: verified shard lacks column(s) {', '.join(missing)}")
        cols = [
            pl.col(c)
            for c in (*REQUIRED, "completion_tokens", "prompt_tokens", "gen_seconds", "source")
            if c in names
        ]
        frame = scan_tables(path, "verified shard").select(*cols)
        frames.append(frame.with_columns(_file=pl.lit(str(path))))
    return normalise_rows(pl.concat(frames, how="diagonal_relaxed").collect())


def normalise_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """Cast a verified frame's light columns to the tally's types, filling absent ones."""
    fill = {
        "completion_tokens": pl.lit(0, pl.Int64),
        "prompt_tokens": pl.lit(0, pl.Int64),
        "gen_seconds": pl.lit(0.0),
        "source": pl.lit(None, pl.String),
        "_file": pl.lit("<frame>"),
    }
    rows = rows.with_columns(**{k: v for k, v in fill.items() if k not in rows.columns})
    return rows.with_columns(
        pl.col("query_id").cast(pl.String),
        pl.col("trial", "round", "level", "completion_tokens", "prompt_tokens").cast(pl.Int64),
        pl.col("gen_seconds").cast(pl.Float64),
        pl.col("correct").cast(pl.Boolean).fill_null(False),
        pl.col("source").cast(pl.String),
    )


def _round_summary(rows: pl.DataFrame) -> pl.DataFrame:
    dup = rows.filter(pl.struct("query_id", "trial").is_duplicated())
    if dup.height:
        first = dup.sort("query_id", "trial").row(0, named=True)
        files = sorted(set(dup.filter(pl.col("query_id") == first["query_id"])["_file"]))
        raise DartError(
            f"trial {first['query_id']}#{first['trial']} appears twice in {', '.join(files)}"
        )
    return (
        rows.sort("query_id", "trial")
        .group_by("query_id", maintain_order=True)
        .agg(
            first=pl.col("trial").first(),
            last=pl.col("trial").last(),
            n=pl.len().cast(pl.Int64),
            correct=pl.col("correct").sum().cast(pl.Int64),
            tokens=pl.col("completion_tokens").sum(),
            tokens_correct=pl.col("completion_tokens").filter(pl.col("correct")).sum(),
            tokens_sumsq=(pl.col("completion_tokens") ** 2).sum(),
            tokens_sumsq_correct=(pl.col("completion_tokens") ** 2).filter(pl.col("correct")).sum(),
            prompt_tokens=pl.col("prompt_tokens").sum(),
            gen_seconds=pl.col("gen_seconds").sum(),
            outcomes=pl.col("correct").cast(pl.Int8).cast(pl.String).str.join(""),
            level=pl.col("level").first(),
            source=pl.col("source").drop_nulls().first(),
            last_round=pl.col("round").max(),
            file=pl.col("_file").first(),
        )
    )


def update_tally(
    previous: pl.DataFrame | None, rows: pl.DataFrame, queries: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The cumulative tally after adding one round's verified ``rows`` to ``previous``.

    ``rows`` needs ``query_id, trial, round, level, correct`` (see :func:`normalise_rows`
    for the optional ones). ``queries`` (optional) fills ``source`` when the rows lack it.
    """
    if previous is not None:
        missing = [c for c in SCHEMA if c not in previous.columns]
        if missing:
            raise DartError(
                f"previous tally lacks column(s) {', '.join(missing)} (written by an older "
                "dart tally: rerun the pool's tally jobs from round 0)"
            )
    prev = empty_tally() if previous is None else previous.select(list(SCHEMA)).cast(SCHEMA)
    new = _round_summary(normalise_rows(rows))
    merged = new.join(prev, on="query_id", how="full", coalesce=True, suffix="_prev")
    merged = merged.with_columns(pl.col("trials").fill_null(0))
    gap = merged.filter(
        pl.col("n").is_not_null()
        & (
            (pl.col("first") != pl.col("trials"))
            | (pl.col("last") - pl.col("first") + 1 != pl.col("n"))
        )
    )
    if gap.height:
        g = gap.row(0, named=True)
        raise DartError(
            f"{g['file']}: query {g['query_id']} has trials {g['first']}..{g['last']} "
            f"({g['n']} rows) but the previous tally holds {g['trials']} trials; "
            "trials must continue contiguously"
        )
    out = merged.select(
        "query_id",
        level=pl.coalesce("level", "level_prev"),
        source=pl.coalesce("source", "source_prev"),
        trials=pl.col("trials") + pl.col("n").fill_null(0),
        correct=pl.col("correct_prev").fill_null(0) + pl.col("correct").fill_null(0),
        **{
            c: pl.col(f"{c}_prev").fill_null(0) + pl.col(c).fill_null(0)
            for c in ("tokens", "tokens_correct", "tokens_sumsq", "tokens_sumsq_correct")
        },
        prompt_tokens=pl.col("prompt_tokens_prev").fill_null(0)
        + pl.col("prompt_tokens").fill_null(0),
        gen_seconds=pl.col("gen_seconds_prev").fill_null(0.0)
        + pl.col("gen_seconds").fill_null(0.0),
        outcomes=pl.col("outcomes_prev").fill_null("") + pl.col("outcomes").fill_null(""),
        last_round=pl.max_horizontal("last_round", "last_round_prev"),
    )
    if queries is not None:
        src = queries.select(
            pl.col("query_id").cast(pl.String), _src=pl.col("source").cast(pl.String)
        )
        out = out.join(src, on="query_id", how="left").with_columns(
            source=pl.coalesce("source", "_src")
        )
    return out.select(list(SCHEMA)).cast(SCHEMA).sort("query_id")
