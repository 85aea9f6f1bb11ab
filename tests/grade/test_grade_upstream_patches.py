"""The two library internals the grader patches still behave as the patches assume.

dart/grade/safety.py replaces ``sympy.parsing.sympy_parser.eval_expr`` (the ``eval`` behind
``parse_expr``); dart/grade/symbolic.py sets ``parser._interp.predictionMode`` on the ANTLR
parser that latex2sympy2_extended creates. If an upgrade moves either, these tests fail
before a silent loss of the guard (model text reaching ``eval``) or of the speed-up.
"""

import inspect
import subprocess
import sys

from antlr4 import Parser
from antlr4.atn.ParserATNSimulator import ParserATNSimulator
from antlr4.atn.PredictionMode import PredictionMode
from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy
from sympy.parsing import sympy_parser


def test_sympy_eval_expr_is_the_module_function_parse_expr_calls():
    signature = inspect.signature(sympy_parser.eval_expr)
    assert list(signature.parameters)[:3] == ["code", "local_dict", "global_dict"]
    # parse_expr must look eval_expr up by its module-global name, or the guard misses it
    assert "eval_expr" in sympy_parser.parse_expr.__code__.co_names


def test_number_tokens_reach_eval_expr_as_the_code_the_guard_allows():
    seen = []
    original = sympy_parser.eval_expr

    def spy(code, local_dict, global_dict):
        seen.append(code)
        return original(code, local_dict, global_dict)

    sympy_parser.eval_expr = spy
    try:
        sympy_parser.parse_expr("12")
        sympy_parser.parse_expr("1.5")
    finally:
        sympy_parser.eval_expr = original
    from dart.grade.safety import _NUMERAL_CODE

    assert seen and all(_NUMERAL_CODE.fullmatch(code) for code in seen), seen


def test_the_guard_reaches_parse_expr_and_sympify_in_a_fresh_process():
    script = (
        "import sympy\n"
        "from sympy.parsing.sympy_parser import parse_expr\n"
        "from dart.grade.safety import install_sympy_guard, UnsafeEvaluation\n"
        "install_sympy_guard()\n"
        "assert parse_expr('12') == 12\n"
        "for call in (lambda: parse_expr('x + 1'), lambda: sympy.sympify('2*x')):\n"
        "    try:\n"
        "        call()\n"
        "    except UnsafeEvaluation:\n"
        "        continue\n"
        "    raise SystemExit('the guard did not stop sympy evaluating code')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_latex2sympy_create_parser_returns_an_antlr_parser_with_a_prediction_mode():
    assert list(inspect.signature(_Latex2Sympy.create_parser).parameters) == [
        "self",
        "latex_str",
    ]
    parser = _Latex2Sympy().create_parser("\\frac{1}{2}")
    assert isinstance(parser, Parser)
    assert isinstance(parser._interp, ParserATNSimulator)
    assert parser._interp.predictionMode in (PredictionMode.LL, PredictionMode.SLL)
    assert hasattr(PredictionMode, "SLL")


def test_sll_parsing_gives_the_results_of_ll():
    from dart.grade.symbolic import _library

    fast_class = _library()[0]
    texts = ["\\frac{1}{2}+x^2", "(-\\infty,2)\\cup(3,\\infty)", "y=2x+1", "\\sqrt[3]{x}"]
    for text in texts:
        fast, full = fast_class(is_real=True), fast_class(is_real=True)
        full.sll = False
        assert fast.create_parser(text)._interp.predictionMode == PredictionMode.SLL
        assert full.create_parser(text)._interp.predictionMode == PredictionMode.LL
        assert fast.parse(text) == full.parse(text)
