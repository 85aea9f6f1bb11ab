"""Every labelled case of the suite, graded in-process by ``dart.grade.grade``."""

import collections

import pytest

from dart.grade import grade

from .labelled_suite import suite

CASES = suite()


def test_suite_is_large_and_covers_every_category():
    counts = collections.Counter(row["category"] for row in CASES)
    assert len(CASES) >= 300
    assert min(counts.values()) >= 10, counts
    assert {row["label"] for row in CASES} == {"correct", "wrong", "no_answer", "truncated"}


@pytest.mark.parametrize("row", CASES, ids=[f"{r['category']}-{i}" for i, r in enumerate(CASES)])
def test_labelled_case(row):
    verdict = grade(
        row["response"],
        row["gold"],
        kind=row.get("kind"),
        query=row.get("query"),
        finish_reason=row.get("finish_reason"),
        timeout=5,
    )
    assert verdict.verdict == row["label"], verdict
