"""Generate one shard of a sampling round, crash-safely.

The shard's trials (plan rows, sorted by ``sample_id``) are cut into fixed chunks of
``chunk_size`` consecutive trials. A chunk is the unit of work and of resumption:
each finished chunk is written atomically to ``<out>.parts/part-NNNNN.parquet``; a
rerun after a crash (even SIGKILL) skips the parts that exist and redoes only the
unfinished chunks. Since the same chunk with the same engine settings gives the same
text (see :mod:`dart.engines.hf`), the final output is byte-identical to an
uninterrupted run. The parts are then concatenated into ``out`` atomically and the
parts folder is removed. A manifest in the parts folder pins what the parts were made
from; parts made for another plan, template, model or sampling setup are discarded.

Wall-clock timings are not row columns (they would break byte-identity); they are
returned as per-chunk stats for the provenance record.

    dart generate --plan plan.parquet --shard 0 --queries data/queries/generated.parquet \\
        --engine transformers --model results/models/smollm2 --template chat \\
        --sampling-json '{"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 512}' \\
        -o pool/round-1/gen-0.parquet
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

from dart.engines.base import Engine, Request, SamplingParams
from dart.errors import DartError
from dart.lineage.records import (
    parts_dir,
    prepare_parts,
    read_record,
    write_parquet_atomic,
)
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
LOG_EVERY_S = 30.0


def _with_prompts(plan: pl.DataFrame, queries: pl.DataFrame, template, tokenizer) -> pl.DataFrame:
    missing = [c for c in PLAN_COLUMNS if c not in plan.columns]
    if missing:
        raise DartError(f"generate: plan lacks column(s) {missing}")
    lookup = queries.select("query_id", "query").unique("query_id", keep="first")
    joined = plan.select(PLAN_COLUMNS).sort("sample_id").join(lookup, on="query_id", how="left")
    absent = joined.filter(pl.col("query").is_null())["query_id"].unique().to_list()
    if absent:
        raise DartError(
            f"generate: {len(absent)} plan query id(s) not in queries, e.g. {absent[:3]}"
        )
    prompts = [template.render(q, tokenizer) for q in joined["query"]]
    return joined.with_columns(pl.Series("prompt", prompts, dtype=pl.String))


def _manifest(rows: pl.DataFrame, template, params, model: dict, chunk_size: int) -> dict:
    """What the parts depend on; a rerun with another manifest discards old parts."""
    ids = hashlib.sha256()
    for sample_id, seed, prompt in rows.select("sample_id", "seed", "prompt").iter_rows():
        ids.update(f"{sample_id}\0{seed}\0{prompt}\n".encode())
    stable_model = {k: v for k, v in model.items() if k not in ("threads",)}
    return {
        "trials": ids.hexdigest(),
        "rows": rows.height,
        "chunk_size": chunk_size,
        "template": template.describe(),
        "sampling": params.to_dict(),
        "engine": stable_model,
    }


class Progress:
    """Trials done and tokens/s: a tqdm bar on a terminal, log lines every 30 s."""

    def __init__(self, total: int, done: int = 0) -> None:
        self.total, self.done, self.tokens = total, done, 0
        self.start = self.last_log = time.monotonic()
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="trial", dynamic_ncols=True)

    def __call__(self, trials: int, tokens: int) -> None:
        self.done += trials
        self.tokens += tokens
        rate = self.tokens / max(time.monotonic() - self.start, 1e-9)
        if self.bar is not None:
            self.bar.update(trials)
            self.bar.set_postfix_str(f"{rate:.1f} tok/s", refresh=False)
        if time.monotonic() - self.last_log >= LOG_EVERY_S:
            self.log()

    def log(self) -> None:
        self.last_log = time.monotonic()
        rate = self.tokens / max(self.last_log - self.start, 1e-9)
        log.info("generate: %d/%d trials done, %.1f tok/s", self.done, self.total, rate)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_chunk(engine: Engine, rows: pl.DataFrame, params, template, model: str, progress):
    requests = [
        Request(sample_id, prompt, seed)
        for sample_id, prompt, seed in rows.select("sample_id", "prompt", "seed").iter_rows()
    ]
    start = time.perf_counter()
    done = engine.generate(requests, params, progress=progress)
    seconds = time.perf_counter() - start
    frame = rows.drop("query", "prompt").with_columns(
        pl.Series("response", [c.text for c in done], dtype=pl.String),
        pl.Series("finish_reason", [c.finish_reason for c in done], dtype=pl.String),
        pl.Series("prompt_tokens", [c.prompt_tokens for c in done], dtype=pl.Int64),
        pl.Series("completion_tokens", [c.completion_tokens for c in done], dtype=pl.Int64),
        pl.lit(template.name, dtype=pl.String).alias("template"),
        pl.lit(template.version, dtype=pl.String).alias("template_version"),
        pl.lit(model, dtype=pl.String).alias("model"),
    )
    tokens = sum(c.completion_tokens for c in done)
    return frame, {"rows": len(done), "tokens": tokens, "seconds": round(seconds, 3)}


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

    ``params`` gets the template's stop strings added. Returns stats: rows, chunks
    (generated now / reused from an earlier run), tokens and seconds of this run.
    """
    if chunk_size < 1:
        raise DartError(f"generate: chunk_size must be >= 1, got {chunk_size}")
    params = params.with_stop(template.stop)
    rows = _with_prompts(plan, queries, template, engine.tokenizer)
    model = engine.describe()
    folder = parts_dir(out_path)
    prepare_parts(folder, _manifest(rows, template, params, model, chunk_size), "generate")
    starts = list(range(0, rows.height, chunk_size))
    names = [folder / f"part-{i:05d}.parquet" for i in range(len(starts))]
    reused = sum(p.exists() for p in names)
    progress = Progress(
        rows.height,
        done=sum(
            min(chunk_size, rows.height - s)
            for s, p in zip(starts, names, strict=True)
            if p.exists()
        ),
    )
    timings = []
    try:
        for start, part in zip(starts, names, strict=True):
            if part.exists():
                continue
            chunk = rows.slice(start, chunk_size)
            frame, stats = _run_chunk(engine, chunk, params, template, model["model"], progress)
            write_parquet_atomic(frame, part)
            timings.append({"part": part.name, **stats})
            progress.log()
    finally:
        progress.close()
    _concat_parts(names, rows, out_path)
    shutil.rmtree(folder)
    tokens = sum(t["tokens"] for t in timings)
    seconds = sum(t["seconds"] for t in timings)
    return {
        "rows": rows.height,
        "chunks": len(names),
        "chunks_reused": reused,
        "tokens": tokens,
        "seconds": round(seconds, 3),
        "tokens_per_s": round(tokens / seconds, 2) if seconds else None,
        "params": params.to_dict(),
        "chunk_timings": timings,
    }


def _concat_parts(names: list[Path], rows: pl.DataFrame, out_path: str | Path) -> None:
    if names:
        frame = pl.concat([pl.read_parquet(p) for p in names], how="vertical")
    else:  # an empty plan: the right columns, no rows
        base = rows.drop("query", "prompt")
        frame = base.with_columns(
            *[pl.Series(name, [], dtype=dtype) for name, dtype in OUTPUT_SCHEMA.items()]
        )
    write_parquet_atomic(frame, out_path)


def load_plan_shard(plan_path: str | Path, shard: int | None) -> pl.DataFrame:
    """The rows of ``plan_path`` for ``shard`` (all rows when shard is None)."""
    plan = pl.read_parquet(plan_path)
    return plan if shard is None else plan.filter(pl.col("shard") == shard)


def model_inputs(model: str) -> list[str]:
    """The model as a provenance input when it is a local folder with a record or files."""
    path = Path(model)
    return [str(path)] if path.exists() and (read_record(path) or path.is_dir()) else []
