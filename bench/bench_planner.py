"""Planner simulation at paper scale: our round planner beside the reference's batching.

15,000 queries (GSM8K 7,473 + MATH levels 1-5), pass rates drawn per level from Beta
distributions (with a share of never-solved queries) chosen so that the per-level mean
correct per query of Prop2Diff and the VRT / Uniform totals land near the paper's
(DESIGN.md section 2). Each query's trial outcomes are drawn once, up to the cap, so every
strategy sees the same coin flips. Our planner runs through the real ``plan_round`` and
``update_tally``; the reference cycles one trial per unfinished query until a batch of
16,384 is full, then checks. Both stop at correct >= target (not the reference's ``>``).

    .venv/bin/python bench/bench_planner.py            # full scale, ~2-4 minutes
    .venv/bin/python bench/bench_planner.py --scale 0.1 --per-round-max 1024
"""

from __future__ import annotations

import argparse
import hashlib
import time

import numpy as np
import polars as pl

from dart.engines.simulated import PAPER_CALIBRATION, PAPER_QUERIES
from dart.pool.planner import Prior, plan_round, recipe_needs
from dart.pool.tally import update_tally
from dart.recipes import Recipe, recipe_from_config

# group -> (queries, mean pass rate, Beta concentration, share never solved): the one copy
# of the calibration lives in dart.engines.simulated (the simulated engine's default).
POPULATION = {
    ("gsm8k" if key == "none" else f"L{key}"): (PAPER_QUERIES[key], *PAPER_CALIBRATION[key])
    for key in ("none", "1", "2", "3", "4", "5")
}
PAPER_P2D_MEAN = {"gsm8k": 8.5, "L1": 14.3, "L2": 33.5, "L3": 54.9, "L4": 79.6, "L5": 107.1}
PAPER_ROWS = {"vrt": 590_601, "uniform": 590_705, "prop2diff": 585_392}
BATCH = 16_384


