"""Exact reading of plain numbers, the fast path that needs no sympy.

Integers (with ``1,234`` thousands separators where allowed), decimals, ``a/b``,
``\\frac{a}{b}``, and scientific notation (``1.5e3``, ``4e-05``, ``1.5\\times10^{3}``) become
exact fractions; comparison is exact, except that a decimal may stand for a fraction that has
no finite decimal when it is that fraction correctly rounded to 6 or more places
(``0.333333`` = 1/3, as math-verify's 6-place rounding has it; ``0.333`` is a near miss).

``exact_forms`` rewrites the notations that name an exact number in another way, so that
every later path (this one, ``dart.grade.arithmetic`` and sympy) reads the same value:
e-notation (``4e-05`` is ``4\\times 10^{-5}``; sympy would read the ``e`` as Euler's number),
a repeating decimal (``0.\\overline{3}`` is 1/3, ``1.2\\overline{45}`` is 137/110) and a whole
mixed number as MATH writes it (``2\\frac{1}{2}`` is 5/2, ``-1\\frac{3}{4}`` is -7/4).

    python -c "from dart.grade.numbers import read_number; print(read_number('-\\\\frac{3}{4}'))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_INT = r"\d+"
_DEC = r"(?:\d+\.\d*|\.\d+)"
_PLAIN = re.compile(rf"([-+]?)({_DEC}|{_INT})")
_SEPARATED = re.compile(r"([-+]?)([1-9]\d{0,2}(?:,\d{3})+)(\.\d+)?")
# A comma between digits that is not a thousands group (``1000,99``, ``0,111``, ``1,22``):
# a decimal comma, which no path reads (a false accept poisons a dataset; see the README).
DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")
_SLASH = re.compile(r"([-+]?)(\d+)\s*/\s*(\d+)")
_FRAC = re.compile(r"([-+]?)\\frac\s*\{\s*([-+]?)(\d+)\s*\}\s*\{\s*(\d+)\s*\}")
_FRAC_SHORT = re.compile(r"([-+]?)\\frac\s*(\d)(\d)")
_SCI = re.compile(
    rf"([-+]?)({_DEC}|{_INT})\s*(?:[eE]\s*([-+]?\d+)|(?:\\times|\\cdot|\*|x)\s*10\s*\^\s*\{{?\s*([-+]?\d+)\s*\}}?)"
)
_E_NOTATION = re.compile(r"(?<![\w.\\])(\d+(?:\.\d+)?|\.\d+)[eE]([-+]?\d{1,3})(?![\w.])")
_REPEATING = re.compile(r"(\d*)\.(\d*)\\overline\s*(?:\{\s*(\d+)\s*\}|(\d))")
_MIXED = re.compile(
    r"([-+]?)\s*(\d+)\s*\\[dtc]?frac\s*(?:\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}|(\d)(\d))"
)
MAX_EXPONENT = 400
MIN_ROUNDED_PLACES = 6  # a decimal this long may stand for a non-terminating fraction


@dataclass(frozen=True)
class Number:
    """An exact value; ``places`` is the count of decimals written, None if exact."""

    value: Fraction
    places: int | None = None


def _repeating(found: re.Match) -> str:
    whole, fixed = found.group(1) or "0", found.group(2)
    cycle = found.group(3) or found.group(4)
    scale, period = 10 ** len(fixed), 10 ** len(cycle) - 1
    value = int(whole) + Fraction(int(fixed + cycle) - int(fixed or "0"), scale * period)
    if value.denominator == 1:
        return str(value.numerator)
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _e_notation(found: re.Match) -> str:
    return f"{found.group(1)}\\times 10^{{{int(found.group(2))}}}"


def exact_forms(text: str) -> str:
    """Repeating decimals and a whole mixed number rewritten as fractions, e-notation as a
    power of ten (see the module docstring)."""
    if "e" in text or "E" in text:
        text = _E_NOTATION.sub(_e_notation, text)
    if "\\overline" in text:
        text = _REPEATING.sub(_repeating, text)
    if "frac" in text:
        found = _MIXED.fullmatch(text.strip())
        if found:
            sign, whole = found.group(1), int(found.group(2))
            num = int(found.group(3) or found.group(5))
            den = int(found.group(4) or found.group(6))
            if 0 < num < den:  # a proper fraction after a whole number: a mixed number
                return f"{'-' if sign == '-' else ''}\\frac{{{whole * den + num}}}{{{den}}}"
    return text


def _signed(sign: str, value: Fraction) -> Fraction:
    return -value if sign == "-" else value


def _decimal(sign: str, digits: str) -> Number:
    places = len(digits.split(".", 1)[1]) if "." in digits else None
    return Number(_signed(sign, Fraction(digits)), places)


def _fraction(text: str) -> Number | None:
    for pattern in (_FRAC, _FRAC_SHORT):
        found = pattern.fullmatch(text)
        if found:
            groups = found.groups()
            sign = "-" if (groups[0] == "-") != (len(groups) == 4 and groups[1] == "-") else ""
            num, den = int(groups[-2]), int(groups[-1])
            return None if den == 0 else Number(_signed(sign, Fraction(num, den)))
    found = _SLASH.fullmatch(text)
    if found and int(found.group(3)) != 0:
        return Number(_signed(found.group(1), Fraction(int(found.group(2)), int(found.group(3)))))
    return None


def _scientific(text: str) -> Number | None:
    found = _SCI.fullmatch(text)
    if not found:
        return None
    exponent = int(found.group(3) or found.group(4))
    if abs(exponent) > MAX_EXPONENT:
        return None
    mantissa = _decimal(found.group(1), found.group(2))
    return Number(mantissa.value * Fraction(10) ** exponent)


def read_number(text: str, *, thousands: bool = True) -> Number | None:
    """The exact value of a plain number, or None when text is anything else."""
    text = text.strip()
    if not text or len(text) > 200:
        return None
    found = _PLAIN.fullmatch(text)
    if found:
        return _decimal(found.group(1), found.group(2))
    if thousands and "," in text:
        found = _SEPARATED.fullmatch(text)
        if found:
            return _decimal(
                found.group(1), found.group(2).replace(",", "") + (found.group(3) or "")
            )
    if "/" in text or "\\frac" in text:
        return _fraction(text)
    return _scientific(text)


def _finite_decimal(value: Fraction) -> bool:
    den = value.denominator
    for prime in (2, 5):
        while den % prime == 0:
            den //= prime
    return den == 1


def _rounds_to(approx: Number, exact: Number) -> bool:
    """A decimal with >= 6 places equals a non-terminating fraction it correctly rounds."""
    if approx.places is None or approx.places < MIN_ROUNDED_PLACES:
        return False
    if _finite_decimal(exact.value):
        return False
    return abs(approx.value - exact.value) <= Fraction(1, 2 * 10**approx.places)


def numbers_equal(pred: Number, gold: Number) -> bool:
    """Exact equality, or a correctly rounded decimal for a fraction like 1/3."""
    if pred.value == gold.value:
        return True
    return _rounds_to(pred, gold) or _rounds_to(gold, pred)
