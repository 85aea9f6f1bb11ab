"""Turning a raw source into the queries table, with stable ids and deduplication.

Output columns: ``query_id`` (16 hex chars of the sha256 of the whitespace-normalised
query text, so the same question always gets the same id), ``source``, ``query``,
``gold``, ``level``, ``subject``, ``source_id``, ``source_row``, and ``pass_rate`` (a
Float64 in [0, 1]) only when the options' ``columns`` map it: without the mapping the
table is exactly as before the column existed.

    frame, stats = ingest("gsm8k", "train.jsonl", name="gsm8k")
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from dart.errors import DartError
from dart.inputs import read_table
from dart.queries import formats, generator, paper_like, readers

SCHEMA = {
    "query_id": pl.String,
    "source": pl.String,
    "query": pl.String,
    "gold": pl.String,
    "level": pl.Int64,
    "subject": pl.String,
    "source_id": pl.String,
    "source_row": pl.Int64,
}
#: The optional column: a query's known pass rate (read by the ``simulated`` engine).
PASS_RATE = "pass_rate"
_SPACE = re.compile(r"\s+")


def query_id(query: str) -> str:
    """Stable content hash of a query: 16 hex chars of sha256 of its normalised text."""
    return hashlib.sha256(_SPACE.sub(" ", query).strip().encode()).hexdigest()[:16]


def _records(fmt: str, source: str, options: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    if fmt == "generated" or fmt in paper_like.GENERATORS:
        if (options.get("columns") or {}).get(PASS_RATE):
            raise DartError(
                f"{fmt} source {source}: columns.pass_rate maps a raw column, and the "
                f"generator has none (formats {', '.join(formats.FORMATS[:3])} take it)"
            )
        try:
            seed = int(source)
        except ValueError:
            raise DartError(f"{fmt} source must be an integer seed, got {source!r}") from None
        make = paper_like.GENERATORS.get(fmt, generator.generate)
        for number, rec in enumerate(make(seed, int(options.get("n") or 400)), 1):
            yield {**rec, "source_row": number}
        return
    if fmt not in formats.FORMATS:
        raise DartError(
            f"{source}: unknown format {fmt!r} (expected one of {', '.join(formats.FORMATS)})"
        )
    rows = readers.read_rows(
        source,
        split=options.get("split") or "train",
        subset=options.get("subset"),
        revision=options.get("revision"),
        limit=options.get("limit"),
    )
    for number, row in rows:
        rec = formats.map_row(fmt, row, f"{source}: row {number}", options.get("columns"))
        yield {**rec, "source_row": number}


def ingest(
    fmt: str,
    source: str,
    *,
    name: str,
    options: Mapping[str, Any] | None = None,
    dedupe_against: Iterable[str | Path] = (),
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Read ``source`` in format ``fmt`` into the queries table; return it and its stats."""
    options = dict(options or {})
    started = time.perf_counter()
    earlier: set[str] = set()
    for path in dedupe_against:
        table = read_table(path, ["query_id"], "queries")
        earlier.update(table["query_id"].to_list())
    seen: set[str] = set()
    kept: list[dict[str, Any]] = []
    read = dup_within = dup_across = too_long = 0
    max_chars = options.get("max_chars")
    for rec in _records(fmt, source, options):
        read += 1
        if max_chars and len(rec["query"]) > max_chars:
            if options.get("too_long", "skip") == "error":
                raise DartError(
                    f"{source}: row {rec['source_row']}: the query has {len(rec['query'])} "
                    f"characters, more than max_chars={max_chars}"
                )
            too_long += 1
            continue
        qid = query_id(rec["query"])
        if qid in seen:
            dup_within += 1
            continue
        seen.add(qid)
        if qid in earlier:
            dup_across += 1
            continue
        kept.append({"query_id": qid, "source": name, **rec})
    if not kept:
        raise DartError(
            f"{source}: no queries (read {read} rows: all duplicates, empty, or longer than "
            f"max_chars ({too_long}))"
        )
    with_rate = bool((options.get("columns") or {}).get(PASS_RATE))
    frame = pl.DataFrame(kept, schema={**SCHEMA, **({PASS_RATE: pl.Float64} if with_rate else {})})
    stats = {
        "source": name,
        "format": fmt,
        "input": source,
        "rows_read": read,
        "queries": frame.height,
        "duplicates_within": dup_within,
        "duplicates_across": dup_across,
        "too_long": too_long,
        "max_chars": max_chars,
        "per_level": _per_level(frame),
        **({"pass_rate": _rate_summary(frame)} if with_rate else {}),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return frame, stats


def _per_level(frame: pl.DataFrame) -> dict[str, int]:
    counts = frame.group_by("level").len().sort("level", nulls_last=True)
    return {("none" if lv is None else str(lv)): n for lv, n in counts.iter_rows()}


def _rate_summary(frame: pl.DataFrame) -> dict[str, float]:
    rates = frame[PASS_RATE]
    return {"min": rates.min(), "mean": round(rates.mean(), 6), "max": rates.max()}
