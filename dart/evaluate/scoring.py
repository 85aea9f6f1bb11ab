"""Score benchmark responses: the grader's extraction and verdict, then the benchmark's rule.

Every item goes through ``dart.grade.grade_rows`` (bounded worker processes; truncated
responses are wrong, no extractable answer is ``no_answer``). Two answer kinds then get
their benchmark's own comparison on the extracted answer:

- ``olympiad`` (OlympiadBench's judger): numbers equal within the item's absolute
  tolerance (``error``; 1e-8 when absent, times 1.01 as the official judger has it),
  otherwise the grader's symbolic equivalence; multi-part answers are matched part by
  part, in any order, each with its own tolerance.
- ``theoremqa``: typed by ``answer_type``: bool, option letter, integer/float and lists
  of them (same length, element by element). Numbers compare by the ``tolerance`` option:
  ``strict`` (relative 1e-9, the DART-Math reference) or ``relative-4pct`` (the TheoremQA
  authors' scorer: within 4% of the reference).

A second opinion (:func:`second_opinion`): math-verify grades every item too, in the same
bounded workers with the same time and memory limits; each row gets ``math_verify`` (its
verdict) and ``disagree`` (``dart-only``: only our grader says correct, ``math-verify-only``:
the reverse, else null), and the result gets the counts.

    python -c "from dart.evaluate.scoring import theoremqa_equal; print(theoremqa_equal('3.1', '3.0', 'float', 'relative-4pct'))"
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from dart.answers import all_boxes
from dart.errors import DartError
from dart.evaluate.loaders import split_top_level
from dart.grade import grade, grade_rows
from dart.grade.arithmetic import numeric_value
from dart.grade.compare import MATH_VERIFY_VERSION
from dart.grade.extract import choice_letter

OLYMPIAD_DEFAULT_TOLERANCE = 1e-8
TOLERANCES = ("strict", "relative-4pct")
STRICT_RELATIVE = 1e-9
OVERRIDDEN = ("correct", "wrong", "timeout", "error")  # verdicts a benchmark rule may revise
SECOND_OPINIONS = ("math-verify", "none")
DISAGREE = ("dart-only", "math-verify-only")
_TRUE = {"true", "yes", "correct", "t"}
_FALSE = {"false", "no", "incorrect", "f"}


def scoring_options(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The benchmark's options with ``given`` applied; unknown keys or values are errors."""
    known = {"tolerance": TOLERANCES}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise DartError(f"--options-json: unknown key(s) {unknown}; known: {sorted(known)}")
    merged = {"tolerance": "strict", **defaults, **given}
    if merged["tolerance"] not in TOLERANCES:
        raise DartError(
            f"--options-json: tolerance {merged['tolerance']!r}; known: {', '.join(TOLERANCES)}"
        )
    return merged


def _numbers_close(pred: float, gold: float, mode: str) -> bool:
    if mode == "relative-4pct":
        return abs(pred - gold) <= abs(gold) * 0.04
    return math.isclose(pred, gold, rel_tol=STRICT_RELATIVE, abs_tol=1e-12)


def _list_values(text: str) -> list[float] | None:
    inner = text.strip().strip("$").strip()
    inner = (
        inner.replace("\\left", "").replace("\\right", "").replace("\\{", "{").replace("\\}", "}")
    )
    if inner[:1] in "([{" and inner[-1:] in ")]}":
        inner = inner[1:-1]
    values = [numeric_value(part) for part in split_top_level(inner)]
    return None if not values or any(v is None for v in values) else values


def theoremqa_equal(pred: str, gold: str, answer_type: str, mode: str = "strict") -> bool:
    """Whether the extracted ``pred`` matches TheoremQA ``gold`` of ``answer_type``."""
    if answer_type == "bool":
        word = pred.strip().strip("$").strip().rstrip(".").lower()
        word = word.removeprefix("\\text{").removesuffix("}").strip()
        value = True if word in _TRUE else False if word in _FALSE else None
        return value is not None and str(value) == gold
    if answer_type == "option":
        letter = choice_letter(pred)
        return letter is not None and letter.lower() == gold.strip("()").lower()
    if answer_type.startswith("list"):
        values, reference = _list_values(pred), json.loads(gold)
        return (
            values is not None
            and len(values) == len(reference)
            and all(_numbers_close(v, g, mode) for v, g in zip(values, reference, strict=True))
        )
    value = numeric_value(pred)
    return value is not None and _numbers_close(value, float(gold), mode)


def _part_equal(pred: str, gold: str, tolerance: float, timeout: float) -> bool:
    p, g = numeric_value(pred), numeric_value(gold)
    if p is not None and g is not None:
        return abs(p - g) <= tolerance * 1.01
    return grade(f"\\boxed{{{pred}}}", gold, timeout=timeout).correct


