"""Extraction: brace matching, box forms, GSM8K, answer-is, choices, strictness."""

import pytest

from dart.answers import MAX_BRACE_DEPTH, AnswerTooComplex, last_boxed
from dart.grade.extract import choice_letter, extract_answer, gold_answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\boxed{1}", "1"),
        ("a \\boxed{1} b \\boxed{2}", "2"),
        ("\\boxed{\\frac{1}{\\sqrt{2}}}", "\\frac{1}{\\sqrt{2}}"),
        ("\\boxed{\\{1,2\\}}", "\\{1,2\\}"),
        ("\\boxed 5 apples", "5"),
        ("\\fbox{7}", "7"),
        ("\\boxed{3} and \\fbox{4}", "4"),
        ("\\boxed{6} then \\boxed{7", None),
        ("\\boxedx{6} then", None),
        ("\\boxed{6} then \\boxedx", "6"),
        ("no box", None),
    ],
)
def test_last_boxed(text, expected):
    assert last_boxed(text) == expected


def test_deep_nesting_is_refused():
    with pytest.raises(AnswerTooComplex):
        last_boxed("\\boxed{" + "{" * (MAX_BRACE_DEPTH + 1) + "}" * (MAX_BRACE_DEPTH + 1) + "}")


@pytest.mark.parametrize(
    ("text", "answer", "source"),
    [
        ("so $\\boxed{4}$.", "4", "boxed"),
        ("48/2 = 24\n#### 72", "72", "gsm8k"),
        ("The answer is 3.5.", "3.5", "answer_is"),
        ("The final answer is $\\frac{1}{2}$. I hope it is correct.", "\\frac{1}{2}", "answer_is"),
        ("Final answer: 17", "17", "answer_is"),
    ],
)
def test_extract_answer(text, answer, source):
    found = extract_answer(text)
    assert (found.text, found.source) == (answer, source)


def test_strict_mode_never_guesses_the_last_number():
    assert extract_answer("5 and 7 make 12") is None
    lenient = extract_answer("5 and 7 make 12", lenient=True)
    assert lenient.text == "12" and "lenient" in lenient.source


def test_gold_answer_reduces_solutions():
    assert gold_answer("Natalia sold 24 in May.\n#### 72") == "72"
    assert gold_answer("So the area is $\\boxed{6}$.") == "6"
    assert gold_answer("  3 ") == "3"


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("B", "B"),
        ("(c)", "C"),
        ("\\text{(D)}", "D"),
        ("E. 12", "E"),
        ("12", None),
        ("Bob", None),
        # an option letter in arithmetic is a variable (grader 1.3.1); an option then its value
        ("\\text{(B)} + 1", None),
        ("(B)+1", None),
        ("B - 1", None),
        ("(B)-1", None),
        ("B \\cdot 2", None),
        ("B^2", None),
        ("(B) -3", "B"),
        ("D) 12", "D"),
    ],  # fmt: skip
)
def test_choice_letter(text, letter):
    assert choice_letter(text) == letter


def test_option_letter_in_arithmetic_is_not_the_option():
    from dart.grade import grade

    wrong = grade("So the answer is $\\boxed{\\text{(B)} + 1}$.", "\\text{(B)}")
    assert wrong.verdict == "wrong"
    right = grade("So the answer is $\\boxed{\\text{(B)}}$.", "\\text{(B)}")
    assert right.verdict == "correct"
