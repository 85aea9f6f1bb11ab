"""MATH references lose the math delimiters around them at ingestion (issue 11, item 4)."""

import pytest

from dart.errors import DartError
from dart.queries.formats import map_row, reference_text


@pytest.mark.parametrize(
    ("solution", "gold"),
    [
        ("The set is $\\fbox{$\\{1,2,3\\}$}$.", "\\{1,2,3\\}"),
        ("So $\\boxed{\\(x+1\\)}$.", "x+1"),
        ("It costs $\\boxed{\\$18.90}$.", "\\$18.90"),
        ("So $\\boxed{10,\\!000}$.", "10,\\!000"),
    ],
)
def test_math_reference_without_delimiters(solution, gold):
    row = map_row("math", {"problem": "p", "solution": solution}, "math.jsonl: row 1")
    assert row["gold"] == gold


def test_a_delimiter_left_inside_is_an_error_naming_the_row():
    with pytest.raises(DartError, match="math.jsonl: row 7: reference answer"):
        map_row("math", {"problem": "p", "solution": "\\boxed{$1$ or $2$}"}, "math.jsonl: row 7")
    with pytest.raises(DartError, match="row 8"):
        reference_text("a \\(b\\) c", "row 8")