def olympiad_equal(
    response: str, extracted: str, parts: list[str], tolerances: list[float], timeout: float
) -> bool:
    """OlympiadBench: every gold part matched by a distinct predicted part (any order)."""
    preds = split_top_level(extracted) if len(parts) > 1 else [extracted]
    if len(preds) != len(parts):
        boxed = all_boxes(response)
        preds = boxed[-len(parts) :] if len(boxed) >= len(parts) else preds
    if len(preds) != len(parts):
        return False
    unused = list(preds)
    for gold, tolerance in zip(parts, tolerances, strict=True):
        match = next((p for p in unused if _part_equal(p, gold, tolerance, timeout)), None)
        if match is None:
            return False
        unused.remove(match)
    return True


def _grader_gold(item: dict) -> str:
    """The reference as the generic grader reads it."""
    if item["answer_kind"] == "olympiad":
        return ", ".join(json.loads(item["gold"]))
    if item["answer_kind"] == "theoremqa" and str(item.get("answer_type")).startswith("list"):
        return ", ".join(str(v) for v in json.loads(item["gold"]))
    return item["gold"]


def _revise(row: dict, options: dict, timeout: float) -> None:
    """Apply the benchmark's own rule to a graded olympiad/theoremqa row, in place."""
    kind, extracted = row["answer_kind"], row.get("extracted")
    if kind not in ("olympiad", "theoremqa") or extracted is None:
        return
    if row["verdict"] not in OVERRIDDEN:
        return
    source = row["reason"].split(":", 1)[0] if ":" in row["reason"] else "extracted"
    if kind == "theoremqa":
        ok = theoremqa_equal(extracted, row["gold"], row["answer_type"], options["tolerance"])
        rule = f"theoremqa-{row['answer_type'].replace(' ', '-')}({options['tolerance']})"
    else:
        parts = json.loads(row["gold"])
        if len(parts) == 1 and row["verdict"] == "correct":
            return  # the grader's equivalence already matched the single part
        base = row["tolerance"] if row["tolerance"] is not None else OLYMPIAD_DEFAULT_TOLERANCE
        tolerances = json.loads(row["part_tolerances"] or "null") or [base] * len(parts)
        ok = olympiad_equal(row["response"], extracted, parts, tolerances, timeout)
        rule = f"olympiad-{'parts' if len(parts) > 1 else 'tolerance'}"
    row["verdict"] = "correct" if ok else "wrong"
    row["reason"] = f"{source}:{rule}"


def for_grader(item: dict) -> dict:
    """A benchmark row as the grader reads it (query, kind, the reference's text)."""
    kind = "gsm8k" if item["answer_kind"] == "gsm8k" else "math"
    return {**item, "query": item["question"], "kind": kind, "gold": _grader_gold(item)}


def score_rows(
    items: list[dict],
    *,
    options: dict[str, Any],
    workers: int | None = None,
    timeout: float = 5.0,
    memory_mb: int | None = 2048,
) -> Iterator[dict]:
    """Yield each item (benchmark row joined with its generation) with its verdict."""
    graded = grade_rows(
        (for_grader(item) for item in items), workers=workers, timeout=timeout, memory_mb=memory_mb
    )
    for item, row in zip(items, graded, strict=True):
        row["gold"] = item["gold"]
        row.pop("query", None)
        row.pop("kind", None)
        _revise(row, options, timeout)
        yield row


def second_opinion(
    items: list[dict],
    scored: list[dict],
    *,
    workers: int | None = None,
    timeout: float = 5.0,
    memory_mb: int | None = 2048,
) -> dict[str, Any]:
    """Grade ``items`` with math-verify (same workers, time and memory bounds as ours),
    mark each of ``scored`` (``math_verify``, ``disagree``) in place, return the counts."""
    if MATH_VERIFY_VERSION.endswith("not installed"):
        raise DartError("evaluate score: the math-verify second opinion needs the math-verify "
                        "package (pip install math-verify), or --second-opinion none")  # fmt: skip
    start = time.perf_counter()
    theirs = grade_rows(
        (for_grader(item) for item in items), workers=workers, timeout=timeout,
        memory_mb=memory_mb, grader="math-verify",
    )  # fmt: skip
    verdicts: Counter = Counter()
    disagree: Counter = Counter()
    for row, other in zip(scored, theirs, strict=True):
        verdict = other["verdict"]
        verdicts[verdict] += 1
        ours_ok, theirs_ok = row["verdict"] == "correct", verdict == "correct"
        row["math_verify"] = verdict
        row["disagree"] = None if ours_ok == theirs_ok else DISAGREE[0 if ours_ok else 1]
        if row["disagree"]:
            disagree[row["disagree"]] += 1
    n = len(scored)
    return {
        "grader": MATH_VERIFY_VERSION,
        "n": n,
        "n_correct": verdicts["correct"],
        "accuracy": round(verdicts["correct"] / n, 6) if n else 0.0,
        "disagree": {key: disagree[key] for key in DISAGREE},
        "verdicts": dict(sorted(verdicts.items())),
        "seconds": round(time.perf_counter() - start, 3),
    }
