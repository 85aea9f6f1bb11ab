"""Round planner: from the tally of earlier rounds, the trials of the next round.

One pool serves every recipe of a synthesis setup, so a round plans for the union
of what the recipes still need: per query, the most any recipe asks. A recipe asks
for a number of trials outright (VRT's first N, Prop2Diff's probe) or for correct
responses; for the latter the planner requests about ``needed / p`` trials, with
``p`` the query's pass rate smoothed by a Beta prior, a little less in early rounds
(overshoot stays small) and a little more in late ones (stragglers finish),
bounded by the growth schedule (at most ``growth`` times the trials so far), the
per-round maximum and the remaining cap. A query is done for a recipe when
``correct >= target`` or ``trials >= cap``; at ``round == max_rounds`` the plan is
empty and every unfinished query is listed as exhausted. Pure: no engine, no I/O.

    dart plan --queries data/queries/gsm8k.parquet data/queries/math.parquet \\
        --tally results/pool/smollm2/round0/tally.parquet --recipes recipes.json \\
        --round 1 --seed 0 --cap 2048 --per-round-max 1024 --shards 8 --max-rounds 12 \\
        -o results/pool/smollm2/round1/plan.parquet \\
        --summary results/pool/smollm2/round1/plan.json
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from dart.config import pool_recipes
from dart.errors import DartError
from dart.pool.ids import sample_id, trial_seed
from dart.pool.tally import SCHEMA as TALLY_SCHEMA
from dart.recipes import Recipe, recipes_from_config

PLAN_SCHEMA: dict[str, pl.DataType] = {
    "query_id": pl.String(),
    "trial": pl.Int64(),
    "sample_id": pl.String(),
    "seed": pl.Int64(),
    "round": pl.Int64(),
    "shard": pl.Int64(),
    "gold": pl.String(),
    "level": pl.Int64(),
    "kind": pl.String(),
}


@dataclass(frozen=True)
class Prior:
    """How unknown pass rates are estimated and how fast requests may grow.

    ``alpha, beta``: the Beta prior of a query's pass rate (posterior mean used).
    ``optimism``: in round 0 a query needing ``c`` more correct is asked for the ``n``
    trials with ``n p - z sqrt(n p (1 - p)) = c`` at ``z = -optimism`` (a little less
    than ``c / p``, so overshoot stays small and the next round tops up); ``z``
    rises linearly to ``+late`` by the last round, so the few queries left late
    are asked enough to finish. ``growth``: a correct-driven request is at
    most ``growth * trials so far`` (and at least ``first``): the first rounds
    cannot spend the whole cap on a query whose pass rate is still a guess.
    """

    alpha: float = 2.0
    beta: float = 1.0
    optimism: float = 1.0
    late: float = 2.0
    growth: float = 4.0
    first: int = 16

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def query_state(queries: pl.DataFrame, tally: pl.DataFrame | None) -> pl.DataFrame:
    """Queries joined with their tally (queries without trials get zeros)."""
    for col in ("query_id", "gold", "level", "source"):
        if col not in queries.columns:
            raise DartError(f"queries frame lacks column {col!r}")
    if queries["query_id"].is_duplicated().any():
        dup = queries.filter(pl.col("query_id").is_duplicated())["query_id"][0]
        raise DartError(f"query_id {dup} appears twice among the queries")
    base = queries.select(
        pl.col("query_id").cast(pl.String),
        pl.col("source").cast(pl.String),
        pl.col("gold").cast(pl.String),
        pl.col("level").cast(pl.Int64),
        kind=pl.col("kind").cast(pl.String) if "kind" in queries.columns else pl.lit("math"),
    )
    if tally is None:
        tally = pl.DataFrame(schema=TALLY_SCHEMA)
    counts = tally.select("query_id", "trials", "correct", "outcomes").cast(
        {"trials": pl.Int64, "correct": pl.Int64}
    )
    state = base.join(counts, on="query_id", how="left").with_columns(
        pl.col("trials", "correct").fill_null(0), pl.col("outcomes").fill_null("")
    )
    bad = state.filter(pl.col("outcomes").str.len_chars() != pl.col("trials"))
    if bad.height:
        raise DartError(f"tally row {bad['query_id'][0]}: outcomes length differs from trials")
    return state


def recipe_needs(
    state: pl.DataFrame, recipes: Sequence[Recipe], cap: int
) -> tuple[pl.DataFrame, dict[str, dict[str, Any]]]:
    """Per query and recipe: trials still needed outright and correct still needed.

    Returns a long frame ``query_id, recipe, need_trials, need_correct, pending,
    target, capped`` and per-recipe info (solved ``k_p``, counts).
    """
    frames, info = [], {}
    for recipe in recipes:
        targets, k_p = recipe.targets(state, cap, strict=True)
        need = (
            targets.join(state.select("query_id", "trials", "correct"), on="query_id")
            .with_columns(room=(pl.lit(cap) - pl.col("trials")).clip(lower_bound=0))
            .select(
                "query_id",
                recipe=pl.lit(recipe.name),
                need_trials=(pl.col("min_trials") - pl.col("trials")).clip(lower_bound=0),
                need_correct=(pl.col("target") - pl.col("correct"))
                .clip(lower_bound=0)
                .fill_null(0),
                pending=pl.col("pending"),
                target=pl.col("target"),
                room=pl.col("room"),
            )
            .with_columns(
                unmet=(pl.col("need_trials") > 0)
                | (pl.col("need_correct") > 0)
                | pl.col("pending"),
            )
            .with_columns(capped=pl.col("unmet") & (pl.col("room") == 0))
        )
        frames.append(need)
        info[recipe.name] = {
            **recipe.describe(),
            "k_p_solved": k_p if recipe.mode == "prop_fail" and recipe.k_p is None else None,
            "queries": targets.height,
            "unfinished": int((need["unmet"] & ~need["capped"]).sum()),
            "capped_short": int(need["capped"].sum()),
            "target_sum": int(targets["target"].fill_null(0).sum()),
        }
    if not frames:
        raise DartError("no recipes to plan for")
    return pl.concat(frames), info


def pass_rate(trials: pl.Expr, correct: pl.Expr, prior: Prior) -> pl.Expr:
    """Posterior mean of a query's pass rate under a Beta(alpha, beta) prior."""
    return ((correct + prior.alpha) / (trials + prior.alpha + prior.beta)).clip(1e-4, 1.0)


