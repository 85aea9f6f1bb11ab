"""``dart estimate``: forecast a pool's cost from its first round(s) (see dart.pool.estimate).

    dart estimate --queries data/queries/gsm8k.parquet data/queries/math.parquet \\
        --tally results/pool/smollm2/round0/tally.parquet \\
        --recipes '{"uniform": {"recipe": "uniform", "k": 40}}' \\
        --cap 2048 --per-round-max 1024 --max-rounds 12 --budget-file results/pool/smollm2/budget.json \\
        --draws 200 --seed 0 --gpus 1 \\
        -o results/pool/smollm2/estimate.json --markdown results/pool/smollm2/estimate.md

The forecast starts after the last round the tally holds (its ``last_round``).
"""

from __future__ import annotations

import argparse
import logging
import time

from dart.inputs import read_table
from dart.lineage.records import write_json_atomic, write_record, write_text_atomic
from dart.options import at_least
from dart.pool.estimate import forecast, markdown
from dart.pool.plan_cli import (
    add_budget_arguments,
    add_prior_arguments,
    load_budget,
    load_recipes,
    prior_from,
)
from dart.queries.table import read_queries

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--queries", nargs="+", required=True, help="queries parquet file(s)")
    p.add_argument("--tally", required=True, help="the tally after the pilot round(s)")
    p.add_argument("--recipes", required=True, help="JSON {name: recipe config}, inline or a file")
    p.add_argument("--cap", type=at_least(1, "--cap"), required=True, help="trial cap per query")
    p.add_argument("--per-round-max", type=at_least(1, "--per-round-max"), required=True,
                   help="trials per query per round")  # fmt: skip
    p.add_argument("--max-rounds", type=at_least(1, "--max-rounds"), required=True)
    add_budget_arguments(p)
    p.add_argument("--draws", type=at_least(1, "--draws"), default=200,
                   help="simulated futures (default 200)")  # fmt: skip
    p.add_argument("--seed", type=at_least(0, "--seed"), default=0)
    p.add_argument("--gpus", type=at_least(0, "--gpus"), default=0,
                   help="GPUs a generation job holds (GPU hours = engine hours x gpus)")  # fmt: skip
    add_prior_arguments(p)
    p.add_argument("-o", "--output", required=True, help="estimate.json")
    p.add_argument("--markdown", required=True, help="estimate.md")
    p.add_argument("--name", default="pool", help="the pool's name (for estimate.md)")


def run(args: argparse.Namespace) -> int:
    budget = load_budget(args.budget, args.budget_file)
    queries = read_queries(args.queries)
    tally = read_table(args.tally, ("query_id", "trials", "correct", "outcomes"), "tally")
    recipes = load_recipes(args.recipes)
    start = int(tally["last_round"].max()) + 1 if tally.height else 0
    t0 = time.perf_counter()
    doc = forecast(
        queries, tally, recipes, cap=args.cap, per_round_max=args.per_round_max,
        max_rounds=args.max_rounds, start_round=start, prior=prior_from(args),
        budget=budget, draws=args.draws, seed=args.seed, gpus=args.gpus,
    )  # fmt: skip
    doc["settings"]["seconds"] = round(time.perf_counter() - t0, 2)
    write_json_atomic(doc, args.output)
    write_text_atomic(markdown(doc, args.name), args.markdown)
    params = {**doc["settings"], "recipes": [r.describe() for r in recipes]}
    inputs = [*args.queries, args.tally]
    for path in (args.output, args.markdown):
        write_record(path, step="estimate", params=params, inputs=inputs,
                     seeds={"global": args.seed})  # fmt: skip
    pool = doc["pool"]
    log.info("forecast from round %d: trials %.0f (%.0f-%.0f), rounds %.0f, %.1f s", start,
             pool["trials"]["median"], pool["trials"]["low"], pool["trials"]["high"],
             pool["rounds"]["median"], doc["settings"]["seconds"])  # fmt: skip
    return 0
