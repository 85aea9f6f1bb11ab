"""Greedy generation of a model's responses to a benchmark, resumable chunk by chunk.

Items are completed in benchmark order by the shared resumable runner
(:mod:`dart.engines.runner`): chunks of ``chunk_size``, each finished chunk kept in
``<out>.parts/``, so a run stopped by a signal or a crash keeps its finished chunks and a
rerun redoes only the rest (a manifest pins the items, template, decoding settings and
model; parts made for anything else are discarded). The output appears atomically when
every chunk is done.

Prompting: ``--template base-few-shot`` resolves to the benchmark's shot count
(``base-few-shot-5`` for TheoremQA, as the DART-Math evaluation did); the template's stop strings end
each response.

    dart evaluate generate --benchmark data/benchmarks/generated.parquet \\
        --model results/models/smollm2-135m --engine transformers --template base-few-shot \\
        --max-new-tokens 256 -o results/eval/smollm2-135m/generated.gen.parquet
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import polars as pl

from dart.engines.base import Completion, Engine, Request, SamplingParams
from dart.engines.runner import ToFrame, run_chunks
from dart.errors import DartError
from dart.evaluate.benchmarks import REGISTRY
from dart.prompts import Template, get_template

log = logging.getLogger(__name__)
OUTPUT_SCHEMA = {
    "item_id": pl.String,
    "template": pl.String,
    "template_version": pl.String,
    "response": pl.String,
    "finish_reason": pl.String,
    "prompt_tokens": pl.Int64,
    "completion_tokens": pl.Int64,
}
BASE_FEW_SHOT = "base-few-shot"
GREEDY_SEED = 0  # greedy decoding ignores it; engines require one


def resolve_template(name: str, benchmark_type: str | None) -> Template:
    """The template ``name``; ``base-few-shot`` gets the benchmark's shot count."""
    entry = REGISTRY.get(benchmark_type or "")
    if name == BASE_FEW_SHOT and entry is not None and entry.shots != 4:
        name = f"{BASE_FEW_SHOT}-{entry.shots}"
    return get_template(name)


def _frame_of(ids: list[str], template: Template) -> ToFrame:
    def frame(start: int, done: list[Completion]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "item_id": ids[start : start + len(done)],
                "template": [template.name] * len(done),
                "template_version": [template.version] * len(done),
                "response": [c.text for c in done],
                "finish_reason": [c.finish_reason for c in done],
                "prompt_tokens": [c.prompt_tokens for c in done],
                "completion_tokens": [c.completion_tokens for c in done],
            },
            schema=OUTPUT_SCHEMA,
        )

    return frame


def generate_responses(
    items: pl.DataFrame,
    engine: Engine,
    template: Template,
    max_new_tokens: int,
    out_path: str | Path,
    *,
    chunk_size: int = 64,
) -> dict[str, Any]:
    """Greedy responses to every item of ``items`` into ``out_path``; resumable by chunk.

    Returns the runner's stats (:func:`dart.engines.runner.run_chunks`): engine seconds and
    tokens summed over all chunks, an interrupted run's included.
    """
    if chunk_size < 1:
        raise DartError(f"evaluate generate: chunk size must be >= 1, got {chunk_size}")
    if items.height == 0:
        raise DartError("evaluate generate: the benchmark has no items")
    params = SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens, stop=template.stop)
    ids = items["item_id"].to_list()
    prompts = [template.render(q, engine.tokenizer) for q in items["question"]]
    requests = [Request(i, p, GREEDY_SEED) for i, p in zip(ids, prompts, strict=True)]
    return run_chunks(
        requests, engine, params, out_path, chunk_size=chunk_size,
        pin={"template": template.describe()},
        label="evaluate", unit="item", to_frame=_frame_of(ids, template),
    )  # fmt: skip
