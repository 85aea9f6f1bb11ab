"""Forecast accuracy at paper scale: the pilot round's forecast against the pool's real end.

The population and coin flips of ``bench_planner.py`` (14,973 queries, pass rates per
level, every query's outcomes drawn once up to the cap), plus a token length per trial
(per query a mean drawn per level, longer for harder levels and for wrong answers, each
trial's length lognormal around it) and a fixed engine rate of 2 ms per token. Round 0
runs through the real ``plan_round``/``update_tally``; ``forecast`` then predicts the
rest; the planner then runs to the end on the same coin flips, and the final totals are
compared with the forecast's 80% intervals and medians.

    .venv/bin/python bench/bench_estimate.py                 # full scale, all three recipes
    .venv/bin/python bench/bench_estimate.py --scale 0.1 --draws 100 --seeds 0 1 2
    .venv/bin/python bench/bench_estimate.py --scale 0.1 --coverage 40   # calibration
    .venv/bin/python bench/bench_estimate.py --embedded results --coverage 100

``--embedded RESULTS``: the embedded default's regime instead (40 queries in five levels,
cap 8, 8 trials per round, 4 rounds, its three recipes, pass rates Beta(0.3, 3.5)), each
response's length drawn from the real responses of a finished pool under RESULTS (right
and wrong apart): the small pilot and heavy tail (responses cut at the length limit) of a
real model, on many seeds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))

from bench_planner import PAPER_ROWS, make_recipes, population  # noqa: E402

from dart.pool.estimate import forecast  # noqa: E402
from dart.pool.planner import Budget, Prior, plan_round  # noqa: E402
from dart.pool.tally import update_tally  # noqa: E402

SECONDS_PER_TOKEN = 0.002
MEAN_TOKENS = {None: 180.0, 1: 250.0, 2: 320.0, 3: 400.0, 4: 480.0, 5: 560.0}


def token_table(queries: pl.DataFrame, cap: int, seed: int) -> np.ndarray:
    """(queries x cap) response lengths: a per-query mean, wrong answers 1.4x longer."""
    rng = np.random.default_rng(seed + 1000)
    base = np.array([MEAN_TOKENS[lv] for lv in queries["level"].to_list()])
    per_query = base * rng.lognormal(0.0, 0.3, size=base.size)
    return per_query[:, None] * rng.lognormal(0.0, 0.5, size=(base.size, cap))


def embedded_population(results: str, seed: int):
    """(queries, outcomes, tokens, recipes) of the embedded default's regime; lengths
    resampled from the real responses of ``results/pool/*/round*/verified``."""
    import glob

    from dart.inputs import read_tables
    from dart.recipes import recipe_from_config

    files = sorted(glob.glob(f"{results}/pool/*/round*/verified/shard*.parquet"))
    if not files:
        raise SystemExit(f"no verified shards under {results}/pool: run `make run` first")
    real = read_tables(files, ("correct", "completion_tokens"), "verified shard")
    right = real.filter(pl.col("correct"))["completion_tokens"].to_numpy()
    wrong = real.filter(~pl.col("correct"))["completion_tokens"].to_numpy()
    rng = np.random.default_rng(seed)
    levels = np.repeat([1, 2, 3, 4, 5], 8)
    queries = pl.DataFrame({
        "query_id": [f"{i:016x}" for i in range(40)], "source": ["generated"] * 40,
        "query": [f"q{i}" for i in range(40)], "gold": ["1"] * 40,
        "level": pl.Series(levels, dtype=pl.Int64),
    })  # fmt: skip
    p = rng.beta(0.3, 3.5, 40)
    outcomes = rng.random((40, 8)) < p[:, None]
    # run() makes wrong responses 1.4x longer: undo that for lengths drawn as they are
    tokens = np.where(outcomes, rng.choice(right, (40, 8)), rng.choice(wrong, (40, 8)) / 1.4)
    recipes = [
        recipe_from_config(
            "prop2diff", {"recipe": "prop2diff", "k_p": 4.0, "n_probe": 4, "min": 1}
        ),
        recipe_from_config("uniform", {"recipe": "uniform", "k": 2}),
        recipe_from_config("vrt", {"recipe": "vrt", "trials": 4}),
    ]
    return queries, outcomes, tokens, recipes


def run(queries, outcomes, tokens, recipes, *, cap, per_round_max, max_rounds, prior, budget,
        draws, seed, rates=None):  # fmt: skip
    index = {q: i for i, q in enumerate(queries["query_id"])}
    tally, forecast_doc, secs, rounds = None, None, 0.0, 0
    for rnd in range(max_rounds + 1):
        if rnd == 1:
            t0, c0 = time.perf_counter(), time.process_time()
            forecast_doc = forecast(
                queries, tally, recipes, cap=cap, per_round_max=per_round_max,
                max_rounds=max_rounds, start_round=1, prior=prior, budget=budget,
                draws=draws, seed=seed, rates=rates,
            )  # fmt: skip
            secs = (time.perf_counter() - t0, time.process_time() - c0)
        plan, summary = plan_round(
            queries, tally, recipes, round=rnd, seed=0, cap=cap, per_round_max=per_round_max,
            shards=8, max_rounds=max_rounds, prior=prior, budget=budget,
        )  # fmt: skip
        if summary["done"]:
            break
        rounds += 1
        qi = np.fromiter((index[q] for q in plan["query_id"]), dtype=np.int64, count=plan.height)
        ti = plan["trial"].to_numpy()
        ok = outcomes[qi, ti]
        length = np.round(tokens[qi, ti] * np.where(ok, 1.0, 1.4)).astype(np.int64)
        verified = plan.with_columns(
            correct=pl.Series(ok),
            completion_tokens=pl.Series(length),
            gen_seconds=pl.Series(length * SECONDS_PER_TOKEN),
        )
        tally = update_tally(tally, verified, queries)
    actual = {
        "trials": int(tally["trials"].sum()),
        "correct": int(tally["correct"].sum()),
        "tokens": int(tally["tokens"].sum()),
        "rounds": rounds,
        "engine_hours": float(tally["gen_seconds"].sum()) / 3600,
    }
    per_level = tally.group_by(pl.col("level").cast(pl.String).fill_null("none")).agg(
        pl.col("trials").sum()
    )
    actual_levels = dict(zip(per_level["level"], per_level["trials"], strict=True))
    return forecast_doc, actual, secs, actual_levels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--cap", type=int, default=2048)
    ap.add_argument("--per-round-max", type=int, default=1024)
    ap.add_argument("--max-rounds", type=int, default=12)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--recipes", nargs="+", default=["vrt", "uniform", "prop2diff"])
    ap.add_argument("--coverage", type=int, default=0,
                    help="run this many seeds from the first of --seeds; print how often "
                    "the real end falls inside the 80%% intervals")  # fmt: skip
    ap.add_argument("--embedded", metavar="RESULTS",
                    help="the embedded default's regime, lengths from RESULTS' real responses")  # fmt: skip
    ap.add_argument("--max-trials", type=int, default=None, help="a budget (trials)")
    ap.add_argument("--oracle", action="store_true",
                    help="forecast with the true pass rates (only outcomes random)")  # fmt: skip
    args = ap.parse_args()
    budget = Budget(args.max_trials, None)
    seeds = (
        list(range(args.seeds[0], args.seeds[0] + args.coverage)) if args.coverage else args.seeds
    )
    cover: dict[str, list[str]] = {}
    offs: dict[str, list[float]] = {}
    for seed in seeds:
        if args.embedded:
            queries, outcomes, tokens, recipes = embedded_population(args.embedded, seed)
            cap, per_round_max, max_rounds = 8, 8, 4
        else:
            queries, outcomes = population(args.scale, args.cap, seed)
            tokens = token_table(queries, args.cap, seed)
            recipes = make_recipes(args.recipes, round(PAPER_ROWS["prop2diff"] * args.scale))
            cap, per_round_max, max_rounds = args.cap, args.per_round_max, args.max_rounds
        doc, actual, secs, levels = run(
            queries, outcomes, tokens, recipes, cap=cap, per_round_max=per_round_max,
            max_rounds=max_rounds, prior=Prior(), budget=budget, draws=args.draws, seed=seed,
            rates=outcomes.mean(axis=1) if args.oracle else None,
        )  # fmt: skip
        print(f"seed {seed}: {queries.height} queries, recipes {[r.name for r in recipes]}, "
              f"{args.draws} draws, forecast {secs[0]:.1f} s wall, {secs[1]:.1f} s CPU")  # fmt: skip
        for key, real in actual.items():
            f = doc["pool"][key]
            inside = f["low"] <= real <= f["high"]
            err = (f["median"] - real) / real if real else 0.0
            side = "inside" if inside else ("below" if real < f["low"] else "above")
            cover.setdefault(key, []).append(side)
            offs.setdefault(key, []).append(err)
            print(f"  {key:13s} real {real:>14,.2f}  median {f['median']:>14,.2f} "
                  f"[{f['low']:,.2f} - {f['high']:,.2f}]  {'inside' if inside else 'OUTSIDE'}  "
                  f"median off {err:+.1%}")  # fmt: skip
        print("  trials per level (real / median): " + ", ".join(
            f"{k} {levels.get(k, 0):,d} / {v['trials']['median']:,.0f}"
            for k, v in doc["pool"]["per_level"].items()))  # fmt: skip
    if len(seeds) > 1:
        print(f"coverage over {len(seeds)} seeds (80% intervals; real below low / above high):")
        for key, sides in cover.items():
            off = np.array(offs[key])
            print(f"  {key:13s} inside {sides.count('inside'):3d}/{len(sides)}  "
                  f"below {sides.count('below'):3d}  above {sides.count('above'):3d}  "
                  f"median off: mean {off.mean():+.2%}, max |off| {np.abs(off).max():.2%}")  # fmt: skip


if __name__ == "__main__":
    main()
