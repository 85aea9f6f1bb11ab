"""Source formats: map a raw row to a query record ``{query, gold, level, subject, source_id}``.

- ``math``: MATH's schema (problem, solution, level "Level 3", type); the reference
  answer is the last ``\\boxed{}`` of the solution, found by brace matching, with math
  delimiters around it removed (``\\fbox{$\\{1,2,3\\}$}`` gives ``\\{1,2,3\\}``).
- ``gsm8k``: GSM8K's schema (question, answer); the reference answer is the number
  after ``####``, thousands separators removed.
- ``table``: any rows, with a column mapping ``{query, gold, level, subject, id}``.

Any of the three may also map ``pass_rate`` to a raw column (``columns: {pass_rate: p}``):
the query's known pass rate, a number in [0, 1], which the ``simulated`` engine answers by
(its column in the queries table is ``pass_rate``; without the mapping there is none).

A row that cannot be mapped raises DartError naming the file and the row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dart.answers import gsm8k_answer, last_box_is_open, last_boxed, level_number
from dart.errors import DartError

FORMATS = ("math", "gsm8k", "table", "generated", "math-like", "gsm8k-like")
_OUTER_MATH = re.compile(r"^\$+(.*?)\$+$|^\\\((.*)\\\)$", re.S)
_INNER_MATH = re.compile(r"(?<!\\)\$|\\\(|\\\)")


def reference_text(gold: str, where: str) -> str:
    """A reference answer without the math delimiters around it (``$\\{1,2\\}$`` from
    ``\\fbox{$\\{1,2\\}$}``, ``\\(x\\)``); DartError naming the row when one is left inside."""
    text = gold.strip()
    outer = _OUTER_MATH.match(text)
    if outer:
        text = (outer.group(1) if outer.group(1) is not None else outer.group(2)).strip()
    if _INNER_MATH.search(text):
        raise DartError(
            f"{where}: reference answer {gold!r} holds a math delimiter ($ or \\( \\)) "
            "inside it; write it without delimiters"
        )
    return text


def need(row: Mapping[str, Any], column: str, where: str) -> Any:
    """The value of ``column``; DartError naming the row and the columns it has if absent."""
    if column not in row:
        found = ", ".join(sorted(row)) or "none"
        raise DartError(f"{where}: missing column {column!r} (columns: {found})")
    return row[column]


def clean_text(value: Any, column: str, where: str) -> str:
    """Non-empty, valid Unicode text (numbers accepted and written as text); DartError
    naming the row and column otherwise (queries and benchmark items alike)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DartError(f"{where}: empty {column!r}")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DartError(f"{where}: {column!r} must be text, got {type(value).__name__}")
    text = str(value).strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800" in JSON)
        raise DartError(
            f"{where}: {column!r} is not valid Unicode ({exc.reason} at character {exc.start})"
        ) from None
    return text


def pass_rate_value(value: Any, column: str, where: str) -> float:
    """A pass rate: a number in [0, 1] (not a boolean, not text); DartError naming the row
    and the column otherwise."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0.0 <= value <= 1.0:  # NaN fails the range too
        raise DartError(
            f"{where}: {column!r} (the pass_rate column) must be a number in [0, 1], got {value!r}"
        )
    return float(value)


def map_row(fmt: str, row: Mapping[str, Any], where: str, columns: Mapping[str, Any] | None = None):
    """Map one raw row of format ``fmt`` to a query record; ``where`` is 'file: row N'.

    The record has ``pass_rate`` only when ``columns`` maps it (any format)."""
    cols = dict(columns or {})
    if fmt == "math":
        query = clean_text(need(row, "problem", where), "problem", where)
        solution = clean_text(need(row, "solution", where), "solution", where)
        if last_box_is_open(solution):
            raise DartError(f"{where}: the last \\boxed{{ of 'solution' is never closed")
        gold = last_boxed(solution)
        if not gold:
            raise DartError(f"{where}: no \\boxed{{}} reference answer in 'solution'")
        gold = reference_text(gold, where)
        level, subject = level_number(row.get("level")), row.get("type") or row.get("subject")
        source_id = row.get("unique_id") or row.get("id")
    elif fmt == "gsm8k":
        query = clean_text(need(row, "question", where), "question", where)
        answer = clean_text(need(row, "answer", where), "answer", where)
        gold = gsm8k_answer(answer)
        if not gold:
            raise DartError(f"{where}: no '#### <number>' reference answer in 'answer'")
        level, subject, source_id = None, "arithmetic", row.get("id")
    elif fmt == "table":
        qcol, gcol = cols.get("query") or "query", cols.get("gold") or "gold"
        query = clean_text(need(row, qcol, where), qcol, where)
        gold = clean_text(need(row, gcol, where), gcol, where)
        level = level_number(need(row, cols["level"], where)) if cols.get("level") else None
        subject = need(row, cols["subject"], where) if cols.get("subject") else None
        source_id = need(row, cols["id"], where) if cols.get("id") else None
    else:
        raise DartError(f"{where}: unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    record = {
        "query": query,
        "gold": str(gold),
        "level": level,
        "subject": None if subject is None else str(subject),
        "source_id": None if source_id is None else str(source_id),
    }
    if cols.get("pass_rate"):
        column = cols["pass_rate"]
        record["pass_rate"] = pass_rate_value(need(row, column, where), column, where)
    return record
