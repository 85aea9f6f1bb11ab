"""One resumable, chunked generation run, shared by the pool's shards (``dart generate``)
and the evaluation's responses (``dart evaluate generate``).

The requests are cut into fixed chunks of ``chunk_size``. A chunk is the unit of work and
of resumption: each finished chunk is written atomically to
``<out>.parts/part-NNNNN.parquet``, with its timing beside it (``part-NNNNN.json``); a
rerun after a crash or a signal (even SIGKILL) skips the parts that exist and redoes only
the unfinished chunks. Since the same chunk with the same engine settings gives the same
text, the output is byte-identical to an uninterrupted run. When a chunk is stopped
(a signal, a server error) after some of its requests came back, and the engine handed
those over (:func:`dart.engines.base.completed_before`, the ``openai`` engine does),
they are kept in ``part-NNNNN.partial.json`` and a rerun sends only the rest: a paid
server is not paid twice. A run that stops before anything is kept leaves no parts
folder behind. A manifest in the parts
folder pins what the parts were made from (the caller's: inputs, template, sampling,
engine); parts made for anything else are discarded. When every chunk is done the parts
are concatenated into ``out`` atomically and the parts folder is removed.

Wall-clock timings are not row columns (they would break byte-identity); they come back
as stats, summed over every chunk of the output (those of an interrupted run included):

    stats = run_chunks(requests, engine, params, "gen.parquet", chunk_size=64,
                       pin={"template": template.describe()}, label="generate",
                       unit="trial", to_frame=frame_of)
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl

from dart.engines.base import Completion, Engine, Request, SamplingParams, completed_before
from dart.errors import DartError
from dart.inputs import read_table
from dart.lineage.records import parts_dir, prepare_parts, write_json_atomic, write_parquet_atomic

log = logging.getLogger(__name__)

LOG_EVERY_S = 30.0
#: ``to_frame(start, completions)``: the output rows of the chunk that begins at request
#: ``start`` (the completions are in request order).
ToFrame = Callable[[int, list[Completion]], pl.DataFrame]


class Progress:
    """Requests done and tokens/s: a tqdm bar on a terminal, a log line every 30 s."""

    def __init__(self, label: str, unit: str, total: int, done: int = 0) -> None:
        self.label, self.unit = label, unit
        self.total, self.done, self.tokens = total, done, 0
        self.start = self.last_log = time.monotonic()
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit=unit, dynamic_ncols=True)

    def __call__(self, requests: int, tokens: int) -> None:
        self.done += requests
        self.tokens += tokens
        rate = self.tokens / max(time.monotonic() - self.start, 1e-9)
        if self.bar is not None:
            self.bar.update(requests)
            self.bar.set_postfix_str(f"{rate:.1f} tok/s", refresh=False)
        if time.monotonic() - self.last_log >= LOG_EVERY_S:
            self.log()

    def log(self) -> None:
        self.last_log = time.monotonic()
        rate = self.tokens / max(self.last_log - self.start, 1e-9)
        log.info("%s: %d/%d %ss done, %.1f tok/s", self.label, self.done, self.total, self.unit,
                 rate)  # fmt: skip

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_chunks(
    requests: Sequence[Request],
    engine: Engine,
    params: SamplingParams,
    out_path: str | Path,
    *,
    chunk_size: int,
    pin: Mapping[str, Any],
    label: str,
    unit: str,
    to_frame: ToFrame,
    empty: Callable[[], pl.DataFrame] | None = None,
) -> dict[str, Any]:
    """Complete ``requests`` chunk by chunk into ``out_path`` (resumable; see the module).

    ``pin`` names what else the output depends on (the template); the manifest holds it
    with the requests' ids, seeds and prompts, the sampling settings and the engine.
    ``empty()`` gives the output when there are no requests. Returns stats: rows, chunks,
    chunks_reused (finished by an earlier run), completion_tokens, engine_seconds,
    rows_per_s, tokens_per_s, chunk_timings and the sampling settings.
    """
    if chunk_size < 1:
        raise DartError(f"{label}: chunk size must be >= 1, got {chunk_size}")
    folder = parts_dir(out_path)
    prepare_parts(folder, manifest(requests, params, engine, chunk_size, pin), label)
    starts = list(range(0, len(requests), chunk_size))
    names = [folder / f"part-{i:05d}.parquet" for i in range(len(starts))]
    finished = [p.exists() and p.with_suffix(".json").exists() for p in names]
    done = sum(
        min(chunk_size, len(requests) - s) for s, f in zip(starts, finished, strict=True) if f
    )
    progress = Progress(label, unit, len(requests), done=done)
    try:
        for start, part, skip in zip(starts, names, finished, strict=True):
            if skip:
                continue
            chunk = requests[start : start + chunk_size]
            completions, measured = _complete_chunk(chunk, engine, params, progress, part, label)
            seconds = engine.engine_seconds(completions, measured)
            frame = to_frame(start, completions)
            tokens = sum(c.completion_tokens for c in completions)
            timing = {"part": part.name, "rows": len(completions), "tokens": tokens,
                      "seconds": round(seconds, 3)}  # fmt: skip
            if seconds != measured:  # a simulated clock: keep the real one beside it
                timing.update(clock="simulated", wall_seconds=round(measured, 3))
            write_json_atomic(timing, part.with_suffix(".json"))  # kept across a resume
            write_parquet_atomic(frame, part)
            _partial_path(part).unlink(missing_ok=True)
            progress.log()
    except BaseException:
        if folder.exists() and not _holds_work(folder):
            shutil.rmtree(folder)  # stopped before anything was kept: leave nothing behind
        raise
    finally:
        progress.close()
    if names:
        output = pl.concat([read_table(p, (), "finished part") for p in names], how="vertical")
    elif empty is not None:
        output = empty()
    else:
        raise DartError(f"{label}: nothing to generate")
    timings = [json.loads(p.with_suffix(".json").read_text()) for p in names]
    write_parquet_atomic(output, out_path)
    shutil.rmtree(folder)
    return _stats(timings, sum(finished), params, engine.describe().get("clock", "wall"))


def _partial_path(part: Path) -> Path:
    """Where the completions of an unfinished chunk are kept: ``part-NNNNN.partial.json``."""
    return part.with_suffix(".partial.json")


def _holds_work(folder: Path) -> bool:
    """Whether ``folder`` keeps a finished chunk or an unfinished chunk's completions."""
    return any(folder.glob("part-*.parquet")) or any(folder.glob("part-*.partial.json"))


