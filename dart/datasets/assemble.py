"""Assemble a dataset from a verified pool with a recipe, with its stats.

Two passes over the pool: the light columns (ids, trial, verdict, tokens, seconds)
decide which rows a recipe keeps and what they cost; only then are the kept rows'
responses read, so a pool of millions of rows assembles in bounded memory. Rows are
taken per query in trial order, so the dataset does not depend on the sharding.

    dart assemble --queries data/queries/gsm8k.parquet data/queries/math.parquet \\
        --verified results/pool/smollm2/round*/verified/shard*.parquet \\
        --recipe-json '{"recipe": "uniform", "k": 40}' --name dart-uniform --cap 2048 \\
        -o results/datasets/dart-uniform.parquet --card results/datasets/dart-uniform/README.md \\
        --stats results/datasets/dart-uniform/stats.json --plots results/datasets/dart-uniform
"""

from __future__ import annotations

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


def scan_pool(pool: pl.LazyFrame | Sequence[str | os.PathLike]) -> pl.LazyFrame:
    if isinstance(pool, pl.LazyFrame):
        return pool
    paths = [str(p) for p in pool]
    if not paths:
        raise DartError("no verified pool files given")
    return scan_tables(paths, "verified shard", missing_columns="insert", extra_columns="ignore")


def _light_rows(pool: pl.LazyFrame) -> pl.DataFrame:
    names = pool.collect_schema().names()
    missing = [c for c in ("query_id", "trial", "correct") if c not in names]
    if missing:
        raise DartError(f"verified pool lacks column(s) {', '.join(missing)}")
    fill = {"round": 0, "completion_tokens": 0, "gen_seconds": 0.0}
    cols = [pl.col(c) if c in names else pl.lit(fill[c]).alias(c) for c in LIGHT]
    rows = pool.select(cols).collect(engine="streaming")
    rows = rows.with_columns(
        pl.col("query_id").cast(pl.String),
        pl.col("trial", "round", "completion_tokens").cast(pl.Int64).fill_null(0),
        pl.col("gen_seconds").cast(pl.Float64).fill_null(0.0),
        pl.col("correct").cast(pl.Boolean).fill_null(False),
    )
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


def _per_key(used_rows: pl.DataFrame, kept: pl.DataFrame, key: str) -> dict[str, Any]:
    cost = used_rows.group_by(key).agg(
        trials_used=pl.len(),
        tokens=pl.col("completion_tokens").sum(),
        gen_seconds=pl.col("gen_seconds").sum(),
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
            "gen_seconds": float(rows["gen_seconds"].sum()),
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
    pool = scan_pool(pool_verified)
    rows = _light_rows(pool)
    kept, per_query, used_rows, k_p = select_rows(rows, queries, recipe, cap)
    stats = build_stats(recipe.name, recipe, k_p, per_query, used_rows, kept, rows, cap)
    if pool_summary and pool_summary.get("status") == "budget reached":
        stats["budget"] = budget_shortfall(per_query, pool_summary.get("budget", {}))
    keys = kept.select("query_id", "trial")
    names = pool.collect_schema().names()
    heavy = [pl.col(c) if c in names else pl.lit(None, pl.String).alias(c) for c in HEAVY]
    texts = (
        pool.select(pl.col("query_id").cast(pl.String), pl.col("trial").cast(pl.Int64), *heavy)
        .join(keys.lazy(), on=["query_id", "trial"], how="semi")
        .collect(engine="streaming")
    )
    qcols = queries.select(
        pl.col("query_id").cast(pl.String),
        pl.col("query").cast(pl.String),
        pl.col("level").cast(pl.Int64),
        pl.col("source").cast(pl.String),
        _order=pl.int_range(pl.len()),
    )
    dataset = (
        texts.join(qcols, on="query_id", how="inner")
        .sort("_order", "trial")
        .with_columns(
            pl.col("round", "shard", "seed").cast(pl.Int64),
            pl.col("template_version", "grader_version", "model").cast(pl.String),
        )
        .select(DATASET_COLUMNS)
    )
    if dataset.height != kept.height:
        raise DartError(f"read back {dataset.height} responses for {kept.height} kept rows")
    if info is not None:
        flagged_rows = dataset.filter(pl.col("query_id").is_in(info["flagged"]))
        stats["contamination"] = {**info, "rows_from_flagged": flagged_rows.height}
    return dataset, stats
