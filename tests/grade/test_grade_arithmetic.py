"""The one LaTeX-arithmetic evaluator: what each mode reads, what it leaves to sympy."""

import math

import pytest

from dart.grade.arithmetic import exact_value, numeric_value, values_equal
from dart.grade.equivalence import equivalent


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("\\frac{3\\pi}{4}", 3 * math.pi / 4),
        ("3\\sqrt{2}", 3 * math.sqrt(2)),
        ("\\sqrt[3]{8}", 2.0),
        ("-2^2", -4.0),
        ("2 \\cdot 3 \\times 4", 24.0),
        ("\\frac{\\sqrt{2}}{2}", math.sqrt(2) / 2),
        ("\\frac12", 0.5),
    ],
)
def test_exact_mode_reads_small_exact_arithmetic(text, value):
    assert exact_value(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(
    "text",
    [
        "x+1",
        "1.5",
        "2^23",
        "2^{1000}",
        "\\sqrt{-4}",
        "1/0",
        "(1, 2)",
        "\\infty",
        "",
        "4e-05",
        # implicit products that latex2sympy may read as a mixed number: sympy decides
        "2\\frac{1}{2}",
        "2(3+1)",
        "(2)(3)",
    ],
)
def test_exact_mode_leaves_everything_else_to_sympy(text):
    assert exact_value(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234", 1234.0),
        ("-0.5", -0.5),
        ("1.5e-3", 0.0015),
        ("4e-05", 4e-05),  # TheoremQA's typed floats: "-05" was a Python syntax error
        ("1.28E-6", 1.28e-06),
        ("3.5e+08", 3.5e08),
        ("12.5e3", 12500.0),  # was read as 1 * 2.5e3
        ("$\\frac{\\sqrt{3}}{2}$", math.sqrt(3) / 2),
        ("2\\sqrt{3}", 2 * math.sqrt(3)),
        ("\\dfrac{\\pi}{2}", math.pi / 2),
        ("3^{2}", 9.0),
        ("50\\%", 0.5),
        ("\\sqrt[3]{8}", 2.0),
        ("5 \\text{ m}", 5.0),
        ("30^\\circ", 30.0),
        ("2\\frac{1}{2}", 2.5),  # a mixed number, as the grader reads it
        ("0.\\overline{3}", 1 / 3),
        ("4 \\times 10^{-5}", 4e-05),
    ],
)
def test_numeric_mode_values(text, value):
    assert numeric_value(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text", ["x+1", "(1,2)", "\\{1,2\\}", "__import__('os')", "2**2**99", "1/0", "a.b", ""]
)
def test_numeric_mode_non_numbers_are_none_never_evaluated(text):
    assert numeric_value(text) is None


def test_decides_only_clear_cases():
    assert values_equal(1.0, 1.0 + 1e-14) is True
    assert values_equal(1.0, 1.1) is False
    assert values_equal(1.0, 1.0 + 1e-9) is None
    assert values_equal(2.0**60, 2.0**60 + 1) is None  # beyond float exactness


@pytest.mark.parametrize(
    ("pred", "gold", "equal"),
    [
        ("6\\sqrt{2}", "\\sqrt{72}", True),
        ("\\frac{5}{7}\\pi", "\\frac{5\\pi}{7}", True),
        ("6\\sqrt{3}", "\\sqrt{72}", False),
        ("3.14", "\\pi", False),  # a decimal is left to sympy's rounding rules
        ("2\\frac{1}{2}", "\\frac{5}{2}", True),  # 1.2 read it as a product: wrong
        ("-1\\frac{3}{4}", "-1.75", True),
        ("2\\frac{1}{2}", "1", False),
    ],
)
def test_equivalence_uses_it(pred, gold, equal):
    assert equivalent(pred, gold)[0] is equal
