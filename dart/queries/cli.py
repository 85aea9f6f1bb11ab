"""``dart queries``: ingest one query source into a queries parquet file.

    dart queries train.jsonl --format gsm8k -o data/queries/gsm8k.parquet
    dart queries openai/gsm8k --subset main --format gsm8k -o data/queries/gsm8k.parquet
    dart queries mine.parquet --format table --columns query=problem gold=answer -o q.parquet
    dart queries mine.jsonl --format table --columns query=q gold=a pass_rate=p -o q.parquet
    dart queries 7 --format generated --n 400 -o data/queries/generated.parquet

Writes OUT, OUT.prov.json and (with --stats) a stats JSON; nothing on error.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from dart.errors import DartError
from dart.lineage.records import write_json_atomic, write_parquet_atomic, write_record
from dart.options import RANGES, at_least, optional
from dart.queries.formats import FORMATS
from dart.queries.ingest import ingest

log = logging.getLogger(__name__)


COLUMN_KEYS = ("query", "gold", "level", "subject", "id", "pass_rate")


def _mapping(items: list[str], source: str, name: str) -> dict[str, str]:
    """``--columns KEY=COLUMN ...`` as a mapping; a bad item is a DartError naming the
    source file and the config key the rule took the mapping from."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in COLUMN_KEYS:
            raise DartError(
                f"{source}: --columns (config key queries.{name}.columns): expected "
                f"KEY=COLUMN with KEY in {', '.join(COLUMN_KEYS)}; got {item!r}"
            )
        out[key] = value
    return out


def _optional(text: str) -> str | None:
    """An optional value; the empty string (as rules pass it) means none."""
    return text or None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="a local file, a hub dataset id, or the generator's seed")
    parser.add_argument("--format", required=True, choices=FORMATS, help="source format")
    parser.add_argument("-o", "--output", required=True, help="output parquet file")
    parser.add_argument("--name", help="source name recorded in rows (default: output stem)")
    parser.add_argument("--split", default="train", help="hub dataset split")
    parser.add_argument("--subset", type=_optional, help="hub dataset configuration name")
    parser.add_argument("--revision", type=_optional, help="hub dataset revision")
    parser.add_argument(
        "--columns", nargs="*", default=[], metavar="KEY=COL", help="column mapping (table)"
    )
    parser.add_argument(
        "--n", type=RANGES["n"], default=400, help="questions to generate (generated)"
    )
    parser.add_argument("--limit", type=RANGES["limit"], help="read at most this many rows")
    parser.add_argument(
        "--max-chars",
        type=optional(at_least(1)),
        help="longest query in characters (empty: no limit)",
    )
    parser.add_argument(
        "--too-long",
        choices=("skip", "error"),
        default="skip",
        help="a longer query is skipped (counted in the stats) or stops the run",
    )
    parser.add_argument("--dedupe-against", nargs="*", default=[], help="earlier queries files")
    parser.add_argument("--stats", help="write the stage's stats JSON here")


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    name = args.name or out.stem
    options = {
        "split": args.split,
        "subset": args.subset,
        "revision": args.revision,
        "columns": _mapping(args.columns, args.source, name),
        "n": args.n,
        "limit": args.limit,
        "max_chars": args.max_chars,
        "too_long": args.too_long,
    }
    frame, stats = ingest(
        args.format, args.source, name=name, options=options, dedupe_against=args.dedupe_against
    )
    write_parquet_atomic(frame, out)
    local = Path(args.source)
    inputs = ([local] if local.exists() else []) + [Path(p) for p in args.dedupe_against]
    params = {"format": args.format, "source": args.source, "name": name, **options}
    write_record(
        out, step="queries", params=params, inputs=inputs, rows=frame.height, extra={"stats": stats}
    )
    if args.stats:
        write_json_atomic(stats, args.stats)
    log.info(
        "%s: %d queries (%d read, %d duplicate within, %d across, %d too long) in %.2fs",
        out,
        stats["queries"],
        stats["rows_read"],
        stats["duplicates_within"],
        stats["duplicates_across"],
        stats["too_long"],
        stats["seconds"],
    )
    return 0
