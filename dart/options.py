"""Range-checked option types for the verbs' argparse parsers.

A bad value stops the verb at parse time with argparse's usage line and a message that
names the option: ``dart grade --workers -1`` says ``argument --workers: must be at
least 1, got -1`` instead of hanging. (``flag`` is kept for callers that parse by hand.)

    parser.add_argument("--workers", type=at_least(1, "--workers"))
    parser.add_argument("--timeout", type=above(0, "--timeout"))
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


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
        if not value > low or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be above {low:g}, got {text}")
        return value

    return parse
