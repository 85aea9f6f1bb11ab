"""The one LaTeX-arithmetic evaluator: small numeric LaTeX read as a float, without eval.

A hand-written recursive-descent reader (no ``eval``, no ``ast``, no sympy), bounded in
length, nesting and exponent size, reads numerals, ``+ - * / ^``, ``\\cdot``, ``\\times``,
``\\frac`` (``\\frac12`` too), ``\\sqrt`` (with an index), ``\\pi``, parentheses and braces.
Two callers, two modes:

- ``exact_value`` (the grader's fast path before sympy): integers only, no decimal point,
  and only what the symbolic path reads the same way. latex2sympy reads an implicit product
  of an integer and a positive rational as a mixed number (``2\\frac{1}{2}`` is 5/2, even
  ``2(3)`` is 5), so an implicit product is read here only when its right factor starts with
  ``\\pi`` or ``\\sqrt``; any other is left to sympy. Whole mixed numbers (``2\\frac{1}{2}``)
  are rewritten to a fraction by ``dart.grade.normalize`` before either path sees them.
- ``numeric_value`` (tolerance scoring of ``dart evaluate``): also decimals, e-notation
  (``4e-05``, ``1.28E-6``), thousands groups (``1,234``), a percent sign (``50\\%`` is 0.5),
  and drops ``$``, ``\\text{...}`` units and degree marks.

``values_equal`` decides two exact forms: equal to 1e-12 (relative), different beyond 1e-6.

    python -c "from dart.grade.arithmetic import numeric_value; print(numeric_value('4e-05'))"
"""

from __future__ import annotations

import math
import re

from dart.grade.numbers import exact_forms

MAX_CHARS = 200
MAX_DEPTH = 20
MAX_POWER = 64  # exact mode: larger powers lose float exactness; sympy decides them
MAX_NUMERIC_POWER = 1000
EXACT_LIMIT = 2.0**53  # beyond this, floats no longer tell integers apart
_NUMERAL = r"\d+"
_DECIMAL = r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_COMMANDS = r"\\frac|\\sqrt|\\pi|\\cdot|\\times|[-+*/^(){}\[\]]"
_EXACT_TOKEN = re.compile(rf"\s*({_NUMERAL}|{_COMMANDS})")
_NUMERIC_TOKEN = re.compile(rf"\s*({_DECIMAL}|{_COMMANDS}|%)")
_FRAC_DIGITS = re.compile(r"\\frac\s*(\d)\s*(\d)(?!\d)")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_IMPLICIT_RIGHT = ("\\pi", "\\sqrt")


class _NotArithmetic(Exception):
    """The text is not small arithmetic of the mode's kind."""


