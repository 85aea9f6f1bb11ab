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
    with pytest.raises(DartError, match="row 1: "):
        list(grade_rows([row], workers=1))


def test_identical_pairs_are_decided_once_per_run(caplog):
    """200 responses with one slow answer cost one decision (one timeout), not 200: the
    workers are sent 21 decisions for the 220 rows (the grader's own count)."""
    slow = "\\boxed{(x+y+z+1)^{40}}"  # sympy expands it: far beyond a 1 s bound
    rows = [{"response": f"Step {i}. So {slow}", "gold": "(x+y+z+2)^{40}"} for i in range(200)]
    rows += [{"response": f"\\boxed{{{i}}}", "gold": str(i)} for i in range(20)]
    with caplog.at_level("INFO", logger="dart.grade.workers"):
        graded = list(grade_rows(rows, workers=2, timeout=1))
    assert {r["verdict"] for r in graded[:200]} == {"timeout"}
    assert all(r["verdict"] == "correct" for r in graded[200:])
    assert "graded 220 row(s) with 21 decision(s) by the workers" in caplog.text


@pytest.mark.parametrize("position", [0, 3])
def test_a_none_row_is_an_error_not_the_end(position):
    """A None in the stream is a bad row (named), not the end of the input: the rows
    after it must not be dropped without a word."""
    rows = [{"response": "\\boxed{1}", "gold": "1"} for _ in range(6)]
    rows.insert(position, None)
    with pytest.raises(DartError, match=f"row {position + 1}: not an object"):
        list(grade_rows(rows, workers=1))


def test_cache_keys_hold_the_grader_version():
    from dart.grade.grader import Decision

    assert Decision("1", "1", "math", False).key[0] == GRADER_VERSION


def test_invalid_text_is_an_error_row_and_the_rest_is_graded():
    rows = [
        {"response": "\\boxed{2}\ud800", "gold": "2"},
        {"response": "\\boxed{2}", "gold": "2\x00"},
        {"response": "\\boxed{2}", "gold": "2"},
    ]
    graded = list(grade_rows(rows, workers=1))
    assert [r["verdict"] for r in graded] == ["error", "error", "correct"]
    assert "lone surrogate U+D800" in graded[0]["reason"]
    assert "reference holds a NUL byte" in graded[1]["reason"]
