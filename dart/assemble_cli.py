"""``dart assemble``: cut one dataset from a pool with a recipe; card, stats and plots.

    dart assemble --queries data/queries/gsm8k.parquet data/queries/math.parquet \\
        --verified results/pool/smollm2/round*/verified/shard*.parquet \\
        --recipe-json '{"recipe": "prop2diff", "size": 585392, "n_probe": 8}' \\
        --name dart-prop2diff --cap 2048 -o results/datasets/dart-prop2diff.parquet \\
        --card results/datasets/dart-prop2diff/README.md \\
        --stats results/datasets/dart-prop2diff/stats.json --plots results/datasets/dart-prop2diff
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from dart.assemble import assemble
from dart.pool.plan_cli import load_json_arg, read_queries
from dart.provenance import write_json_atomic, write_parquet_atomic, write_record, write_text_atomic
from dart.recipes import recipe_from_config
from dart.reports.card import dataset_card
from dart.reports.plots import plot_all

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--queries", nargs="+", required=True, help="queries parquet file(s)")
    p.add_argument("--verified", nargs="+", required=True, help="all verified shards of the pool")
    p.add_argument("--recipe-json", required=True, help="the dataset's recipe config (JSON)")
    p.add_argument("--name", required=True, help="dataset name")
    p.add_argument("--cap", type=int, help="the pool's trial cap (to flag capped queries)")
    p.add_argument("-o", "--output", required=True, help="results/datasets/NAME.parquet")
    p.add_argument("--card", required=True, help="dataset card README.md")
    p.add_argument("--stats", required=True, help="stats JSON")
    p.add_argument("--plots", required=True, help="folder for the PNG plots")


def run(args: argparse.Namespace) -> int:
    recipe = recipe_from_config(args.name, load_json_arg(args.recipe_json, "recipe"))
    queries = read_queries(args.queries)
    dataset, stats = assemble(args.verified, queries, recipe, cap=args.cap)
    write_parquet_atomic(dataset, args.output)
    write_json_atomic(stats, args.stats)
    versions = {c: sorted(dataset[c].drop_nulls().unique().to_list())
                for c in ("template_version", "grader_version", "model")}  # fmt: skip
    lineage = {"pool_files": len(args.verified), "queries": list(args.queries), **versions,
               "seeds": "per trial: dart.pool.ids.trial_seed(seed, query_id, trial)"}  # fmt: skip
    data_file = os.path.relpath(args.output, Path(args.card).parent)
    write_text_atomic(
        dataset_card(args.name, stats, data_file=data_file, lineage=lineage), args.card
    )
    pngs = plot_all({args.name: stats}, args.plots)
    params = {"recipe": recipe.describe(), "cap": args.cap, "k_p": stats["k_p"]}
    inputs = [*args.queries, *args.verified]
    write_record(args.output, step="assemble", params=params, inputs=inputs, rows=dataset.height,
                 extra={"versions": versions})  # fmt: skip
    for path in (args.stats, args.card, *pngs):
        write_record(path, step="assemble", params=params, inputs=[args.output])
    log.info("%s: %d rows from %d queries (k_p=%s)", args.name, dataset.height,
             stats["queries_with_rows"], stats["k_p"])  # fmt: skip
    return 0
