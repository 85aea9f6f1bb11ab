"""A pool's budget: never planned past, hardest queries first, budget.json kept in step."""

from __future__ import annotations

import json

import polars as pl
import pytest

from dart.errors import DartError
from dart.pool.planner import Budget, plan_round, still_needed
from dart.pool.pool_cli import summarise
from dart.pool.recipes_cli import sync_budget
from dart.pool.tally import update_tally
from dart.recipes import recipe_from_config

KW = dict(seed=7, cap=64, per_round_max=32, shards=2, max_rounds=8)
UNIFORM = [recipe_from_config("u", {"recipe": "uniform", "k": 4})]


def queries(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "query_id": [f"{i:016x}" for i in range(n)],
            "source": ["gen"] * n,
            "query": [f"q{i}" for i in range(n)],
            "gold": ["1"] * n,
            "level": pl.Series([1] * n, dtype=pl.Int64),
        }
    )


def tally_of(q, outcomes: dict[str, str], seconds_per_token: float = 0.0) -> pl.DataFrame:
    rows = [
        {"query_id": qid, "trial": t, "round": 0, "level": 1, "correct": c == "1",
         "completion_tokens": 100, "gen_seconds": 100 * seconds_per_token}
        for qid, s in outcomes.items()
        for t, c in enumerate(s)
    ]  # fmt: skip
    return update_tally(None, pl.DataFrame(rows), q)


def test_budget_binds_hardest_first_then_stops():
    q = queries(4)
    ids = q["query_id"].to_list()
    # pass rates so far: ids[0] easiest ... ids[3] hardest (never right)
    tally = tally_of(q, {ids[0]: "11100000", ids[1]: "10000000", ids[2]: "10000000",
                         ids[3]: "00000000"})  # fmt: skip
    free_plan, free = plan_round(q, tally, UNIFORM, round=1, **KW)
    free_ask = dict(free_plan.group_by("query_id").len().iter_rows())
    assert free["trials"] > 20 and ids[0] in free_ask
    limit = 32 + 20  # 32 spent, 20 left
    plan, summary = plan_round(q, tally, UNIFORM, round=1, budget=Budget(max_trials=limit), **KW)
    assert plan.height == 20 and summary["budget_reached"] and not summary["done"]
    per = dict(plan.group_by("query_id").len().iter_rows())
    assert ids[3] in per and ids[0] not in per  # the hardest first, the easiest nothing
    assert per[ids[3]] == min(20, free_ask[ids[3]])
    assert sum(per.values()) == 20
    # the next round: nothing left, an empty plan, every unmet query listed
    spent = update_tally(tally, plan.with_columns(correct=pl.lit(False)), q)
    plan2, s2 = plan_round(q, spent, UNIFORM, round=2, budget=Budget(max_trials=limit), **KW)
    assert plan2.height == 0 and s2["done"] and s2["budget_reached"]
    assert set(s2["exhausted"]) == set(ids)
    assert summarise([summary, s2], spent)["status"] == "budget reached"
    assert not still_needed(q, spent, UNIFORM, cap=64, budget=Budget(max_trials=limit))
    # raised: the pool may grow again
    assert still_needed(q, spent, UNIFORM, cap=64, budget=Budget(max_trials=limit + 1))
    plan3, s3 = plan_round(q, spent, UNIFORM, round=2, budget=Budget(max_trials=limit + 5), **KW)
    assert plan3.height == 5 and not s3["done"]


def test_budget_that_does_not_bind_changes_nothing():
    q = queries(3)
    tally = tally_of(q, dict.fromkeys(q["query_id"], "1000"))
    free, fs = plan_round(q, tally, UNIFORM, round=1, **KW)
    roomy, rs = plan_round(q, tally, UNIFORM, round=1, budget=Budget(max_trials=10**6), **KW)
    assert free.equals(roomy) and not rs["budget_reached"]
    assert fs["budget"]["planned"] == rs["budget"]["planned"] == free.height


def test_engine_hours_budget_from_measured_seconds_per_token():
    q = queries(3)
    # 12 trials of 100 tokens at 0.01 s/token: 12 s spent; each new trial costs 1 s
    tally = tally_of(q, dict.fromkeys(q["query_id"], "1000"), seconds_per_token=0.01)
    budget = Budget(max_engine_hours=(12 + 7) / 3600)
    plan, summary = plan_round(q, tally, UNIFORM, round=1, budget=budget, **KW)
    assert plan.height == 7 and summary["budget_reached"]
    assert summary["budget"]["engine_hours_measured"]
    # nothing measured yet (round 0): an engine-hours budget cannot bind
    plan0, s0 = plan_round(q, None, UNIFORM, round=0, budget=budget, **KW)
    assert plan0.height > 7 and not s0["budget_reached"]
    assert not s0["budget"]["engine_hours_measured"]


@pytest.mark.parametrize(
    "spec, key",
    [({"max_trials": 0}, "max_trials"), ({"max_trials": -3}, "max_trials"),
     ({"max_trials": "many"}, "max_trials"), ({"max_trials": 2.5}, "max_trials"),
     ({"max_engine_hours": 0}, "max_engine_hours"), ({"max_engine_hours": True}, "max_engine_hours"),
     ({"max_hours": 3}, "max_hours")],
)  # fmt: skip
def test_bad_budgets_are_refused(spec, key):
    with pytest.raises(DartError, match=key):
        Budget.from_config(spec)


def test_sync_budget_writes_only_when_limited_and_changed(tmp_path):
    path = tmp_path / "budget.json"
    assert not sync_budget({}, path) and not path.exists()
    assert sync_budget({"max_trials": 100}, path)
    assert json.loads(path.read_text()) == {"max_trials": 100, "max_engine_hours": None}
    mtime = path.stat().st_mtime_ns
    assert not sync_budget({"max_trials": 100, "max_engine_hours": None}, path)
    assert path.stat().st_mtime_ns == mtime
    assert sync_budget({"max_trials": 50}, path)
    assert sync_budget({"max_trials": None}, path) and not path.exists()