class _Reader:
    def __init__(self, text: str, *, numeric: bool):
        self.numeric = numeric
        self.max_power = MAX_NUMERIC_POWER if numeric else MAX_POWER
        pattern = _NUMERIC_TOKEN if numeric else _EXACT_TOKEN
        self.tokens, position = [], 0
        text = _FRAC_DIGITS.sub(r"\\frac{\1}{\2}", text)
        while position < len(text):
            token = pattern.match(text, position)
            if token is None:
                if text[position:].strip():
                    raise _NotArithmetic
                break
            self.tokens.append(token.group(1))
            position = token.end()
        self.i, self.depth = 0, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise _NotArithmetic
        self.i += 1
        return token

    def expression(self) -> float:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _NotArithmetic
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        self.depth -= 1
        return value

    def term(self) -> float:
        value = self.signed()
        while True:
            token = self.peek()
            if token in ("*", "\\cdot", "\\times", "/"):
                self.take()
                right = self.signed()
                if token == "/" and right == 0:
                    raise _NotArithmetic
                value = value / right if token == "/" else value * right
            elif token is not None and token not in ("+", "-", ")", "}", "]", "^", "%"):
                if not self.numeric and token not in _IMPLICIT_RIGHT:
                    raise _NotArithmetic  # 2\frac{1}{2}, 2(3): a mixed number to sympy
                value *= self.signed()  # implicit product: 2\pi, 3\sqrt{2}
            else:
                return value

    def signed(self) -> float:
        if self.peek() in ("-", "+"):
            return -self.signed() if self.take() == "-" else self.signed()
        value = self.power()
        if self.numeric and self.peek() == "%":
            self.take()
            value /= 100
        return value

    def power(self) -> float:
        base = self.atom()
        if self.peek() != "^":
            return base
        self.take()
        exponent = self.group() if self.peek() == "{" else self.atom_digit()
        if abs(exponent) > self.max_power or (base < 0 and exponent != int(exponent)):
            raise _NotArithmetic
        if base == 0 and exponent < 0:
            raise _NotArithmetic
        return base**exponent

    def atom_digit(self) -> float:
        token = self.take()
        if not token.isdigit() or len(token) > 1:
            raise _NotArithmetic  # x^23 is x^2 * 3 in TeX: left to the parser
        return float(token)

    def group(self) -> float:
        closing = {"{": "}", "(": ")", "[": "]"}[self.take()]
        value = self.expression()
        self.take(closing)
        return value

    def atom(self) -> float:
        token = self.peek()
        if token is None:
            raise _NotArithmetic
        if token[0].isdigit() or token[0] == ".":
            return float(self.take())
        if token in ("{", "("):
            return self.group()
        self.take()
        if token == "\\pi":
            return math.pi
        if token == "\\frac":
            top = self.group() if self.peek() == "{" else self.atom_digit()
            bottom = self.group() if self.peek() == "{" else self.atom_digit()
            if bottom == 0:
                raise _NotArithmetic
            return top / bottom
        if token == "\\sqrt":
            index = self.group() if self.peek() == "[" else 2.0
            radicand = self.group() if self.peek() == "{" else self.atom_digit()
            if radicand < 0 or index <= 0:
                raise _NotArithmetic
            return radicand ** (1 / index)
        raise _NotArithmetic


def _read(text: str, *, numeric: bool) -> float | None:
    if not text or len(text) > MAX_CHARS:
        return None
    try:
        reader = _Reader(text, numeric=numeric)
        value = reader.expression()
        if reader.peek() is not None:
            return None
    except (_NotArithmetic, OverflowError, ZeroDivisionError, ValueError):
        return None
    return value if math.isfinite(value) else None


def exact_value(text: str) -> float | None:
    """The value of small exact LaTeX arithmetic (no decimals), or None; see the docstring."""
    if "." in text:
        return None
    return _read(text, numeric=False)


def _numeric_clean(text: str) -> str:
    text = text.strip().strip("$").strip()
    text = re.sub(r"\\(?:text|mathrm|textbf|mbox)\s*\{[^{}]*\}", " ", text)
    text = re.sub(r"\^\s*\{?\\circ\}?|\\circ|°|\\degree", "", text)
    text = re.sub(r"\\(?:left|right|displaystyle|!|,|;|:)(?![A-Za-z])|\\ ", "", text)
    text = re.sub(r"\\[dtc]frac", r"\\frac", text).replace("\\%", "%").replace("π", "\\pi")
    text = exact_forms(text.strip())
    return text.replace(",", "") if _THOUSANDS.match(text) else text


def numeric_value(text: str) -> float | None:
    """The value of a LaTeX number or small arithmetic (decimals, e-notation, ``%``,
    thousands groups, units dropped), or None when it is not one; see the docstring."""
    return _read(_numeric_clean(text), numeric=True)


def values_equal(left: float, right: float) -> bool | None:
    """True when two exact forms' values agree to 1e-12, False when they differ by more
    than 1e-6 (relative), None in between or beyond 2^53 (the symbolic comparison decides)."""
    scale = max(1.0, abs(left), abs(right))
    if scale > EXACT_LIMIT:
        return None
    if abs(left - right) <= 1e-12 * scale:
        return True
    if abs(left - right) > 1e-6 * scale:
        return False
    return None
