"""Cost forecast: accuracy against the planner run to the end, seeds, budget, the CLI."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from dart.cli.main import main as dart_main
from dart.pool.estimate import LengthModel, RatePosterior, _length_columns, forecast
from dart.pool.planner import Budget, plan_round
from dart.pool.tally import update_tally
from dart.recipes import recipe_from_config

CAP, PER_ROUND, MAX_ROUNDS = 256, 128, 8


def population(n: int, seed: int) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Queries of five levels, their pass rates and every trial's outcome up to the cap."""
    rng = np.random.default_rng(seed)
    level = rng.integers(1, 6, size=n)
    p = rng.beta(2.0 * (1.1 - level / 5.5), 2.0 * level / 5.5)
    p[rng.random(n) < 0.05] = 0.0
    queries = pl.DataFrame(
        {
            "query_id": [f"{i:016x}" for i in range(n)],
            "source": ["gen"] * n,
            "query": [f"q{i}" for i in range(n)],
            "gold": ["1"] * n,
            "level": pl.Series(level, dtype=pl.Int64),
        }
    )
    return queries, p, rng.random((n, CAP)) < p[:, None]


def recipes(n: int):
    return [
        recipe_from_config("vrt", {"recipe": "vrt", "trials": 16}),
        recipe_from_config("uniform", {"recipe": "uniform", "k": 8}),
        recipe_from_config("p2d", {"recipe": "prop2diff", "size": 12 * n, "n_probe": 8}),
    ]


def run_rounds(queries, outcomes, recs, *, until: int | None = None, budget=None):
    """The real planner and tally on fixed coin flips; (tally, sampling rounds)."""
    tally, rounds = None, 0
    for rnd in range(MAX_ROUNDS + 1):
        if until is not None and rnd == until:
            break
        plan, summary = plan_round(
            queries, tally, recs, round=rnd, seed=0, cap=CAP, per_round_max=PER_ROUND,
            shards=2, max_rounds=MAX_ROUNDS, budget=budget,
        )  # fmt: skip
        if summary["done"]:
            break
        rounds += 1
        qi = plan["query_id"].str.to_integer(base=16).to_numpy()
        ok = outcomes[qi, plan["trial"].to_numpy()]
        tokens = np.where(ok, 100, 150) + queries["level"].to_numpy()[qi] * 20
        tally = update_tally(
            tally,
            plan.with_columns(
                correct=pl.Series(ok),
                completion_tokens=pl.Series(tokens),
                gen_seconds=pl.Series(tokens * 0.01),
            ),
            queries,
        )
    return tally, rounds


@pytest.fixture(scope="module")
def pilot_and_end():
    queries, p, outcomes = population(600, seed=3)
    recs = recipes(600)
    pilot, _ = run_rounds(queries, outcomes, recs, until=1)
    end, rounds = run_rounds(queries, outcomes, recs)
    return queries, p, outcomes, recs, pilot, end, rounds


def _forecast(queries, pilot, recs, **kw):
    kw = {"draws": 60, "seed": 1, **kw}
    return forecast(
        queries, pilot, recs, cap=CAP, per_round_max=PER_ROUND, max_rounds=MAX_ROUNDS,
        start_round=1, **kw,
    )  # fmt: skip


