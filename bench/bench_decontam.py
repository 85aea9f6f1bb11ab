"""Decontamination bench: 15,000 queries against the six paper benchmarks' sizes.

Writes synthetic queries (7,500 MATH-like + 7,500 GSM8K-like) and six benchmark files
of the published sizes (MATH 5,000, GSM8K 1,319, CollegeMath 2,818, DeepMind
Mathematics 1,000, OlympiadBench 675, TheoremQA 800), with text of realistic length
(Zipf-drawn words, numbers and LaTeX; 20-120 words per question). 60 queries are planted:
20 exact copies of benchmark items (reformatted: case, spacing, ``\\dfrac``), 20 with a
copied 20-word span inside new text, 20 with a copied 10-word span (caught only at
n <= 10). Then ``dart decontam`` runs in a child process, as the rule runs it, and the
wall time, peak RSS and the planted queries found are printed.

    .venv/bin/python bench/bench_decontam.py --ngram 13
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

SIZES = {"math": 5000, "gsm8k": 1319, "collegemath": 2818, "deepmind-mathematics": 1000,
         "olympiadbench": 675, "theoremqa": 800}  # fmt: skip
WORDS = tuple(  # noqa: SIM905
    [
        "the",
        "of",
        "a",
        "is",
        "and",
        "to",
        "in",
        "let",
        "find",
        "what",
        "if",
        "how",
        "many",
        "$x$",
        "$y$",
        "$n$",
        "value",
        "sum",
        "number",
        "integers",
        "positive",
        "real",
        "function",
        "$f(x)$",
        "triangle",
        "area",
        "circle",
        "radius",
        "probability",
        "each",
        "has",
        "buys",
        "sells",
        "total",
        "more",
        "than",
        "less",
        "equal",
        "greater",
        "prime",
        "divisible",
        "remainder",
        "when",
        "divided",
        "by",
        "$\\frac{1}{2}$",
        "$x^2$",
        "$+$",
        "$-$",
        "$=$",
        ",",
        ".",
        "?",
        "compute",
        "determine",
        "smallest",
        "largest",
        "possible",
        "ordered",
        "pairs",
        "such",
        "that",
        "points",
        "line",
        "slope",
        "angle",
        "degrees",
        "dollars",
        "apples",
        "students",
        "percent",
        "cost",
        "per",
        "hour",
        "minutes",
        "speed",
        "distance",
        "rectangle",
        "square",
    ]
)


def sentences(rng: np.random.Generator, n: int, lo: int, hi: int) -> list[str]:
    weights = 1.0 / np.arange(1, len(WORDS) + 1)
    weights /= weights.sum()
    out = []
    for length in rng.integers(lo, hi, size=n):
        idx = rng.choice(len(WORDS), size=length, p=weights)
        words = [WORDS[i] if rng.random() > 0.15 else str(rng.integers(0, 1000)) for i in idx]
        out.append(" ".join(words))
    return out


def write_files(root: Path, seed: int = 0) -> tuple[list[Path], list[Path], set[str]]:
    rng = np.random.default_rng(seed)
    bench_files, items = [], []
    for name, size in SIZES.items():
        qs = sentences(rng, size, 20, 120)
        items += qs[:20]
        frame = pl.DataFrame({"item_id": [f"{name}-{i}" for i in range(size)], "question": qs,
                              "benchmark": [name] * size})  # fmt: skip
        path = root / f"{name}.parquet"
        frame.write_parquet(path)
        bench_files.append(path)
    queries = sentences(rng, 15_000, 20, 120)
    picks = rng.choice(len(items), size=60, replace=False)
    planted = {}
    for j, k in enumerate(picks):
        item = items[k].split()
        if j < 20:
            text = items[k].upper().replace(" ", "  ").replace("\\frac", "\\dfrac")
        elif j < 40:
            text = " ".join(["new", "words"] * 5 + item[:20] + ["tail"] * 5)
        else:
            text = " ".join(["new", "words"] * 5 + item[:10] + ["tail"] * 5)
        queries[j * 100] = text
        planted[f"q{j * 100:05d}"] = j // 20
    qframe = pl.DataFrame({"query_id": [f"q{i:05d}" for i in range(len(queries))],
                           "source": ["math"] * 7500 + ["gsm8k"] * 7500, "query": queries,
                           "gold": ["1"] * len(queries), "level": [None] * len(queries)},
                          schema_overrides={"level": pl.Int64})  # fmt: skip
    half = len(queries) // 2
    qfiles = [root / "math-q.parquet", root / "gsm8k-q.parquet"]
    qframe[:half].write_parquet(qfiles[0])
    qframe[half:].write_parquet(qfiles[1])
    return qfiles, bench_files, planted


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ngram", type=int, default=13)
    ap.add_argument("--workdir", help="where to write the files (default: a temporary folder)")
    args = ap.parse_args(argv)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="dart-bench-decontam-"))
    root.mkdir(parents=True, exist_ok=True)
    qfiles, bfiles, planted = write_files(root)
    out, stats = root / "out.parquet", root / "out.stats.json"
    cmd = [sys.executable, "-m", "dart.cli", "decontam", "--queries", *map(str, qfiles),
           "--benchmarks", *map(str, bfiles), "--ngram", str(args.ngram), "-o", str(out),
           "--stats", str(stats)]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    found = set(pl.read_parquet(out)["query_id"].to_list())
    by_kind = [sum(1 for q, k in planted.items() if k == kind and q in found) for kind in range(3)]
    s = json.loads(stats.read_text())
    print(f"queries 15,000; benchmark items {sum(SIZES.values()):,}; n = {args.ngram}")
    print(
        f"dart decontam wall {wall:.2f} s (index {s['seconds']['index']:.2f} s, "
        f"in-process total {s['seconds']['total']:.2f} s); peak RSS {rss:.0f} MiB"
    )
    print(
        f"planted found: exact copies {by_kind[0]}/20, 20-word spans {by_kind[1]}/20, "
        f"10-word spans {by_kind[2]}/20; flagged queries in all {s['flagged_queries']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
