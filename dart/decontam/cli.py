"""``dart decontam``: flag the queries that overlap a benchmark item (see :mod:`overlap`).

    dart decontam --queries data/queries/gsm8k.parquet data/queries/math.parquet \\
        --benchmarks data/benchmarks/math.parquet data/benchmarks/gsm8k.parquet --ngram 13 \\
        -o data/decontam/gsm8k.parquet --stats data/decontam/gsm8k.stats.json
"""

from __future__ import annotations

import argparse
import logging

from dart.decontam.overlap import decontaminate, read_benchmark
from dart.decontam.version import DECONTAM_VERSION
from dart.lineage.records import write_json_atomic, write_parquet_atomic, write_record
from dart.options import RANGES
from dart.queries.table import read_queries

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--queries", nargs="+", required=True, help="queries parquet file(s)")
    p.add_argument("--benchmarks", nargs="+", required=True, help="benchmark parquet files")
    p.add_argument("--ngram", type=RANGES["ngram"], default=13,
                   help="n of the word n-grams (default 13)")  # fmt: skip
    p.add_argument("--min-overlap", type=RANGES["min_overlap"], default=1,
                   help="shared distinct n-grams that flag a query (default 1)")  # fmt: skip
    p.add_argument("--numbers-must-agree", action=argparse.BooleanOptionalAction, default=True,
                   help="an n-gram hit counts only when the numbers of the query and the item "
                        "agree (one within the other, in order; default on)")  # fmt: skip
    p.add_argument("-o", "--output", required=True, help="flagged rows: data/decontam/S.parquet")
    p.add_argument(
        "--stats", required=True, help="counts per benchmark: data/decontam/S.stats.json"
    )


def run(args: argparse.Namespace) -> int:
    queries = read_queries(args.queries)
    benchmarks = [read_benchmark(p) for p in args.benchmarks]
    flagged, stats = decontaminate(
        queries,
        benchmarks,
        n=args.ngram,
        min_overlap=args.min_overlap,
        numbers=args.numbers_must_agree,
    )
    stats["files"] = {"queries": list(args.queries), "benchmarks": list(args.benchmarks)}
    write_parquet_atomic(flagged, args.output)
    write_json_atomic(stats, args.stats)
    params = {"ngram": args.ngram, "min_overlap": args.min_overlap,
              "numbers_must_agree": args.numbers_must_agree, "version": DECONTAM_VERSION}  # fmt: skip
    inputs = [*args.queries, *args.benchmarks]
    write_record(args.output, step="decontam", params=params, inputs=inputs, rows=flagged.height,
                 extra={"per_benchmark": stats["per_benchmark"]})  # fmt: skip
    write_record(args.stats, step="decontam", params=params, inputs=[args.output, *inputs])
    log.info("%d of %d queries flagged (%s) in %.1f s", stats["flagged_queries"], queries.height,
             ", ".join(f"{b}: {c['flagged_queries']}" for b, c in stats["per_benchmark"].items()),
             stats["seconds"]["total"])  # fmt: skip
    return 0
