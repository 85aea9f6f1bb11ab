"""A fast exact-form check that spares sympy: evaluate small LaTeX arithmetic as floats.

Reads numerals, ``+ - * / ^``, ``\\cdot``, ``\\times``, implicit products, ``\\frac``,
``\\sqrt`` (with an index), ``\\pi`` and parentheses or braces, with a hand-written
recursive-descent reader (no ``eval``, no sympy), bounded in length, nesting and
exponent size. Anything else (a variable, a decimal point, a function) is not read, and
the caller falls back to the symbolic comparison. Two exact forms whose values agree to
1e-12 (relative) are equal; values further apart than 1e-6 are not.

    python -c "from dart.grade.quick import value_of; print(value_of('\\\\frac{3\\\\pi}{4}'))"
"""

from __future__ import annotations

import math
import re

MAX_CHARS = 200
MAX_DEPTH = 20
MAX_POWER = 64
_TOKEN = re.compile(r"\s*(\d+|\\frac|\\sqrt|\\pi|\\cdot|\\times|[-+*/^(){}\[\]])")


class _NotArithmetic(Exception):
    """The text is not small exact arithmetic."""


class _Reader:
    def __init__(self, text: str):
        self.tokens, position = [], 0
        while position < len(text):
            token = _TOKEN.match(text, position)
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
            elif token is not None and token not in ("+", "-", ")", "}", "]", "^"):
                value *= self.signed()  # implicit product: 2\pi, 3\sqrt{2}
            else:
                return value

    def signed(self) -> float:
        if self.peek() in ("-", "+"):
            return -self.signed() if self.take() == "-" else self.signed()
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self.peek() != "^":
            return base
        self.take()
        exponent = self.group() if self.peek() == "{" else self.atom_digit()
        if abs(exponent) > MAX_POWER or (base < 0 and exponent != int(exponent)):
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
        if token.isdigit():
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


def value_of(text: str) -> float | None:
    """The value of small exact LaTeX arithmetic, or None when text is anything else."""
    if len(text) > MAX_CHARS or "." in text:
        return None
    try:
        reader = _Reader(text)
        value = reader.expression()
        if reader.peek() is not None:
            return None
    except (_NotArithmetic, OverflowError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) else None


def values_equal(left: float, right: float) -> bool | None:
    """True when two exact forms' values agree to 1e-12, False when they differ by more
    than 1e-6 (relative), None in between (the symbolic comparison decides)."""
    scale = max(1.0, abs(left), abs(right))
    if abs(left - right) <= 1e-12 * scale:
        return True
    if abs(left - right) > 1e-6 * scale:
        return False
    return None
