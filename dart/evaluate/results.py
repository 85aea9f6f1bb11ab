"""Result metrics of one model on one benchmark: accuracy, its uncertainty, breakdowns.

Accuracy counts ``correct`` verdicts over all items (truncated, no-answer, timeout and
error items are wrong). ``stderr`` is the sample standard error of the mean, as
lm-evaluation-harness reports it: sqrt(p (1 - p) / (n - 1)); ``wilson95`` the 95%
Wilson score interval.

    python -c "from dart.evaluate.results import wilson; print(wilson(45, 100))"
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from dart.grade import OUTCOMES

Z95 = 1.959963984540054


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (lo, hi) of ``correct`` successes in ``n`` trials (the
    results' ``wilson95`` and the summary's intervals)."""
    if n <= 0:
        return (0.0, 1.0)
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def stderr(correct: int, n: int) -> float | None:
    if n < 2:
        return None
    p = correct / n
    return round(math.sqrt(p * (1 - p) / (n - 1)), 6)


def _group(rows: list[dict], key: str) -> dict[str, dict]:
    groups: dict[str, list[int]] = {}
    for row in rows:
        value = row.get(key)
        if value is None:
            continue
        groups.setdefault(str(value), []).append(row["verdict"] == "correct")
    return {
        k: {"n": len(v), "n_correct": sum(v), "accuracy": round(sum(v) / len(v), 6)}
        for k, v in sorted(groups.items(), key=lambda kv: (len(kv[0]), kv[0]))
    }


def metrics(rows: Iterable[dict]) -> dict:
    """n, n_correct, accuracy, stderr, wilson95, breakdowns, reasons, mean tokens."""
    rows = list(rows)
    n = len(rows)
    correct = sum(r["verdict"] == "correct" for r in rows)
    reasons = Counter(r["verdict"] for r in rows)
    tokens = [r["completion_tokens"] for r in rows if r.get("completion_tokens") is not None]
    return {
        "n": n,
        "n_correct": correct,
        "accuracy": round(correct / n, 6) if n else 0.0,
        "stderr": stderr(correct, n),
        "wilson95": [round(bound, 6) for bound in wilson(correct, n)],
        "by_level": _group(rows, "level"),
        "by_subject": _group(rows, "subject"),
        "by_answer_type": _group(rows, "answer_type"),
        "reasons": {outcome: reasons.get(outcome, 0) for outcome in OUTCOMES},
        "rules": dict(Counter(r["reason"] for r in rows).most_common()),
        "mean_completion_tokens": round(sum(tokens) / len(tokens), 2) if tokens else None,
    }
