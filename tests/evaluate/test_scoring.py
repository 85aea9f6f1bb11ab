"""Benchmark-specific comparison (OlympiadBench, TheoremQA), numbers, and result metrics."""

from __future__ import annotations

import json
import math

import pytest

from dart.answers import all_boxes
from dart.errors import DartError
from dart.evaluate.results import metrics, stderr, wilson
from dart.evaluate.scoring import (
    olympiad_equal,
    score_rows,
    scoring_options,
    theoremqa_equal,
)


@pytest.mark.parametrize(
    ("pred", "gold", "kind", "strict", "loose"),
    [
        ("3.14", "3.14", "float", True, True),
        ("3.1", "3.14", "float", False, True),  # within 4% of 3.14, not within 1e-9
        ("3.0", "3.14", "float", False, False),
        ("\\frac{157}{50}", "3.14", "float", True, True),
        ("6", "6", "integer", True, True),
        ("6.0", "6", "integer", True, True),
        ("6.2", "6", "integer", False, True),
        ("True", "True", "bool", True, True),
        ("yes", "True", "bool", True, True),
        ("\\text{False}", "True", "bool", False, False),
        ("[2, 3]", "[2, 3]", "list of integer", True, True),
        ("(2,3)", "[2, 3]", "list of integer", True, True),
        ("2, 3", "[2, 3]", "list of integer", True, True),
        ("[3, 2]", "[2, 3]", "list of integer", False, False),
        ("[2, 3, 5]", "[2, 3]", "list of integer", False, False),
        ("[1.01, 2]", "[1.0, 2.0]", "list of float", False, True),
        ("(B)", "(b)", "option", True, True),
        ("b", "(b)", "option", True, True),
        ("(c)", "(b)", "option", False, False),
    ],
)
def test_theoremqa_types_and_tolerance_modes(pred, gold, kind, strict, loose):
    assert theoremqa_equal(pred, gold, kind, "strict") is strict
    assert theoremqa_equal(pred, gold, kind, "relative-4pct") is loose


def test_olympiad_tolerance_parts_and_symbolic_fallback():
    assert olympiad_equal("", "1.414", ["1.41"], [1e-2], 5)
    assert not olympiad_equal("", "1.43", ["1.41"], [1e-2], 5)
    assert not olympiad_equal("", "1.411", ["1.41"], [1e-8], 5)
    assert olympiad_equal("", "2, 1", ["1", "2"], [1e-8, 1e-8], 5)  # any order
    assert not olympiad_equal("", "1, 1", ["1", "2"], [1e-8, 1e-8], 5)
    response = "So $n=\\boxed{1}$ and $n=\\boxed{2}$."
    assert all_boxes(response) == ["1", "2"]
    assert olympiad_equal(response, "2", ["1", "2"], [1e-8, 1e-8], 5)
    assert olympiad_equal("", "(1, 2)", ["(1,2)"], [1e-8], 5)
    assert not olympiad_equal("", "(2, 1)", ["(1,2)"], [1e-8], 5)
    assert olympiad_equal("", "\\frac{\\sqrt{2}}{2}", ["\\frac{1}{\\sqrt{2}}"], [1e-8], 5)


def test_scoring_options_defaults_and_errors():
    assert scoring_options({"tolerance": "strict"}, {}) == {"tolerance": "strict"}
    given = {"tolerance": "relative-4pct"}
    assert scoring_options({"tolerance": "strict"}, given) == given
    with pytest.raises(DartError, match="unknown key"):
        scoring_options({}, {"tol": 1})
    with pytest.raises(DartError, match="tolerance 'loose'"):
        scoring_options({}, {"tolerance": "loose"})


def _item(answer_kind, gold, response, finish="stop", **extra):
    return {
        "item_id": f"i{len(response)}-{gold}",
        "question": "q",
        "gold": gold,
        "answer_kind": answer_kind,
        "tolerance": None,
        "part_tolerances": None,
        "answer_type": None,
        "level": 1,
        "subject": None,
        "response": response,
        "finish_reason": finish,
        "completion_tokens": 10,
        **extra,
    }


def test_score_rows_applies_each_benchmark_rule():
    items = [
        _item("gsm8k", "1234", "so 1,234 apples.\nThe answer is 1,234."),
        _item("math", "\\frac{1}{2}", "We get \\boxed{0.5}."),
        _item("math", "2", "I think \\boxed{2"),  # a cut-off box: no answer
        _item("math", "2", "\\boxed{2}", finish="length"),  # truncated counts as wrong
        _item("olympiad", json.dumps(["1.41"]), "\\boxed{1.414}", tolerance=0.01),
        _item("olympiad", json.dumps(["1", "2"]), "$\\boxed{2}$, $\\boxed{1}$"),
        _item("theoremqa", "3.14", "The answer is 3.1.", answer_type="float"),
        _item("theoremqa", "[2, 3]", "The answer is [2, 3].", answer_type="list of integer"),
    ]
    strict = list(score_rows(items, options={"tolerance": "strict"}, workers=1))
    assert [r["verdict"] for r in strict] == [
        "correct", "correct", "no_answer", "truncated", "correct", "correct", "wrong", "correct",
    ]  # fmt: skip
    assert strict[4]["reason"] == "boxed:olympiad-tolerance"
    assert strict[5]["reason"].endswith(":olympiad-parts")
    assert strict[6]["reason"] == "answer_is:theoremqa-float(strict)"
    assert [r["gold"] for r in strict] == [i["gold"] for i in items]  # original references
    loose = list(score_rows(items[6:7], options={"tolerance": "relative-4pct"}, workers=1))
    assert loose[0]["verdict"] == "correct"


def test_metrics_accuracy_interval_breakdowns():
    assert wilson(45, 100) == pytest.approx((0.35615, 0.54756), abs=1e-5)  # by hand
    assert stderr(45, 100) == pytest.approx(math.sqrt(0.45 * 0.55 / 99), abs=1e-6)
    assert wilson(0, 0) == (0.0, 1.0) and stderr(1, 1) is None
    rows = [
        {"verdict": "correct", "reason": "boxed:exact", "level": 1, "subject": "a",
         "answer_type": None, "completion_tokens": 10},
        {"verdict": "truncated", "reason": "finish_reason=length", "level": 1, "subject": "b",
         "answer_type": None, "completion_tokens": 30},
        {"verdict": "no_answer", "reason": "no_answer", "level": 2, "subject": "b",
         "answer_type": None, "completion_tokens": 20},
    ]  # fmt: skip
    m = metrics(rows)
    assert (m["n"], m["n_correct"], m["accuracy"]) == (3, 1, pytest.approx(1 / 3, abs=1e-6))
    assert m["by_level"]["1"] == {"n": 2, "n_correct": 1, "accuracy": 0.5}
    assert m["by_subject"]["b"]["n_correct"] == 0 and m["by_answer_type"] == {}
    assert m["reasons"]["truncated"] == 1 and m["reasons"]["no_answer"] == 1
    assert m["reasons"]["wrong"] == 0 and m["mean_completion_tokens"] == 20.0
