"""The embedded query generator: graded questions with exact reference answers.

Five levels, from one-step arithmetic to multi-step word problems and simple
algebra: (1) a sum or difference of small numbers, (2) one step with a two-digit number
or a times-table product, (3) two-digit operands or two operations, (4) word problems of
two or three steps and percentages, (5) linear equations and multi-step word problems.
Calibrated on the embedded SmolLM2-135M (few-shot template, T 0.7), which solves far
more of level 1 than of level 5: a real difficulty signal. The same seed always gives
the same questions in the same order; levels are interleaved so that any prefix is
balanced. Thousands of distinct questions are available for any seed.

    dart queries 7 --format generated --n 400 -o data/queries/generated.parquet
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from fractions import Fraction

LEVELS = (1, 2, 3, 4, 5)
NAMES = ("Ava", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Juno")
ITEMS = ("apples", "marbles", "stickers", "books", "coins", "pencils", "cards", "shells")


def fmt_answer(value: Fraction | int) -> str:
    """An exact answer as the pipeline writes references: ``12``, ``-3``, ``\\frac{3}{4}``."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _small_sum(r: random.Random) -> tuple[str, Fraction, str]:
    """One step with small numbers: ``a + b`` or ``a - b``, a up to 20, b a digit."""
    a, b = r.randint(1, 20), r.randint(1, 9)
    if r.random() < 0.5:
        a, b = max(a, b), min(a, b)
        value, op, word = a - b, "-", "minus"
    else:
        value, op, word = a + b, "+", "plus"
    form = r.randrange(3)
    text = (
        f"What is ${a} {op} {b}$?",
        f"What is {a} {word} {b}?",
        f"Compute ${a} {op} {b}$.",
    )[form]
    return text, Fraction(value), "arithmetic"


def _level1(r: random.Random) -> tuple[str, Fraction, str]:
    return _small_sum(r)


def _level2(r: random.Random) -> tuple[str, Fraction, str]:
    """One step, larger: two digits and a small number, or a times-table product."""
    if r.random() < 0.6:
        a, b = r.randint(10, 99), r.randint(2, 30)
        if r.random() < 0.5:
            return f"What is ${a} + {b}$?", Fraction(a + b), "arithmetic"
        a, b = max(a, b), min(a, b)
        return f"What is ${a} - {b}$?", Fraction(a - b), "arithmetic"
    a, b = r.randint(2, 9), r.randint(2, 9)
    return f"What is ${a} \\times {b}$?", Fraction(a * b), "arithmetic"


def _level3(r: random.Random) -> tuple[str, Fraction, str]:
    """Two-digit operands, or two operations with precedence."""
    a, b, c = r.randint(10, 99), r.randint(10, 99), r.randint(2, 12)
    kind = r.randrange(4)
    if kind == 0:
        return f"What is ${a} + {b}$?", Fraction(a + b), "arithmetic"
    if kind == 1:
        a, b = max(a, b), min(a, b)
        return f"What is ${a} - {b}$?", Fraction(a - b), "arithmetic"
    if kind == 2:
        return f"What is ${c} \\times {b}$?", Fraction(c * b), "arithmetic"
    d = r.randint(2, 9)
    return f"Compute ${a} + {d} \\times {c}$.", Fraction(a + d * c), "arithmetic"


def _level4(r: random.Random) -> tuple[str, Fraction, str]:
    """Word problems of two or three steps, and percentages."""
    name, item = r.choice(NAMES), r.choice(ITEMS)
    if r.random() < 0.5:
        a, bags, each = r.randint(5, 40), r.randint(2, 9), r.randint(2, 12)
        d = r.randint(1, a)
        text = (
            f"{name} has {a} {item}. {name} buys {bags} bags with {each} {item} in each bag, "
            f"then gives away {d} {item}. How many {item} does {name} have now?"
        )
        return text, Fraction(a + bags * each - d), "word problem"
    p = r.choice((10, 20, 25, 30, 40, 50, 60, 75, 80))
    n = r.randint(1, 20) * 20
    text = f"A shop has {n} {item} and sells {p}% of them. How many {item} are left?"
    return text, Fraction(n) - Fraction(p * n, 100), "percent"


def _linear(r: random.Random) -> tuple[str, Fraction, str]:
    a = r.choice([k for k in range(-9, 10) if k not in (-1, 0, 1)])
    b = r.randint(-20, 20)
    if r.random() < 0.6:
        x = r.randint(-12, 12)
        return (
            f"Solve for $x$: ${a}x + {b} = {a * x + b}$.".replace("+ -", "- "),
            Fraction(x),
            "algebra",
        )
    c = r.randint(-30, 30)
    return (
        f"Solve for $x$: ${a}x + {b} = {c}$. Give your answer as a fraction in lowest terms.".replace(
            "+ -", "- "
        ),
        Fraction(c - b, a),
        "algebra",
    )


def _level5(r: random.Random) -> tuple[str, Fraction, str]:
    """Simple algebra and multi-step word problems."""
    kind = r.randrange(4)
    if kind == 0:
        return _linear(r)
    if kind == 1:
        x, y = r.randint(5, 60), r.randint(1, 40)
        x, y = max(x, y) + 1, min(x, y)
        return (
            f"The sum of two numbers is {x + y} and their difference is {x - y}. "
            "What is the product of the two numbers?",
            Fraction(x * y),
            "algebra",
        )
    if kind == 2:
        length, width = r.randint(3, 30), r.randint(2, 20)
        return (
            f"A rectangle has a perimeter of {2 * (length + width)} cm and a length of {length} cm. "
            "What is its area in square centimetres?",
            Fraction(length * width),
            "geometry",
        )
    name, item = r.choice(NAMES), r.choice(ITEMS)
    price, n, paid_pct = r.randint(2, 9), r.randint(1, 5) * 16, r.choice((25, 50, 75))
    total = price * n
    return (
        f"{name} buys {n} {item} at {price} dollars each and pays {paid_pct}% of the total up "
        "front. The rest is paid in 4 equal instalments. How many dollars is each instalment?",
        Fraction(total * (100 - paid_pct), 100 * 4),
        "word problem",
    )


GENERATORS: dict[int, Callable[[random.Random], tuple[str, Fraction, str]]] = {
    1: _level1,
    2: _level2,
    3: _level3,
    4: _level4,
    5: _level5,
}


def generate(seed: int, n: int) -> Iterator[dict]:
    """Yield ``n`` distinct graded questions, levels interleaved 1..5, deterministic in ``seed``."""
    rng = random.Random(seed)
    seen: set[str] = set()
    produced, attempts = 0, 0
    while produced < n:
        level = LEVELS[produced % len(LEVELS)]
        query, answer, subject = GENERATORS[level](rng)
        attempts += 1
        if attempts > 50 * n + 1000:
            raise RuntimeError(f"generator seed {seed}: could not find {n} distinct questions")
        if query in seen:
            continue
        seen.add(query)
        produced += 1
        yield {
            "query": query,
            "gold": fmt_answer(answer),
            "level": level,
            "subject": subject,
            "source_id": f"gen-{seed}-{produced:06d}",
        }
