"""What math-verify's second opinion costs inside ``dart evaluate score`` at MATH-test size.

Builds a benchmark of ``--n`` items (default 5,000, MATH test's size) with responses whose
answers are known by construction (bench_grade.generated: the MATH-style answer forms,
filler reasoning, 10% without an answer, 40% wrong; 5% cut by the length limit), then runs
``dart evaluate score`` on it once with the second opinion and once without, and prints
our scoring's time, math-verify's time and the counts.

    .venv/bin/python bench/bench_second_opinion.py --n 5000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "grade"))

from bench_grade import generated  # noqa: E402

from dart.cli import main  # noqa: E402
from dart.evaluate.items import build_table  # noqa: E402


def build(folder: Path, n: int, seed: int) -> None:
    rows = generated(n, seed=seed)
    rng = random.Random(seed)
    records = [{"question": f"Problem {i}: ...", "gold": r["gold"], "answer_kind": "math",
                "level": rng.randint(1, 5)} for i, r in enumerate(rows)]  # fmt: skip
    table = build_table(records, benchmark="math", kind="math")
    table.write_parquet(folder / "math.parquet")
    finish = ["length" if rng.random() < 0.05 else "stop" for _ in rows]
    pl.DataFrame({"item_id": table["item_id"], "response": [r["response"] for r in rows],
                  "finish_reason": finish}).write_parquet(folder / "math.gen.parquet")  # fmt: skip


def score(folder: Path, workers: int, second: str) -> tuple[dict, float]:
    argv = ["evaluate", "score", "--generations", str(folder / "math.gen.parquet"),
            "--benchmark", str(folder / "math.parquet"), "--benchmark-name", "math",
            "--model-name", "m", "--workers", str(workers), "--second-opinion", second,
            "-o", str(folder / f"{second}.json"), "--items", str(folder / f"{second}.items.jsonl")]  # fmt: skip
    start = time.perf_counter()
    assert main(argv) == 0
    wall = time.perf_counter() - start
    return json.loads((folder / f"{second}.json").read_text()), wall


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build(folder, args.n, args.seed)
        off, wall_off = score(folder, args.workers, "none")
        on, wall_on = score(folder, args.workers, "math-verify")
    mv = on["math_verify"]
    print(f"items {args.n}, workers {args.workers}")
    print(
        f"score without second opinion: {wall_off:.1f} s wall (grading {off['scoring_seconds']:.1f} s)"
    )
    print(f"score with math-verify:       {wall_on:.1f} s wall (grading {on['scoring_seconds']:.1f} s, "
          f"math-verify {mv['seconds']:.1f} s = {mv['seconds'] / on['scoring_seconds']:.2f}x ours)")  # fmt: skip
    print(f"accuracy: dart {on['accuracy']:.4f}, math-verify {mv['accuracy']:.4f}; "
          f"disagree {mv['disagree']}; math-verify verdicts {mv['verdicts']}")  # fmt: skip


if __name__ == "__main__":
    run()
