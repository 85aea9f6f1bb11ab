"""Decide whether an extracted answer equals the reference, and by which rule.

Cheap rules first: several parts compared part by part, choice letters, whole-answer
yes/no/true/false, identical text after normalisation, exact numbers (the fast path: no
sympy), whole-word text answers, small exact arithmetic evaluated as floats
(``dart.grade.arithmetic``, which reads only what sympy reads the same way); then the symbolic comparison of ``dart.grade.symbolic``. Percent: ``50\\%`` equals ``50``, and
also ``0.5`` unless the question asks for a percent; a bare ``0.5`` never equals ``50``.
Units: a known unit on both sides that differs (``5 m``, ``5 cm``) is wrong; a unit on one
side only is ignored.

    python -c "from dart.grade.equivalence import equivalent; print(equivalent('2(x+1)', '2x+2'))"
"""

from __future__ import annotations

import re
from fractions import Fraction

from dart.grade.arithmetic import exact_value, values_equal
from dart.grade.extract import answer_list, choice_letter, reference_parts
from dart.grade.normalize import Answer, asks_for_percent, normalize, plain_words
from dart.grade.numbers import DECIMAL_COMMA, Number, numbers_equal, read_number
from dart.grade.sentences import top_level_parts
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


def _percent_scales(pred: Answer, gold: Answer, query: str | None) -> list[tuple]:
    """The (pred, gold) factors under which the two sides may be equal (module docstring):
    ``X%`` against a bare number is read as ``X``, and as ``X/100`` unless the question asks
    for a percent."""
    one, hundredth = Fraction(1), Fraction(1, 100)
    if pred.percent == gold.percent:
        return [(one, one)]
    scaled_pair = (hundredth, one) if pred.percent else (one, hundredth)
    return [(one, one)] if asks_for_percent(query) else [(one, one), scaled_pair]


def _numeric(pred: Answer, gold: Answer, query, thousands: bool) -> bool | None:
    """Exact numeric comparison when both sides are plain numbers, else None."""
    gold_number = read_number(gold.text)
    if gold_number is None:
        return None
    pred_number = read_number(pred.text, thousands=thousands)
    if pred_number is None:
        return None
    return any(
        numbers_equal(
            Number(pred_number.value * pred_scale, pred_number.places),
            Number(gold_number.value * gold_scale, gold_number.places),
        )
        for pred_scale, gold_scale in _percent_scales(pred, gold, query)
    )


def _decimal_comma(text: str) -> bool:
    return DECIMAL_COMMA.fullmatch(text) is not None and read_number(text) is None


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


def _quick(pred: Answer, gold: Answer, query) -> bool | None:
    """The float check of ``dart.grade.arithmetic`` on exact forms, or None (sympy decides)."""
    left, right = exact_value(pred.text), exact_value(gold.text)
    if left is None or right is None:
        return None
    outcomes = [
        values_equal(left * float(p), right * float(g))
        for p, g in _percent_scales(pred, gold, query)
    ]
    if True in outcomes:
        return True
    return False if all(o is False for o in outcomes) else None


def _symbolic(pred: Answer, gold: Answer, query) -> bool:
    try:
        pred_expr, gold_expr = parse_latex(pred.text), parse_latex(gold.text)
    except ValueError:
        return False
    for pred_scale, gold_scale in _percent_scales(pred, gold, query):
        left = pred_expr if pred_scale == 1 else scaled(pred_expr, pred_scale)
        right = gold_expr if gold_scale == 1 else scaled(gold_expr, gold_scale)
        if sympy_equal(left, right):
            return True
    return False


def _parts(text: str, gold_listed: bool) -> list[str]:
    """The answers of a list (``dart.grade.extract.answer_list``); a bracketed answer
    ``[3, 5]`` is a list too when the reference is a plain list (DeepMind-Mathematics)."""
    text = text.strip()
    if gold_listed and text.startswith("[") and text.endswith("]"):
        inner = text[1:-1]
        if len(top_level_parts(inner)) > 1 and "[" not in inner and "(" not in inner:
            text = inner
    return answer_list(text)


def _several(pred_raw: str, gold_raw: str, kind: str, percent_question) -> bool | None:
    """Part-by-part comparison when the reference lists several answers (``1, 2, 3``,
    ``(2,2), (6,2)``): unordered, each part matched once; None when it does not apply
    (one part, a thousands number, or a different count of parts)."""
    if reference_parts(gold_raw) < 2:
        return None
    gold_parts = _parts(gold_raw, False)
    plain = gold_raw.strip()[:1] not in "([{\\"
    pred_parts = _parts(pred_raw, plain)
    if len(gold_parts) < 2 or len(pred_parts) != len(gold_parts):
        return None
    unmatched = list(gold_parts)
    for part in pred_parts:
        match = next(
            (
                g
                for g in unmatched
                if equivalent(part, g, kind=kind, percent_question=percent_question)[0]
            ),
            None,
        )
        if match is None:
            return False
        unmatched.remove(match)
    return True


def _choice(pred_raw: str, gold_raw: str, kind: str) -> tuple[bool, str] | None:
    gold_letter = choice_letter(gold_raw)
    if gold_letter is None or (kind != MULTIPLE_CHOICE and len(gold_raw.strip()) == 1):
        return None  # a bare "x" or "B" in a math answer is a symbol, not an option
    return choice_letter(pred_raw) == gold_letter, "choice"


def equivalent(
    pred_raw: str, gold_raw: str, *, kind: str = "math", query=None, percent_question=None
):
    """(equal, rule): whether the extracted answer matches the reference answer.

    ``percent_question`` (whether the question asks for a percent) overrides reading it
    from ``query``.
    """
    kind = canonical_kind(kind)
    if percent_question is not None:
        query = "percent" if percent_question else None
    several = _several(pred_raw, gold_raw, kind, asks_for_percent(query))
    if several is not None:
        return several, "parts"
    choice = _choice(pred_raw, gold_raw, kind)
    if choice is not None or kind == MULTIPLE_CHOICE:
        return choice if choice is not None else (False, "choice")
    gold = normalize(gold_raw)
    pred = normalize(pred_raw, keep_assignment="=" in gold.text)
    if pred.unit and gold.unit and pred.unit != gold.unit:
        return False, "unit"
    if pred.text == gold.text and pred.percent == gold.percent:
        return True, "exact"
    if any(_decimal_comma(a.text) for a in (pred, gold)):
        return False, "decimal_comma"  # unread by every path, by policy (README)
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
    if pred.text.replace(" ", "") == gold.text.replace(" ", "") and pred.percent == gold.percent:
        return True, "exact"  # TeX ignores spaces: "(-\\infty, 2]" is "(-\\infty,2]"
    quick = _quick(pred, gold, query)
    if quick is not None:
        return quick, "value"
    return _symbolic(pred, gold, query), "symbolic"
