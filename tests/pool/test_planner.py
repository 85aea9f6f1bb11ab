"""Round planner: done-ness, cap, round limit, trial numbering, shards, k_p solving."""

from __future__ import annotations

import polars as pl
import pytest

from dart.errors import DartError
from dart.pool.ids import sample_id, trial_seed
from dart.pool.planner import plan_round, shards_for, still_needed
from dart.pool.tally import update_tally
from dart.recipes import recipe_from_config

KW = dict(seed=7, cap=20, per_round_max=8, shards=3, max_rounds=6)


def queries(n: int = 4) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "query_id": [f"{i:016x}" for i in range(n)],
            "source": ["gen"] * n,
            "query": [f"q{i}" for i in range(n)],
            "gold": [str(i) for i in range(n)],
            "level": pl.Series([1, 2, None, 3, 4, 5][:n], dtype=pl.Int64),
        }
    )


def tally_of(q: pl.DataFrame, outcomes: dict[str, str]) -> pl.DataFrame:
    rows = [
        {"query_id": qid, "trial": t, "round": 0, "level": 1, "correct": c == "1"}
        for qid, s in outcomes.items()
        for t, c in enumerate(s)
    ]
    return update_tally(None, pl.DataFrame(rows), q)


def uniform(k: int = 2):
    return recipe_from_config("u", {"recipe": "uniform", "k": k})


def test_done_at_exactly_target():
    q = queries(2)
    a, b = q["query_id"]
    tally = tally_of(q, {a: "0101", b: "0100"})  # a has 2 correct == k, b has 1
    plan, summary = plan_round(q, tally, [uniform(2)], round=1, **KW)
    assert set(plan["query_id"]) == {b}
    assert not summary["done"]
    tally = tally_of(q, {a: "0101", b: "0101"})
    plan, summary = plan_round(q, tally, [uniform(2)], round=1, **KW)
    assert plan.height == 0 and summary["done"] and summary["exhausted"] == []


def test_cap_stops_and_lists_exhausted():
    q = queries(2)
    a, b = q["query_id"]
    tally = tally_of(q, {a: "0" * 20, b: "0" * 15})
    plan, summary = plan_round(q, tally, [uniform(2)], round=1, **KW)
    assert summary["exhausted"] == [a]
    assert plan["query_id"].unique().to_list() == [b]
    assert plan.height == 5  # bounded by the remaining cap, not per_round_max (8)
    assert not still_needed(q, tally_of(q, {a: "0" * 20, b: "0" * 20}), [uniform(2)], cap=20)
    assert still_needed(q, tally, [uniform(2)], cap=20)


def test_trials_continue_contiguously_with_ids_and_seeds():
    q = queries(3)
    vrt = recipe_from_config("v", {"recipe": "vrt", "trials": 12})
    tally = tally_of(q, {q["query_id"][0]: "0110101010"})  # 10 trials done
    plan, _ = plan_round(q, tally, [vrt], round=1, **{**KW, "per_round_max": 50})
    first = plan.filter(pl.col("query_id") == q["query_id"][0])
    assert first["trial"].to_list() == [10, 11]
    other = plan.filter(pl.col("query_id") == q["query_id"][1])
    assert other["trial"].to_list() == list(range(12))
    row = first.row(0, named=True)
    assert row["sample_id"] == sample_id(row["query_id"], 10)
    assert row["seed"] == trial_seed(7, row["query_id"], 10)
    assert set(plan["round"]) == {1} and set(plan["kind"]) == {"math"}


def test_shards_balanced_and_deterministic():
    q = queries(4)
    vrt = recipe_from_config("v", {"recipe": "vrt", "trials": 5})
    p1, s1 = plan_round(q, None, [vrt], round=0, **KW)
    p2, _ = plan_round(q.reverse(), None, [vrt], round=0, **KW)
    assert p1.equals(p2)  # query order does not matter
    sizes = s1["shard_sizes"]
    assert sum(sizes) == 20 and max(sizes) - min(sizes) <= 1 and len(sizes) == 3


def test_round_limit_empties_plan_and_lists_unfinished():
    q = queries(2)
    plan, summary = plan_round(q, None, [uniform(2)], round=6, **KW)
    assert plan.height == 0 and summary["done"] and summary["round_limit_reached"]
    assert summary["exhausted"] == sorted(q["query_id"].to_list())


def test_per_round_max_bounds_requests():
    q = queries(1)
    plan, _ = plan_round(q, None, [uniform(40)], round=0, **{**KW, "cap": 1000})
    assert plan.height == 8


