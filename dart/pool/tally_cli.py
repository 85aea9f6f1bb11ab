"""``dart tally``: add one round's verified shards to the cumulative per-query tally.

    dart tally --previous results/pool/smollm2/round0/tally.parquet \\
        --verified results/pool/smollm2/round1/verified/shard*.parquet \\
        --queries data/queries/gsm8k.parquet -o results/pool/smollm2/round1/tally.parquet
"""

from __future__ import annotations

import argparse
import logging

from dart.inputs import read_table, table_columns
from dart.lineage.records import write_parquet_atomic, write_record
from dart.pool.tally import SCHEMA, empty_tally, read_verified, update_tally
from dart.queries.table import read_queries

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--previous", help="tally of the previous round (absent in round 0)")
    p.add_argument("--verified", nargs="*", default=[], help="this round's verified shards")
    p.add_argument("--queries", nargs="*", default=[], help="queries parquet (fills `source`)")
    p.add_argument("-o", "--output", required=True, help="tally.parquet")


def run(args: argparse.Namespace) -> int:
    previous = read_table(args.previous, tuple(SCHEMA), "tally") if args.previous else None
    for path in args.verified:
        table_columns(path, "verified shard")
    queries = read_queries(args.queries) if args.queries else None
    rows = read_verified(args.verified)
    tally = (
        update_tally(previous, rows, queries)
        if rows.height
        else (previous if previous is not None else empty_tally())
    )
    write_parquet_atomic(tally, args.output)
    inputs = [*([args.previous] if args.previous else []), *args.verified, *args.queries]
    write_record(args.output, step="tally", params={"shards": len(args.verified)},
                 inputs=inputs, rows=tally.height)  # fmt: skip
    log.info("tally: %d queries, %d trials, %d correct", tally.height,
             int(tally["trials"].sum()), int(tally["correct"].sum()))  # fmt: skip
    return 0
