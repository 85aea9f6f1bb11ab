"""Symbolic comparison through math-verify's LaTeX parser and comparator, guarded.

latex2sympy2_extended (the parser math-verify uses; an ANTLR grammar that builds sympy
objects, no Python evaluation) reads both sides; math-verify's ``sympy_expr_eq`` decides
equality (sets, intervals, matrices, relations, symbolic simplification). The sympy guard
of ``dart.grade.safety`` is installed before the first parse. No time bound here: callers
run this under the worker's timer.

    python -c "from dart.grade.symbolic import symbolic_equal; print(symbolic_equal('2(x+1)', '2x+2'))"
"""

from __future__ import annotations

import logging
from functools import lru_cache

from dart.grade.safety import install_sympy_guard

log = logging.getLogger(__name__)
FLOAT_ROUNDING = 6
NUMERIC_PRECISION = 15


# Trusted pairs compared once before the guard goes in: sympy imports some modules
# lazily (sympy.physics.units on the first simplify), and those sympify string literals.
_WARM_UP = [
    ("x^2-1", "(x-1)(x+1)"),
    ("(-\\infty,2)\\cup(3,\\infty)", "(3,\\infty)\\cup(-\\infty,2)"),
    ("\\{1,2\\}", "2,1"),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}"),
    ("\\frac{\\sqrt{2}}{2}\\pi", "\\frac{\\pi}{\\sqrt{2}}"),
    ("y=2x+1", "y=1+2x"),
    ("\\log_2 8+\\binom{5}{2}+3!+e^{2}+\\sin(x)", "3+10+6+e^2+\\sin x"),
    ("5\\text{ cm}", "5"),
    ("x \\le 3", "x \\leq 3"),
]


@lru_cache(maxsize=1)
def _library():
    """Import the parser and comparator once, warm them up, then install the sympy guard."""
    import sympy.physics.units  # noqa: F401 - imported before the guard, see _WARM_UP
    from antlr4.atn.PredictionMode import PredictionMode
    from latex2sympy2_extended.latex2sympy2 import (
        NormalizationConfig,
        _Latex2Sympy,
        normalize_latex,
    )
    from math_verify.grader import should_treat_as_complex, sympy_expr_eq

    class FastLatex2Sympy(_Latex2Sympy):
        """latex2sympy with ANTLR's two-stage parsing: the fast SLL prediction first,
        the full LL prediction only when SLL reports a syntax error."""

        sll = True

        def create_parser(self, latex_str):
            # A library internal set on purpose (issue 16): latex2sympy2_extended has no
            # option for ANTLR's prediction mode. Upstream behaviour relied on
            # (latex2sympy2_extended 1.10-1.11, antlr4-python3-runtime 4.13):
            # ``_Latex2Sympy.create_parser(latex_str)`` returns the ANTLR ``Parser`` before
            # parsing, and a Parser's ``_interp`` (its ParserATNSimulator) reads
            # ``predictionMode`` on every decision. SLL is faster and, on a syntax error,
            # ``parse`` below retries with full LL, so results are those of LL.
            # tests/grade/test_grade_upstream_patches.py fails if any of this changes.
            parser = super().create_parser(latex_str)
            if self.sll:
                parser._interp.predictionMode = PredictionMode.SLL
            return parser

        def parse(self, latex_str):
            try:
                return super().parse(latex_str)
            except Exception:
                self.sll = False
                return super().parse(latex_str)

    config = NormalizationConfig(
        basic_latex=True, units=True, malformed_operators=True, nits=True, boxed="all"
    )
    parts = (FastLatex2Sympy, normalize_latex, config, should_treat_as_complex, sympy_expr_eq)
    for pred, gold in _WARM_UP:
        _compare_latex(parts, pred, gold)
    install_sympy_guard()
    return parts


def _compare_latex(parts, pred: str, gold: str) -> bool:
    converter_class, normalize_latex, config, treat_as_complex, sympy_expr_eq = parts
    exprs = []
    for text in (pred, gold):
        latex = normalize_latex(text, config)
        exprs.append(converter_class(is_real=not treat_as_complex(latex)).parse(latex))
    return sympy_expr_eq(exprs[1], exprs[0], FLOAT_ROUNDING, NUMERIC_PRECISION, strict=True)


@lru_cache(maxsize=256)
def parse_latex(text: str):
    """A sympy object for a LaTeX answer; raises ValueError when it does not parse."""
    converter_class, normalize_latex, config, treat_as_complex, _ = _library()
    latex = normalize_latex(text, config)
    try:
        return converter_class(is_real=not treat_as_complex(latex)).parse(latex)
    except Exception as exc:  # the parser raises many kinds; all mean "does not parse"
        raise ValueError(f"not parseable: {type(exc).__name__}") from None


def scaled(expr, factor):
    """expr times a sympy Rational factor (used for percent)."""
    import sympy

    return sympy.Mul(expr, factor)


def sympy_equal(pred, gold) -> bool:
    """math-verify's comparison of two parsed answers (gold first: it is not symmetric)."""
    *_, sympy_expr_eq = _library()
    try:
        return bool(sympy_expr_eq(gold, pred, FLOAT_ROUNDING, NUMERIC_PRECISION, strict=True))
    except Exception as exc:  # comparison failures of sympy mean "not shown equal"
        log.debug("comparison failed: %s", type(exc).__name__)
        return False


def symbolic_equal(pred: str, gold: str) -> bool:
    """Whether two LaTeX answers are equal; False when either does not parse."""
    try:
        return sympy_equal(parse_latex(pred), parse_latex(gold))
    except ValueError:
        return False
