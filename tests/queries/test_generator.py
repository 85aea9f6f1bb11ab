from __future__ import annotations

import re
from fractions import Fraction

from dart.queries.generator import fmt_answer, generate


def _value(gold: str) -> Fraction:
    m = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", gold)
    if m:
        return Fraction(int(m.group(2)), int(m.group(3))) * (-1 if m.group(1) else 1)
    return Fraction(int(gold))


def test_deterministic_for_a_seed():
    assert list(generate(7, 50)) == list(generate(7, 50))
    assert list(generate(7, 50)) != list(generate(8, 50))


def test_prefix_stable_and_levels_balanced():
    rows = list(generate(3, 500))
    assert rows[:100] == list(generate(3, 100))
    assert len({r["query"] for r in rows}) == 500
    for level in range(1, 6):
        assert sum(r["level"] == level for r in rows) == 100


def test_at_least_2000_distinct_available():
    assert len({r["query"] for r in generate(11, 2000)}) == 2000


def test_answers_are_exact():
    for row in generate(5, 400):
        q, gold = row["query"], _value(row["gold"])
        if m := re.fullmatch(r"What is \$(\d+) ([+-]) (\d+)\$\?", q):
            a, b = int(m.group(1)), int(m.group(3))
            assert gold == (a + b if m.group(2) == "+" else a - b)
        elif m := re.fullmatch(r"Solve for \$x\$: \$(-?\d+)x ([+-]) (\d+) = (-?\d+)\$\..*", q):
            a, b, c = int(m.group(1)), int(m.group(3)), int(m.group(4))
            b = b if m.group(2) == "+" else -b
            assert a * gold + b == c
        elif m := re.search(r"sum of two numbers is (\d+) and their difference is (\d+)", q):
            s, d = int(m.group(1)), int(m.group(2))
            assert gold == Fraction(s + d, 2) * Fraction(s - d, 2)


def test_fmt_answer():
    assert fmt_answer(Fraction(-3, 4)) == "-\\frac{3}{4}"
    assert fmt_answer(12) == "12"
