"""Grade one response against its reference answer: extract, then compare.

python -c "from dart.grade import grade; print(grade('So \\\\boxed{\\\\frac{1}{2}}.', '0.5'))"
"""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager

from dart.grade.equivalence import canonical_kind, equivalent
from dart.grade.extract import AnswerTooComplex, extract_answer, gold_answer
from dart.grade.safety import UnsafeAnswer, check_answer
from dart.grade.verdict import CORRECT, ERROR, NO_ANSWER, TIMEOUT, TRUNCATED, WRONG, Verdict

log = logging.getLogger(__name__)
TRUNCATED_REASONS = {"length", "max_tokens"}


class GradeTimeout(BaseException):
    """Raised by the item timer. A BaseException, so that library code that catches
    ``Exception`` (sympy, math-verify) cannot swallow it."""


@contextmanager
def time_bound(seconds: float | None):
    """Raise GradeTimeout in this (main) thread after ``seconds`` of wall time."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise GradeTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _judge(response: str, gold: str, kind: str, query, lenient: bool, seen: list) -> Verdict:
    extraction = extract_answer(response, lenient=lenient)
    if extraction is None:
        return Verdict(NO_ANSWER, "no_answer")
    seen.append(extraction.text)  # so that a timeout or an error still shows it
    check_answer(extraction.text)
    reference = gold_answer(gold)
    check_answer(reference)
    equal, rule = equivalent(extraction.text, reference, kind=kind, query=query)
    outcome = CORRECT if equal else WRONG
    return Verdict(outcome, f"{extraction.source}:{rule}", extraction.text)


def grade(
    response: str,
    gold,
    *,
    kind: str | None = "math",
    query: str | None = None,
    finish_reason: str | None = None,
    lenient: bool = False,
    timeout: float | None = None,
) -> Verdict:
    """Grade one response. Never raises for bad model text: that is an ``error`` verdict.

    ``timeout`` (seconds) bounds the item in the main thread only; batches should use
    ``grade_rows``, which also bounds memory and survives a crash of the grader.
    """
    if finish_reason in TRUNCATED_REASONS:
        return Verdict(TRUNCATED, f"finish_reason={finish_reason}")
    kind = canonical_kind(kind)
    gold = "" if gold is None else str(gold)
    seen: list[str] = []
    try:
        with time_bound(timeout):
            return _judge(str(response or ""), gold, kind, query, lenient, seen)
    except GradeTimeout:
        outcome, reason = TIMEOUT, f"timeout after {timeout:g}s"
    except (UnsafeAnswer, AnswerTooComplex) as exc:
        outcome, reason = ERROR, f"refused: {exc}"
    except Exception as exc:  # a grader bug must not stop a batch; it is recorded
        log.debug("grading failed", exc_info=True)
        outcome, reason = ERROR, f"error: {type(exc).__name__}"
    extracted = seen[0][:200] if seen else None
    return Verdict(outcome, reason, extracted)