def trials_for(need: pl.Expr, p: pl.Expr, z: float) -> pl.Expr:
    """Trials ``n`` with ``n p - z sqrt(n p (1 - p)) = need`` (normal approximation).

    ``z < 0`` asks for fewer trials than ``need / p`` (the next round tops up),
    ``z > 0`` for enough that ``need`` is reached with high probability.
    """
    sigma = (p * (1 - p)).sqrt()
    root = (z * sigma + ((z * sigma) ** 2 + 4 * p * need).sqrt()) / (2 * p)
    return (root**2).ceil()


def round_optimism(prior: Prior, round: int, max_rounds: int) -> float:
    """The ``z`` of this round: ``-optimism`` in round 0 rising to ``+late`` at the last."""
    frac = min(1.0, round / max(max_rounds - 1, 1))
    return -prior.optimism + (prior.optimism + prior.late) * frac


def requests(
    needs: pl.DataFrame, state: pl.DataFrame, cap: int, per_round_max: int, prior: Prior, z: float
) -> pl.DataFrame:
    """Trials to plan per query this round: the most any recipe asks, within the bounds."""
    st = state.select("query_id", "trials", "correct")
    p = pass_rate(pl.col("trials"), pl.col("correct"), prior)
    growth_bound = pl.max_horizontal(pl.lit(prior.first), (pl.col("trials") * prior.growth).floor())
    per = (
        needs.filter(pl.col("unmet") & ~pl.col("capped"))
        .join(st, on="query_id")
        .with_columns(
            by_correct=pl.min_horizontal(trials_for(pl.col("need_correct"), p, z), growth_bound),
        )
        .with_columns(ask=pl.max_horizontal("need_trials", "by_correct").cast(pl.Int64))
    )
    agg = per.group_by("query_id").agg(ask=pl.col("ask").max(), room=pl.col("room").first())
    return agg.select(
        "query_id",
        n=pl.min_horizontal("ask", pl.lit(per_round_max), "room").cast(pl.Int64),
    ).filter(pl.col("n") > 0)


