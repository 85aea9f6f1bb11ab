"""Stand-ins for MATH and GSM8K train with the paper's sizes and levels, for rehearsals.

Not real problems: each query says it is a rehearsal item, so no one mistakes a dataset
cut from it for data. What matters is the shape the pipeline sees: the same numbers of
queries per level, and reference answers in the shapes the grader meets on MATH
(integers, fractions, radicals, multiples of pi, decimals, intervals, points, sets,
expressions, degrees, choice letters), so that grading a rehearsal costs what grading
the real pool costs.

- ``math-like``: ``n`` queries (default 7,500) with levels 1-5 in the paper's proportions
  565 / 1,349 / 1,592 / 1,690 / 2,304 (exactly those counts at n = 7,500), MATH's seven
  subjects;
- ``gsm8k-like``: ``n`` queries (7,473 in GSM8K train), no level, whole-number answers.

Deterministic in the seed; levels interleaved so that any prefix is balanced.

    dart queries 1 --format math-like --n 7500 -o data/queries/math.parquet
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

#: MATH train per level (the paper's counts).
MATH_LEVELS = {1: 565, 2: 1349, 3: 1592, 4: 1690, 5: 2304}
SUBJECTS = (
    "Algebra",
    "Counting & Probability",
    "Geometry",
    "Intermediate Algebra",
    "Number Theory",
    "Prealgebra",
    "Precalculus",
)


def level_counts(n: int) -> dict[int, int]:
    """``n`` split over levels 1-5 in the paper's proportions (largest remainders)."""
    total = sum(MATH_LEVELS.values())
    exact = {lv: n * c / total for lv, c in MATH_LEVELS.items()}
    counts = {lv: int(v) for lv, v in exact.items()}
    for lv in sorted(exact, key=lambda k: counts[k] - exact[k])[: n - sum(counts.values())]:
        counts[lv] += 1
    return counts


def _integer(r: random.Random) -> str:
    return str(r.choice((r.randint(0, 20), r.randint(21, 999), -r.randint(1, 50))))


def _fraction(r: random.Random) -> str:
    q = r.randint(2, 60)
    p = r.choice([k for k in range(1, 3 * q) if k % q])
    sign = "-" if r.random() < 0.15 else ""
    return f"{sign}\\frac{{{p}}}{{{q}}}"


def _radical(r: random.Random) -> str:
    inside = r.choice((2, 3, 5, 6, 7, 10, 11, 13, 15, 17))
    coeff = r.randint(1, 12)
    form = r.randrange(3)
    if form == 0:
        return f"{coeff if coeff > 1 else ''}\\sqrt{{{inside}}}"
    if form == 1:
        return f"\\frac{{{r.randint(1, 9)}\\sqrt{{{inside}}}}}{{{r.randint(2, 9)}}}"
    return f"{r.randint(1, 9)} + {coeff}\\sqrt{{{inside}}}"


def _pi(r: random.Random) -> str:
    k = r.randint(2, 100)
    return f"{k}\\pi" if r.random() < 0.6 else f"\\frac{{{k}\\pi}}{{{r.randint(2, 9)}}}"


def _decimal(r: random.Random) -> str:
    return f"{r.randint(0, 99)}.{r.randint(1, 99):02d}".rstrip("0")


def _interval(r: random.Random) -> str:
    a = r.randint(-20, 10)
    b = a + r.randint(1, 20)
    left, right = r.choice("[("), r.choice("])")
    if r.random() < 0.25:
        return f"(-\\infty, {b}{right}" if right == "]" else f"(-\\infty, {b})"
    if r.random() < 0.2:
        return f"{left}{a}, \\infty)"
    return f"{left}{a}, {b}{right}"


def _point(r: random.Random) -> str:
    return f"({r.randint(-15, 15)}, {r.randint(-15, 15)})"


def _set(r: random.Random) -> str:
    values = sorted(r.sample(range(-10, 30), r.randint(2, 4)))
    return ", ".join(str(v) for v in values)


def _expression(r: random.Random) -> str:
    a, b, c = r.randint(2, 9), r.randint(1, 20), r.randint(1, 9)
    form = r.randrange(4)
    if form == 0:
        return f"{a}x^2 + {b}x - {c}"
    if form == 1:
        return f"{a}x - {b}"
    if form == 2:
        return f"\\frac{{x + {b}}}{{{a}}}"
    return f"(x - {c})(x + {b})"


def _degrees(r: random.Random) -> str:
    return f"{r.randint(10, 170)}^\\circ"


def _choice(r: random.Random) -> str:
    return f"\\text{{({r.choice('ABCDE')})}}"


#: (share, maker): roughly MATH's mix of answer shapes.
SHAPES: tuple[tuple[float, Callable[[random.Random], str]], ...] = (
    (0.55, _integer),
    (0.14, _fraction),
    (0.07, _radical),
    (0.04, _pi),
    (0.03, _decimal),
    (0.04, _interval),
    (0.03, _point),
    (0.02, _set),
    (0.05, _expression),
    (0.02, _degrees),
    (0.01, _choice),
)


def _shape(r: random.Random) -> tuple[str, str]:
    u, acc = r.random(), 0.0
    for share, make in SHAPES:
        acc += share
        if u < acc:
            return make.__name__.strip("_"), make(r)
    return "integer", _integer(r)


def _interleave(counts: dict) -> list:
    """Keys repeated by their counts, spread evenly (any prefix is balanced)."""
    slots = [(i / c, key) for key, c in counts.items() for i in range(c)]
    return [key for _, key in sorted(slots, key=lambda s: (s[0], str(s[1])))]


def math_like(seed: int, n: int) -> Iterator[dict]:
    """``n`` MATH-like rehearsal queries (levels in the paper's proportions)."""
    r = random.Random(f"math-like:{seed}")
    for number, level in enumerate(_interleave(level_counts(n)), 1):
        shape, gold = _shape(r)
        subject = r.choice(SUBJECTS)
        yield {
            "query": (
                f"[Rehearsal item {number}, not a real problem] A level-{level} "
                f"{subject} question (answer shape: {shape}): find the value asked for "
                f"from the {r.randint(2, 9)} conditions given (tag {r.getrandbits(40):x})."
            ),
            "gold": gold,
            "level": level,
            "subject": subject,
            "source_id": f"math-like-{seed}-{number:06d}",
        }


def gsm8k_like(seed: int, n: int) -> Iterator[dict]:
    """``n`` GSM8K-like rehearsal queries (no level, whole-number answers)."""
    r = random.Random(f"gsm8k-like:{seed}")
    for number in range(1, n + 1):
        gold = str(r.choice((r.randint(1, 100), r.randint(101, 2000), r.randint(2001, 90000))))
        steps = r.randint(2, 8)
        yield {
            "query": (
                f"[Rehearsal item {number}, not a real problem] A grade-school word problem "
                f"of {steps} steps about {r.choice(('money', 'time', 'distance', 'items'))} "
                f"(tag {r.getrandbits(40):x})."
            ),
            "gold": gold,
            "level": None,
            "subject": None,
            "source_id": f"gsm8k-like-{seed}-{number:06d}",
        }


GENERATORS = {"math-like": math_like, "gsm8k-like": gsm8k_like}
