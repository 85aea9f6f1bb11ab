"""math-verify as a second opinion: grade rows with it and list where it disagrees.

math-verify's own ``parse`` + ``verify`` (default extraction: LaTeX and plain
expressions) run inside our bounded workers, with the sympy guard installed: its plain-
expression extractor hands text to sympy's ``parse_expr``, which the guard limits to
numerals there, so untrusted rows stay safe (and such answers count as not parsed).

    dart grade --compare math-verify responses.jsonl
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version

from dart.grade.extract import gold_answer
from dart.grade.grader import TRUNCATED_REASONS, GradeTimeout, time_bound
from dart.grade.verdict import CORRECT, ERROR, NO_ANSWER, TIMEOUT, TRUNCATED, WRONG, Verdict

try:
    MATH_VERIFY_VERSION = f"math-verify {version('math-verify')}"
except (
    PackageNotFoundError
):  # importing dart (e.g. for `dart train` on a GPU image) needs no grader
    MATH_VERIFY_VERSION = "math-verify not installed"


def math_verify_correct(response: str, gold: str, *, timeouts: bool = True) -> bool | None:
    """math-verify's verdict as its README uses it; None when it extracts nothing.

    ``timeouts=False`` turns off math-verify's own SIGALRM timers (the caller bounds time).
    """
    from math_verify import grader, parse, parser, verify

    seconds = 5 if timeouts else None
    if not timeouts:  # we bound time ourselves; silence its warning about that
        parser.TIMEOUT_WARNING_SHOWN = grader.TIMEOUT_WARNING_SHOWN = True
    gold_parsed = parse(f"${gold_answer(str(gold))}$", parsing_timeout=seconds)
    answer = parse(str(response), parsing_timeout=seconds)
    if not answer:
        return None
    return bool(verify(gold_parsed, answer, timeout_seconds=seconds))


def math_verify_grade(
    response: str, gold, *, kind=None, query=None, finish_reason=None, lenient=False, timeout=None
) -> Verdict:
    """A Verdict from math-verify, bounded like ours (kind, query and lenient are unused)."""
    if finish_reason in TRUNCATED_REASONS:
        return Verdict(TRUNCATED, f"finish_reason={finish_reason}", None, MATH_VERIFY_VERSION)
    try:
        with time_bound(timeout):
            correct = math_verify_correct(response, gold, timeouts=False)
    except GradeTimeout:
        return Verdict(TIMEOUT, "timeout", None, MATH_VERIFY_VERSION)
    except Exception as exc:  # its failures are recorded, not raised
        return Verdict(ERROR, f"error: {type(exc).__name__}", None, MATH_VERIFY_VERSION)
    if correct is None:
        return Verdict(NO_ANSWER, "no_answer", None, MATH_VERIFY_VERSION)
    return Verdict(CORRECT if correct else WRONG, "math-verify", None, MATH_VERIFY_VERSION)


def differences(ours: Iterable[dict], theirs: Iterable[dict]) -> Iterator[tuple[int, dict, dict]]:
    """(row index, our row, their row) for every row whose verdicts differ."""
    for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
        if mine["verdict"] != other["verdict"]:
            yield index, mine, other


def describe(index: int, mine: dict, other: dict, width: int = 80) -> str:
    """One line for the compare listing."""

    def short(text) -> str:
        text = " ".join(str(text).split())
        return text if len(text) <= width else "..." + text[-width:]

    return (
        f"row {index + 1}: dart={mine['verdict']} ({mine['reason']}) "
        f"math-verify={other['verdict']} extracted={short(mine['extracted'])!r} "
        f"gold={short(mine['gold'])!r}"
    )