def shards_for(trials: int, shards: int, shard_min_trials: int = 1) -> int:
    """Shards a round of ``trials`` uses: ``shards``, or fewer so that each holds at least
    ``shard_min_trials`` (a small late round is not spread over 64 jobs that each start an
    engine for a handful of trials); at least 1. ``shard_min_trials`` 1: always ``shards``."""
    if shard_min_trials <= 1:  # the default: plans exactly as before the option existed
        return shards
    return max(1, min(shards, -(-trials // max(shard_min_trials, 1))))


def expand_trials(
    state: pl.DataFrame, counts: pl.DataFrame, *, round: int, seed: int, shards: int
) -> pl.DataFrame:
    """One row per planned trial, numbered after the query's existing trials, with shards.

    Rows are ordered by (query_id, trial) and cut into ``shards`` contiguous blocks whose
    sizes differ by at most one, so a query's trials mostly share a shard (prompt cache).
    """
    rows = (
        counts.join(state, on="query_id")
        .sort("query_id")
        .select(
            "query_id",
            "gold",
            "level",
            "kind",
            trial=pl.int_ranges(pl.col("trials"), pl.col("trials") + pl.col("n")),
        )
        .explode("trial")
    )
    qids, trials = rows["query_id"].to_list(), rows["trial"].to_list()
    total = rows.height
    shard = (np.arange(total, dtype=np.int64) * shards) // max(total, 1)
    return (
        rows.with_columns(
            sample_id=pl.Series(
                [sample_id(q, t) for q, t in zip(qids, trials, strict=True)], dtype=pl.String
            ),
            seed=pl.Series(
                [trial_seed(seed, q, t) for q, t in zip(qids, trials, strict=True)], dtype=pl.Int64
            ),
            round=pl.lit(round, pl.Int64),
            shard=pl.Series(shard, dtype=pl.Int64),
        )
        .select(list(PLAN_SCHEMA))
        .cast(PLAN_SCHEMA)
    )


def _per_level(state: pl.DataFrame, counts: pl.DataFrame, exhausted: list[str]) -> dict[str, Any]:
    joined = state.join(counts, on="query_id", how="left").with_columns(
        pl.col("n").fill_null(0), is_exhausted=pl.col("query_id").is_in(exhausted)
    )
    table = (
        joined.group_by(pl.col("level").cast(pl.String).fill_null("none"))
        .agg(
            queries=pl.len(),
            planned_queries=(pl.col("n") > 0).sum(),
            trials=pl.col("n").sum(),
            trials_so_far=pl.col("trials").sum(),
            correct_so_far=pl.col("correct").sum(),
            exhausted=pl.col("is_exhausted").sum(),
        )
        .sort("level")
    )
    return {r.pop("level"): r for r in table.to_dicts()}


def plan_round(
    queries: pl.DataFrame,
    tally: pl.DataFrame | None,
    recipes: Sequence[Recipe],
    *,
    round: int,
    seed: int,
    cap: int,
    per_round_max: int,
    shards: int,
    max_rounds: int,
    prior: Prior | None = None,
    shard_min_trials: int = 1,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The plan of round ``round`` and its summary (see module doc and ``plan.json``)."""
    prior = prior or Prior()
    for key, value in (("cap", cap), ("per_round_max", per_round_max), ("shards", shards)):
        if value < 1:
            raise DartError(f"{key} must be >= 1, got {value}")
    state = query_state(queries, tally)
    needs, info = recipe_needs(state, recipes, cap)
    unmet = needs.filter(pl.col("unmet"))
    capped = sorted(set(unmet.filter(pl.col("capped"))["query_id"]))
    at_limit = round >= max_rounds
    if at_limit:
        counts = pl.DataFrame(schema={"query_id": pl.String, "n": pl.Int64})
        exhausted = sorted(set(unmet["query_id"]))
    else:
        counts = requests(
            needs, state, cap, per_round_max, prior, round_optimism(prior, round, max_rounds)
        )
        exhausted = capped
    used = shards_for(int(counts["n"].sum()) if counts.height else 0, shards, shard_min_trials)
    plan = expand_trials(state, counts, round=round, seed=seed, shards=used)
    summary = {
        "round": round,
        "trials": plan.height,
        "queries": counts.height,
        "done": plan.height == 0,
        "round_limit_reached": at_limit and bool(unmet.height),
        "exhausted": exhausted,
        "per_level": _per_level(state, counts, exhausted),
        "recipes": info,
        "shard_sizes": plan.group_by("shard").len().sort("shard")["len"].to_list(),
        "shards_used": used,
        "settings": {
            "seed": seed,
            "cap": cap,
            "per_round_max": per_round_max,
            "shards": shards,
            "shard_min_trials": shard_min_trials,
            "max_rounds": max_rounds,
            "prior": prior.as_dict(),
        },
    }
    return plan, summary


def still_needed(
    queries: pl.DataFrame, tally: pl.DataFrame | None, recipes: Sequence[Recipe], cap: int
) -> bool:
    """Whether some query still needs trials for some recipe (below the cap)."""
    state = query_state(queries, tally)
    needs, _ = recipe_needs(state, recipes, cap)
    return bool(needs.filter(pl.col("unmet") & ~pl.col("capped")).height)


def needs_more(cfg: Mapping[str, Any], synth: str, tally_path: str | None) -> bool:
    """Do the configured recipes of pool ``synth`` need more trials than the tally at
    ``tally_path`` holds (None: no round finished yet)? Reads the pool's query tables."""
    paths = [f"{cfg['data_dir']}/queries/{s}.parquet" for s in cfg["synth"][synth]["queries"]]
    queries = pl.concat([pl.read_parquet(p) for p in paths], how="diagonal_relaxed")
    tally = pl.read_parquet(tally_path) if tally_path else None
    recipes = recipes_from_config(pool_recipes(cfg, synth))
    return still_needed(queries, tally, recipes, cfg["synth"][synth]["cap"])
