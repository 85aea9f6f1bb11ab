"""Untrusted text: nothing is evaluated, and pathological answers are bounded."""

import pytest
import sympy

from dart.grade import grade, grade_rows
from dart.grade.safety import UnsafeEvaluation, install_sympy_guard


def _payloads(marker):
    shell = f"__import__('os').system('touch {marker}')"
    write = f"open('{marker}', 'w').write('x')"
    return [shell, write, f'exec("{write}")', f'eval("{shell}")', f"x + {shell}"]


def _rows(marker):
    rows = []
    for code in _payloads(marker):
        rows.append({"response": f"\\boxed{{{code}}}", "gold": "1"})
        rows.append({"response": f"The answer is {code}", "gold": "2"})
        rows.append({"response": "\\boxed{1}", "gold": code})
        rows.append({"response": f"#### {code}", "gold": "3", "kind": "gsm8k"})
    return rows


def test_payloads_are_not_evaluated_by_our_grader(tmp_path):
    marker = tmp_path / "pwned"
    graded = list(grade_rows(_rows(marker), workers=1, timeout=2))
    assert not marker.exists()
    assert all(row["verdict"] in {"wrong", "no_answer", "error"} for row in graded)
    for row in _rows(marker):  # and in-process, without the worker pool
        grade(row["response"], row["gold"], kind=row.get("kind"))
    assert not marker.exists()


def test_payloads_are_not_evaluated_by_the_math_verify_comparison(tmp_path):
    marker = tmp_path / "pwned"
    list(grade_rows(_rows(marker), workers=1, timeout=2, grader="math-verify"))
    assert not marker.exists()


def test_sympy_guard_refuses_code_but_keeps_numerals(tmp_path):
    marker = tmp_path / "pwned"
    install_sympy_guard()
    with pytest.raises((UnsafeEvaluation, sympy.SympifyError)):
        sympy.sympify(f"__import__('os').system('touch {marker}')")
    assert not marker.exists()
    assert sympy.Number("12") == 12 and sympy.sympify("1.5") == sympy.Float("1.5")


PATHOLOGICAL = {
    "tower": ("\\boxed{9^{9^{9^{9}}}}", {"timeout", "error"}),
    "braces": ("\\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}", {"error"}),
    "digits": ("\\boxed{" + "7" * 1_000_000 + "}", {"error"}),
    "answer_is_digits": ("The answer is " + "7" * 1_000_000, {"error"}),
    "def": ("\\boxed{\\def\\x{\\x\\x}\\x}", {"error"}),
    "newcommand": ("\\boxed{\\newcommand{\\a}{1}\\a}", {"error"}),
}


def test_pathological_answers_are_bounded_and_the_batch_goes_on():
    rows = []
    for name, (response, _) in PATHOLOGICAL.items():
        rows += [
            {"response": response, "gold": "1", "name": name},
            {"response": "\\boxed{2}", "gold": "2"},
        ]
    graded = list(grade_rows(rows, workers=2, timeout=1))
    assert len(graded) == len(rows)
    for bad, good in zip(graded[::2], graded[1::2], strict=True):
        assert bad["verdict"] in PATHOLOGICAL[bad["name"]][1], bad["reason"]
        assert good["verdict"] == "correct"


def test_memory_bound_turns_a_huge_allocation_into_error_or_timeout():
    rows = [
        {"response": "\\boxed{10^{10^{10}}}", "gold": "1"},
        {"response": "\\boxed{3}", "gold": "3"},
    ]
    graded = list(grade_rows(rows, workers=1, timeout=2, memory_mb=1024))
    assert graded[0]["verdict"] in {"error", "timeout"}
    assert graded[1]["verdict"] == "correct"


@pytest.mark.parametrize(
    "answer",
    [
        "9^{9^{9^{9}}}",
        "10^{10^{10}}",
        "2^{10^{9}}",
        "(x+1)^{10^{9}}",
        "\\begin{pmatrix}1&1\\\\1&0\\end{pmatrix}^{100000}",
        "100000!",
        "(10^{6})!",
        "\\binom{100000}{50000}",
        # issue 14 item 9: sizes that paid the full timeout before 1.3
        "10^{-10^{9}}",
        "10^{-10^{5}}",
        "2^{-10^{7}}",
        "0.5^{10^{9}}",
        "x^{-10^{9}}",
        "\\frac{1}{10^{-10^{9}}}",
        "\\binom{10^{9}}{k}",
        "\\binom{10^{9}}{10^{9}-2}",
        "\\binom{1000000000}{5000}",
        "\\binom{10^{12}}{n}",
    ],
)
def test_answers_too_large_to_decide_are_refused_by_structure(answer):
    verdict = grade(f"\\boxed{{{answer}}}", "1")
    assert verdict.verdict == "error" and verdict.reason.startswith("refused: too large"), verdict


@pytest.mark.parametrize(
    ("answer", "gold"),
    [
        ("2^{10}", "1024"),
        ("2^{100}", "2^{100}"),
        ("3!", "6"),
        ("\\binom{10^{6}}{2}", "499999500000"),
        ("10^{-3}", "0.001"),
        ("2^{-10}", "\\frac{1}{1024}"),
        ("\\binom{10^{9}}{2}", "499999999500000000"),
        ("\\binom{n}{2}", "\\frac{n(n-1)}{2}"),
    ],
)
def test_ordinary_powers_and_factorials_are_still_decided(answer, gold):
    assert grade(f"\\boxed{{{answer}}}", gold, timeout=30).verdict == "correct"


def test_five_thousand_copies_of_a_pathological_answer_finish_fast():
    import time

    rows = [{"response": "\\boxed{9^{9^{9^{9}}}}", "gold": "1"}] * 5000
    start = time.perf_counter()
    graded = list(grade_rows([dict(r) for r in rows], workers=2, timeout=2))
    assert {r["verdict"] for r in graded} == {"error"}
    assert time.perf_counter() - start < 30


def test_issue_14_sizes_are_refused_without_waiting_for_the_timeout():
    """Ten rows of the kinds that took 57 s together in 1.2 (each a full timeout)."""
    import time

    answers = [f"10^{{-10^{{{n}}}}}" for n in range(5, 10)]
    answers += [f"\\binom{{10^{{9}}}}{{{k}}}" for k in ("k", "n", "m+1", "10^{9}-2", "5000")]
    rows = [{"response": f"\\boxed{{{a}}}", "gold": "1"} for a in answers]
    start = time.perf_counter()
    graded = list(grade_rows(rows, workers=1, timeout=5))
    assert all(r["reason"].startswith("refused: too large") for r in graded), graded
    assert time.perf_counter() - start < 20  # measured 1.9 s with pool start; 1.2: 50 s
