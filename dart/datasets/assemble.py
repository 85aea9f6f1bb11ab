"""Assemble a dataset from a verified pool with a recipe, with its stats.

Two passes over the pool, each one verified shard at a time: the light columns (ids,
trial, verdict, tokens, seconds) decide which rows a recipe keeps and what they cost;
only then is each shard's text read and its kept responses copied out, so a pool of
millions of rows assembles in memory of about the dataset's size (the paper-scale
rehearsal's 2.8 million rows: under 2.5 GiB, bench/RESULTS.md "Assembly"). Rows are
taken per query in trial order, so the dataset does not depend on the sharding.

    dart assemble --queries data/queries/gsm8k.parquet data/queries/math.parquet \\
        --verified results/pool/smollm2/round*/verified/shard*.parquet \\
        --recipe-json '{"recipe": "uniform", "k": 40}' --name dart-uniform --cap 2048 \\
        -o results/datasets/dart-uniform.parquet --card results/datasets/dart-uniform/README.md \\
        --stats results/datasets/dart-uniform/stats.json --plots results/datasets/dart-uniform
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from dart.decontam.overlap import counts_by_benchmark
from dart.errors import DartError
from dart.inputs import scan_tables
from dart.recipes import Recipe

LIGHT = ("query_id", "trial", "correct", "round", "completion_tokens", "gen_seconds")
HEAVY = (
    "sample_id",
    "response",
    "round",
    "shard",
    "seed",
    "template_version",
    "grader_version",
    "model",
)
DATASET_COLUMNS = (
    "query", "response", "query_id", "sample_id", "round", "shard", "seed", "trial",
    "level", "source", "template_version", "grader_version", "model",
)  # fmt: skip
FAIL_BINS = np.linspace(0.0, 1.0, 11)


def pool_parts(pool: pl.LazyFrame | Sequence[str | os.PathLike]) -> list[tuple[str, pl.LazyFrame]]:
    """The pool as ``(label, lazy frame)`` parts: one per verified shard file (its path),
    or the one frame given. Each part is read on its own, so no step holds every shard's
    responses at once."""
    if isinstance(pool, pl.LazyFrame):
        return [("pool", pool)]
    paths = [str(p) for p in pool]
    if not paths:
        raise DartError("no verified pool files given")
    return [(path, scan_tables(path, "verified shard")) for path in paths]


def _light_part(label: str, part: pl.LazyFrame, index: int) -> pl.DataFrame:
    names = part.collect_schema().names()
    missing = [c for c in ("query_id", "trial", "correct") if c not in names]
    if missing:
        raise DartError(f"{label}: verified pool lacks column(s) {', '.join(missing)}")
    fill = {"round": 0, "completion_tokens": 0, "gen_seconds": 0.0}
    cols = [pl.col(c) if c in names else pl.lit(fill[c]).alias(c) for c in LIGHT]
    return (
        part.select(cols)
        .with_columns(
            pl.col("query_id").cast(pl.String),
            pl.col("trial", "round", "completion_tokens").cast(pl.Int64).fill_null(0),
            pl.col("gen_seconds").cast(pl.Float64).fill_null(0.0),
            pl.col("correct").cast(pl.Boolean).fill_null(False),
            _part=pl.lit(index, pl.Int32),
        )
        .collect()
    )


def _light_rows(parts: Sequence[tuple[str, pl.LazyFrame]]) -> pl.DataFrame:
    """Every trial's light columns, and ``_part``: the index of the part it was read from."""
    rows = pl.concat([_light_part(label, part, i) for i, (label, part) in enumerate(parts)])
    if rows.select(pl.struct("query_id", "trial").is_duplicated().any()).item():
        dup = rows.filter(pl.struct("query_id", "trial").is_duplicated()).row(0, named=True)
        raise DartError(f"pool holds trial {dup['query_id']}#{dup['trial']} more than once")
    return rows


def query_summary(rows: pl.DataFrame, queries: pl.DataFrame) -> pl.DataFrame:
    """Per query of ``queries``: trials, correct and ordered outcomes in the pool."""
    per = (
        rows.sort("query_id", "trial")
        .group_by("query_id", maintain_order=True)
        .agg(
            trials=pl.len().cast(pl.Int64),
            correct=pl.col("correct").sum().cast(pl.Int64),
            outcomes=pl.col("correct").cast(pl.Int8).cast(pl.String).str.join(""),
            gaps=pl.col("trial").max() + 1 != pl.len(),
        )
    )
    if per["gaps"].any():
        qid = per.filter("gaps")["query_id"][0]
        raise DartError(f"pool trials of query {qid} are not numbered 0..n-1 (a shard missing?)")
    base = queries.select(
        pl.col("query_id").cast(pl.String),
        pl.col("level").cast(pl.Int64),
        pl.col("source").cast(pl.String),
        _order=pl.int_range(pl.len()),
    )
    return base.join(per.drop("gaps"), on="query_id", how="left").with_columns(
        pl.col("trials", "correct").fill_null(0), pl.col("outcomes").fill_null("")
    )


