"""Grade one response against its reference answer: prepare (extract, check), then decide.

``prepare`` is pure string work; ``decide`` (equivalence, maybe sympy) is what runs under
the per-item bound, and a ``Decision`` is what a run caches.

python -c "from dart.grade import grade; print(grade('So \\\\boxed{\\\\frac{1}{2}}.', '0.5'))"
"""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from dart.answers import AnswerTooComplex
from dart.grade.equivalence import canonical_kind, equivalent
from dart.grade.extract import extract_answer, gold_answer, reference_parts
from dart.grade.normalize import asks_for_percent
from dart.grade.numbers import read_number
from dart.grade.safety import InvalidText, UnsafeAnswer, check_answer, check_text
from dart.grade.sentences import is_relation
from dart.grade.symbolic import _library
from dart.grade.verdict import CORRECT, ERROR, NO_ANSWER, TIMEOUT, TRUNCATED, WRONG, Verdict
from dart.grade.version import GRADER_VERSION

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


@dataclass(frozen=True)
class Decision:
    """What equivalence is decided on: the same Decision always gets the same outcome, so a
    run decides each one once (``key``, keyed by the grader version too)."""

    answer: str
    reference: str
    kind: str
    percent_question: bool

    @property
    def key(self) -> tuple:
        return (GRADER_VERSION, self.answer, self.reference, self.kind, self.percent_question)


@dataclass(frozen=True)
class Prepared:
    """A response whose answer was found and passed the checks; it waits for a Decision."""

    source: str
    decision: Decision


def prepare(
    response: str, gold, *, kind="math", query=None, finish_reason=None, lenient=False
) -> Verdict | Prepared:
    """Everything but the equivalence decision: truncation, invalid text, extraction and
    the refusals; a final Verdict, or a Prepared item to decide. Pure string work."""
    if finish_reason in TRUNCATED_REASONS:
        return Verdict(TRUNCATED, f"finish_reason={finish_reason}")
    if response is None or gold is None:  # JSON null: an error of this row, not of a worker
        return Verdict(ERROR, f"null {'response' if response is None else 'reference'}")
    kind = canonical_kind(kind)
    response, gold = str(response or ""), "" if gold is None else str(gold)
    extracted = None
    try:
        check_text(response, "response")
        check_text(gold, "reference")
        reference = gold_answer(gold)
        extraction = extract_answer(
            response,
            lenient=lenient,
            parts=reference_parts(reference),
            relation=is_relation(reference),
        )
        if extraction is None:
            return Verdict(NO_ANSWER, "no_answer")
        extracted = extraction.text[:200]
        check_answer(extraction.text)
        check_answer(reference)
    except InvalidText as exc:
        return Verdict(ERROR, f"error: invalid text: {exc}")
    except (UnsafeAnswer, AnswerTooComplex) as exc:
        return Verdict(ERROR, f"refused: {exc}", extracted)
    percent = asks_for_percent(query)
    return Prepared(extraction.source, Decision(extraction.text, reference, kind, percent))


def decide(decision: Decision, timeout: float | None = None) -> tuple[str, str]:
    """(outcome, rule or reason) of one Decision, bounded by ``timeout`` in the main thread.

    The symbolic library's one-time import and warm-up (trusted, fixed inputs) runs before
    the timer starts, so the first symbolic item of a process is not charged for it.
    """
    if read_number(decision.answer) is None or read_number(decision.reference) is None:
        _library()
    try:
        with time_bound(timeout):
            equal, rule = equivalent(
                decision.answer,
                decision.reference,
                kind=decision.kind,
                percent_question=decision.percent_question,
            )
    except GradeTimeout:
        return TIMEOUT, f"timeout after {timeout:g}s"
    except Exception as exc:  # a grader bug must not stop a batch; it is recorded
        log.debug("grading failed", exc_info=True)
        return ERROR, f"error: {type(exc).__name__}"
    return (CORRECT if equal else WRONG), rule


def verdict_of(prepared: Prepared, outcome: str, detail: str) -> Verdict:
    """The Verdict of a prepared item once its Decision has an outcome."""
    answer = prepared.decision.answer
    if outcome in (CORRECT, WRONG):
        return Verdict(outcome, f"{prepared.source}:{detail}", answer)
    return Verdict(outcome, detail, answer[:200])


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
    ``grade_rows``, which also bounds memory, survives a crash of the grader and decides
    each distinct (answer, reference) pair once.
    """
    try:
        with time_bound(timeout):
            prepared = prepare(
                response,
                gold,
                kind=kind,
                query=query,
                finish_reason=finish_reason,
                lenient=lenient,
            )
    except GradeTimeout:
        return Verdict(TIMEOUT, f"timeout after {timeout:g}s")
    if isinstance(prepared, Verdict):
        return prepared
    return verdict_of(prepared, *decide(prepared.decision, timeout))
