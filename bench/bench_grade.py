"""Benchmark the grader against math-verify: agreement with labels and items per second.

    .venv/bin/python bench/bench_grade.py --n 20000 --workers 2
    .venv/bin/python bench/bench_grade.py --only independent --misses
    .venv/bin/python bench/bench_grade.py --only pathological
    .venv/bin/python bench/bench_grade.py --only peer --peer-tests /path/to/Math-Verify/tests

Runs, in one process and one after the other, math-verify's own ``parse`` + ``verify``
(one core, in-process) and our ``grade_rows`` (``--workers`` processes), on the labelled
suite of tests/grade, on the independently labelled suite (tests/grade/independent_suite.py,
with agreement per source) and on ``--n`` generated responses whose labels are known by
construction. ``pathological``: 5,000 rows of one pathological answer plus 5,000 mixed
generated rows through ``grade_rows`` (ours only), timed. Prints one line per (data set,
grader). ``peer``: the outside check of bench/bench_peer.py (a peer grader's own labelled
cases, read as data from its test files) through the same comparison.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "grade"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_peer import read_cases  # noqa: E402
from independent_suite import rows as independent_rows  # noqa: E402
from labelled_suite import suite  # noqa: E402

from dart.grade import grade_rows  # noqa: E402
from dart.grade.compare import math_verify_correct  # noqa: E402
from dart.grade.grader import TRUNCATED_REASONS  # noqa: E402

PATHOLOGICAL = "So the value is $\\boxed{9^{9^{9^{9}}}}$."
SLOW = "Expanding, $\\boxed{(x+y+z+1)^{40}}$."  # passes the checks; sympy needs minutes

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


def _math_verify_verdict(row: dict) -> str:
    if row.get("finish_reason") in TRUNCATED_REASONS:
        return "truncated"  # a harness drops cut-off responses before grading, as we do
    try:
        correct = math_verify_correct(row["response"], row["gold"])
    except Exception:  # math-verify raising on a row is its verdict "error"
        return "error"
    return {None: "no_answer", True: "correct", False: "wrong"}[correct]


def bench_math_verify(rows: list[dict]) -> tuple[float, list[str]]:
    start = time.perf_counter()
    verdicts = [_math_verify_verdict(row) for row in rows]
    return len(rows) / (time.perf_counter() - start), verdicts


def bench_ours(rows: list[dict], workers: int) -> tuple[float, list[str]]:
    start = time.perf_counter()
    verdicts = [row["verdict"] for row in grade_rows((dict(r) for r in rows), workers=workers)]
    return len(rows) / (time.perf_counter() - start), verdicts


def _agree(label: str, verdict: str) -> bool:
    """Verdicts must match the label; a peer case's ``not_correct`` (their label says "not
    equivalent", not how it fails) is met by any verdict but ``correct``."""
    return verdict == label or (label == "not_correct" and verdict != "correct")


def _agreement(rows: list[dict], verdicts: list[str]) -> float:
    return sum(_agree(r["label"], v) for r, v in zip(rows, verdicts, strict=True)) / len(rows)


def _by_source(rows: list[dict], verdicts: list[str]) -> str:
    sources = sorted({r["source"] for r in rows})
    parts = []
    for source in sources:
        pairs = [(r, v) for r, v in zip(rows, verdicts, strict=True) if r["source"] == source]
        agree = sum(v == r["label"] for r, v in pairs)
        parts.append(f"{source} {agree}/{len(pairs)}")
    return ", ".join(parts)


def peer_rows(path: str) -> list[dict]:
    """The peer's cases as labelled rows: label 1 is ``correct``, 0 ``not_correct``."""
    return [
        {
            "response": c["pred"],
            "gold": c["gold"],
            "label": "correct" if c["label"] else "not_correct",
        }
        for c in read_cases([path])
    ]


def compare(name: str, rows: list[dict], workers: int, misses: bool) -> None:
    mv_rate, mv_verdicts = bench_math_verify(rows)
    our_rate, our_verdicts = bench_ours(rows, workers)
    print(f"{name}: {len(rows)} rows")
    for grader, rate, verdicts in (
        ("math-verify parse+verify, 1 process", mv_rate, mv_verdicts),
        (f"dart grade_rows, {workers} workers      ", our_rate, our_verdicts),
    ):
        agree = _agreement(rows, verdicts)
        detail = f" ({_by_source(rows, verdicts)})" if "source" in rows[0] else ""
        print(f"  {grader}: {rate:8.0f} items/s, agreement {agree:.1%}{detail}")
    print(f"  speed-up: {our_rate / mv_rate:.1f}x")
    if misses:
        for row, ours, theirs in zip(rows, our_verdicts, mv_verdicts, strict=True):
            if not _agree(row["label"], ours) or not _agree(row["label"], theirs):
                print(
                    f"  label={row['label']} dart={ours} math-verify={theirs} "
                    f"gold={row['gold'][-40:]!r} response={row['response'][-70:]!r}"
                )


def pathological(workers: int) -> None:
    """5,000 copies of one pathological answer plus 5,000 mixed rows, timed: one that the
    structure check refuses, and one that only a timeout stops (decided once per run)."""
    mixed = generated(5000, seed=1)
    for answer, gold in ((PATHOLOGICAL, "1"), (SLOW, "(x+y+z+2)^{40}")):
        rows = [{"response": answer, "gold": gold}] * 5000 + mixed
        start = time.perf_counter()
        graded = list(grade_rows((dict(r) for r in rows), workers=workers))
        seconds = time.perf_counter() - start
        verdicts = collections.Counter(f"{r['verdict']} ({r['reason']})" for r in graded[:5000])
        agree = _agreement(mixed, [r["verdict"] for r in graded[5000:]])
        print(
            f"pathological: 5,000 x {answer!r} + 5,000 mixed rows, {workers} workers: "
            f"{seconds:.1f} s; pathological rows: {dict(verdicts)}; mixed agreement {agree:.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="generated responses")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--only",
        choices=["suite", "independent", "generated", "pathological", "peer"],
        action="append",
    )
    parser.add_argument("--peer-tests", help="a peer grader's test files or folder (for peer)")
    parser.add_argument("--misses", action="store_true", help="list rows either grader misses")
    args = parser.parse_args()
    only = set(args.only or ["suite", "independent", "generated", "pathological"])
    if args.peer_tests:
        only.add("peer")
    elif "peer" in only:
        parser.error("--only peer needs --peer-tests")
    data = {
        "suite": ("labelled suite", suite),
        "independent": ("independent labels", independent_rows),
        "generated": (f"generated ({args.n})", lambda: generated(args.n)),
        "peer": ("peer suite (math-verify's tests)", lambda: peer_rows(args.peer_tests)),
    }
    for key, (name, make) in data.items():
        if key in only:
            compare(name, make(), args.workers, args.misses and key != "generated")
    if "pathological" in only:
        pathological(args.workers)


if __name__ == "__main__":
    main()
