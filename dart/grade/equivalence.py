"""Decide whether an extracted answer equals the reference, and by which rule.

Cheap rules first: choice letters, whole-answer yes/no/true/false, identical text after
normalisation, exact numbers (the fast path: no sympy), whole-word text answers; then
the symbolic comparison of ``dart.grade.symbolic``. Percent: ``50\\%`` equals ``50`` only
when the question asks for a percent, and ``0.5`` otherwise; a bare ``0.5`` never equals
``50``.

    python -c "from dart.grade.equivalence import equivalent; print(equivalent('2(x+1)', '2x+2'))"
"""

from __future__ import annotations

import re
from fractions import Fraction

from dart.grade.extract import choice_letter
from dart.grade.normalize import Answer, asks_for_percent, normalize, plain_words
from dart.grade.numbers import Number, numbers_equal, read_number
from dart.grade.symbolic import parse_latex, scaled, sympy_equal

BOOLEAN_WORDS = {"yes": "yes", "no": "no", "true": "true", "false": "false"}
MULTIPLE_CHOICE = "multiple_choice"
KINDS = {"math": "math", "gsm8k": "gsm8k", MULTIPLE_CHOICE: MULTIPLE_CHOICE}
KIND_ALIASES = {
    "multiple choice": MULTIPLE_CHOICE,
    "mc": MULTIPLE_CHOICE,
    "choice": MULTIPLE_CHOICE,
}


def canonical_kind(kind: str | None) -> str:
    """The canonical name of a kind (``math`` when absent); ValueError if unknown."""
    name = (kind or "math").strip().lower().replace("-", "_")
    name = KIND_ALIASES.get(name.replace("_", " "), name)
    if name not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    return name


def _percent_scale(pred: Answer, gold: Answer, query: str | None) -> tuple[Fraction, Fraction]:
    """Factors that put both sides on one scale (see the module docstring)."""
    if pred.percent == gold.percent or asks_for_percent(query):
        return Fraction(1), Fraction(1)
    return (Fraction(1, 100) if pred.percent else Fraction(1)), (
        Fraction(1, 100) if gold.percent else Fraction(1)
    )


def _numeric(pred: Answer, gold: Answer, query, thousands: bool) -> bool | None:
    """Exact numeric comparison when both sides are plain numbers, else None."""
    gold_number = read_number(gold.text)
    if gold_number is None:
        return None
    pred_number = read_number(pred.text, thousands=thousands)
    if pred_number is None:
        return None
    pred_scale, gold_scale = _percent_scale(pred, gold, query)
    return numbers_equal(
        Number(pred_number.value * pred_scale, pred_number.places),
        Number(gold_number.value * gold_scale, gold_number.places),
    )


def _words(pred: Answer, gold: Answer) -> bool | None:
    """Whole-answer word comparison (yes/no, true/false, names); None if gold is not words."""
    gold_words = plain_words(gold.text)
    if gold_words is None or (len(gold_words) == 1 and gold_words not in BOOLEAN_WORDS):
        return None  # a single letter is a variable, not a word
    pred_words = plain_words(pred.text)
    return pred_words is not None and pred_words == gold_words


_SET = re.compile(r"\\\{[^()\[\]]*\\\}")
_TUPLE = re.compile(r"[(\[][^()\[\]{}]*,[^()\[\]]*[)\]]")


def _set_and_tuple(pred: Answer, gold: Answer) -> bool:
    """Whether one side is a set ``\\{1, 2\\}`` and the other a tuple or interval
    ``(1, 2)``: unordered and ordered, never equal (math-verify compares them in order)."""
    shapes = [
        "set" if _SET.fullmatch(a.text) else "tuple" if _TUPLE.fullmatch(a.text) else None
        for a in (pred, gold)
    ]
    return sorted(filter(None, shapes)) == ["set", "tuple"]


def _symbolic(pred: Answer, gold: Answer, query) -> bool:
    try:
        pred_expr, gold_expr = parse_latex(pred.text), parse_latex(gold.text)
    except ValueError:
        return False
    pred_scale, gold_scale = _percent_scale(pred, gold, query)
    if pred_scale != 1:
        pred_expr = scaled(pred_expr, pred_scale)
    if gold_scale != 1:
        gold_expr = scaled(gold_expr, gold_scale)
    return sympy_equal(pred_expr, gold_expr)


def _choice(pred_raw: str, gold_raw: str, kind: str) -> tuple[bool, str] | None:
    gold_letter = choice_letter(gold_raw)
    if gold_letter is None or (kind != MULTIPLE_CHOICE and len(gold_raw.strip()) == 1):
        return None  # a bare "x" or "B" in a math answer is a symbol, not an option
    return choice_letter(pred_raw) == gold_letter, "choice"


def equivalent(pred_raw: str, gold_raw: str, *, kind: str = "math", query=None):
    """(equal, rule): whether the extracted answer matches the reference answer."""
    kind = canonical_kind(kind)
    choice = _choice(pred_raw, gold_raw, kind)
    if choice is not None or kind == MULTIPLE_CHOICE:
        return choice if choice is not None else (False, "choice")
    gold = normalize(gold_raw)
    pred = normalize(pred_raw, keep_assignment="=" in gold.text)
    if pred.text == gold.text and pred.percent == gold.percent:
        return True, "exact"
    words = _words(pred, gold)
    if words is not None:
        return words, "words"
    gold_single = read_number(gold.text) is not None
    numeric = _numeric(pred, gold, query, thousands=gold_single or kind == "gsm8k")
    if numeric is not None:
        return numeric, "numeric"
    if kind == "gsm8k" and gold_single:
        return False, "numeric"
    if _set_and_tuple(pred, gold):
        return False, "set_vs_tuple"
    return _symbolic(pred, gold, query), "symbolic"
