"""``dart verify``: grade one generation shard of the pool (see :mod:`verify`).

    dart verify results/pool/smollm2/round0/gen/shard0.parquet \\
        -o results/pool/smollm2/round0/verified/shard0.parquet --workers 2 --timeout 5
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from dart.errors import DartError
from dart.grade import GRADER_VERSION
from dart.grade.options import add_grader_options, grader_options
from dart.inputs import read_table, read_tables
from dart.lineage.records import write_parquet_atomic, write_record
from dart.pool.verify import verify_frame, with_engine_seconds

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("generated", help="a generation shard (parquet)")
    parser.add_argument("-o", "--output", required=True, help="verified shard (parquet)")
    parser.add_argument("--queries", nargs="*", default=[], help="queries parquet (question text)")
    add_grader_options(parser)


def run(args: argparse.Namespace) -> int:
    source = Path(args.generated)
    generated = read_table(source, (), "generation shard")
    queries = None
    if args.queries:
        keep = ("query_id", "query")
        queries = read_tables(args.queries, keep, "queries", lambda f: f.select(keep))
        queries = queries.unique("query_id", keep="first", maintain_order=True)
    generated = with_engine_seconds(generated, source)
    started = time.perf_counter()
    try:
        verified, counts = verify_frame(
            generated,
            **grader_options(args),
            queries=queries,
        )
    except DartError as exc:
        raise DartError(f"{source}: {exc}") from None
    write_parquet_atomic(verified, args.output)
    params = grader_options(args)
    write_record(
        args.output,
        step="verify",
        params={**params, "grader_version": GRADER_VERSION},
        inputs=[source, *args.queries],
        rows=verified.height,
        extra={"verdicts": counts},
    )
    seconds = time.perf_counter() - started
    log.info("%s: %d rows graded in %.1fs: %s", args.output, verified.height, seconds, counts)
    return 0
