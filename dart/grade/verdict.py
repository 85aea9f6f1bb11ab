"""The verdict of one graded item: what was extracted, the outcome and why.

python -c "from dart.grade import grade; print(grade('so \\\\boxed{4}', '4'))"
"""

from __future__ import annotations

from dataclasses import dataclass

from dart.grade.version import GRADER_VERSION

CORRECT = "correct"
WRONG = "wrong"
NO_ANSWER = "no_answer"
TRUNCATED = "truncated"
TIMEOUT = "timeout"
ERROR = "error"
OUTCOMES = (CORRECT, WRONG, NO_ANSWER, TRUNCATED, TIMEOUT, ERROR)


@dataclass(frozen=True)
class Verdict:
    """One grading outcome.

    ``verdict`` is one of OUTCOMES; ``reason`` says which rule decided it, prefixed
    with where the answer came from (``boxed:numeric``, ``last_number(lenient):wrong``).
    """

    verdict: str
    reason: str
    extracted: str | None = None
    grader_version: str = GRADER_VERSION

    @property
    def correct(self) -> bool:
        return self.verdict == CORRECT

    def as_fields(self) -> dict:
        """The fields a graded row gets."""
        return {
            "extracted": self.extracted,
            "verdict": self.verdict,
            "reason": self.reason,
            "grader_version": self.grader_version,
        }
