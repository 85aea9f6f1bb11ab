"""Ingest 15,000 queries (MATH train + GSM8K train sized, generated in their real schemas).

Prints wall time and peak RSS of `dart queries` for each source, run as the pipeline runs
it (a fresh process), and of the two together. Target: under 20 s in all.

    python bench/bench_ingest.py
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LEVEL_COUNTS = {1: 565, 2: 1349, 3: 1592, 4: 1690, 5: 2304}  # MATH train, 7,500
GSM8K_ROWS = 7473
SUBJECTS = ("Algebra", "Counting & Probability", "Geometry", "Number Theory", "Prealgebra")


def math_rows(rng: random.Random):
    n = 0
    for level, count in LEVEL_COUNTS.items():
        for _ in range(count):
            n += 1
            a, b = rng.randint(1, 10**6), rng.randint(1, 999)
            body = " ".join(
                rng.choice(("Let", "$x$", "be", "the", "value", "of")) for _ in range(60)
            )
            yield {
                "problem": f"Problem {n}: {body} Compute $\\frac{{{a}}}{{{b}}} + {n}$.",
                "solution": f"{body} so the answer is $\\boxed{{\\frac{{{a + n * b}}}{{{b}}}}}$.",
                "level": f"Level {level}",
                "type": rng.choice(SUBJECTS),
            }


def gsm8k_rows(rng: random.Random):
    for n in range(GSM8K_ROWS):
        a, b = rng.randint(1, 5000), rng.randint(1, 5000)
        body = " ".join(
            rng.choice(("Janet", "has", "ducks", "eggs", "sells", "each")) for _ in range(50)
        )
        yield {
            "question": f"Question {n}: {body} {a} and {b}. How many?",
            "answer": f"{body}\n{a}+{b}=<<{a}+{b}={a + b}>>{a + b}\n#### {a + b:,}",
        }


def run(args: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(
        [sys.executable, "-m", "dart.cli", "queries", *args], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        with open(d / "math.jsonl", "w") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in math_rows(rng))
        with open(d / "gsm8k.jsonl", "w") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in gsm8k_rows(rng))
        t_math, m_math = run(
            [str(d / "math.jsonl"), "--format", "math", "-o", str(d / "math.parquet")]
        )
        t_gsm, m_gsm = run(
            [
                str(d / "gsm8k.jsonl"),
                "--format",
                "gsm8k",
                "-o",
                str(d / "gsm8k.parquet"),
                "--dedupe-against",
                str(d / "math.parquet"),
            ]
        )
    total = t_math + t_gsm
    print(f"math  (7,500 rows):  {t_math:6.2f} s  peak RSS {m_math:6.0f} MiB")
    print(
        f"gsm8k (7,473 rows):  {t_gsm:6.2f} s  peak RSS {m_gsm:6.0f} MiB (deduplicated against math)"
    )
    print(
        f"total 14,973 rows:   {total:6.2f} s  (target < 20 s) -> {'PASS' if total < 20 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
