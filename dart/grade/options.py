"""The grader's command-line options, defined once for every verb that grades.

``dart grade``, ``dart pool verify`` and ``dart evaluate score`` all take ``--workers``,
``--timeout`` and ``--memory-mb`` from here, with the same meaning, default and range
check (a bad value stops the verb at parse time with a message naming the option):

    parser = argparse.ArgumentParser(); add_grader_options(parser)
    grade_rows(rows, **grader_options(parser.parse_args(["--timeout", "5"])))
"""

from __future__ import annotations

import argparse

from dart.grade.workers import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT
from dart.options import RANGES, at_least

MIN_MEMORY_MB = 64


def add_grader_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--workers``, ``--timeout`` and ``--memory-mb`` to a verb's parser."""
    parser.add_argument(
        "--workers",
        type=RANGES["workers"],
        default=None,
        help="grader worker processes (default: all cores)",
    )
    parser.add_argument(
        "--timeout",
        type=RANGES["timeout"],
        default=DEFAULT_TIMEOUT,
        help="seconds per graded item (default %(default)s)",
    )
    parser.add_argument(
        "--memory-mb",
        type=at_least(MIN_MEMORY_MB),
        default=DEFAULT_MEMORY_MB,
        help="address-space limit per grader worker, MiB (default %(default)s)",
    )


def grader_options(args: argparse.Namespace) -> dict:
    """The parsed options as ``grade_rows`` keywords."""
    return {"workers": args.workers, "timeout": args.timeout, "memory_mb": args.memory_mb}