def test_forecast_brackets_the_real_end(pilot_and_end):
    queries, _, _, recs, pilot, end, rounds = pilot_and_end
    doc = _forecast(queries, pilot, recs)
    real = {
        "trials": end["trials"].sum(),
        "tokens": end["tokens"].sum(),
        "rounds": rounds,
        "engine_hours": end["gen_seconds"].sum() / 3600,
    }
    for key, value in real.items():
        f = doc["pool"][key]
        assert f["low"] <= f["median"] <= f["high"]
        if key == "rounds":  # a small integer: inside the interval, the median at most 1 off
            assert f["low"] <= value <= f["high"] and abs(f["median"] - value) <= 1, (f, value)
            continue
        assert abs(f["median"] - value) <= 0.1 * value, (key, f, value)
        assert f["low"] * 0.98 <= value <= f["high"] * 1.02, (key, f, value)
    assert set(doc["datasets"]) == {"vrt", "uniform", "p2d"}
    # VRT keeps the correct ones among the first 16 trials: known exactly after the pilot
    vrt_rows = sum(o[:16].count("1") for o in pilot["outcomes"])
    assert doc["datasets"]["vrt"]["rows"] == {"median": vrt_rows, "low": vrt_rows, "high": vrt_rows}
    assert doc["datasets"]["uniform"]["rows"]["high"] <= 8 * queries.height
    # each dataset's tokens: the trials it uses priced at their expected outcome mix; VRT
    # uses exactly the pilot's 16 trials per query, whose tokens are known
    for entry in doc["datasets"].values():
        assert entry["tokens"]["low"] <= entry["tokens"]["median"] <= entry["tokens"]["high"]
    assert doc["datasets"]["vrt"]["tokens"]["median"] == pytest.approx(
        pilot["tokens"].sum(), rel=0.03
    )
    assert doc["datasets"]["p2d"]["tokens"]["median"] < doc["pool"]["tokens"]["median"]
    assert doc["pilot"]["trials"] == pilot["trials"].sum()


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_with_certain_outcomes_the_forecast_is_the_planners_run(pilot_and_end, rate):
    # pass rates 0 or 1 make every future outcome certain: every draw must then be
    # exactly the real planner's run on those outcomes (same requests, bounds, rounds)
    queries, _, outcomes, recs, pilot, _, _ = pilot_and_end
    future = outcomes.copy()
    future[:, 16:] = bool(rate)  # the pilot gave every query 16 trials
    assert (pilot["trials"] == 16).all()
    end, rounds = run_rounds(queries, future, recs)
    doc = _forecast(queries, pilot, recs, rates=np.full(queries.height, rate), draws=3)
    pool = doc["pool"]
    assert pool["trials"] == {k: float(end["trials"].sum()) for k in ("median", "low", "high")}
    assert pool["correct"]["median"] == end["correct"].sum()
    assert pool["rounds"]["median"] == rounds
    # lengths here are fixed per level and outcome, so the tokens are certain too: each
    # future trial is priced at its outcome's length, not at its query's pilot mix
    assert doc["lengths"]["response_cv"] == 0 and doc["lengths"]["query_factor_sd"] == 0
    assert pool["tokens"]["low"] == pytest.approx(end["tokens"].sum(), rel=1e-9)
    assert pool["tokens"]["high"] == pytest.approx(end["tokens"].sum(), rel=1e-9)


def test_seeded(pilot_and_end):
    queries, _, _, recs, pilot, _, _ = pilot_and_end
    a = _forecast(queries, pilot, recs, draws=20)
    b = _forecast(queries, pilot, recs, draws=20)
    c = _forecast(queries, pilot, recs, draws=20, seed=2)
    assert a == b
    assert a["pool"]["trials"] != c["pool"]["trials"]


def test_budget_caps_the_forecast(pilot_and_end):
    queries, _, _, recs, pilot, _, _ = pilot_and_end
    limit = int(pilot["trials"].sum()) + 5000
    doc = _forecast(queries, pilot, recs, budget=Budget(max_trials=limit), draws=20)
    assert doc["pool"]["trials"]["high"] <= limit
    assert doc["pool"]["budget_reached_share"] == 1.0
    hours = pilot["gen_seconds"].sum() / 3600 * 1.5
    doc = _forecast(queries, pilot, recs, budget=Budget(max_engine_hours=hours), draws=20)
    assert doc["pool"]["engine_hours"]["high"] <= hours * 1.01