def _complete_chunk(
    chunk: Sequence[Request],
    engine: Engine,
    params: SamplingParams,
    progress: Progress,
    part: Path,
    label: str,
) -> tuple[list[Completion], float]:
    """The chunk's completions in request order and the engine seconds spent on them.

    Completions kept by an earlier, stopped attempt (``part-NNNNN.partial.json``) are
    reused; only the other requests go to the engine. If this attempt is stopped too,
    what came back before is added to that file before the exception goes on."""
    path = _partial_path(part)
    kept: dict[int, Completion] = {}
    seconds_before = 0.0
    if path.exists():
        saved = json.loads(path.read_text())
        seconds_before = float(saved["seconds"])
        for row in saved["completions"]:
            position = row.pop("position")
            if position < len(chunk) and chunk[position].request_id == row["request_id"]:
                kept[position] = Completion(**row)
        log.info("%s: %s: reusing %d completion(s) of a stopped run", label, part.name,
                 len(kept))  # fmt: skip
        progress(len(kept), 0)
    todo = [position for position in range(len(chunk)) if position not in kept]
    began = time.perf_counter()
    try:
        fresh = engine.generate([chunk[p] for p in todo], params, progress=progress) if todo else []
    except BaseException as stopped:
        arrived = completed_before(stopped)
        if arrived:
            kept.update({todo[i]: completion for i, completion in arrived.items()})
            seconds = seconds_before + time.perf_counter() - began
            rows = [{"position": p, **asdict(c)} for p, c in sorted(kept.items())]
            write_json_atomic({"seconds": round(seconds, 3), "completions": rows}, path)
            log.warning("%s: stopped; kept %d of %d completion(s) of %s for a rerun", label,
                        len(kept), len(chunk), part.name)  # fmt: skip
        raise
    seconds = seconds_before + time.perf_counter() - began
    kept.update(zip(todo, fresh, strict=True))
    return [kept[p] for p in range(len(chunk))], seconds


def manifest(
    requests: Sequence[Request],
    params: SamplingParams,
    engine: Engine,
    chunk_size: int,
    pin: Mapping[str, Any],
) -> dict[str, Any]:
    """What the parts depend on; a rerun with another manifest discards the old parts."""
    digest = hashlib.sha256()
    for request in requests:
        digest.update(f"{request.request_id}\0{request.seed}\0{request.prompt}\n".encode())
    # how many threads or requests at a time does not change a text: not pinned
    engine_settings = {
        k: v for k, v in engine.describe().items() if k not in ("threads", "concurrency")
    }
    return {
        "requests": digest.hexdigest(),
        "rows": len(requests),
        "chunk_size": chunk_size,
        **pin,
        "sampling": params.to_dict(),
        "engine": engine_settings,
    }


def _stats(
    timings: list[dict[str, Any]], reused: int, params: SamplingParams, clock: str = "wall"
) -> dict[str, Any]:
    rows = sum(t["rows"] for t in timings)
    tokens = sum(t["tokens"] for t in timings)
    seconds = sum(t["seconds"] for t in timings)
    return {
        "rows": rows,
        "chunks": len(timings),
        "chunks_reused": reused,
        "completion_tokens": tokens,
        "engine_seconds": round(seconds, 3),
        "clock": clock,  # "simulated": engine_seconds is the simulated engine's time
        "wall_seconds": round(sum(t.get("wall_seconds", t["seconds"]) for t in timings), 3),
        "rows_per_s": round(rows / seconds, 3) if seconds else None,
        "tokens_per_s": round(tokens / seconds, 2) if seconds else None,
        "chunk_timings": timings,
        "sampling": params.to_dict(),
    }
