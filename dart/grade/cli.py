"""``dart grade``: grade a JSONL file of responses, or compare our grader with math-verify.

    dart grade responses.jsonl -o graded.jsonl --workers 2 --timeout 5
    dart grade --compare math-verify responses.jsonl

Rows need ``response`` and ``gold`` (optional ``query``, ``kind``, ``finish_reason``);
each is written back with ``extracted``, ``verdict``, ``reason``, ``grader_version``. A row
whose text is not valid Unicode (invalid UTF-8 bytes, a ``\\ud800`` escape, a NUL byte) gets
an ``error`` verdict; every other row is still graded and written.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from dart.errors import DartError
from dart.grade.compare import describe, differences
from dart.grade.options import add_grader_options
from dart.grade.workers import default_workers, grade_rows
from dart.inputs import read_jsonl


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="JSONL file of rows with 'response' and 'gold'")
    parser.add_argument("-o", "--output", help="graded JSONL file (required unless --compare)")
    add_grader_options(parser)
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="fall back to the last number when no answer is marked (named in the reason)",
    )
    parser.add_argument(
        "--compare",
        choices=["math-verify"],
        help="list rows where math-verify's verdict differs from ours",
    )


def read_rows(path: str) -> Iterator[dict]:
    """Rows of a JSONL file, one at a time (:func:`dart.inputs.read_jsonl`, bad UTF-8
    bytes kept so that such a row gets an ``error`` verdict instead of failing the file);
    DartError naming the file and line for a row without ``response`` or ``gold``."""
    for number, row in read_jsonl(path, "rows to grade", keep_bad_bytes=True):
        for key in ("response", "gold"):
            if key not in row:
                raise DartError(f"{path}: row {number}: no {key!r} field")
        yield row


def json_line(row: dict) -> str:
    """One JSONL line; text that is not valid Unicode (lone surrogates) is written as
    JSON escapes, so the file stays valid UTF-8 and the row round-trips."""
    line = json.dumps(row, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(row, ensure_ascii=True)
    return line + "\n"


def summary(counts: collections.Counter) -> str:
    """``graded N rows: correct 5 (boxed:numeric 4, ...); wrong 2 (...)``."""
    by_verdict: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for (verdict, reason), n in counts.items():
        by_verdict[verdict][reason] += n
    parts = []
    for verdict, reasons in sorted(by_verdict.items(), key=lambda kv: -sum(kv[1].values())):
        detail = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common())
        parts.append(f"{verdict} {sum(reasons.values())} ({detail})")
    return f"graded {sum(counts.values())} rows: " + "; ".join(parts)


def _grade_file(args) -> int:
    counts: collections.Counter = collections.Counter()
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{args.output}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            rows = grade_rows(
                read_rows(args.input), **_pool_options(args), progress=sys.stderr.isatty()
            )
            for row in rows:
                counts[row["verdict"], row["reason"]] += 1
                out.write(json_line(row))
    except OSError as exc:
        if exc.filename or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, args.output) from exc  # a full disk: name it
    os.replace(tmp, args.output)
    print(summary(counts))
    return 0


def _pool_options(args) -> dict:
    workers = args.workers or default_workers()
    if args.compare:
        workers = max(1, workers // 2)  # two pools run side by side
    return {
        "workers": workers,
        "timeout": args.timeout,
        "memory_mb": args.memory_mb,
        "lenient": args.lenient,
    }


def _compare(args) -> int:
    options = _pool_options(args)
    seen = collections.Counter()

    def counted(rows):
        for row in rows:
            seen["rows"] += 1
            yield row

    ours = counted(grade_rows(read_rows(args.input), **options))
    theirs = grade_rows(read_rows(args.input), **options, grader="math-verify")
    for index, mine, other in differences(ours, theirs):
        seen["differ"] += 1
        print(describe(index, mine, other))
    print(f"compared {seen['rows']} rows with math-verify: {seen['differ']} differ")
    return 0


def run(args) -> int:
    if args.compare:
        return _compare(args)
    if not args.output:
        raise DartError("dart grade: -o/--output is required (or use --compare)")
    try:
        return _grade_file(args)
    finally:
        leftover = f"{args.output}.tmp{os.getpid()}"
        if os.path.exists(leftover):
            os.remove(leftover)
