"""``dart summarize``: the results table, CSV and chart (see :mod:`table` for what they hold).

    dart summarize --results results --config results/config.yaml -o results/summary.md \\
        --csv results/summary.csv --png results/summary.png
    dart summarize --inputs results/eval/*/*.json --models-json '{"llama--u": {"base": "llama",
        "dataset": "u", "seed": 42, "base_source": "meta-llama/Meta-Llama-3-8B",
        "recipe": "uniform"}}' -o results/summary.md --csv results/summary.csv
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path
from typing import Any

import yaml

from dart.config import validate
from dart.config.paper import paper_differences
from dart.errors import DartError
from dart.inputs import load_json_arg
from dart.lineage.records import atomic_output, record_path, write_record
from dart.summary.plots import plot_levels, plot_summary
from dart.summary.stats import BOOTSTRAP_REPS, BOOTSTRAP_SEED, compare_rows
from dart.summary.table import collect, columns, csv_text, find_results, markdown, with_paper_rows

log = logging.getLogger(__name__)


def load_config(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        cfg = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DartError(f"{path}: cannot read the merged config ({exc})") from exc
    if not isinstance(cfg, dict):
        raise DartError(f"{path}: the config must be a mapping of keys")
    return cfg


def _models_json(value: str) -> dict[str, Any]:
    doc = load_json_arg(value, "--models-json")
    if not isinstance(doc, dict):
        raise DartError("--models-json: must be a JSON object of model name -> fields")
    return doc


def _paper_diffs(args: argparse.Namespace, cfg: dict[str, Any]) -> dict[str, Any]:
    if args.paper_diff_json:
        doc = load_json_arg(args.paper_diff_json, "--paper-diff-json")
        if not isinstance(doc, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("differences"), list) for v in doc.values()
        ):
            raise DartError("--paper-diff-json: must map base model -> {differences: [...]}")
        return doc
    if not cfg.get("train", {}).get("models"):
        return {}
    try:
        return paper_differences(validate(cfg, source=args.config))
    except DartError as exc:  # a partial config still gives the table, without the notes
        log.warning("no differences from the paper listed: %s", exc)
        return {}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", default="results", help="results folder (reads eval/*/*.json)")
    p.add_argument("--config", help="the run's merged config (results/config.yaml)")
    p.add_argument("--models-json", help="model -> {base, dataset, seed, base_source, recipe} "
                   "(inline JSON or a file); else read from --config or the names")  # fmt: skip
    p.add_argument("--paper-diff-json", help="base model -> {paper_model, differences} (inline "
                   "JSON, as dart.config.paper.paper_differences gives it); else from --config")  # fmt: skip
    p.add_argument("--inputs", nargs="*", help="these result files instead of every one found")
    p.add_argument("-o", "--output", required=True, help="summary.md")
    p.add_argument("--csv", required=True, help="summary.csv")
    p.add_argument("--png", help="summary.png (bar chart with Wilson intervals)")
    p.add_argument("--levels-png", help="summary_levels.png (accuracy by difficulty level)")


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    files = (
        [Path(p) for p in args.inputs] if args.inputs is not None else find_results(args.results)
    )
    if not files:
        where = "--inputs" if args.inputs is not None else f"{args.results}/eval/*/*.json"
        raise DartError(f"{where}: no result files; nothing to summarize")
    models = _models_json(args.models_json) if args.models_json else None
    ours, types = collect(files, cfg, models)
    cols = columns(types)
    rows = with_paper_rows(ours, types)
    comparisons = compare_rows(rows, cols)
    diffs = _paper_diffs(args, cfg)
    notes = {r.model: diffs[r.base]["differences"] for r in rows
             if r.kind == "paper" and r.base in diffs}  # fmt: skip
    pngs = {p: plot for p, plot in ((args.png, plot_summary), (args.levels_png, plot_levels)) if p}
    outputs = [args.output, args.csv, *pngs]
    texts = {
        args.output: markdown(rows, cols, types, comparisons, notes),
        args.csv: csv_text(rows, cols, comparisons),
    }
    # all or nothing: every output is made under a temporary name and they are renamed
    # into place together; a failure on the way (a bad value, a full disk) leaves none
    with contextlib.ExitStack() as stack:
        for path in outputs:
            tmp = stack.enter_context(atomic_output(path))
            if path in pngs:
                pngs[path](rows, cols, tmp, atomic=False)
            else:
                tmp.write_text(texts[path])
    params = {"config": args.config, "models_json": models, "benchmarks": {b: types[b] for b in cols},
              "models": {r.model: {"base": r.base, "dataset": r.dataset, "recipe": r.recipe,
                                   "base_source": r.base_source, "seeds": r.seeds} for r in ours},
              "paper_rows": [r.model for r in rows if r.kind == "paper"], "paper_diff": diffs,
              "comparisons": {"bootstrap_reps": BOOTSTRAP_REPS, "bootstrap_seed": BOOTSTRAP_SEED,
                              "pairs": len({(c.a, c.b) for c in comparisons}),
                              "refused": sum(c.refused is not None for c in comparisons)}}  # fmt: skip
    try:
        for path in outputs:
            write_record(path, step="summarize", params=params, inputs=files, rows=len(rows))
    except BaseException:
        for path in outputs:
            Path(path).unlink(missing_ok=True)
            record_path(path).unlink(missing_ok=True)
        raise
    log.info("summary: %d models x %d benchmarks from %d result files (%d paper rows)",
             len(ours), len(cols), len(files), len(params["paper_rows"]))  # fmt: skip
    return 0
