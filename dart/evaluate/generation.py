"""Greedy generation of a model's responses to a benchmark, resumable chunk by chunk.

Items are cut into chunks of ``chunk_size`` in benchmark order; each finished chunk is
written atomically to ``<out>.parts/part-NNNNN.parquet``, so a run stopped by a signal
or a crash keeps its finished chunks and a rerun redoes only the rest (a manifest pins
the items, template, decoding settings and model; parts made for anything else are
discarded). The output appears atomically when every chunk is done, then the parts
folder is removed.

Prompting: ``--template base-few-shot`` resolves to the benchmark's shot count
(``base-few-shot-5`` for TheoremQA, DESIGN.md 11); the template's stop strings end
each response.

    dart evaluate generate --benchmark data/benchmarks/generated.parquet \\
        --model results/models/smollm2-135m --engine transformers --template base-few-shot \\
        --max-new-tokens 256 -o results/eval/smollm2-135m/generated.gen.parquet
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import polars as pl

from dart.engines.base import Engine, Request, SamplingParams
from dart.errors import DartError
from dart.evaluate.benchmarks import REGISTRY
from dart.lineage.records import parts_dir, prepare_parts, write_json_atomic, write_parquet_atomic
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


def _manifest(items: pl.DataFrame, prompts: list[str], template, params, engine: dict, chunk):
    digest = hashlib.sha256()
    for item, prompt in zip(items["item_id"], prompts, strict=True):
        digest.update(f"{item}\0{prompt}\n".encode())
    stable = {k: v for k, v in engine.items() if k not in ("threads",)}
    return {
        "items": digest.hexdigest(),
        "rows": items.height,
        "chunk_size": chunk,
        "template": template.describe(),
        "sampling": params.to_dict(),
        "engine": stable,
    }


def _run_chunk(engine: Engine, ids: list[str], prompts: list[str], params, template):
    requests = [Request(i, p, GREEDY_SEED) for i, p in zip(ids, prompts, strict=True)]
    start = time.perf_counter()
    done = engine.generate(requests, params)
    seconds = time.perf_counter() - start
    frame = pl.DataFrame(
        {
            "item_id": ids,
            "template": [template.name] * len(ids),
            "template_version": [template.version] * len(ids),
            "response": [c.text for c in done],
            "finish_reason": [c.finish_reason for c in done],
            "prompt_tokens": [c.prompt_tokens for c in done],
            "completion_tokens": [c.completion_tokens for c in done],
        },
        schema=OUTPUT_SCHEMA,
    )
    return frame, {"rows": len(done), "tokens": int(frame["completion_tokens"].sum()),
                   "seconds": round(seconds, 3)}  # fmt: skip


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

    Returns stats: rows, chunks (and how many were reused from an earlier run), completion
    tokens, engine seconds summed over all chunks (an interrupted run's included), items/s
    and tokens/s, and the decoding settings.
    """
    if chunk_size < 1:
        raise DartError(f"evaluate generate: chunk size must be >= 1, got {chunk_size}")
    if items.height == 0:
        raise DartError("evaluate generate: the benchmark has no items")
    params = SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens, stop=template.stop)
    ids = items["item_id"].to_list()
    prompts = [template.render(q, engine.tokenizer) for q in items["question"]]
    folder = parts_dir(out_path)
    manifest = _manifest(items, prompts, template, params, engine.describe(), chunk_size)
    prepare_parts(folder, manifest, "evaluate")
    starts = list(range(0, len(ids), chunk_size))
    names = [folder / f"part-{i:05d}.parquet" for i in range(len(starts))]
    reused = sum(p.exists() for p in names)
    for start, part in zip(starts, names, strict=True):
        if part.exists():
            continue
        stop = start + chunk_size
        frame, stats = _run_chunk(engine, ids[start:stop], prompts[start:stop], params, template)
        write_json_atomic(stats, part.with_suffix(".json"))  # timing, kept across a resume
        write_parquet_atomic(frame, part)
        log.info(
            "evaluate: %d/%d items (%.1f tok/s in the last chunk)",
            min(stop, len(ids)),
            len(ids),
            stats["tokens"] / max(stats["seconds"], 1e-9),
        )
    frame = pl.concat([pl.read_parquet(p) for p in names], how="vertical")
    timings = [json.loads(p.with_suffix(".json").read_text()) for p in names]
    write_parquet_atomic(frame, out_path)
    shutil.rmtree(folder)
    tokens = sum(t["tokens"] for t in timings)
    seconds = sum(t["seconds"] for t in timings)
    done = sum(t["rows"] for t in timings)
    return {
        "rows": frame.height,
        "chunks": len(names),
        "chunks_reused": reused,
        "completion_tokens": tokens,
        "engine_seconds": round(seconds, 3),
        "items_per_s": round(done / seconds, 3) if seconds else None,
        "tokens_per_s": round(tokens / seconds, 2) if seconds else None,
        "sampling": params.to_dict(),
    }