def used_trials(kept: pl.DataFrame, targets: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """Per query, the trials this recipe alone consumed: up to its last needed trial."""
    last = kept.group_by("query_id").agg(n_kept=pl.len(), last=pl.col("trial").max() + 1)
    return (
        targets.join(summary.select("query_id", "trials"), on="query_id")
        .join(last, on="query_id", how="left")
        .with_columns(pl.col("n_kept").fill_null(0).cast(pl.Int64))
        .with_columns(
            reached=pl.col("target").is_null() | (pl.col("n_kept") >= pl.col("target")),
        )
        .with_columns(
            used=pl.when(pl.col("target").is_null())
            .then(pl.min_horizontal("min_trials", "trials"))
            .when(pl.col("reached"))
            .then(pl.max_horizontal("min_trials", pl.col("last").fill_null(0)))
            .otherwise(pl.col("trials"))
            .cast(pl.Int64)
        )
    )


def _group_label() -> pl.Expr:
    return (
        pl.when(pl.col("level").is_null())
        .then(pl.col("source"))
        .otherwise(pl.col("source") + " L" + pl.col("level").cast(pl.String))
    )


def exact_sum(values: pl.Series) -> float:
    """The correctly rounded sum of ``values``: the same bytes in the stats whatever the
    order of the rows, their chunks or the threads (a float ``sum()`` varies in its last
    digits from run to run)."""
    return math.fsum(values.to_numpy())


def _per_key(used_rows: pl.DataFrame, kept: pl.DataFrame, key: str) -> dict[str, Any]:
    seconds = pl.col("gen_seconds").map_batches(
        exact_sum, return_dtype=pl.Float64, returns_scalar=True
    )
    cost = used_rows.group_by(key).agg(
        trials_used=pl.len(), tokens=pl.col("completion_tokens").sum(), gen_seconds=seconds
    )
    rows = kept.group_by(key).agg(rows=pl.len())
    table = cost.join(rows, on=key, how="full", coalesce=True).fill_null(0).sort(key)
    table = table.with_columns(
        tokens_per_row=pl.col("tokens") / pl.col("rows"),
        seconds_per_row=pl.col("gen_seconds") / pl.col("rows"),
        yield_=pl.col("rows") / pl.col("trials_used"),
    ).rename({"yield_": "yield"})
    return {str(r.pop(key)): _finite(r) for r in table.to_dicts()}


def _finite(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in d.items()}


def _per_level(per_query: pl.DataFrame) -> dict[str, Any]:
    table = (
        per_query.group_by("group")
        .agg(
            queries=pl.len(),
            rows=pl.col("n_kept").sum(),
            mean_correct_per_query=pl.col("n_kept").mean(),
            queries_with_rows=(pl.col("n_kept") > 0).sum(),
            mean_target=pl.col("target").mean(),
            short=(~pl.col("reached")).sum(),
            capped_short=pl.col("capped_short").sum(),
            mean_fail_rate=pl.col("fail_rate").mean(),
        )
        .sort("group")
    )
    return {r.pop("group"): _finite(r) for r in table.to_dicts()}


def _by_fail_rate(per_query: pl.DataFrame) -> dict[str, Any]:
    seen = per_query.filter(pl.col("fail_rate").is_not_null())
    f = seen["fail_rate"].to_numpy()
    idx = np.clip(np.digitize(f, FAIL_BINS[1:-1]), 0, len(FAIL_BINS) - 2)
    kept = seen["n_kept"].to_numpy()
    queries = np.bincount(idx, minlength=len(FAIL_BINS) - 1)
    rows = np.bincount(idx, weights=kept, minlength=len(FAIL_BINS) - 1)
    mean = np.divide(rows, queries, out=np.zeros_like(rows), where=queries > 0)
    return {
        "edges": FAIL_BINS.round(2).tolist(),
        "queries": queries.tolist(),
        "rows": rows.astype(int).tolist(),
        "mean_correct_per_query": mean.round(3).tolist(),
    }


def budget_shortfall(per_query: pl.DataFrame, budget: Mapping[str, Any]) -> dict[str, Any]:
    """The pool stopped at its budget: which queries fell short of their target, by how
    many responses (largest shortfall first)."""
    short = (
        per_query.filter(~pl.col("reached") & pl.col("target").is_not_null())
        .select("query_id", "level", short=(pl.col("target") - pl.col("n_kept")).cast(pl.Int64))
        .sort(["short", "query_id"], descending=[True, False])
    )
    limits = {k: budget.get(k) for k in ("max_trials", "max_engine_hours")}
    return {
        "reached": True,
        **limits,
        "queries_short": short.height,
        "responses_short": int(short["short"].sum()) if short.height else 0,
        "short_by": dict(zip(short["query_id"], short["short"].to_list(), strict=True)),
    }


def build_stats(
    name: str, recipe: Recipe, k_p: float | None, per_query: pl.DataFrame,
    used_rows: pl.DataFrame, kept: pl.DataFrame, rows: pl.DataFrame, cap: int | None,
) -> dict[str, Any]:  # fmt: skip
    """Counts, per-level table, yield/cost per level and round, short queries, k_p."""
    total = _per_key(
        used_rows.with_columns(_all=pl.lit("all")), kept.with_columns(_all=pl.lit("all")), "_all"
    )
    short = per_query.filter(~pl.col("reached"))
    return {
        "name": name,
        "recipe": recipe.describe(),
        "k_p": k_p,
        "k_p_solved": k_p if recipe.mode == "prop_fail" and recipe.k_p is None else None,
        "cap": cap,
        "rows": kept.height,
        "queries": per_query.height,
        "queries_with_rows": int((per_query["n_kept"] > 0).sum()),
        "coverage": float((per_query["n_kept"] > 0).mean()) if per_query.height else 0.0,
        "per_level": _per_level(per_query),
        "cost": total.get("all", {}),
        "cost_per_level": _per_key(used_rows, kept, "group"),
        "cost_per_round": _per_key(used_rows, kept, "round"),
        "pool": {
            "trials": rows.height,
            "correct": int(rows["correct"].sum()),
            "tokens": int(rows["completion_tokens"].sum()),
            "gen_seconds": exact_sum(rows["gen_seconds"]),
        },
        "short_of_target": sorted(short["query_id"].to_list()),
        "capped_short": sorted(short.filter("capped_short")["query_id"].to_list()),
        "by_fail_rate": _by_fail_rate(per_query),
    }


def keep_first_correct(recipe: Recipe, rows: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """Keep the first correct rows in trial order per query, as ``recipe`` allows.

    ``rows`` has at least ``query_id, trial, correct``; ``targets`` is the frame of
    :meth:`Recipe.targets`. Returns the kept rows of ``rows`` (only in-scope queries).
    """
    joined = rows.join(targets, on="query_id", how="inner")
    correct = joined.filter(pl.col("correct"))
    if recipe.mode == "trials":
        return correct.filter(pl.col("trial") < pl.col("min_trials")).select(rows.columns)
    ranked = correct.with_columns(
        _rank=pl.col("trial").rank("ordinal").over("query_id").cast(pl.Int64)
    )
    return ranked.filter(pl.col("_rank") <= pl.col("target")).select(rows.columns)


def select_rows(
    rows: pl.DataFrame, queries: pl.DataFrame, recipe: Recipe, cap: int | None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, float | None]:
    """(kept light rows, per-query table, consumed light rows, k_p) for ``recipe``."""
    summary = query_summary(rows, queries)
    cap_eff = cap if cap is not None else int(summary["trials"].max() or 0) + (recipe.n_probe or 1)
    targets, k_p = recipe.targets(summary, cap_eff, strict=False)
    kept = keep_first_correct(recipe, rows, targets)
    use = used_trials(kept, targets, summary)
    per_query = (
        use.join(summary.select("query_id", "level", "source", "correct", "_order"), on="query_id")
        .with_columns(
            group=_group_label(),
            fail_rate=pl.when(pl.col("trials") > 0).then(1 - pl.col("correct") / pl.col("trials")),
            capped_short=~pl.col("reached") & (pl.col("trials") >= cap_eff),
        )
        .sort("_order")
    )
    groups = per_query.select("query_id", "group", "used")
    used_rows = rows.join(groups, on="query_id").filter(pl.col("trial") < pl.col("used"))
    kept = kept.join(groups.drop("used"), on="query_id")
    return kept, per_query, used_rows, (k_p if k_p is not None else recipe.k_p)


def contamination_filter(
    queries: pl.DataFrame, flagged: pl.DataFrame, *, drop: bool = True
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The queries without those ``flagged`` by ``dart decontam`` (when ``drop``), and counts.

    Flagged queries are dropped before any selection, so a size-solved Prop2Diff k_p is
    solved over the clean queries. With ``drop`` off they stay and are only counted.
    """
    ids = queries.select(pl.col("query_id").cast(pl.String))
    mine = flagged.join(ids, on="query_id", how="semi")
    bad = mine["query_id"].unique()
    benchmarks = sorted(set(flagged["benchmark"].to_list()))
    info = {
        "decontaminate": drop,
        "queries_checked": queries.height,
        "flagged_queries": bad.len(),
        "dropped_queries": bad.len() if drop else 0,
        "per_benchmark": counts_by_benchmark(mine, benchmarks),
        "flagged": sorted(bad.to_list()),
    }
    if drop:
        queries = queries.filter(~pl.col("query_id").cast(pl.String).is_in(bad.implode()))
    return queries, info


def _query_columns(queries: pl.DataFrame) -> pl.DataFrame:
    return queries.select(
        pl.col("query_id").cast(pl.String),
        pl.col("query").cast(pl.String),
        pl.col("level").cast(pl.Int64),
        pl.col("source").cast(pl.String),
        _order=pl.int_range(pl.len()),
    )


def _kept_part(part: pl.LazyFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """The dataset rows of one part: its responses of the trials in ``keys`` (which carry
    their query's text, level, source and ``_order``)."""
    names = part.collect_schema().names()
    heavy = [pl.col(c) if c in names else pl.lit(None, pl.String).alias(c) for c in HEAVY]
    return (
        part.select(pl.col("query_id").cast(pl.String), pl.col("trial").cast(pl.Int64), *heavy)
        .join(keys.lazy(), on=["query_id", "trial"], how="inner")
        .with_columns(
            pl.col("sample_id", "response").cast(pl.String),
            pl.col("round", "shard", "seed").cast(pl.Int64),
            pl.col("template_version", "grader_version", "model").cast(pl.String),
        )
        .select(*DATASET_COLUMNS, "_order")
        .collect()
        .pipe(compacted)
    )


def compacted(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its text columns copied into buffers of their own.

    A polars string taken from a larger column (a join, a filter) is a view into that
    column's buffer, which stays alive as long as one view does: the few kept responses of
    a shard would hold all of its responses (the whole pool, summed over the shards).
    ``shrink_to_fit`` does not release them; appending an empty string writes each value
    anew (tested by its buffer size in tests/datasets/test_assemble.py).
    """
    return frame.with_columns(pl.col(pl.String) + pl.lit(""))


def read_kept(
    parts: Sequence[tuple[str, pl.LazyFrame]], kept: pl.DataFrame, queries: pl.DataFrame
) -> pl.DataFrame:
    """The dataset: the responses of the ``kept`` light rows, read one part at a time,
    with their queries' columns, in query order then trial order."""
    keys = kept.select("query_id", "trial", "_part").join(
        _query_columns(queries), on="query_id", how="inner"
    )
    by_part = keys.partition_by("_part", as_dict=True, include_key=False)
    pieces = [
        _kept_part(part, by_part[(i,)]) for i, (_, part) in enumerate(parts) if (i,) in by_part
    ]
    if not pieces:  # nothing kept: the first part, read with no keys, gives the columns
        pieces = [_kept_part(parts[0][1], keys.clear().drop("_part"))]
    dataset = pl.concat(pieces).sort("_order", "trial").select(DATASET_COLUMNS)
    if dataset.height != kept.height:
        raise DartError(f"read back {dataset.height} responses for {kept.height} kept rows")
    return dataset


def select_and_count(
    parts: Sequence[tuple[str, pl.LazyFrame]],
    queries: pl.DataFrame,
    recipe: Recipe,
    cap: int | None,
    pool_summary: Mapping[str, Any] | None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """(the kept light rows, the stats) from the pool's light columns alone; the trial
    tables it builds are freed on return, before any response is read."""
    rows = _light_rows(parts)
    kept, per_query, used_rows, k_p = select_rows(rows, queries, recipe, cap)
    stats = build_stats(recipe.name, recipe, k_p, per_query, used_rows, kept, rows, cap)
    if pool_summary and pool_summary.get("status") == "budget reached":
        stats["budget"] = budget_shortfall(per_query, pool_summary.get("budget", {}))
    return kept, stats


def assemble(
    pool_verified: pl.LazyFrame | Sequence[str | os.PathLike],
    queries: pl.DataFrame,
    recipe: Recipe,
    *,
    cap: int | None = None,
    contamination: pl.DataFrame | None = None,
    decontaminate: bool = True,
    pool_summary: Mapping[str, Any] | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The dataset of ``recipe`` over the pool, and its stats (see module doc).

    ``pool_summary`` (the pool's ``pool.json``): when the pool stopped at its budget,
    ``stats["budget"]`` says so and lists each query short of its target and by how much.

    ``contamination``: flagged rows of ``dart decontam``; their queries are dropped (or,
    with ``decontaminate`` off, kept), counted by benchmark in ``stats["contamination"]``.
    """
    info = None
    if contamination is not None:
        queries, info = contamination_filter(queries, contamination, drop=decontaminate)
    parts = pool_parts(pool_verified)
    kept, stats = select_and_count(parts, queries, recipe, cap, pool_summary)
    if info is not None:
        flagged_rows = kept.filter(pl.col("query_id").is_in(info["flagged"])).height
        stats["contamination"] = {**info, "rows_from_flagged": flagged_rows}
    return read_kept(parts, kept, queries), stats
