"""Assembly bench: a 2,000,000-row verified pool into a 600,000-row Uniform dataset.

Writes a synthetic pool (15,000 queries x ~133 trials over 10 rounds x 8 shards,
responses of 600-1,800 characters), then runs ``dart assemble`` (dataset, stats, card,
plots, provenance records) in a child process and reports its wall time and peak RSS.

    .venv/bin/python bench/bench_assemble.py --pool /tmp/dart-bench-pool
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

N_QUERIES, ROUNDS, SHARDS = 15_000, 10, 8


def make_pool(root: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    words = np.array(
        [
            "the",
            "of",
            "let",
            "so",
            "we",
            "find",
            "x",
            "y",
            "sum",
            "root",
            "prime",
            "then",
            "thus",
            "answer",
            "boxed",
            "frac",
        ]
    )
    corpus = " ".join(rng.choice(words, size=60_000))
    qids = [f"{i:016x}" for i in range(N_QUERIES)]
    pl.DataFrame({
        "query_id": qids, "source": ["math"] * N_QUERIES,
        "query": [f"Problem {i}: compute something." for i in range(N_QUERIES)],
        "gold": ["1"] * N_QUERIES, "level": pl.Series(rng.integers(1, 6, N_QUERIES), dtype=pl.Int64),
    }).write_parquet(root / "queries.parquet")  # fmt: skip
    per_query = rows // N_QUERIES
    per_round = -(-per_query // ROUNDS)
    for rnd in range(ROUNDS):
        lo, hi = rnd * per_round, min(per_query, (rnd + 1) * per_round)
        trial = np.tile(np.arange(lo, hi), N_QUERIES)
        q = np.repeat(np.arange(N_QUERIES), hi - lo)
        frame = pl.DataFrame({"query_id": np.array(qids)[q], "trial": trial}).with_columns(
            sample_id=pl.format("{}-{}", "query_id", "trial"), seed=pl.col("trial") * 7919,
            round=pl.lit(rnd), shard=(pl.col("trial") % SHARDS), gold=pl.lit("1"), level=pl.lit(3),
            kind=pl.lit("math"),
            response=pl.lit(corpus).str.slice(pl.Series(rng.integers(0, 500_000, len(q))),
                                              pl.Series(rng.integers(600, 1800, len(q)))),
            finish_reason=pl.lit("stop"), prompt_tokens=pl.lit(80), completion_tokens=pl.lit(300),
            gen_seconds=pl.lit(0.02), template=pl.lit("t"), template_version=pl.lit("tmpl-1"),
            model=pl.lit("m"), extracted=pl.lit("1"), verdict=pl.lit("correct"),
            reason=pl.lit("correct"), grader_version=pl.lit("g-1"),
            correct=pl.Series(rng.random(len(q)) < 0.5),
        )  # fmt: skip
        for s in range(SHARDS):
            d = root / f"round{rnd}" / "verified"
            d.mkdir(parents=True, exist_ok=True)
            frame.filter(pl.col("shard") == s).write_parquet(d / f"shard{s}.parquet")


def child(root: Path) -> None:
    from dart.datasets import cli as assemble_cli

    ap = argparse.ArgumentParser()
    assemble_cli.add_arguments(ap)
    out = root / "out"
    args = ap.parse_args([
        "--queries", str(root / "queries.parquet"),
        "--verified", *map(str, sorted(root.glob("round*/verified/shard*.parquet"))),
        "--recipe-json", '{"recipe": "uniform", "k": 40}', "--name", "bench-uniform",
        "--cap", "2048", "-o", str(out / "bench-uniform.parquet"), "--card", str(out / "README.md"),
        "--stats", str(out / "stats.json"), "--plots", str(out),
    ])  # fmt: skip
    t0 = time.perf_counter()
    assemble_cli.run(args)
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pool", type=Path, default=Path("/tmp/dart-bench-pool"))
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.pool)
    if not (args.pool / "queries.parquet").exists():
        args.pool.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        make_pool(args.pool, args.rows)
        print(f"wrote pool in {time.perf_counter() - t0:.0f}s")
    files = sorted(args.pool.glob("round*/verified/shard*.parquet"))
    rows = sum(pl.scan_parquet(f).select(pl.len()).collect().item() for f in files)
    size = sum(f.stat().st_size for f in files) / 2**30
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--pool", str(args.pool), "--child"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    inner = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
    out = (
        pl.scan_parquet(args.pool / "out" / "bench-uniform.parquet")
        .select(pl.len())
        .collect()
        .item()
    )
    print(f"pool {rows:,d} rows in {len(files)} files ({size:.2f} GiB) -> dataset {out:,d} rows")
    print(
        f"dart assemble: {inner:.1f}s (process {wall:.1f}s incl. imports), peak RSS {peak:.2f} GiB"
    )


if __name__ == "__main__":
    main()
