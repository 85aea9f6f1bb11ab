"""The common item table every benchmark is read into, and its row checks.

Columns: ``item_id`` (stable: the source's own id, else a content hash), ``benchmark``
(the name given), ``benchmark_type`` (the registry entry), ``question``, ``gold`` (text;
lists JSON-encoded), ``answer_kind`` (how scoring compares: math, gsm8k, olympiad,
theoremqa), ``tolerance`` (float or null), ``part_tolerances`` (JSON list or null, for
multi-part answers with one tolerance per part), ``level``, ``subject``, ``answer_type``.

    python -c "from dart.evaluate.items import item_id; print(item_id('What is 2+2?', '4'))"
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

import polars as pl

SCHEMA = {
    "item_id": pl.String,
    "benchmark": pl.String,
    "benchmark_type": pl.String,
    "question": pl.String,
    "gold": pl.String,
    "answer_kind": pl.String,
    "tolerance": pl.Float64,
    "part_tolerances": pl.String,
    "level": pl.Int64,
    "subject": pl.String,
    "answer_type": pl.String,
}
ANSWER_KINDS = ("math", "gsm8k", "olympiad", "theoremqa")
_SPACE = re.compile(r"\s+")


def item_id(question: str, gold: str) -> str:
    """16 hex chars of the sha256 of the whitespace-normalised question and its answer."""
    text = _SPACE.sub(" ", question).strip() + "\0" + gold.strip()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_table(records: Iterable[dict[str, Any]], *, benchmark: str, kind: str) -> pl.DataFrame:
    """The item table of ``records`` (each with question, gold, answer_kind, ...).

    Ids: the record's ``source_id`` when it has one, else the content hash; a repeated id
    gets ``-2``, ``-3``, ... in order of appearance, so ids stay unique and stable.
    """
    rows, seen = [], {}
    for rec in records:
        base = str(rec.get("source_id") or item_id(rec["question"], rec["gold"]))
        seen[base] = seen.get(base, 0) + 1
        rows.append(
            {
                **{key: rec.get(key) for key in SCHEMA},
                "item_id": base if seen[base] == 1 else f"{base}-{seen[base]}",
                "benchmark": benchmark,
                "benchmark_type": kind,
            }
        )
    return pl.DataFrame(rows, schema=SCHEMA)