def test_pending_probe_is_completed_per_draw():
    # per-round max 4 < n_probe 8: after round 0 every Prop2Diff target is still pending;
    # each draw completes the probe and solves k_p with the recipe's own code
    queries, _, outcomes = population(200, seed=5)
    p2d = [recipe_from_config("p2d", {"recipe": "prop2diff", "size": 1500, "n_probe": 8})]
    kw = dict(cap=CAP, per_round_max=4, max_rounds=MAX_ROUNDS)
    tally = None
    for rnd in range(MAX_ROUNDS):
        plan, summary = plan_round(queries, tally, p2d, round=rnd, seed=0, shards=1, **kw)
        if summary["done"]:
            break
        qi = plan["query_id"].str.to_integer(base=16).to_numpy()
        verified = plan.with_columns(correct=pl.Series(outcomes[qi, plan["trial"].to_numpy()]))
        tally = update_tally(tally, verified, queries)
        if rnd == 0:
            pilot = tally
            assert pilot["trials"].max() == 4  # the probe is not finished: targets pending
    targets, _ = p2d[0].targets(tally, CAP, strict=False)
    kept = targets.join(tally, on="query_id").select(pl.min_horizontal("correct", "target"))
    real_rows = kept.to_series().sum()
    doc = forecast(queries, pilot, p2d, start_round=1, draws=10, seed=0, **kw)
    rows = doc["datasets"]["p2d"]["rows"]
    assert abs(rows["median"] - real_rows) <= 0.1 * real_rows, (rows, real_rows)
    assert (
        abs(doc["pool"]["trials"]["median"] - tally["trials"].sum()) <= 0.1 * tally["trials"].sum()
    )


def test_posterior_knows_never_solved_queries():
    # 300 queries never solved in 50 trials, 700 with p = 0.5: a fitted prior puts the
    # first group at (or next to) 0, where a Beta(2, 1) prior would say about 4%
    trials = np.full(1000, 50)
    correct = np.r_[np.zeros(300, dtype=int), np.random.default_rng(0).binomial(50, 0.5, 700)]
    rates = RatePosterior(trials, correct, np.zeros(1000, dtype=int)).sample(
        20, np.random.default_rng(0)
    )
    assert np.median(rates[:, :300]) < 0.005
    assert abs(np.median(rates[:, 300:]) - 0.5) < 0.05


def test_cli_writes_json_and_markdown(tmp_path, pilot_and_end):
    queries, _, _, recs, pilot, _, _ = pilot_and_end
    qpath, tpath = tmp_path / "q.parquet", tmp_path / "tally.parquet"
    queries.write_parquet(qpath)
    pilot.write_parquet(tpath)
    out, md = tmp_path / "estimate.json", tmp_path / "estimate.md"
    spec = json.dumps({r.name: r.config for r in recs})
    argv = ["estimate", "--queries", str(qpath), "--tally", str(tpath), "--recipes", spec,
            "--cap", str(CAP), "--per-round-max", str(PER_ROUND), "--max-rounds", str(MAX_ROUNDS),
            "--draws", "10", "--gpus", "2", "--budget", '{"max_trials": 100000}',
            "-o", str(out), "--markdown", str(md), "--name", "tiny"]  # fmt: skip
    assert dart_main(argv) == 0
    doc = json.loads(out.read_text())
    assert set(doc) >= {"pool", "datasets", "pilot", "settings"}
    for key in ("trials", "correct", "tokens", "rounds", "engine_hours", "gpu_hours"):
        assert set(doc["pool"][key]) == {"median", "low", "high"}
    assert doc["pool"]["gpu_hours"]["median"] == pytest.approx(
        2 * doc["pool"]["engine_hours"]["median"], rel=1e-3
    )
    assert set(doc["datasets"]["uniform"]["rows"]) == {"median", "low", "high"}
    assert "Cost forecast of pool tiny" in md.read_text()
    assert (tmp_path / "estimate.json.prov.json").exists() or any(tmp_path.glob("estimate.json*"))
    bad = [*argv[:-6], "--draws", "0", "-o", str(out), "--markdown", str(md)]
    with pytest.raises(SystemExit):
        dart_main(bad)


