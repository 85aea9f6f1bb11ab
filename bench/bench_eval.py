"""Benchmark evaluation: CPU engine throughput on an embedded benchmark, and scoring
throughput against math-verify on the same responses, in one run.

1. Greedy generation with the ``transformers`` engine (the embedded SmolLM2 folder, made
   by ``dart model embedded:smollm2 -o /tmp/smollm2``) on the ``generated`` and
   ``word-problems`` benchmarks: items/s, real (non-padding) completion tokens/s, mean
   and max tokens, truncated and no-answer shares, accuracy by level.
2. Scoring of those responses (repeated ``--score-repeat`` times for a stable rate):
   ``dart.evaluate.scoring.score_rows`` (our grader plus the benchmark rule) beside
   math-verify in the same bounded worker pool (``grade_rows(grader="math-verify")``),
   with their agreement on correct/not.

    python bench/bench_eval.py --model /tmp/smollm2 --n 60 --max-new-tokens 256

One engine thread by default: on a shared, loaded 2-core machine two OpenMP threads
collapsed to 1.4 tokens/s (threads spinning at barriers while the other is descheduled)
where one thread gave 38 tokens/s on the same requests (measured 2026-12-01, load ~9).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter

import polars as pl

from dart.engines import get_engine
from dart.evaluate.benchmarks import load_benchmark
from dart.evaluate.generation import generate_responses, resolve_template
from dart.evaluate.results import metrics
from dart.evaluate.scoring import score_rows
from dart.grade import grade_rows


def generate(engine, kind: str, args, workdir: str) -> tuple[list[dict], dict]:
    items, _ = load_benchmark(kind, "", n=args.n)
    template = resolve_template(args.template, kind)
    out = os.path.join(workdir, f"{kind}.gen.parquet")
    start, cpu = time.perf_counter(), time.process_time()
    stats = generate_responses(items, engine, template, args.max_new_tokens, out, chunk_size=args.n)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    gen = pl.read_parquet(out)
    rows = items.join(gen, on="item_id", maintain_order="left").to_dicts()
    figures = {
        "items": items.height,
        "template": template.name,
        "engine_seconds": stats["engine_seconds"],
        "wall_seconds": round(wall, 2),
        "items_per_s": stats["rows_per_s"],
        "real_tokens_per_s": stats["tokens_per_s"],
        # CPU seconds of this process (all threads): a figure the machine's load does not skew
        "cpu_seconds": round(cpu, 1),
        "items_per_cpu_s": round(items.height / cpu, 3),
        "real_tokens_per_cpu_s": round(stats["completion_tokens"] / cpu, 2),
        "mean_completion_tokens": round(gen["completion_tokens"].mean(), 1),
        "max_completion_tokens": int(gen["completion_tokens"].max()),
        "finish_reasons": dict(Counter(gen["finish_reason"])),
    }
    return rows, figures


def score(rows: list[dict], workers: int, repeat: int) -> dict:
    many = [{**r, "item_id": f"{r['item_id']}#{k}"} for k in range(repeat) for r in rows]
    start = time.perf_counter()
    ours = list(score_rows(many, options={"tolerance": "strict"}, workers=workers))
    ours_s = time.perf_counter() - start
    theirs_in = [{"response": r["response"], "gold": r["gold"],
                  "finish_reason": r["finish_reason"]} for r in many]  # fmt: skip
    start = time.perf_counter()
    theirs = list(grade_rows(theirs_in, workers=workers, grader="math-verify"))
    theirs_s = time.perf_counter() - start
    agree = sum(
        (a["verdict"] == "correct") == (b["verdict"] == "correct")
        for a, b in zip(ours, theirs, strict=True)
    )
    once = ours[: len(rows)]
    result = metrics(once)
    return {
        "rows_scored": len(many),
        "ours_items_per_s": round(len(many) / ours_s, 1),
        "math_verify_items_per_s": round(len(many) / theirs_s, 1),
        "agreement": round(agree / len(many), 4),
        "math_verify_correct": sum(t["verdict"] == "correct" for t in theirs[: len(rows)]),
        "accuracy": result["accuracy"],
        "wilson95": result["wilson95"],
        "reasons": result["reasons"],
        "accuracy_by_level": {k: v["accuracy"] for k, v in result["by_level"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="/tmp/smollm2")
    parser.add_argument("--benchmarks", nargs="+", default=["generated", "word-problems"])
    parser.add_argument("--n", type=int, default=60, help="items per benchmark")
    parser.add_argument("--template", default="base-few-shot")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1, help="1: see the module docstring")
    parser.add_argument("--batch", type=int, default=64, help="engine batch slots")
    parser.add_argument("--workers", type=int, default=2, help="grader processes")
    parser.add_argument("--score-repeat", type=int, default=20)
    parser.add_argument("--workdir", default="/tmp/bench-eval")
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    start = time.perf_counter()
    engine = get_engine("transformers", args.model, threads=args.threads, batch_size=args.batch)
    report = {"load_seconds": round(time.perf_counter() - start, 2),
              "load_average_at_start": os.getloadavg()[0]}  # fmt: skip
    for kind in args.benchmarks:
        rows, figures = generate(engine, kind, args, args.workdir)
        figures["scoring"] = score(rows, args.workers, args.score_repeat)
        report[kind] = figures
    report["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
