"""``dart benchmark``: read one benchmark into the common item table.

    dart benchmark gsm8k openai/gsm8k -o data/benchmarks/gsm8k.parquet
    dart benchmark math /data/MATH/test.jsonl -o data/benchmarks/math.parquet
    dart benchmark theoremqa theoremqa.json -o data/benchmarks/theoremqa.parquet
    dart benchmark generated 1007 --n 100 -o data/benchmarks/generated.parquet

TYPE is a registered benchmark (dart.evaluate.benchmarks.REGISTRY); SOURCE a hub id, a
local file in the published schema, or the generator seed of an embedded type ("" = the
registry default). Writes OUT, OUT.prov.json and OUT's stem + ``.stats.json`` (n,
published size, size warning); nothing on error.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from dart.evaluate.benchmarks import REGISTRY, load_benchmark
from dart.lineage.records import write_json_atomic, write_parquet_atomic, write_record
from dart.options import RANGES

log = logging.getLogger(__name__)


def _optional(text: str) -> str | None:
    """An optional value; the empty string (as rules pass it) means none."""
    return text or None


def stats_path(output: str | Path) -> Path:
    """``data/benchmarks/NAME.parquet`` -> ``data/benchmarks/NAME.stats.json``."""
    out = Path(output)
    return out.with_name(out.stem + ".stats.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("type", choices=REGISTRY, metavar="TYPE", help=", ".join(REGISTRY))
    parser.add_argument(
        "source", nargs="?", default="", help="hub id, local file, or generator seed"
    )
    parser.add_argument("-o", "--output", required=True, help="output parquet file")
    parser.add_argument("--name", help="benchmark name recorded in rows (default: output stem)")
    parser.add_argument("--split", type=_optional, help="hub split (default: the registry's)")
    parser.add_argument("--subset", type=_optional, help="hub configuration name")
    parser.add_argument("--revision", type=_optional, help="hub dataset revision")
    parser.add_argument("--limit", type=RANGES["limit"], help="read at most this many items")
    parser.add_argument(
        "--n", type=RANGES["n"], default=100, help="items to generate (embedded types)"
    )


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    name = args.name or out.stem
    opts = {
        "split": args.split,
        "subset": args.subset,
        "revision": args.revision,
        "limit": args.limit,
        "n": args.n,
    }
    frame, stats = load_benchmark(args.type, args.source, name=name, **opts)
    write_parquet_atomic(frame, out)
    local = Path(stats["source"])
    write_record(
        out,
        step="benchmark",
        params={"type": args.type, "source": stats["source"], "name": name, **opts},
        inputs=[local] if local.exists() else [],
        rows=frame.height,
        extra={"stats": stats},
    )
    write_json_atomic(stats, stats_path(out))
    log.info("%s: %d items of %s from %s", out, frame.height, args.type, stats["source"])
    return 0
