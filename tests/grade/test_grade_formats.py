"""Answer formats of published harnesses and reasoning models (grader 1.2, issue 11)."""

import pytest

from dart.grade import grade
from dart.grade.extract import extract_answer, reference_parts
from dart.grade.sentences import own_turn

MINERVA = "Final Answer: The final answer is {}. I hope it is correct."


@pytest.mark.parametrize(
    ("response", "answer", "source"),
    [
        (MINERVA.format("$100$"), "100", "answer_is"),
        ("The final answer is $100$. I hope it is correct.", "100", "answer_is"),
        ("Final Answer: The final answer is $3$", "3", "answer_is"),
        (MINERVA.format(r"\(\frac{1}{2}\)") + "<|im_start|>user", r"\frac{1}{2}", "answer_is"),
        ("Final Answer: The largest $n$ is 34.", "34", "final_sentence"),
        ("**Final Answer:** 17", "17", "answer_is"),
        ("Final answer:\n42", "42", "answer_is"),
        ("The answer is not 5; it is 6.", "6", "answer_is"),
        ("The answer is 6, not 5.", "6", "answer_is"),
        ("I first thought the answer is 8, but it is actually 9.", "9", "answer_is"),
        ("The answer is 7 rather than 8.", "7", "answer_is"),
        ("The answer is $1,250.", "1,250", "answer_is"),
        ("The answer is 5 + 7 = 12.", "12", "answer_is"),
        ("-12", "-12", "bare"),
        ("$\\frac{3}{8}$", "\\frac{3}{8}", "bare"),
        (" 0.375. ", "0.375", "bare"),
        ("So she spent $1,250 in total.", "1,250", "closing_sentence"),
        ("Therefore, the angle is 60°.", "60°", "closing_sentence"),
        ("Thus the sum is $-\\frac{b}{a} = -3$.", "-3", "closing_sentence"),
        ("The total is 12", "12", "closing_sentence"),
        ("The product of the two numbers is 2*17 = 32.", "32", "closing_sentence"),
        ("10 - 6 = 4", "4", "bare"),
        ("So, the answer is $3 \\times 6 = 18$.", "18", "answer_is"),
        ("The answer is: 4\n\nThe answer is just a nice example of a method.", "4", "answer_is"),
        ("The answer is 5.\n#### 6", "6", "gsm8k"),
        ("#### 6\nThe answer is 5.", "5", "answer_is"),
    ],
)
def test_extraction_of_harness_styles(response, answer, source):
    found = extract_answer(response)
    assert (found.text, found.source) == (answer, source)


@pytest.mark.parametrize(
    "response",
    [
        "The answer is not 5.",
        "We get 5 apples, then 7 more.",
        "I need to set up 2x = 10",
        "\\boxed{}",
        "The candidates are 3 and 5.",
        "What is $8 + 8$?",
        "The answer is already provided.",
        "The answer is 5. Hmm, the answer is not 5.",
        "Your final answer is twice the last answer.",
    ],
)
def test_no_answer_stays_no_answer(response):
    assert extract_answer(response) is None


def test_own_turn_drops_invented_turns_and_keeps_text_after_think():
    assert own_turn("\\boxed{4}<|im_end|><|im_start|>user\n\\boxed{7}") == "\\boxed{4}"
    assert own_turn("<|im_start|>assistant\nThe answer is 5").strip() == "The answer is 5"
    assert own_turn("<think>\\boxed{3}</think> so \\boxed{4}") == " so \\boxed{4}"
    assert own_turn("<think>unfinished \\boxed{3}") == "<think>unfinished \\boxed{3}"


@pytest.mark.parametrize(
    ("reference", "parts"),
    [("(2,2),(6,2)", 2), ("\\{1,2,3\\}", 3), ("\\pm 2", 2), ("1,234", 1), ("11,\\! 111", 1)],
)
def test_reference_parts(reference, parts):
    assert reference_parts(reference) == parts


@pytest.mark.parametrize(
    ("response", "gold", "verdict"),
    [
        ("\\boxed{(2, 2)} and \\boxed{(6, 2)}", "(2, 2), (6, 2)", "correct"),
        ("\\boxed{(6, 2)} and \\boxed{(2, 2)}", "(2, 2), (6, 2)", "correct"),
        ("\\boxed{(2, 2)} and \\boxed{(6, 3)}", "(2, 2), (6, 2)", "wrong"),
        ("\\boxed{1},\\boxed{2},\\boxed{3}", "1,2,3", "correct"),
        ("\\boxed{1},\\boxed{2}", "1,2,3", "wrong"),
        ("\\boxed{k = 45} and \\boxed{n = 2}", "k = 45, n = 2", "correct"),
        ("\\boxed{2} then \\boxed{3}", "3", "correct"),  # one-part reference: the last box
        ("\\boxed{2} then \\boxed{3}", "2", "wrong"),
    ],
)
def test_several_boxes_against_a_several_part_reference(response, gold, verdict):
    assert grade(response, gold, timeout=30).verdict == verdict


@pytest.mark.parametrize(
    ("response", "gold", "verdict"),
    [
        ("\\boxed{14{,}916}", "14916", "correct"),
        ("\\boxed{14916}", "14{,}916", "correct"),
        ("\\boxed{11,\\! 111,\\! 100}", "11111100", "correct"),
        ("\\boxed{11111100}", "11,\\! 111,\\! 100", "correct"),
        ("\\boxed{25\\%}", "25", "correct"),
        ("\\boxed{25}", "25\\%", "correct"),
        ("The answer is 28 pct.", "28\\%", "correct"),
        ("\\boxed{5 \\text{ m}}", "5\\text{ cm}", "wrong"),
        ("\\boxed{5}", "5\\text{ cm}", "correct"),
        ("So the total is $1,250.", "1250", "correct"),
        ("\\boxed{3}", "We have $x+1=4$, so $\\boxed{3}$.", "correct"),
        ("\\boxed{\\{1,2,3\\}}", "The set is $\\fbox{$\\{1,2,3\\}$}$.", "correct"),
    ],
)
def test_issue_examples(response, gold, verdict):
    assert grade(response, gold, timeout=30).verdict == verdict
