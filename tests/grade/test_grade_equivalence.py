"""Rules the labelled suite relies on, stated one by one."""

import pytest

from dart.grade import grade
from dart.grade.equivalence import canonical_kind, equivalent
from dart.grade.numbers import read_number


def test_percent_reads_as_its_number_or_as_a_fraction_unless_a_percent_is_asked():
    assert not equivalent("0.5", "50")[0]
    assert not equivalent("50", "0.5")[0]
    assert equivalent("50\\%", "0.5")[0]
    assert equivalent("0.5", "50\\%")[0]
    assert equivalent("50\\%", "50")[0]
    assert equivalent("50", "50\\%")[0]
    assert equivalent("28 pct", "28\\%")[0] and equivalent("28 percent", "28\\%")[0]
    assert equivalent("50\\%", "50", query="What percent is shaded?")[0]
    assert not equivalent("0.5", "50\\%", query="What percent is shaded?")[0]
    assert not equivalent("0.5", "50", query="What percent is shaded?")[0]


def test_units_that_differ_are_wrong_and_a_unit_on_one_side_is_ignored():
    assert equivalent("5 \\text{ m}", "5\\text{ cm}") == (False, "unit")
    assert not equivalent("12\\text{ cm}^2", "12\\text{ m}^2")[0]
    assert equivalent("5\\text{ meters}", "5\\text{ m}")[0]
    assert equivalent("5", "5\\text{ cm}")[0] and equivalent("5\\text{ cm}", "5")[0]
    assert equivalent("36\\pi", "36\\pi \\text{ square units}")[0]


def test_thousands_separators_only_where_unambiguous():
    assert equivalent("1,234", "1234")[0]
    assert not equivalent("1,23", "123")[0]
    assert equivalent("1,234", "1234", kind="gsm8k")[0]
    assert read_number("1,234", thousands=False) is None


def test_booleans_are_whole_answers_not_substrings():
    assert grade("\\boxed{\\text{Yes}}", "yes").correct
    assert not grade("\\boxed{\\text{yes and no}}", "yes").correct
    assert not grade("\\boxed{\\text{not yes}}", "yes").correct


def test_sets_are_unordered_tuples_ordered():
    assert equivalent("\\{2,1\\}", "\\{1,2\\}")[0]
    assert not equivalent("(2,1)", "(1,2)")[0]


def test_kinds():
    assert canonical_kind(None) == "math"
    assert canonical_kind("multiple choice") == "multiple_choice"
    with pytest.raises(ValueError):
        canonical_kind("poetry")


def test_truncated_is_never_correct():
    verdict = grade("\\boxed{4}", "4", finish_reason="length")
    assert verdict.verdict == "truncated" and not verdict.correct