def _length_population(n_queries: int, trials: int, seed: int, query_sd: float, cv: float):
    """A pilot tally whose lengths have a known query spread and response spread; wrong
    responses 1.5x as long as right ones; pass rates spread over (0, 1)."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, n_queries)
    factor = rng.lognormal(-(query_sd**2) / 2, query_sd, n_queries)
    rows = []
    for q in range(n_queries):
        ok = rng.random(trials) < p[q]
        mean = 200 * factor[q] * np.where(ok, 1.0, 1.5)
        sigma = np.sqrt(np.log1p(cv**2))
        length = np.round(mean * rng.lognormal(-(sigma**2) / 2, sigma, trials)).astype(int)
        rows += [{"query_id": f"{q:05d}", "trial": t, "round": 0, "level": 1 + q % 2,
                  "correct": bool(ok[t]), "completion_tokens": int(length[t])}
                 for t in range(trials)]  # fmt: skip
    return update_tally(None, pl.DataFrame(rows)).with_columns(source=pl.lit("gen"))


def _model(tally: pl.DataFrame) -> LengthModel:
    state = tally.with_columns(pl.col("tokens").cast(pl.Int64))
    groups = state["level"].cast(pl.String).to_numpy()
    return LengthModel(_length_columns(state, tally), groups)


def test_length_model_recovers_its_spreads_and_outcome_means():
    model = _model(_length_population(1500, 12, seed=5, query_sd=0.3, cv=0.5))
    fit = model.describe()
    assert fit["by_outcome"] is True
    assert fit["response_cv"] == pytest.approx(0.5, abs=0.04)
    assert fit["query_factor_sd"] == pytest.approx(0.3, abs=0.05)
    assert fit["mean_tokens"]["wrong"] / fit["mean_tokens"]["right"] == pytest.approx(1.5, rel=0.05)
    flat = _model(_length_population(800, 12, seed=6, query_sd=0.0, cv=0.5)).describe()
    assert flat["query_factor_sd"] < 0.06  # no real query effect: (almost) full shrinkage


def test_new_tokens_follow_the_outcomes_of_the_new_trials():
    tally = _length_population(600, 12, seed=7, query_sd=0.2, cv=0.4)
    model = _model(tally)
    rng = np.random.default_rng(0)
    n = np.full((400, tally.height), 10)
    wrong = model.new_tokens(rng, n, np.zeros_like(n))
    right = model.new_tokens(rng, n, n)
    assert np.median(wrong) / np.median(right) == pytest.approx(1.5, rel=0.04)
    # the spread of a draw's total: single responses, query factors and group means
    assert 0.002 < np.std(wrong) / np.mean(wrong) < 0.05


def test_tally_without_outcome_split_still_forecasts(pilot_and_end):
    queries, _, _, recs, pilot, _, _ = pilot_and_end
    old = pilot.drop("tokens_correct", "tokens_sumsq", "tokens_sumsq_correct")
    doc = _forecast(queries, old, recs, draws=20)
    assert doc["lengths"]["by_outcome"] is False
    assert doc["pool"]["tokens"]["low"] < doc["pool"]["tokens"]["high"]


def test_no_right_response_anywhere_prices_with_wrong_lengths():
    rows = [{"query_id": f"{q}", "trial": t, "round": 0, "level": 1, "correct": False,
             "completion_tokens": 50 + t} for q in range(5) for t in range(4)]  # fmt: skip
    tally = update_tally(None, pl.DataFrame(rows)).with_columns(source=pl.lit("gen"))
    model = _model(tally)
    rng = np.random.default_rng(1)
    n = np.full((50, 5), 4)
    out = model.new_tokens(rng, n, n)
    assert np.isfinite(out).all() and np.median(out) == pytest.approx(20 * 51.5, rel=0.1)
