"""Range-checked option types for the verbs' argparse parsers.

A bad value stops the verb at parse time with argparse's usage line and a message that
names the option: ``dart grade --workers -1`` says ``argument --workers: must be at
least 1, got -1`` instead of hanging. (``flag`` is kept for callers that parse by hand.)

One option name has one meaning and one range in every verb (issue 14 item 10):

| option | meaning | range |
|---|---|---|
| ``--n`` | items or questions to generate (embedded types) | >= 1 |
| ``--limit`` | read at most this many rows ("" = no limit) | >= 1 |
| ``--workers`` | grader processes | >= 1 |
| ``--threads`` | CPU threads | >= 1 |
| ``--batch-size``, ``--chunk-size`` | batch slots, rows per resumable chunk | >= 1 |
| ``--gpus`` | GPUs | >= 0 |
| ``--seed`` | a seed | >= 0 |
| ``--timeout`` | seconds per item | > 0, finite |
| ``--memory-mb`` | address-space limit per grader process | >= 64 |
| ``--ngram``, ``--min-overlap``, ``--cap``, ``--max-new-tokens`` | counts | >= 1 |

    parser.add_argument("--workers", type=at_least(1, "--workers"))
    parser.add_argument("--timeout", type=above(0, "--timeout"))
    parser.add_argument("--limit", type=optional(at_least(1, "--limit")))
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def at_least(low: int, flag: str) -> Callable[[str], int]:
    """An integer >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def above(low: float, flag: str) -> Callable[[str], float]:
    """A finite number > ``low``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not value > low or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be above {low:g}, got {text}")
        return value

    return parse


def finite(flag: str) -> Callable[[str], float]:
    """Any finite number (NaN and infinities refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        return value

    return parse


def optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    """``parse``, except that the empty string (what rules pass for a null) means None."""

    def parse_optional(text: str) -> T | None:
        return parse(text) if text.strip() else None

    return parse_optional
