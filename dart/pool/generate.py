"""Generate one shard of a sampling round, crash-safely.

The shard's trials (plan rows, sorted by ``sample_id``) are completed by the shared
resumable runner (:mod:`dart.engines.runner`): fixed chunks of ``chunk_size`` consecutive
trials, each finished chunk kept in ``<out>.parts/`` so that a rerun after a crash (even
SIGKILL) redoes only the unfinished chunks, and the output byte-identical to an
uninterrupted run. The manifest pins the trials (ids, seeds, prompts), template, sampling
and engine; parts made for another setup are discarded. Wall-clock timings come back as
stats for the provenance record.

    dart generate --plan plan.parquet --shard 0 --queries data/queries/generated.parquet \\
        --engine transformers --model results/models/smollm2 --template chat \\
        --sampling-json '{"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 512}' \\
        -o pool/round-1/gen-0.parquet
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import polars as pl

from dart.engines.base import Completion, Engine, Request, SamplingParams
from dart.engines.runner import ToFrame, run_chunks
from dart.errors import DartError
from dart.inputs import read_table
from dart.lineage.records import read_record
from dart.prompts import Template

log = logging.getLogger(__name__)

PLAN_COLUMNS = ("query_id", "trial", "sample_id", "seed", "round", "shard", "gold", "level", "kind")
OUTPUT_SCHEMA = {
    "response": pl.String,
    "finish_reason": pl.String,
    "prompt_tokens": pl.Int64,
    "completion_tokens": pl.Int64,
    "template": pl.String,
    "template_version": pl.String,
    "model": pl.String,
}


#: Columns taken from the queries beside the plan rows: the text, and a query's known pass
#: rate where the queries table has one (only the ``simulated`` engine reads it, through
#: :meth:`Engine.bind_trials`; it is not written to the output).
QUERY_FIELDS = ("query", "pass_rate")


def _with_prompts(plan: pl.DataFrame, queries: pl.DataFrame, template, tokenizer) -> pl.DataFrame:
    missing = [c for c in PLAN_COLUMNS if c not in plan.columns]
    if missing:
        raise DartError(f"generate: plan lacks column(s) {missing}")
    fields = [c for c in QUERY_FIELDS if c in queries.columns]
    lookup = queries.select("query_id", *fields).unique("query_id", keep="first")
    joined = plan.select(PLAN_COLUMNS).sort("sample_id").join(lookup, on="query_id", how="left")
    absent = joined.filter(pl.col("query").is_null())["query_id"].unique().to_list()
    if absent:
        raise DartError(
            f"generate: {len(absent)} plan query id(s) not in queries, e.g. {absent[:3]}"
        )
    prompts = [template.render(q, tokenizer) for q in joined["query"]]
    return joined.with_columns(pl.Series("prompt", prompts, dtype=pl.String))


def _frame_of(rows: pl.DataFrame, template: Template, model: str) -> ToFrame:
    """The output rows of a chunk: its plan rows, the completions, template and model."""

    def frame(start: int, done: list[Completion]) -> pl.DataFrame:
        chunk = rows.slice(start, len(done)).drop("prompt", *QUERY_FIELDS, strict=False)
        return chunk.with_columns(
            pl.Series("response", [c.text for c in done], dtype=pl.String),
            pl.Series("finish_reason", [c.finish_reason for c in done], dtype=pl.String),
            pl.Series("prompt_tokens", [c.prompt_tokens for c in done], dtype=pl.Int64),
            pl.Series("completion_tokens", [c.completion_tokens for c in done], dtype=pl.Int64),
            pl.lit(template.name, dtype=pl.String).alias("template"),
            pl.lit(template.version, dtype=pl.String).alias("template_version"),
            pl.lit(model, dtype=pl.String).alias("model"),
        )

    return frame


def generate_shard(
    plan: pl.DataFrame,
    queries: pl.DataFrame,
    engine: Engine,
    template: Template,
    params: SamplingParams,
    out_path: str | Path,
    *,
    chunk_size: int = 64,
) -> dict[str, Any]:
    """Generate every trial of ``plan`` into ``out_path``; resumable chunk by chunk.

    ``params`` gets the template's stop strings added. Returns the runner's stats
    (:func:`dart.engines.runner.run_chunks`).
    """
    if chunk_size < 1:
        raise DartError(f"generate: chunk_size must be >= 1, got {chunk_size}")
    params = params.with_stop(template.stop)
    rows = _with_prompts(plan, queries, template, engine.tokenizer)
    engine.bind_trials(rows)
    model = engine.describe()
    requests = [
        Request(sample_id, prompt, seed)
        for sample_id, prompt, seed in rows.select("sample_id", "prompt", "seed").iter_rows()
    ]

    def empty() -> pl.DataFrame:  # an empty plan: the right columns, no rows
        base = rows.drop("prompt", *QUERY_FIELDS, strict=False)
        return base.with_columns(
            *[pl.Series(name, [], dtype=dtype) for name, dtype in OUTPUT_SCHEMA.items()]
        )

    return run_chunks(
        requests, engine, params, out_path, chunk_size=chunk_size,
        pin={"template": template.describe()}, label="generate",
        unit="trial", to_frame=_frame_of(rows, template, model["model"]), empty=empty,
    )  # fmt: skip


def load_plan_shard(plan_path: str | Path, shard: int | None) -> pl.DataFrame:
    """The rows of ``plan_path`` for ``shard`` (all rows when shard is None)."""
    plan = read_table(plan_path, (), "plan")
    return plan if shard is None else plan.filter(pl.col("shard") == shard)


def model_inputs(model: str) -> list[str]:
    """The model as a provenance input when it is a local folder with a record or files."""
    if not model:  # the simulated engine: no model
        return []
    path = Path(model)
    return [str(path)] if path.exists() and (read_record(path) or path.is_dir()) else []
