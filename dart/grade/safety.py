"""Bounds on untrusted answer text, and a guard that stops sympy evaluating it.

Model output never reaches ``eval``: ``install_sympy_guard`` makes sympy's string
evaluator (the ``eval`` behind ``sympify``/``parse_expr``) refuse anything but a plain
numeral in this process. ``check_answer`` refuses answers that are too long, use TeX
macro definitions, or are numbers too large to decide (``dart.grade.limits``) before any
parser sees them; ``check_text`` refuses text that is not valid Unicode.

    python -c "from dart.grade.safety import check_answer; check_answer('\\\\def\\\\x{1}')"
"""

from __future__ import annotations

import re

from dart.grade.limits import TooLarge, check_structure

MAX_ANSWER_CHARS = 1000
MAX_DIGIT_RUN = 400
_MACROS = re.compile(
    r"\\(?:[egx]?def|let|(?:re)?newcommand|providecommand|DeclareMathOperator|catcode|csname"
    r"|input|include|write|immediate|openout|openin|read|expandafter|futurelet|begingroup)"
    r"(?![A-Za-z])"
)
_DIGIT_RUN = re.compile(rf"\d{{{MAX_DIGIT_RUN + 1},}}")
# The only code sympy's parser may evaluate: a plain integer or float literal.
_NUMERAL_CODE = re.compile(r"-?(?:Integer \(\d+ \)|Float \('[0-9.eE+-]+' \))")


class UnsafeAnswer(ValueError):
    """The answer is refused before parsing (too long, a macro definition, ...)."""


class InvalidText(ValueError):
    """A response or reference holds text that is not valid Unicode (a lone surrogate,
    from an invalid UTF-8 byte or a JSON ``\\ud800`` escape) or a NUL byte."""


_INVALID = re.compile("[\ud800-\udfff\x00]")


def check_text(text: str, what: str) -> None:
    """Raise InvalidText naming ``what`` (response, reference) and the first bad character."""
    bad = _INVALID.search(text)
    if bad is not None:
        kind = (
            "a NUL byte"
            if bad.group(0) == "\x00"
            else f"a lone surrogate U+{ord(bad.group(0)):04X}"
        )
        raise InvalidText(f"{what} holds {kind} at character {bad.start()}")


class UnsafeEvaluation(ValueError):
    """sympy was asked to evaluate a string that is not a plain numeral."""


def check_answer(answer: str) -> None:
    """Raise UnsafeAnswer when the answer must not be handed to a parser."""
    if len(answer) > MAX_ANSWER_CHARS:
        raise UnsafeAnswer(f"answer longer than {MAX_ANSWER_CHARS} characters")
    if "\\" in answer and _MACROS.search(answer):
        raise UnsafeAnswer("TeX macro definitions and I/O commands are not answers")
    if _DIGIT_RUN.search(answer):
        raise UnsafeAnswer(f"number longer than {MAX_DIGIT_RUN} digits")
    try:
        check_structure(answer)
    except TooLarge as exc:
        raise UnsafeAnswer(f"too large to decide: {exc}") from None


def _guarded_eval_expr(code, local_dict, global_dict):
    if not isinstance(code, str) or not _NUMERAL_CODE.fullmatch(code):
        raise UnsafeEvaluation("refused to evaluate a non-numeral string")
    return _ORIGINAL_EVAL_EXPR[0](code, local_dict, global_dict)


_ORIGINAL_EVAL_EXPR: list = []


# A run-time patch of a library internal, kept on purpose (issue 16): sympy has no public
# switch that stops ``parse_expr`` evaluating its input. Upstream behaviour relied on (sympy
# 1.12-1.14): ``sympy.parsing.sympy_parser.parse_expr`` turns the text into Python code and
# calls the module-level function ``eval_expr(code, local_dict, global_dict)`` by its global
# name, so replacing that name reaches every ``parse_expr``/``sympify(str)`` call; number
# tokens reach it as ``Integer (n )``/``Float ('x' )`` code. tests/grade/
# test_grade_upstream_patches.py fails if any of this changes.
def install_sympy_guard() -> None:
    """Make sympy's string evaluation accept only numerals, in this process (idempotent).

    sympy evaluates strings in ``parse_expr`` through the module function ``eval_expr``;
    ``sympify(str)`` and ``Number(str)`` reach it too. Numerals stay allowed because
    latex2sympy converts number tokens with ``sympy.Number(text)``.
    """
    from sympy.parsing import sympy_parser

    if sympy_parser.eval_expr is _guarded_eval_expr:
        return
    _ORIGINAL_EVAL_EXPR.append(sympy_parser.eval_expr)
    sympy_parser.eval_expr = _guarded_eval_expr