def population(scale: float, cap: int, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    """Queries frame and the (queries x cap) outcome matrix."""
    rng = np.random.default_rng(seed)
    rows, rates = [], []
    for group, (n, mean, conc, zero) in POPULATION.items():
        n = max(1, round(n * scale))
        p = rng.beta(mean * conc, (1 - mean) * conc, size=n)
        p[rng.random(n) < zero] = 0.0
        rates.append(p)
        level = None if group == "gsm8k" else int(group[1])
        source = "gsm8k" if group == "gsm8k" else "math"
        for i in range(n):
            qid = hashlib.sha256(f"{group}:{i}".encode()).hexdigest()[:16]
            rows.append((qid, source, f"q{group}{i}", "0", level, group))
    queries = pl.DataFrame(
        rows,
        schema={
            "query_id": pl.String,
            "source": pl.String,
            "query": pl.String,
            "gold": pl.String,
            "level": pl.Int64,
            "group": pl.String,
        },
        orient="row",
    ).with_columns(pl.col("level").cast(pl.Int64))
    p = np.concatenate(rates)
    outcomes = rng.random((len(p), cap)) < p[:, None]
    return queries, outcomes


def outcome_strings(outcomes: np.ndarray) -> list[str]:
    chars = np.where(outcomes, ord("1"), ord("0")).astype(np.uint8)
    return [row.tobytes().decode() for row in chars]


def tally_from_counts(queries: pl.DataFrame, full: pl.Series, trials: np.ndarray) -> pl.DataFrame:
    """A tally frame for given trial counts (what update_tally would build), for the reference."""
    t = queries.select("query_id", "level", "source").with_columns(
        trials=pl.Series(trials, dtype=pl.Int64), outcomes=full
    )
    t = t.with_columns(outcomes=pl.col("outcomes").str.slice(0, pl.col("trials")))
    return t.with_columns(correct=pl.col("outcomes").str.count_matches("1").cast(pl.Int64))


def simulate_planner(queries, outcomes, recipes, *, cap, per_round_max, max_rounds, prior):
    """Run plan_round/update_tally until done; return (rounds, trials per query, summaries)."""
    tally, index = None, {q: i for i, q in enumerate(queries["query_id"])}
    summaries = []
    for rnd in range(max_rounds + 1):
        plan, summary = plan_round(
            queries, tally, recipes, round=rnd, seed=0, cap=cap,
            per_round_max=per_round_max, shards=8, max_rounds=max_rounds, prior=prior,
        )  # fmt: skip
        summaries.append(summary)
        if summary["done"]:
            break
        qi = np.fromiter((index[q] for q in plan["query_id"]), dtype=np.int64, count=plan.height)
        verified = plan.with_columns(correct=pl.Series(outcomes[qi, plan["trial"].to_numpy()]))
        tally = update_tally(tally, verified, queries)
    trials = np.zeros(queries.height, dtype=np.int64)
    if tally is not None:
        trials[[index[q] for q in tally["query_id"]]] = tally["trials"].to_numpy()
    return len(summaries) - 1, trials, summaries


def simulate_reference(queries, outcomes, recipes, *, cap, full):
    """Cycle one trial per unfinished query until a batch of BATCH is full, then check."""
    n = queries.height
    trials, pointer, batches = np.zeros(n, dtype=np.int64), 0, 0
    while True:
        needs, _ = recipe_needs(tally_from_counts(queries, full, trials), recipes, cap)
        open_ids = set(needs.filter(pl.col("unmet") & ~pl.col("capped"))["query_id"])
        unfinished = np.flatnonzero(queries["query_id"].is_in(list(open_ids)).to_numpy())
        if unfinished.size == 0:
            return batches, trials
        u = unfinished.size
        extra = np.full(u, BATCH // u, dtype=np.int64)
        start = pointer % u
        extra[(np.arange(u) - start) % u < BATCH % u] += 1
        pointer = start + BATCH % u
        trials[unfinished] = np.minimum(trials[unfinished] + extra, cap)
        batches += 1


def minimal_trials(outcomes, recipes, summaries_kp, cap):
    """Per query, the fewest trials that meet every recipe's target (oracle, same coins)."""
    cum = np.cumsum(outcomes, axis=1, dtype=np.int32)
    need = np.zeros(outcomes.shape[0], dtype=np.int64)
    for recipe in recipes:
        if recipe.mode == "trials":
            need = np.maximum(need, min(recipe.trials, cap))
            continue
        if recipe.mode == "fixed":
            target = np.full(outcomes.shape[0], recipe.k)
            floor = 0
        else:
            floor = min(recipe.n_probe, cap)
            fail = 1 - cum[:, floor - 1] / floor
            k_p = recipe.k_p or summaries_kp[recipe.name]
            target = np.maximum(recipe.min_target, np.ceil(k_p * fail - 1e-9)).astype(np.int64)
        reached = cum >= target[:, None]
        first = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, cap)
        need = np.maximum(need, np.maximum(first, floor))
    return need


def make_recipes(kinds, size):
    cfg = {
        "vrt": {"recipe": "vrt", "trials": 52},
        "uniform": {"recipe": "uniform", "k": 40},
        "prop2diff": {"recipe": "prop2diff", "size": size, "n_probe": 8},
    }
    return [recipe_from_config(k, cfg[k]) for k in kinds]


def dataset_rows(queries, outcomes, recipe: Recipe, trials, k_p, cap):
    """Rows each recipe would keep (per group), given the trials each query got."""
    cum = np.cumsum(outcomes, axis=1, dtype=np.int32)
    idx = np.maximum(trials - 1, 0)
    have = np.where(trials > 0, cum[np.arange(len(trials)), idx], 0)
    if recipe.mode == "trials":
        return cum[:, min(recipe.trials, cap) - 1]
    if recipe.mode == "fixed":
        return np.minimum(have, recipe.k)
    probe = min(recipe.n_probe, cap)
    fail = 1 - cum[:, probe - 1] / probe
    target = np.maximum(recipe.min_target, np.ceil(k_p * fail - 1e-9))
    return np.minimum(have, target)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--cap", type=int, default=2048)
    ap.add_argument("--per-round-max", type=int, default=1024)
    ap.add_argument("--max-rounds", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--alpha", type=float, default=Prior.alpha)
    ap.add_argument("--beta", type=float, default=Prior.beta)
    ap.add_argument("--optimism", type=float, default=Prior.optimism)
    ap.add_argument("--late", type=float, default=Prior.late)
    ap.add_argument("--growth", type=float, default=Prior.growth)
    ap.add_argument("--first", type=int, default=Prior.first)
    ap.add_argument("--ramp", type=int, default=Prior.ramp)
    ap.add_argument("--sure", type=float, default=Prior.sure)
    ap.add_argument("--runs", nargs="+", default=["shared", "vrt", "uniform", "prop2diff"],
                    help="which runs (shared = all three recipes in one pool)")  # fmt: skip
    ap.add_argument("--per-round", action="store_true", help="print each round's trials")
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args()
    prior = Prior(
        args.alpha,
        args.beta,
        args.optimism,
        args.late,
        args.growth,
        args.first,
        args.ramp,
        args.sure,
    )
    queries, outcomes = population(args.scale, args.cap, args.seed)
    full = pl.Series(outcome_strings(outcomes), dtype=pl.String)
    size = round(PAPER_ROWS["prop2diff"] * args.scale)
    print(f"queries {queries.height}, cap {args.cap}, per-round-max {args.per_round_max}, {prior}")
    print(f"mean pass rate {outcomes[:, :52].mean():.3f}")
    kw = {"cap": args.cap, "per_round_max": args.per_round_max, "max_rounds": args.max_rounds}
    runs = {"shared": ["vrt", "uniform", "prop2diff"], "vrt": ["vrt"], "uniform": ["uniform"],
            "prop2diff": ["prop2diff"]}  # fmt: skip
    results = {}
    for name, kinds in runs.items():
        if name not in args.runs:
            continue
        recipes = make_recipes(kinds, size)
        t0 = time.perf_counter()
        rounds, trials, sums = simulate_planner(queries, outcomes, recipes, prior=prior, **kw)
        k_p = {r: v["k_p_solved"] for r, v in sums[-1]["recipes"].items() if v["k_p_solved"]}
        oracle = minimal_trials(outcomes, recipes, k_p, args.cap)
        ref = (None, None)
        if not args.skip_reference and name != "shared":
            ref = simulate_reference(queries, outcomes, recipes, cap=args.cap, full=full)
        results[name] = dict(rounds=rounds, trials=int(trials.sum()), oracle=int(oracle.sum()),
                             ref_batches=ref[0], ref_trials=None if ref[1] is None else int(ref[1].sum()),
                             k_p=k_p, exhausted=len(sums[-1]["exhausted"]), limit=sums[-1]["round_limit_reached"],
                             secs=time.perf_counter() - t0, per_query=trials)  # fmt: skip
        r = results[name]
        line = (f"{name:10s} ours: {r['rounds']:2d} rounds {r['trials']:>10,d} trials "
                f"(+{r['trials'] - r['oracle']:,d} beyond targets)")  # fmt: skip
        if r["ref_trials"] is not None:
            line += (f" | reference: {r['ref_batches']:3d} batches {r['ref_trials']:>10,d} trials "
                     f"(+{r['ref_trials'] - r['oracle']:,d}) | ratio {r['trials'] / r['ref_trials']:.3f}")  # fmt: skip
        print(
            line
            + f" | k_p {k_p or '-'} | exhausted {r['exhausted']}{' (round limit)' if r['limit'] else ''} | {r['secs']:.0f}s"
        )
        if args.per_round:
            print("   per round (trials/queries): " + ", ".join(
                f"{s['trials']:,d}/{s['queries']:,d}" for s in sums))  # fmt: skip
    if set(runs) - set(args.runs):
        return
    separate = sum(results[k]["trials"] for k in ("vrt", "uniform", "prop2diff"))
    print(f"shared pool {results['shared']['trials']:,d} vs three separate runs {separate:,d}: "
          f"{results['shared']['trials'] / separate:.3f}x")  # fmt: skip
    if not args.skip_reference:
        ref_sep = sum(results[k]["ref_trials"] for k in ("vrt", "uniform", "prop2diff"))
        print(f"  (three separate reference runs: {ref_sep:,d} trials, "
              f"shared/ref-separate {results['shared']['trials'] / ref_sep:.3f}x)")  # fmt: skip
    shared = results["shared"]
    groups = queries["group"].to_numpy()
    print("dataset rows from the shared pool (paper) and Prop2Diff mean correct per query:")
    for recipe in make_recipes(["vrt", "uniform", "prop2diff"], size):
        kept = dataset_rows(queries, outcomes, recipe, shared["per_query"],
                            shared["k_p"].get(recipe.name), args.cap)  # fmt: skip
        line = f"  {recipe.name:10s} {int(kept.sum()):>9,d} ({round(PAPER_ROWS[recipe.name] * args.scale):,d})"
        if recipe.mode == "prop_fail":
            line += "  " + "  ".join(
                f"{g} {kept[groups == g].mean():.1f} ({PAPER_P2D_MEAN[g]})" for g in POPULATION
            )
        print(line)


if __name__ == "__main__":
    main()
