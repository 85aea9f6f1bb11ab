"""``dart plan``: write the plan of one sampling round (a Snakemake checkpoint).

    dart plan --queries data/queries/gsm8k.parquet data/queries/math.parquet \\
        --tally results/pool/smollm2/round0/tally.parquet \\
        --recipes '{"dart-uniform": {"recipe": "uniform", "k": 40}}' \\
        --round 1 --seed 0 --cap 2048 --per-round-max 1024 --shards 8 --max-rounds 12 \\
        -o results/pool/smollm2/round1/plan.parquet --summary results/pool/smollm2/round1/plan.json
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from dart.errors import DartError
from dart.inputs import load_json_arg, read_table
from dart.lineage.records import write_json_atomic, write_parquet_atomic, write_record
from dart.options import RANGES, above, at_least, finite
from dart.pool.planner import Budget, Prior, plan_round
from dart.queries.table import read_queries
from dart.recipes import Recipe, recipes_from_config

log = logging.getLogger(__name__)


def load_recipes(value: str) -> list[Recipe]:
    doc = load_json_arg(value, "recipes")
    if not isinstance(doc, dict) or not doc:
        raise DartError("recipes: expected a non-empty mapping of dataset name -> recipe config")
    return recipes_from_config(doc)


def load_budget(value: str | None, file: str | None = None) -> Budget:
    """A budget given inline or as a file ({max_trials, max_engine_hours}), or in ``file``
    when that exists (budget.json, absent when the pool has no budget); none: no limit."""
    if value is None and file is not None and Path(file).exists():
        value = file
    if value is None:
        return Budget()
    doc = load_json_arg(value, "budget")
    if not isinstance(doc, dict):
        raise DartError(f"budget: expected a mapping, got {type(doc).__name__}")
    return Budget.from_config(doc)


def add_budget_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--budget", help="JSON {max_trials, max_engine_hours}, inline or a file")
    g.add_argument("--budget-file", help="budget.json if it exists (absent: no limit)")


def add_prior_arguments(p: argparse.ArgumentParser) -> None:
    for name, default in Prior().as_dict().items():
        flag = f"--prior-{name}"
        kind = {"alpha": above(0), "beta": above(0), "growth": above(0),
                "first": at_least(1), "ramp": at_least(1)}.get(name, finite())  # fmt: skip
        p.add_argument(flag, type=kind, default=default,
                       help=f"planner setting {name} (default {default})")  # fmt: skip


def prior_from(args: argparse.Namespace) -> Prior:
    return Prior(**{k: getattr(args, f"prior_{k}") for k in Prior().as_dict()})


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--queries", nargs="+", required=True, help="queries parquet file(s)")
    p.add_argument("--tally", help="cumulative tally of the previous round (absent in round 0)")
    p.add_argument("--recipes", required=True, help="JSON {name: recipe config}, inline or a file")
    p.add_argument("--round", type=at_least(0), required=True)
    p.add_argument("--seed", type=RANGES["seed"], required=True)
    p.add_argument("--cap", type=RANGES["cap"], required=True, help="trial cap per query")
    p.add_argument("--per-round-max", type=at_least(1), required=True,
                   help="trials per query per round")  # fmt: skip
    p.add_argument("--shards", type=at_least(1), required=True)
    p.add_argument("--max-rounds", type=at_least(1), required=True)
    p.add_argument("--shard-min-trials", type=at_least(1), default=1,
                   help="fewer shards in a round so that each has at least this many trials")  # fmt: skip
    add_budget_arguments(p)
    add_prior_arguments(p)
    p.add_argument("-o", "--output", required=True, help="plan.parquet")
    p.add_argument("--summary", required=True, help="plan.json")


def run(args: argparse.Namespace) -> int:
    budget = load_budget(args.budget, args.budget_file)
    queries = read_queries(args.queries)
    tally = read_table(args.tally, (), "tally") if args.tally else None
    recipes = load_recipes(args.recipes)
    plan, summary = plan_round(
        queries, tally, recipes, round=args.round, seed=args.seed, cap=args.cap,
        per_round_max=args.per_round_max, shards=args.shards, max_rounds=args.max_rounds,
        prior=prior_from(args), budget=budget, shard_min_trials=args.shard_min_trials,
    )  # fmt: skip
    write_parquet_atomic(plan, args.output)
    write_json_atomic(summary, args.summary)
    inputs = [*args.queries, *([args.tally] if args.tally else [])]
    params = {**summary["settings"], "recipes": [r.describe() for r in recipes]}
    for path in (args.output, args.summary):
        write_record(path, step="plan", params=params, inputs=inputs, rows=plan.height,
                     seeds={"global": args.seed})  # fmt: skip
    log.info("round %d: %d trials for %d queries, done=%s, %d exhausted%s", args.round,
             plan.height, summary["queries"], summary["done"], len(summary["exhausted"]),
             ", budget reached" if summary["budget_reached"] else "")  # fmt: skip
    return 0
