"""``dart pool``: summarise a finished pool: its rounds, trials, and exhausted queries.

    dart pool --plans results/pool/s/round0/plan.json results/pool/s/round1/plan.json \\
        --tally results/pool/s/round1/tally.parquet -o results/pool/s/pool.json \\
        --contamination data/decontam/gsm8k.parquet data/decontam/math.parquet

With ``--contamination`` (``dart decontam`` outputs), pool.json also counts, per
benchmark, the pool's queries that overlap it (the datasets decide whether to drop them).
"""

from __future__ import annotations

import argparse
import logging

import polars as pl

from dart.decontam.overlap import counts_by_benchmark, read_contamination
from dart.inputs import load_json_arg, read_table
from dart.lineage.records import is_simulated, write_json_atomic, write_record

log = logging.getLogger(__name__)


def pool_status(last: dict) -> str:
    """How the pool ended: ``complete``, ``budget reached`` or ``round limit reached``
    (``unfinished`` while its last plan still asked for trials)."""
    if not last.get("done"):
        return "unfinished"
    if last.get("budget_reached"):
        return "budget reached"
    if last.get("round_limit_reached"):
        return "round limit reached"
    return "complete"


def summarise(plans: list[dict], tally: pl.DataFrame) -> dict:
    last = plans[-1]
    return {
        "status": pool_status(last),
        "rounds": [{k: p.get(k) for k in ("round", "trials", "queries", "done")} for p in plans],
        "trials": int(tally["trials"].sum()) if tally.height else 0,
        "correct": int(tally["correct"].sum()) if tally.height else 0,
        "tokens": int(tally["tokens"].sum()) if "tokens" in tally.columns and tally.height else 0,
        "queries": tally.height,
        "complete": bool(last.get("done")),
        "exhausted": last.get("exhausted", []),
        "budget_reached": bool(last.get("budget_reached")),
        "budget": last.get("budget", {}),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plans", nargs="+", required=True, help="every round's plan.json, in order"
    )
    parser.add_argument("--tally", required=True, help="the last round's tally.parquet")
    parser.add_argument("-o", "--output", required=True, help="pool.json")
    parser.add_argument(
        "--contamination", nargs="*", default=[], help="dart decontam outputs of the pool's queries"
    )


def contamination_summary(paths: list[str], tally: pl.DataFrame) -> dict:
    """Per benchmark: the pool's queries (those in the tally) flagged by decontamination."""
    flagged = read_contamination(paths)
    benchmarks = sorted(set(flagged["benchmark"].to_list()))
    if "query_id" in tally.columns:
        ids = tally.select(pl.col("query_id").cast(pl.String))
        flagged = flagged.join(ids, on="query_id", how="semi")
    return {
        "files": list(paths),
        "flagged_queries": flagged["query_id"].n_unique(),
        "per_benchmark": counts_by_benchmark(flagged, benchmarks),
    }


def run(args: argparse.Namespace) -> int:
    plans = [load_json_arg(str(p), "plan summary") for p in args.plans]
    tally = read_table(args.tally, (), "tally")
    summary = summarise(plans, tally)
    if args.contamination:
        summary["contamination"] = contamination_summary(args.contamination, tally)
    if is_simulated(args.tally):  # its rounds' responses came from the simulated engine
        summary["simulated"] = True
    write_json_atomic(summary, args.output)
    inputs = [*args.plans, args.tally, *args.contamination]
    write_record(args.output, step="pool", inputs=inputs, rows=summary["trials"])
    log.info(
        "pool: %d rounds, %d trials, %d correct, %d queries exhausted",
        len(plans),
        summary["trials"],
        summary["correct"],
        len(summary["exhausted"]),
    )
    return 0
