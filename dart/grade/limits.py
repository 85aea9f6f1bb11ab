"""Refuse answers whose structure alone shows they cannot be decided within the bound.

sympy evaluates integer powers, factorials and binomials exactly, in C code that no timer
interrupts: ``9^{9^{9^{9}}}`` would need a number with more digits than there are atoms,
so the worker would be killed after its timeout. These answers are refused up front, with
a named reason, by estimating the size of the result from the text (log10 arithmetic
on numeral towers; no evaluation):

- a power of numerals whose exact value has more than ``MAX_DIGITS`` digits in its
  numerator or denominator (``9^{9^{9^{9}}}``, ``2^{10^{9}}``, ``10^{-10^{9}}``,
  ``0.5^{10^{9}}``): a negative exponent is as large to decide as a positive one;
- any other power with a numeral exponent (either sign) above ``MAX_EXPONENT``
  (``(x+1)^{10^{9}}``, ``x^{-10^{9}}``) and a matrix raised to a power above
  ``MAX_MATRIX_EXPONENT``;
- a factorial of more than ``MAX_FACTORIAL``; a binomial ``\\binom{n}{k}`` with both k and
  n - k above ``MAX_FACTORIAL``, or with more than ``MAX_DIGITS`` digits (``\\binom{10^{9}}{5000}``),
  or with n above ``MAX_EXPONENT`` and a k that is not a numeral (``\\binom{10^{9}}{k}``).

    python -c "from dart.grade.limits import check_structure; check_structure('9^{9^{9^{9}}}')"
"""

from __future__ import annotations

import math
import re

MAX_DIGITS = 10_000
MAX_EXPONENT = 1_000_000
MAX_MATRIX_EXPONENT = 1_000
MAX_FACTORIAL = 20_000
_INF = float("inf")
_NUMERAL = re.compile(r"\d+(?:\.\d+)?")
_POWER_BASE = re.compile(r"(\d+(?:\.\d+)?|\\end\{[a-zA-Z]*matrix\}|[)}\]A-Za-z])\s*$")
_BINOM = re.compile(r"\\[dt]?binom\s*")


class TooLarge(ValueError):
    """The answer's value is too large to decide within the bound."""


def _group(text: str, start: int) -> tuple[str, int]:
    """The brace group or single token at text[start:], and where it ends."""
    while start < len(text) and text[start] == " ":
        start += 1
    if start < len(text) and text[start] == "{":
        depth = 0
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[start + 1 : i], i + 1
        return text[start + 1 :], len(text)
    token = re.match(r"\d+(?:\.\d+)?|\\?[A-Za-z]+|.", text[start:])
    return (token.group(0), start + token.end()) if token else ("", start)


def log10_value(text: str, depth: int = 0) -> float | None:
    """log10 of a numeral or a tower of numerals (``9^{9^{9}}``), +inf when it exceeds any
    float; None when text is anything else. Never evaluates the number itself."""
    text = text.strip().strip("{}").strip()
    head = _NUMERAL.match(text)
    if head is None or depth > 32:
        return None
    base = float(head.group(0))
    rest = text[head.end() :].strip()
    if not rest:
        return math.log10(base) if base > 0 else -_INF
    if not rest.startswith("^"):
        return None
    exponent_text, end = _group(rest, 1)
    if rest[end:].strip():
        return None
    exponent_log = log10_value(exponent_text, depth + 1)
    if exponent_log is None:
        return None
    if base <= 1:
        return 0.0 if base == 1 else -_INF
    if exponent_log > 300:
        return _INF
    return 10**exponent_log * math.log10(base)


def _unsigned(exponent: str) -> str:
    """An exponent without its sign: ``10^{-10^{9}}`` is as large to decide as ``10^{10^{9}}``."""
    return re.sub(r"^\s*[-+]\s*", "", exponent.strip().strip("{}"))


def _check_powers(text: str) -> None:
    for caret in re.finditer(r"\^", text):
        exponent_text, _ = _group(text, caret.end())
        exponent_log = log10_value(_unsigned(exponent_text))
        if exponent_log is None:
            continue
        base = _POWER_BASE.search(text[max(0, caret.start() - 40) : caret.start()])
        if base is None:
            continue
        numeral = _NUMERAL.fullmatch(base.group(1))
        if numeral is not None:
            value = float(numeral.group(0))
            scale = abs(math.log10(value)) if value > 0 else 0.0  # 0.5^n, 10^{-n}: exact too
            digits = 10**exponent_log * scale if exponent_log < 300 else _INF * (scale > 0)
            if digits > MAX_DIGITS:
                size = f"10^{math.log10(digits):.0f}" if digits < _INF else "more than 10^300"
                raise TooLarge(f"a power with {size} digits")
            continue
        limit = MAX_MATRIX_EXPONENT if base.group(1).startswith("\\end") else MAX_EXPONENT
        if exponent_log > math.log10(limit):
            raise TooLarge(f"an exponent above {limit:,}")


def _check_factorials(text: str) -> None:
    for bang in re.finditer(r"!", text):
        before = text[max(0, bang.start() - 200) : bang.start()].rstrip()
        operand = re.search(r"(\d+(?:\^\{?[\d^{}]+\}?)?)$|\{([^{}]*)\}$|\(([^()]*)\)$", before)
        if operand is None:
            continue
        size = log10_value(next(g for g in operand.groups() if g is not None))
        if size is not None and size > math.log10(MAX_FACTORIAL):
            raise TooLarge(f"a factorial of more than {MAX_FACTORIAL:,}")
    for binom in _BINOM.finditer(text):
        top, end = _group(text, binom.end())
        bottom, _ = _group(text, end)
        n, k = log10_value(top), log10_value(bottom)
        if n is not None and k is None and n > math.log10(MAX_EXPONENT):
            raise TooLarge(f"a binomial of n above {MAX_EXPONENT:,} and an unknown k")
        if n is None or k is None or n > 300 or k > 300:
            if n is not None and k is not None:
                raise TooLarge("a binomial of huge arguments")
            continue
        small = min(10**k, 10**n - 10**k)
        if small > MAX_FACTORIAL:
            raise TooLarge(f"a binomial with both k and n-k above {MAX_FACTORIAL:,}")
        if small > 0 and small * n > MAX_DIGITS:  # C(n, k) < n^k: about k * log10(n) digits
            raise TooLarge(f"a binomial with more than {MAX_DIGITS:,} digits")


def check_structure(answer: str) -> None:
    """Raise TooLarge when the answer is a number too large to decide (see the docstring)."""
    if "^" in answer:
        _check_powers(answer)
    if "!" in answer or "binom" in answer:
        _check_factorials(answer.replace("\\!", " "))
