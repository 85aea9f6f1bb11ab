"""The two evaluation steps behind ``dart evaluate``: read inputs, run, write outputs + records.

    dart evaluate generate --benchmark B.parquet --model M --template alpaca -o B.gen.parquet
    dart evaluate score --generations B.gen.parquet --benchmark B.parquet \\
        --benchmark-name B --model-name M -o B.json --items B.items.jsonl
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import polars as pl

from dart.engines import engine_options, open_engine
from dart.errors import DartError
from dart.evaluate.benchmarks import REGISTRY, size_warning
from dart.evaluate.generation import generate_responses, resolve_template
from dart.evaluate.items import SCHEMA
from dart.evaluate.results import metrics
from dart.evaluate.scoring import score_rows, scoring_options, second_opinion
from dart.grade import GRADER_VERSION
from dart.grade.options import grader_options
from dart.inputs import read_table
from dart.lineage.records import (
    atomic_output,
    hash_path,
    parts_dir,
    read_record,
    recorded_weights_sha256,
    write_record,
)
from dart.lineage.versions import pick

log = logging.getLogger(__name__)
ITEM_FIELDS = (
    "item_id", "question", "gold", "response", "extracted", "verdict", "reason",
    "finish_reason", "level", "subject", "answer_type", "completion_tokens", "grader_version",
    "math_verify", "disagree",
)  # fmt: skip


def json_object(text: str, flag: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise DartError(f"{flag} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise DartError(f"{flag} must be a JSON object")
    return value


def read_benchmark(path: str | Path) -> pl.DataFrame:
    """The item table written by ``dart benchmark``; DartError naming what is wrong. An
    empty table is an error: an accuracy over no items means nothing."""
    frame = read_table(path, SCHEMA, "benchmark item table")
    if frame.height == 0:
        raise DartError(f"{path}: the benchmark has no items; nothing to evaluate")
    return frame


def load_engine(args: argparse.Namespace):
    """The engine for ``--model`` (:func:`dart.engines.open_engine`: errors name the folder)."""
    return open_engine(args.engine, args.model, engine_options(args))


def _benchmark_type(items: pl.DataFrame) -> str | None:
    kinds = items["benchmark_type"].unique().to_list()
    return kinds[0] if len(kinds) == 1 else None


def _weights_hash(described: dict[str, Any], model: str) -> str | None:
    """The weights' own hash: what a local model folder's record holds (the hash ``dart
    model`` and ``dart train`` recorded), else its weight files hashed now; for a hub
    model, whatever the engine reports."""
    if Path(model).is_dir():
        return recorded_weights_sha256(model)
    return described.get("weights_sha256")


def generate(args: argparse.Namespace) -> None:
    items = read_benchmark(args.benchmark)
    kind = _benchmark_type(items)
    template = resolve_template(args.template, kind)
    engine = load_engine(args)
    model = {**engine.describe()}
    model["weights_sha256"] = _weights_hash(model, args.model)
    log.info("evaluate: %d items of %s with %s (%s)", items.height, kind, args.model, template.name)
    folder = parts_dir(args.output)
    had_parts = folder.exists()
    try:
        stats = generate_responses(
            items, engine, template, args.max_new_tokens, args.output, chunk_size=args.chunk_size
        )
    except DartError:
        # refused before any chunk finished (a prompt over the model's context): leave no
        # parts folder behind; finished chunks of this or an earlier run stay for a rerun
        if not had_parts and folder.exists() and not any(folder.glob("part-*.parquet")):
            shutil.rmtree(folder)
        raise
    local = [args.model] if Path(args.model).exists() else []
    write_record(
        args.output,
        step="evaluate-generate",
        params={
            "engine": args.engine,
            "template": template.describe(),
            "template_requested": args.template,
            "sampling": stats["sampling"],
            "chunk_size": args.chunk_size,
            "benchmark_type": kind,
        },
        inputs=[args.benchmark, *local],
        rows=stats["rows"],
        seeds={"decoding": "greedy (temperature 0)"},
        model=model,
        extra={"timing": {k: v for k, v in stats.items() if k != "sampling"}},
        versions=pick(f"template:{args.template}", f"engine:{args.engine}", "evaluate"),
    )
    log.info("evaluate: wrote %s (%s items/s)", args.output, stats["rows_per_s"])


def _joined(items: pl.DataFrame, generations: pl.DataFrame, gen_path) -> list[dict]:
    """Benchmark rows with their responses, in benchmark order; every item exactly once."""
    for column in ("item_id", "response", "finish_reason"):
        if column not in generations.columns:
            raise DartError(f"{gen_path}: missing column {column!r}")
    counts = generations.group_by("item_id").len().filter(pl.col("len") > 1)
    if counts.height:
        raise DartError(f"{gen_path}: item {counts['item_id'][0]!r} has several responses")
    extra = set(generations["item_id"]) - set(items["item_id"])
    missing = set(items["item_id"]) - set(generations["item_id"])
    if extra or missing:
        example = sorted(missing or extra)[0]
        raise DartError(
            f"{gen_path}: responses do not match the benchmark "
            f"({len(missing)} item(s) without a response, {len(extra)} unknown; e.g. {example!r})"
        )
    gen = generations.select(
        "item_id", "response", "finish_reason",
        *[c for c in ("completion_tokens", "template", "template_version") if c in generations.columns],
    )  # fmt: skip
    return items.join(gen, on="item_id", how="left", maintain_order="left").to_dicts()


def _template(generations: pl.DataFrame) -> dict[str, str | None]:
    if "template" not in generations.columns or generations.height == 0:
        return {"name": None, "version": None}
    pairs = generations.select("template", "template_version").unique().rows()
    if len(pairs) > 1:
        raise DartError(f"responses made with several templates: {pairs}")
    return {"name": pairs[0][0], "version": pairs[0][1]}


def score(args: argparse.Namespace) -> None:
    items = read_benchmark(args.benchmark)
    generations = read_table(args.generations, (), "generations")
    kind = _benchmark_type(items)
    entry = REGISTRY.get(kind or "")
    options = scoring_options(
        dict(entry.options) if entry else {}, json_object(args.options_json, "--options-json")
    )
    rows = _joined(items, generations, args.generations)
    start = time.perf_counter()
    scored = list(score_rows(rows, options=options, **grader_options(args)))
    scoring_seconds = round(time.perf_counter() - start, 3)
    mv = None
    if args.second_opinion == "math-verify":
        mv = second_opinion(rows, scored, **grader_options(args))
    gen_record = read_record(args.generations) or {}
    result = {
        "benchmark": args.benchmark_name,
        "benchmark_type": kind,
        "model": args.model_name,
        **metrics(scored),
        "engine_seconds": gen_record.get("extra", {}).get("timing", {}).get("engine_seconds"),
        "weights_sha256": gen_record.get("model", {}).get("weights_sha256"),
        "engine": {k: gen_record.get("model", {}).get(k) for k in ("engine", "model", "dtype")},
        "max_new_tokens": gen_record.get("params", {}).get("sampling", {}).get("max_new_tokens"),
        "template": _template(generations),
        "grader_version": GRADER_VERSION,
        "benchmark_sha256": hash_path(args.benchmark),
        "published_size": entry.published_size if entry else None,
        "size_warning": size_warning(entry, items.height) if entry else None,
        "scoring_options": options,
        "scoring_seconds": scoring_seconds,
        "math_verify": mv,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    _write(scored, result, args)
    log.info(
        "%s on %s: %d/%d correct (%.1f%%)", args.model_name, args.benchmark_name,
        result["n_correct"], result["n"], 100 * result["accuracy"],
    )  # fmt: skip
    if mv is not None:
        log.info(
            "math-verify: %d/%d correct; %d only ours, %d only math-verify (%.1f s, ours %.1f s)",
            mv["n_correct"], mv["n"], mv["disagree"]["dart-only"],
            mv["disagree"]["math-verify-only"], mv["seconds"], scoring_seconds,
        )  # fmt: skip


def _write(scored: list[dict], result: dict, args: argparse.Namespace) -> None:
    """Items JSONL and result JSON, each atomically, then their provenance records."""
    with atomic_output(args.items) as items_tmp, atomic_output(args.output) as result_tmp:
        with open(items_tmp, "w") as fh:
            for row in scored:
                fh.write(json.dumps({k: row.get(k) for k in ITEM_FIELDS}, ensure_ascii=False))
                fh.write("\n")
        result_tmp.write_text(json.dumps(result, indent=2) + "\n")
    inputs = [args.generations, args.benchmark]
    params = {
        "benchmark": args.benchmark_name,
        "model": args.model_name,
        "scoring_options": result["scoring_options"],
        "timeout": args.timeout,
        "memory_mb": args.memory_mb,
        "grader_version": result["grader_version"],
        "second_opinion": args.second_opinion,
    }
    versions = pick("grader", "scoring")
    write_record(
        args.items, step="evaluate-score", params=params, inputs=inputs, rows=len(scored),
        versions=versions,
    )  # fmt: skip
    write_record(
        args.output, step="evaluate-score", params=params, inputs=[*inputs, args.items],
        rows=len(scored), extra={"accuracy": result["accuracy"]}, versions=versions,
    )  # fmt: skip
