"""The benchmark registry: how each benchmark is read, scored and prompted.

One entry per benchmark type: its loader (a published-schema row mapper or an embedded
generator), answer kind and default scoring options, prompt-style hint (shots for the
base-model few-shot prompt), published size, and default hub id, config and split.
``load_benchmark`` reads a hub id, a local file (.jsonl, .json, .parquet) or, for the
embedded types, a generator seed, into the common item table (dart.evaluate.items).

    python -c "from dart.evaluate.benchmarks import REGISTRY; print(sorted(REGISTRY))"
    dart benchmark math500 HuggingFaceH4/MATH-500 -o data/benchmarks/math500.parquet
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from dart.errors import DartError
from dart.evaluate import embedded, loaders
from dart.evaluate.items import build_table
from dart.queries.readers import is_local, read_rows

log = logging.getLogger(__name__)
MATH_SUBJECTS = (
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
)


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark type."""

    name: str
    description: str
    answer_kind: str
    published_size: int | None
    hub_id: str | None = None
    subsets: tuple[str | None, ...] = (None,)
    split: str = "test"
    shots: int = 4  # base-model few-shot prompt: 4 shots, 5 for TheoremQA (as DART-Math)
    options: dict[str, Any] = field(default_factory=dict)
    mapper: Callable[[dict, str], dict] | None = None
    generator: Callable[[str, int], Iterator[dict]] | None = None
    default_source: str | None = None

    @property
    def embedded(self) -> bool:
        return self.generator is not None


_ENTRIES = (
    Benchmark("math", "MATH test (reference: last box of the solution)", "math", 5000,
              "EleutherAI/hendrycks_math", MATH_SUBJECTS, mapper=loaders.map_math),
    Benchmark("math500", "MATH-500 (PRM800K's test subset)", "math", 500,
              "HuggingFaceH4/MATH-500", mapper=loaders.map_math500),
    Benchmark("gsm8k", "GSM8K test", "gsm8k", 1319, "openai/gsm8k", ("main",),
              mapper=loaders.map_gsm8k),
    Benchmark("collegemath", "CollegeMath (MathScale MWPBench test file; local file)", "math",
              2818, mapper=loaders.map_collegemath),
    Benchmark("deepmind-mathematics", "DeepMind Mathematics (DART-Math repo JSON; local file)",
              "math", 1000, mapper=loaders.map_deepmind),
    Benchmark("olympiadbench", "OlympiadBench-Math OE_TO_maths_en_COMP (per-item tolerance)",
              "olympiad", 675, "Hothan/OlympiadBench", ("OE_TO_maths_en_COMP",), split="train",
              mapper=loaders.map_olympiadbench),
    Benchmark("theoremqa", "TheoremQA (bool/integer/float/list/option answers)", "theoremqa",
              800, "TIGER-Lab/TheoremQA", shots=5, options={"tolerance": "strict"},
              mapper=loaders.map_theoremqa),
    Benchmark("generated", "held-out questions of the embedded generator (levels 1-5)", "math",
              None, generator=embedded.generated_items, default_source="1007"),
    Benchmark("word-problems", "GSM8K-style generated word problems (levels = steps 1-5)",
              "gsm8k", None, generator=embedded.word_problem_items, default_source="11"),
)  # fmt: skip
REGISTRY: dict[str, Benchmark] = {b.name: b for b in _ENTRIES}


def get_benchmark(kind: str) -> Benchmark:
    if kind not in REGISTRY:
        raise DartError(f"unknown benchmark type {kind!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[kind]


def _source_records(entry: Benchmark, source: str, opts: dict[str, Any]) -> Iterator[dict]:
    """Mapped records of a local file or hub dataset (all default configs when unset)."""
    if opts.get("subset"):
        subsets: tuple[str | None, ...] = (opts["subset"],)
    elif source == entry.hub_id:
        subsets = entry.subsets  # e.g. MATH's seven subject configs, read in order
    else:
        subsets = (None,)
    left = opts.get("limit")
    for subset in subsets:
        rows = read_rows(
            source,
            split=opts.get("split") or entry.split,
            subset=subset,
            revision=opts.get("revision"),
            limit=left,
        )
        where = f"{source}" + (f" [{subset}]" if subset and not is_local(source) else "")
        for number, row in rows:
            yield entry.mapper(row, f"{where}: row {number}")
            if left is not None:
                left -= 1
        if left is not None and left <= 0:
            return


def size_warning(entry: Benchmark, n: int) -> str | None:
    """A warning when ``n`` differs from the published size (None when it matches)."""
    if entry.published_size is None or n == entry.published_size:
        return None
    return f"{entry.name}: {n} items, published size {entry.published_size}"


def load_benchmark(
    kind: str, source: str | None, *, name: str | None = None, **opts: Any
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Read benchmark ``kind`` from ``source`` into the item table; return it and its stats.

    ``source``: a hub id, a local file, or the generator seed for embedded types; empty
    means the registry default. ``opts``: split, subset, revision, limit, n (embedded).
    """
    entry = get_benchmark(kind)
    source = source or (entry.default_source if entry.embedded else entry.hub_id)
    if not source:
        raise DartError(f"benchmark {kind}: no SOURCE given and the type has no hub default")
    started = time.perf_counter()
    if entry.embedded:
        n = int(opts.get("n") or 100)
        records: Iterator[dict] = entry.generator(source, n)
    else:
        if is_local(source) and not Path(source).exists():
            raise DartError(f"{source}: no such file")
        records = _source_records(entry, source, opts)
    frame = build_table(records, benchmark=name or kind, kind=kind)
    if frame.height == 0:
        raise DartError(f"{source}: no benchmark items")
    warning = size_warning(entry, frame.height)
    if warning:
        log.warning("%s", warning)
    stats = {
        "benchmark": name or kind,
        "benchmark_type": kind,
        "source": source,
        "n": frame.height,
        "published_size": entry.published_size,
        "size_warning": warning,
        "answer_kinds": _counts(frame, "answer_kind"),
        "per_level": _counts(frame, "level"),
        "per_answer_type": _counts(frame, "answer_type"),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return frame, stats


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    counts = frame.group_by(column).len().sort(column, nulls_last=True)
    return {("none" if k is None else str(k)): n for k, n in counts.iter_rows()}
