"""The worker pool: order, fields, streaming, bad rows, version."""

import itertools

import pytest

from dart.errors import DartError
from dart.grade import GRADER_VERSION, grade_rows
from dart.grade.workers import CHUNK_SIZE


def _rows(n):
    for i in range(n):
        yield {"id": i, "response": f"so \\boxed{{{i % 7}}}", "gold": str(i % 5), "extra": [i]}


def test_order_fields_and_version_are_kept():
    graded = list(grade_rows(_rows(500), workers=2))
    assert [row["id"] for row in graded] == list(range(500))
    assert all(row["extra"] == [row["id"]] for row in graded)
    assert all(row["grader_version"] == GRADER_VERSION for row in graded)
    expected = ["correct" if i % 7 == i % 5 else "wrong" for i in range(500)]
    assert [row["verdict"] for row in graded] == expected


def test_input_is_streamed_not_read_whole():
    consumed = itertools.count()

    def source():
        for row in _rows(1_000_000):
            next(consumed)
            yield row

    stream = grade_rows(source(), workers=2)
    first = next(stream)
    stream.close()
    assert first["id"] == 0
    assert next(consumed) <= 2 * CHUNK_SIZE * 4 + 1


def test_truncated_rows_are_not_graded_correct():
    rows = [{"response": "\\boxed{4}", "gold": "4", "finish_reason": "length"}]
    (row,) = grade_rows(rows, workers=1)
    assert row["verdict"] == "truncated"


@pytest.mark.parametrize(
    "row", [{"response": "x"}, {"gold": "1"}, {"response": "x", "gold": "1", "kind": "poem"}]
)
def test_bad_rows_raise_dart_error(row):
    with pytest.raises(DartError, match="row 0"):
        list(grade_rows([row], workers=1))