def test_prop2diff_probe_then_solved_k_p():
    q = queries(4)
    p2d = recipe_from_config("p", {"recipe": "prop2diff", "size": 10, "n_probe": 4})
    plan, summary = plan_round(q, None, [p2d], round=0, **KW)
    assert plan.group_by("query_id").len()["len"].to_list() == [4] * 4
    assert summary["recipes"]["p"]["k_p_solved"] is None
    ids = q["query_id"].to_list()
    # fail rates 0, 0.25, 0.5, 1.0: targets max(1, ceil(k_p f)) sum to >= 10 first at k_p = 6
    # (1 + 2 + 3 + 6 = 12; at k_p just below 6 the sum is 1 + 2 + 3 + 5 = 11 >= 10 too)
    tally = tally_of(q, dict(zip(ids, ["1111", "1110", "1100", "0000"], strict=True)))
    plan, summary = plan_round(q, tally, [p2d], round=1, **KW)
    k_p = summary["recipes"]["p"]["k_p_solved"]
    assert k_p is not None and summary["recipes"]["p"]["target_sum"] >= 10
    t = [max(1, -(-k_p * f // 1)) for f in (0, 0.25, 0.5, 1.0)]
    assert sum(t) >= 10 and sum(max(1, -(-(k_p - 0.01) * f // 1)) for f in (0, 0.25, 0.5, 1.0)) < 10
    assert ids[0] not in set(plan["query_id"])  # target 1 already met by the probe


def test_shared_pool_plans_the_most_any_recipe_asks():
    q = queries(1)
    vrt = recipe_from_config("v", {"recipe": "vrt", "trials": 6})
    plan, summary = plan_round(q, None, [vrt, uniform(1)], round=0, **KW)
    assert plan.height == 6 and set(summary["recipes"]) == {"v", "u"}


def test_bad_inputs_raise():
    q = queries(2)
    with pytest.raises(DartError, match="appears twice"):
        plan_round(pl.concat([q, q]), None, [uniform()], round=0, **KW)
    with pytest.raises(DartError, match="shards"):
        plan_round(q, None, [uniform()], round=0, **{**KW, "shards": 0})


def test_small_rounds_use_fewer_shards():
    assert shards_for(1_000_000, 64, 2048) == 64
    assert shards_for(5000, 64, 2048) == 3 and shards_for(10, 64, 2048) == 1
    assert shards_for(10, 64) == 64  # the default keeps every round at `shards`
    q = queries(6)
    plan, summary = plan_round(q, None, [uniform(2)], round=0,
                               **{**KW, "shards": 8}, shard_min_trials=5)  # fmt: skip
    used = -(-plan.height // 5)
    assert summary["shards_used"] == used < 8
    assert sorted(plan["shard"].unique()) == list(range(used))


def _run_to_end(queries_frame, outcomes, recipes, prior):
    tally = None
    for rnd in range(13):
        plan, summary = plan_round(queries_frame, tally, recipes, round=rnd, seed=0, cap=2048,
                                   per_round_max=1024, shards=1, max_rounds=12, prior=prior)  # fmt: skip
        if summary["done"]:
            return int(tally["trials"].sum()), rnd  # rounds that sampled: 0 .. rnd - 1
        qi = plan["query_id"].str.to_integer(base=16).to_numpy()
        verified = plan.with_columns(correct=pl.Series(outcomes[qi, plan["trial"].to_numpy()]))
        tally = update_tally(tally, verified, queries_frame)
    raise AssertionError("no end")


def test_paper_like_pool_finishes_in_six_rounds_for_few_extra_trials():
    # a tenth of bench_planner.py's paper-scale population (pass rates per level, some
    # never solved), the paper's three recipes in one pool, the same coin flips for both
    import numpy as np

    from dart.pool.planner import Prior

    rng = np.random.default_rng(0)
    groups = [(747, 0.955, 2.0, 0.003, None), (57, 0.92, 2.0, 0.003, 1), (135, 0.81, 2.5, 0.005, 2),
              (159, 0.67, 4.0, 0.01, 3), (169, 0.52, 5.0, 0.015, 4), (230, 0.35, 5.0, 0.03, 5)]  # fmt: skip
    rates, levels = [], []
    for n, mean, conc, zero, level in groups:
        p = rng.beta(mean * conc, (1 - mean) * conc, size=n)
        p[rng.random(n) < zero] = 0.0
        rates.append(p)
        levels += [level] * n
    p = np.concatenate(rates)
    q = pl.DataFrame(
        {
            "query_id": [f"{i:016x}" for i in range(p.size)],
            "source": ["s"] * p.size,
            "query": ["q"] * p.size,
            "gold": ["0"] * p.size,
            "level": pl.Series(levels, dtype=pl.Int64),
        }
    )
    outcomes = rng.random((p.size, 2048)) < p[:, None]
    recipes = [
        recipe_from_config("vrt", {"recipe": "vrt", "trials": 52}),
        recipe_from_config("uniform", {"recipe": "uniform", "k": 40}),
        recipe_from_config("p2d", {"recipe": "prop2diff", "size": 58539, "n_probe": 8}),
    ]
    before, before_rounds = _run_to_end(q, outcomes, recipes, Prior(ramp=11, sure=0.0))
    now, now_rounds = _run_to_end(q, outcomes, recipes, Prior())
    assert before_rounds >= 7  # the planner of version 1 took 7-10 rounds here
    assert now_rounds <= 6
    assert now <= before * 1.03
