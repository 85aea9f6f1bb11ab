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
from dart.inputs import read_table, read_tables
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
    ramp: int = 4
    sure: float = 2.0

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
    for col, default in (("tokens", pl.lit(0, pl.Int64)), ("gen_seconds", pl.lit(0.0))):
        if col not in tally.columns:
            tally = tally.with_columns(default.alias(col))
    counts = tally.select("query_id", "trials", "correct", "outcomes", "tokens", "gen_seconds")
    counts = counts.cast(
        {"trials": pl.Int64, "correct": pl.Int64, "tokens": pl.Int64, "gen_seconds": pl.Float64}
    )
    state = base.join(counts, on="query_id", how="left").with_columns(
        pl.col("trials", "correct", "tokens").fill_null(0),
        pl.col("gen_seconds").fill_null(0.0),
        pl.col("outcomes").fill_null(""),
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


def pass_rate_np(trials: np.ndarray, correct: np.ndarray, prior: Prior) -> np.ndarray:
    """:func:`pass_rate` on arrays."""
    return np.clip((correct + prior.alpha) / (trials + prior.alpha + prior.beta), 1e-4, 1.0)


def trials_for(need, p, z: float):
    """Trials ``n`` with ``n p - z sqrt(n p (1 - p)) = need`` (normal approximation).

    ``z < 0`` asks for fewer trials than ``need / p`` (the next round tops up),
    ``z > 0`` for enough that ``need`` is reached with high probability. Works on
    numpy arrays (and polars expressions); 0 where ``need`` is 0.
    """
    need = np.asarray(need, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    sigma = np.sqrt(p * (1 - p))
    root = (z * sigma + np.sqrt((z * sigma) ** 2 + 4 * p * need)) / (2 * p)
    return np.where(need > 0, np.ceil(root**2), 0.0)


def round_optimism(prior: Prior, round: int, max_rounds: int) -> float:
    """The ``z`` of this round: ``-optimism`` in round 0 rising to ``+late`` at round
    ``ramp`` (or the last round, if sooner) and staying there."""
    frac = min(1.0, round / max(min(prior.ramp, max_rounds - 1), 1))
    return -prior.optimism + (prior.optimism + prior.late) * frac


@dataclass
class Needs:
    """Per recipe (rows) and query (columns): what is still needed, as arrays.

    ``need_trials``: trials needed whatever their outcome; ``need_correct``: correct
    responses needed; ``active``: unmet and below the cap (the planner may ask).
    Arrays are ``(recipes, queries)``, or ``(recipes, draws, queries)`` in forecasts.
    """

    need_trials: np.ndarray
    need_correct: np.ndarray
    active: np.ndarray


def needs_from_targets(
    min_trials: np.ndarray,
    target: np.ndarray,
    pending: np.ndarray,
    trials: np.ndarray,
    correct: np.ndarray,
    cap: int,
) -> Needs:
    """:class:`Needs` from recipe targets (``(R, Q)``: ``min_trials``, ``target`` with
    -1 for none, ``pending``; -1 min_trials = out of scope) and per-query ``trials``,
    ``correct`` (``(Q,)`` or ``(D, Q)``; targets broadcast over draws)."""
    if trials.ndim == 2:  # (R, Q) targets broadcast over draws
        min_trials, target, pending = (
            a[:, None, :] if a.ndim == 2 else a for a in (min_trials, target, pending)
        )
    scope = min_trials >= 0
    need_trials = np.where(scope, np.maximum(min_trials - trials, 0), 0)
    need_correct = np.where(scope & (target >= 0), np.maximum(target - correct, 0), 0)
    unmet = scope & ((need_trials > 0) | (need_correct > 0) | pending)
    return Needs(need_trials, need_correct, unmet & (trials < cap))


def request_sizes(
    needs: Needs,
    trials: np.ndarray,
    correct: np.ndarray,
    *,
    cap: int,
    per_round_max: int,
    prior: Prior,
    z: float,
) -> np.ndarray:
    """Trials to plan per query this round: the most any recipe asks, within the bounds.

    A recipe asks its outright trials, or :func:`trials_for` its missing correct
    responses at the posterior pass rate, at most the growth bound; the query gets the
    largest ask, cut to the per-round maximum and the room left under the cap. Arrays
    of any leading shape (``(Q,)`` or ``(D, Q)``), so forecasts run many draws at once.
    """
    p = pass_rate_np(trials, correct, prior)
    growth_bound = np.maximum(prior.first, np.floor(trials * prior.growth))
    if prior.sure > 0:
        # what even an optimistic pass rate (``sure`` posterior sds above its mean) says is
        # needed is asked at once, past the growth bound: a query seen failing for long
        # reaches the cap in fewer rounds
        spread = np.sqrt(p * (1 - p) / (trials + prior.alpha + prior.beta + 1))
        p_hi = np.minimum(p + prior.sure * spread, 1.0)
        growth_bound = np.maximum(growth_bound, np.floor(needs.need_correct.max(axis=0) / p_hi))
    by_correct = np.minimum(trials_for(needs.need_correct, p, z), growth_bound)
    ask = np.where(needs.active, np.maximum(needs.need_trials, by_correct), 0).max(axis=0)
    room = np.maximum(cap - trials, 0)
    return np.minimum(np.minimum(ask, per_round_max), room).astype(np.int64)


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


@dataclass(frozen=True)
class Budget:
    """A pool's spending limit: total trials and/or engine hours (None: no limit).

    Engine hours are the generation engine's own seconds (``gen_seconds`` of the tally,
    measured by the generation shards), so they bind only once a round has measured
    seconds per generated token; a round is costed at each query's mean tokens per trial
    so far (the pool's mean for a query without trials) times the pool's seconds per token.
    """

    max_trials: int | None = None
    max_engine_hours: float | None = None

    @classmethod
    def from_config(cls, spec: Mapping[str, Any] | None) -> Budget:
        spec = spec or {}
        for key in ("max_trials", "max_engine_hours"):
            value = spec.get(key)
            ok = value is None or (
                not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0
            )
            if not ok or (key == "max_trials" and value is not None and value != int(value)):
                kind = "an integer" if key == "max_trials" else "a number"
                raise DartError(f"budget.{key} must be {kind} > 0, got {value!r}")
        unknown = sorted(set(spec) - {"max_trials", "max_engine_hours"})
        if unknown:
            raise DartError(f"budget: unknown key {unknown[0]!r}")
        trials = spec.get("max_trials")
        return cls(None if trials is None else int(trials), spec.get("max_engine_hours"))

    @property
    def limited(self) -> bool:
        return self.max_trials is not None or self.max_engine_hours is not None

    def as_dict(self) -> dict[str, Any]:
        return {"max_trials": self.max_trials, "max_engine_hours": self.max_engine_hours}


def seconds_per_trial(trials: np.ndarray, tokens: np.ndarray, seconds: float) -> np.ndarray | None:
    """Measured engine seconds one more trial of each query costs (None: not measured yet)."""
    total_tokens, total_trials = float(tokens.sum()), float(trials.sum())
    if seconds <= 0 or total_tokens <= 0 or total_trials <= 0:
        return None
    per_token = seconds / total_tokens
    mean_tokens = np.where(trials > 0, tokens / np.maximum(trials, 1), total_tokens / total_trials)
    return mean_tokens * per_token


def budget_left(
    budget: Budget, spent_trials: float, spent_seconds: float, measured: bool
) -> tuple[float, float]:
    """(trials, engine seconds) the budget still allows (inf where it has no limit, or
    where engine hours cannot be costed yet)."""
    trials = np.inf if budget.max_trials is None else budget.max_trials - spent_trials
    hours = budget.max_engine_hours
    seconds = np.inf if hours is None or not measured else hours * 3600 - spent_seconds
    return max(trials, 0.0), max(seconds, 0.0)


def apply_budget(
    n: np.ndarray,
    p: np.ndarray,
    rank: np.ndarray,
    trials_left: np.ndarray | float,
    seconds_left: np.ndarray | float,
    cost: np.ndarray | None,
) -> np.ndarray:
    """Cut a round's requests ``n`` to what the budget allows, hardest queries first.

    Queries are taken in order of posterior pass rate ``p`` (lowest first, ties by
    ``rank``), each with its whole request, until the next would pass the budget; that
    one gets what is left, the rest nothing. ``cost``: engine seconds per trial (None:
    not measured). Arrays ``(Q,)`` or ``(D, Q)`` (budgets then per draw, ``(D,)``).
    """
    cost = np.zeros_like(p) if cost is None else np.broadcast_to(cost, p.shape)
    rank = np.broadcast_to(rank, p.shape)
    order = np.lexsort((rank, p), axis=-1)
    n_o = np.take_along_axis(n, order, axis=-1)
    c_o = np.take_along_axis(cost, order, axis=-1)
    t_left = np.asarray(trials_left, dtype=np.float64)[..., None]
    s_left = np.asarray(seconds_left, dtype=np.float64)[..., None]
    cum_t = np.cumsum(n_o, axis=-1)
    cum_s = np.cumsum(n_o * c_o, axis=-1)
    full = (cum_t <= t_left) & (cum_s <= s_left * (1 + 1e-12))
    before_t = cum_t - n_o
    before_s = cum_s - n_o * c_o
    with np.errstate(divide="ignore", invalid="ignore"):
        by_s = np.where(c_o > 0, np.floor((s_left - before_s) / c_o), np.inf)
    part = np.minimum(np.minimum(n_o, np.floor(t_left - before_t)), by_s)
    first_cut = np.cumsum(~full, axis=-1) == 1
    out_o = np.where(full, n_o, np.where(first_cut & ~full, np.maximum(part, 0), 0))
    out = np.empty_like(n)
    np.put_along_axis(out, order, out_o.astype(n.dtype), axis=-1)
    return out


def target_arrays(
    state: pl.DataFrame, recipes: Sequence[Recipe], cap: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per recipe and query (state order): ``min_trials`` (-1: out of the recipe's scope),
    ``target`` (-1: none) and ``pending``, from each recipe's own :meth:`Recipe.targets`."""
    q = state.height
    min_trials = np.full((len(recipes), q), -1, dtype=np.int64)
    target = np.full((len(recipes), q), -1, dtype=np.int64)
    pending = np.zeros((len(recipes), q), dtype=bool)
    index = state.select("query_id").with_row_index("_i")
    for i, recipe in enumerate(recipes):
        t, _ = recipe.targets(state, cap, strict=True)
        t = t.join(index, on="query_id")
        rows = t["_i"].to_numpy()
        min_trials[i, rows] = t["min_trials"].to_numpy()
        target[i, rows] = t["target"].fill_null(-1).to_numpy()
        pending[i, rows] = t["pending"].to_numpy()
    return min_trials, target, pending


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
    budget: Budget | None = None,
    shard_min_trials: int = 1,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The plan of round ``round`` and its summary (see module doc and ``plan.json``)."""
    prior = prior or Prior()
    budget = budget or Budget()
    for key, value in (("cap", cap), ("per_round_max", per_round_max), ("shards", shards)):
        if value < 1:
            raise DartError(f"{key} must be >= 1, got {value}")
    state = query_state(queries, tally)
    needs_frame, info = recipe_needs(state, recipes, cap)
    unmet = needs_frame.filter(pl.col("unmet"))
    capped = sorted(set(unmet.filter(pl.col("capped"))["query_id"]))
    trials, correct = state["trials"].to_numpy(), state["correct"].to_numpy()
    needs = needs_from_targets(*target_arrays(state, recipes, cap), trials, correct, cap)
    at_limit = round >= max_rounds
    asked = np.zeros(state.height, dtype=np.int64)
    if not at_limit:
        z = round_optimism(prior, round, max_rounds)
        asked = request_sizes(
            needs, trials, correct, cap=cap, per_round_max=per_round_max, prior=prior, z=z
        )
    cost = seconds_per_trial(trials, state["tokens"].to_numpy(), state["gen_seconds"].sum())
    spent_trials, spent_seconds = int(trials.sum()), float(state["gen_seconds"].sum())
    t_left, s_left = budget_left(budget, spent_trials, spent_seconds, cost is not None)
    n = asked
    if budget.limited:
        rank = state["query_id"].rank("ordinal").to_numpy()
        n = apply_budget(asked, pass_rate_np(trials, correct, prior), rank, t_left, s_left, cost)
    budget_reached = bool(n.sum() < asked.sum())
    counts = pl.DataFrame({"query_id": state["query_id"], "n": n}).filter(pl.col("n") > 0)
    exhausted = capped
    if at_limit or (budget_reached and not counts.height):
        exhausted = sorted(set(unmet["query_id"]))
    used = shards_for(int(counts["n"].sum()) if counts.height else 0, shards, shard_min_trials)
    plan = expand_trials(state, counts, round=round, seed=seed, shards=used)
    summary = {
        "round": round,
        "trials": plan.height,
        "queries": counts.height,
        "done": plan.height == 0,
        "round_limit_reached": at_limit and bool(unmet.height),
        "budget_reached": budget_reached,
        "exhausted": exhausted,
        "per_level": _per_level(state, counts, exhausted),
        "recipes": info,
        "shard_sizes": plan.group_by("shard").len().sort("shard")["len"].to_list(),
        "shards_used": used,
        "spent": {
            "trials": spent_trials,
            "engine_hours": spent_seconds / 3600,
            "tokens": int(state["tokens"].sum()),
        },
        "budget": {
            **budget.as_dict(),
            "asked": int(asked.sum()),
            "planned": int(n.sum()),
            "engine_hours_measured": cost is not None,
        },
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
    queries: pl.DataFrame,
    tally: pl.DataFrame | None,
    recipes: Sequence[Recipe],
    cap: int,
    budget: Budget | None = None,
) -> bool:
    """Whether some query still needs trials for some recipe (below the cap), and the
    budget (if any) allows at least one more trial."""
    state = query_state(queries, tally)
    needs, _ = recipe_needs(state, recipes, cap)
    if not needs.filter(pl.col("unmet") & ~pl.col("capped")).height:
        return False
    if budget is None or not budget.limited:
        return True
    trials = state["trials"].to_numpy()
    cost = seconds_per_trial(trials, state["tokens"].to_numpy(), state["gen_seconds"].sum())
    t_left, s_left = budget_left(
        budget, int(trials.sum()), float(state["gen_seconds"].sum()), cost is not None
    )
    return t_left >= 1 and (cost is None or s_left >= float(cost.min()))


def needs_more(cfg: Mapping[str, Any], synth: str, tally_path: str | None) -> bool:
    """Do the configured recipes of pool ``synth`` need more trials than the tally at
    ``tally_path`` holds (None: no round finished yet), within its budget? Reads the
    pool's query tables."""
    paths = [f"{cfg['data_dir']}/queries/{s}.parquet" for s in cfg["synth"][synth]["queries"]]
    queries = read_tables(paths, (), "queries")
    tally = read_table(tally_path, (), "tally") if tally_path else None
    recipes = recipes_from_config(pool_recipes(cfg, synth))
    budget = Budget.from_config(cfg["synth"][synth].get("budget"))
    return still_needed(queries, tally, recipes, cfg["synth"][synth]["cap"], budget)
