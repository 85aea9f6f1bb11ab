"""Answer grading: extraction, normalisation, equivalence, and a bounded worker pool.

    dart grade responses.jsonl -o graded.jsonl --workers 2 --timeout 5

``grade`` grades one response in this process; ``grade_rows`` grades a stream of rows
in worker processes with per-item time and memory bounds.
"""

from dart.grade.grader import grade
from dart.grade.verdict import OUTCOMES, Verdict
from dart.grade.version import GRADER_VERSION
from dart.grade.workers import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, grade_rows

__all__ = [
    "DEFAULT_MEMORY_MB",
    "DEFAULT_TIMEOUT",
    "GRADER_VERSION",
    "OUTCOMES",
    "Verdict",
    "grade",
    "grade_rows",
]
