"""Benchmark the grader against math-verify: agreement with labels and items per second.

    .venv/bin/python bench/bench_grade.py --n 20000 --workers 2

Runs, in one process and one after the other, math-verify's own ``parse`` + ``verify``
(one core, in-process) and our ``grade_rows`` (``--workers`` processes), on the labelled
suite of tests/grade and on ``--n`` generated responses whose labels are known by
construction. Prints one line per (data set, grader).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "grade"))

from labelled_suite import suite  # noqa: E402

from dart.grade import grade_rows  # noqa: E402
from dart.grade.compare import math_verify_correct  # noqa: E402

FILLER = (
    "Let us work through the problem step by step. First we write down what is given, "
    "then we set up the equation $3x + 5 = 20$, so $3x = 15$ and $x = 5$. "
)


def _gold_and_forms(rng: random.Random) -> tuple[str, list[str], list[str]]:
    """A reference answer, equal ways to write it, and near misses."""
    a, b = rng.randint(1, 999), rng.randint(2, 60)
    kind = rng.choice(["int", "int", "int", "frac", "dec", "sqrt", "pi", "set", "interval", "poly"])
    if kind == "int":
        n = rng.randint(-50, 200000)
        forms = [str(n)] + ([f"{n:,}", f"\\${n:,}"] if n >= 1000 else [f"{n}.0"])
        return str(n), forms, [str(n + 1), str(-n - 1), f"{n}0"]
    if kind == "frac":
        return (
            f"\\frac{{{a}}}{{{b}}}",
            [f"\\dfrac{{{a}}}{{{b}}}", f"{a}/{b}", f"\\frac{{{2 * a}}}{{{2 * b}}}"],
            [f"\\frac{{{b}}}{{{a + 1}}}", f"\\frac{{{a + 1}}}{{{b}}}"],
        )
    if kind == "dec":
        return (
            f"{a / 4:g}",
            [f"\\frac{{{a}}}{{4}}", f"{a / 4:.2f}"],
            [f"{a / 4 + 0.5:g}", f"\\frac{{{a}}}{{5}}"],
        )
    if kind == "sqrt":
        return (
            f"{b}\\sqrt{{2}}",
            [f"\\sqrt{{{2 * b * b}}}", f"{b} \\sqrt 2"],
            [f"{b}\\sqrt{{3}}", f"\\sqrt{{{b}}}"],
        )
    if kind == "pi":
        return (
            f"\\frac{{{a}\\pi}}{{{b}}}",
            [f"\\frac{{{a}}}{{{b}}}\\pi"],
            [f"\\frac{{{a + 1}\\pi}}{{{b}}}"],
        )
    if kind == "set":
        return f"{a}, {b}", [f"{b}, {a}", f"\\{{{a}, {b}\\}}"], [f"{a}, {b + 1}", f"{a}"]
    if kind == "interval":
        return f"(-\\infty, {a}]", [f"(-\\infty,{a}]"], [f"(-\\infty, {a})", f"[{a}, \\infty)"]
    return (
        f"x^2+{2 * b}x+{b * b}",
        [f"(x+{b})^2", f"{b * b}+{2 * b}x+x^2"],
        [f"(x-{b})^2", f"x^2+{b}x+{b * b}"],
    )


def generated(n: int, seed: int = 0) -> list[dict]:
    """n responses with labels by construction (correct, wrong, no_answer)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        gold, forms, misses = _gold_and_forms(rng)
        roll = rng.random()
        body = FILLER * rng.randint(1, 6)
        if roll < 0.1:
            rows.append(
                {
                    "response": body + "I am not sure how to finish.",
                    "gold": gold,
                    "label": "no_answer",
                }
            )
            continue
        label = "correct" if roll < 0.6 else "wrong"
        answer = rng.choice(forms if label == "correct" else misses)
        rows.append(
            {
                "response": f"{body}Therefore the answer is $\\boxed{{{answer}}}$.",
                "gold": gold,
                "label": label,
            }
        )
    return rows


def bench_math_verify(rows: list[dict]) -> tuple[float, float]:
    start = time.perf_counter()
    verdicts = []
    for row in rows:
        correct = math_verify_correct(row["response"], row["gold"])
        verdicts.append({None: "no_answer", True: "correct", False: "wrong"}[correct])
    seconds = time.perf_counter() - start
    return len(rows) / seconds, _agreement(rows, verdicts)


def bench_ours(rows: list[dict], workers: int) -> tuple[float, float]:
    start = time.perf_counter()
    verdicts = [row["verdict"] for row in grade_rows((dict(r) for r in rows), workers=workers)]
    seconds = time.perf_counter() - start
    return len(rows) / seconds, _agreement(rows, verdicts)


def _agreement(rows: list[dict], verdicts: list[str]) -> float:
    return sum(v == r["label"] for r, v in zip(rows, verdicts, strict=True)) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="generated responses")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for name, rows in (("labelled suite", suite()), (f"generated ({args.n})", generated(args.n))):
        mv_rate, mv_agree = bench_math_verify(rows)
        our_rate, our_agree = bench_ours(rows, args.workers)
        print(f"{name}: {len(rows)} rows")
        print(
            f"  math-verify parse+verify, 1 process: {mv_rate:8.0f} items/s, agreement {mv_agree:.1%}"
        )
        print(
            f"  dart grade_rows, {args.workers} workers:       {our_rate:8.0f} items/s, agreement {our_agree:.1%}"
        )
        print(f"  speed-up: {our_rate / mv_rate:.1f}x")


if __name__ == "__main__":
    main()
