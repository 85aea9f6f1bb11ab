"""``dart assemble``: cut one dataset from a pool with a recipe; card, stats and plots.

    dart assemble --queries data/queries/gsm8k.parquet data/queries/math.parquet \\
        --verified results/pool/smollm2/round*/verified/shard*.parquet \\
        --recipe-json '{"recipe": "prop2diff", "size": 585392, "n_probe": 8}' \\
        --name dart-prop2diff --cap 2048 -o results/datasets/dart-prop2diff.parquet \\
        --card results/datasets/dart-prop2diff/README.md \\
        --stats results/datasets/dart-prop2diff/stats.json --plots results/datasets/dart-prop2diff \\
        --contamination data/decontam/math.parquet data/decontam/gsm8k.parquet --decontaminate

``--contamination`` takes ``dart decontam`` outputs: flagged queries are dropped before
selection (``--no-decontaminate``: kept), counted by benchmark in the stats and the card.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
from pathlib import Path

from dart.datasets.assemble import assemble
from dart.datasets.card import dataset_card
from dart.datasets.plots import plot_all
from dart.decontam.overlap import read_contamination
from dart.inputs import load_json_arg, table_columns
from dart.lineage.records import (
    is_simulated,
    read_record,
    record_path,
    write_json_atomic,
    write_parquet_atomic,
    write_record,
    write_text_atomic,
)
from dart.options import RANGES
from dart.queries.table import read_queries
from dart.recipes import recipe_from_config

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--queries", nargs="+", required=True, help="queries parquet file(s)")
    p.add_argument("--verified", nargs="+", required=True, help="all verified shards of the pool")
    p.add_argument("--recipe-json", required=True, help="the dataset's recipe config (JSON)")
    p.add_argument("--name", required=True, help="dataset name")
    p.add_argument(
        "--cap", type=RANGES["cap"], help="the pool's trial cap (to flag capped queries)"
    )
    p.add_argument(
        "--pool-summary", help="the pool's pool.json (says whether its budget stopped it)"
    )
    p.add_argument("-o", "--output", required=True, help="results/datasets/NAME.parquet")
    p.add_argument("--card", required=True, help="dataset card README.md")
    p.add_argument("--stats", required=True, help="stats JSON")
    p.add_argument("--plots", required=True, help="folder for the PNG plots")
    p.add_argument("--contamination", nargs="*", default=[],
                   help="dart decontam outputs (data/decontam/S.parquet) of the pool's queries")  # fmt: skip
    p.add_argument("--decontaminate", action=argparse.BooleanOptionalAction, default=True,
                   help="drop the flagged queries (default) or keep them, counted")  # fmt: skip
    p.add_argument("--license", default="unknown", help="license id for the card's metadata")
    p.add_argument("--description", default="", help="free text for the dataset card")


def query_sources(paths: list[str]) -> list[str]:
    """What each queries file was read from (its record's hub id or file), for the card."""
    out = []
    for path in paths:
        params = (read_record(path) or {}).get("params", {})
        source, fmt = params.get("source"), params.get("format")
        if fmt == "generated":
            out.append(f"generated (seed {source})")
        elif source:
            out.append(str(source) if not os.path.exists(source) else Path(source).name)
        else:
            out.append(Path(path).stem)
    return out


def pool_folder(verified: list[str]) -> str:
    """results/pool/{synth} from its round*/verified/shard*.parquet files."""
    common = Path(os.path.commonpath([os.path.abspath(p) for p in verified]))
    while common.name.startswith("round") or common.name in ("verified",):
        common = common.parent
    rel = os.path.relpath(common)
    return str(common) if rel.startswith("..") else rel


def contamination_ngram(paths: list[str]) -> int | None:
    grams = {(read_record(p) or {}).get("params", {}).get("ngram") for p in paths}
    return grams.pop() if len(grams) == 1 else None


def run(args: argparse.Namespace) -> int:
    recipe = recipe_from_config(args.name, load_json_arg(args.recipe_json, "recipe"))
    queries = read_queries(args.queries)
    for path in args.verified:
        table_columns(path, "verified shard")
    flagged = read_contamination(args.contamination) if args.contamination else None
    pool_summary = load_json_arg(args.pool_summary, "pool summary") if args.pool_summary else None
    dataset, stats = assemble(args.verified, queries, recipe, cap=args.cap,
                              contamination=flagged, decontaminate=args.decontaminate,
                              pool_summary=pool_summary)  # fmt: skip
    if flagged is not None:
        stats["contamination"].update(files=list(args.contamination),
                                      ngram=contamination_ngram(args.contamination))  # fmt: skip
    if simulated_pool(dataset, args.verified):
        stats["simulated"] = True  # a rehearsal's: the card, report and `dart train` say so
    with _all_or_nothing(args):
        _write_outputs(args, dataset, stats, recipe, flagged)
    log.info("%s: %d rows from %d queries (k_p=%s)", args.name, dataset.height,
             stats["queries_with_rows"], stats["k_p"])  # fmt: skip
    if flagged is not None:
        c = stats["contamination"]
        log.info("%s: %d queries flagged by decontamination, %s", args.name, c["flagged_queries"],
                 "dropped" if args.decontaminate else "kept (--no-decontaminate)")  # fmt: skip
    return 0


def simulated_pool(dataset, verified: list[str]) -> bool:
    """Whether the pool's responses came from the simulated engine: a row's ``model``
    says ``simulated:...`` or a verified shard's record says ``simulated``."""
    models = dataset["model"].drop_nulls().unique().to_list() if "model" in dataset.columns else []
    return any(str(m).startswith("simulated") for m in models) or any(
        is_simulated(p) for p in verified
    )


@contextlib.contextmanager
def _all_or_nothing(args: argparse.Namespace):
    """A failure part-way (a full disk while writing the plots) removes what this run wrote:
    no dataset without its card, stats and record."""
    try:
        yield
    except BaseException:
        for path in (args.output, args.stats, args.card):
            Path(path).unlink(missing_ok=True)
            record_path(path).unlink(missing_ok=True)
        raise


def _write_outputs(args, dataset, stats, recipe, flagged) -> None:
    write_parquet_atomic(dataset, args.output)
    write_json_atomic(stats, args.stats)
    versions = {c: sorted(dataset[c].drop_nulls().unique().to_list())
                for c in ("template_version", "grader_version", "model")}  # fmt: skip
    lineage = {"pool": pool_folder(args.verified), "pool_files": len(args.verified),
               "queries": list(args.queries), **versions,
               **({"simulated": True} if stats.get("simulated") else {}),
               "seeds": "per trial: dart.pool.ids.trial_seed(seed, query_id, trial)"}  # fmt: skip
    data_file = os.path.relpath(args.output, Path(args.card).parent)
    card = dataset_card(args.name, stats, data_file=data_file, lineage=lineage,
                        sources=query_sources(args.queries), license=args.license,
                        description=args.description)  # fmt: skip
    write_text_atomic(card, args.card)
    pngs = plot_all({args.name: stats}, args.plots)
    params = {"recipe": recipe.describe(), "cap": args.cap, "k_p": stats["k_p"],
              "decontaminate": args.decontaminate if flagged is not None else None}  # fmt: skip
    inputs = [*args.queries, *args.verified, *args.contamination]
    write_record(args.output, step="assemble", params=params, inputs=inputs, rows=dataset.height,
                 extra={"versions": versions})  # fmt: skip
    for path in (args.stats, args.card, *pngs):
        write_record(path, step="assemble", params=params, inputs=[args.output])
