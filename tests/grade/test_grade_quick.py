"""The float check on small exact forms: what it reads, what it leaves to sympy."""

import math

import pytest

from dart.grade.equivalence import equivalent
from dart.grade.quick import value_of, values_equal


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("\\frac{3\\pi}{4}", 3 * math.pi / 4),
        ("3\\sqrt{2}", 3 * math.sqrt(2)),
        ("\\sqrt[3]{8}", 2.0),
        ("-2^2", -4.0),
        ("2(3+1)", 8.0),
        ("2 \\cdot 3 \\times 4", 24.0),
        ("\\frac{\\sqrt{2}}{2}", math.sqrt(2) / 2),
    ],
)
def test_reads_small_exact_arithmetic(text, value):
    assert value_of(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(
    "text",
    ["x+1", "1.5", "\\frac12", "2^23", "2^{1000}", "\\sqrt{-4}", "1/0", "(1, 2)", "\\infty", ""],
)
def test_leaves_everything_else_to_sympy(text):
    assert value_of(text) is None


def test_decides_only_clear_cases():
    assert values_equal(1.0, 1.0 + 1e-14) is True
    assert values_equal(1.0, 1.1) is False
    assert values_equal(1.0, 1.0 + 1e-9) is None


@pytest.mark.parametrize(
    ("pred", "gold", "equal"),
    [
        ("6\\sqrt{2}", "\\sqrt{72}", True),
        ("\\frac{5}{7}\\pi", "\\frac{5\\pi}{7}", True),
        ("6\\sqrt{3}", "\\sqrt{72}", False),
        ("3.14", "\\pi", False),  # a decimal is left to sympy's rounding rules
    ],
)
def test_equivalence_uses_it(pred, gold, equal):
    assert equivalent(pred, gold)[0] is equal
