"""Normalise an extracted answer string before comparison; no parsing, no evaluation.

Removes presentation (``\\left``, ``\\dfrac``, spacing, ``$``), currency, units and
``\\text{}`` after a number, degree marks, and a single ``x =`` in front; a repeating decimal
and a whole mixed number become fractions (``dart.grade.numbers.exact_forms``). A percent sign
(``\\%``, ``percent``, ``pct``) is removed but remembered, and so is a known unit (``cm``,
``hours``), so the comparison can decide what they mean.

    python -c "from dart.grade.normalize import normalize; print(normalize('\\\\$1{,}234.50'))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dart.grade.numbers import exact_forms

_PRESENTATION = [
    (re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])"), ""),
    (re.compile(r"\\(?:displaystyle|textstyle|limits)(?![A-Za-z])"), ""),
    (re.compile(r"\\[dt]frac(?![A-Za-z])"), r"\\frac"),
    (re.compile(r"\\(?:!|,|;|:|quad|qquad)|~"), " "),
    (re.compile(r"\\(?:mathrm|mathbf|textbf|mathit|operatorname)\{([^{}]*)\}"), r"\\text{\1}"),
    (re.compile(r"\\(?:mbox|textnormal|textrm|textup)\{([^{}]*)\}"), r"\\text{\1}"),
]
_DEGREES = re.compile(
    r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?![A-Za-z])|\s*\\text\{\s*degrees?\s*\}|\s+degrees?$"
)
_PERCENT = re.compile(r"\s*(?:\\%|%|\\text\{\s*(?:percent|pct\.?)\s*\}|\s+(?:percent|pct\.?)$)")
_CURRENCY = re.compile(r"\\\$|\$|\\text\{\s*dollars?\s*\}|\s+dollars?$|USD|€|£|\\euro")
# Thousands groups as TeX writes them: ``1{,}234``, ``10,\!000`` (MATH's references),
# ``1\,000`` (a thin space); rewritten to ``1,234`` before spacing commands are dropped.
_THOUSANDS_TEX = re.compile(r"(?<=\d)(?:\{,\}|,\\!\s*|,?\\,)(?=\d{3}(?!\d))")
_ASSIGNMENT = re.compile(r"^\s*(?:\\text\{)?[A-Za-z](?:_\{?\w+\}?)?\}?\s*=\s*([^=]+)$")
_UNIT_TEXT = re.compile(
    r"^(-?[\d.,]+(?:\\frac\{\d+\}\{\d+\})?)\s*\\text\{\s*[A-Za-z][A-Za-z .^/]*\}"
    r"(?:\^\s*\{?\s*[23]\s*\}?)?$"
)
_UNIT_WORDS = re.compile(r"^(-?[\d.,]+)\s+[A-Za-z]{2,}(?:\s+[A-Za-z'’-]+)*\.?$")
_WHOLE_TEXT = re.compile(r"^\\text\{([^{}]*)\}$")
_UNIT_AT_END = re.compile(
    r"(?:\\text\{\s*([A-Za-z][A-Za-z .]*?)\s*\}\s*(?:\^\s*\{?\s*([23])\s*\}?)?"
    r"|(?<=\d)\s+([A-Za-z][A-Za-z ]*?)\.?)\s*$"
)
# Units that are told apart (5 m is not 5 cm); any other word after a number is ignored.
_UNIT_NAMES = {
    "m": "m meter metre meters metres",
    "cm": "cm centimeter centimetre centimeters centimetres",
    "mm": "mm millimeter millimetre millimeters millimetres",
    "km": "km kilometer kilometre kilometers kilometres",
    "in": "in inch inches",
    "ft": "ft foot feet",
    "yd": "yd yard yards",
    "mi": "mi mile miles",
    "s": "s sec secs second seconds",
    "min": "min mins minute minutes",
    "h": "h hr hrs hour hours",
    "day": "day days",
    "week": "week weeks",
    "year": "year years yr yrs",
    "g": "g gram grams",
    "kg": "kg kilogram kilograms",
    "lb": "lb lbs pound pounds",
    "oz": "oz ounce ounces",
    "l": "l liter liters litre litres",
    "ml": "ml milliliter milliliters millilitre millilitres",
    "gal": "gal gallon gallons",
}
_UNITS = {name: unit for unit, names in _UNIT_NAMES.items() for name in names.split()}
_POWERS = {"square": "2", "sq": "2", "cubic": "3", "cu": "3"}


@dataclass(frozen=True)
class Answer:
    """A normalised answer: its LaTeX text and the marks that were removed from it."""

    text: str
    percent: bool = False
    degrees: bool = False
    unit: str | None = None


def _strip_presentation(text: str) -> str:
    for pattern, replacement in _PRESENTATION:
        text = pattern.sub(replacement, text)
    return text


def _strip_units(text: str) -> str:
    """``5 \\text{cm}`` and ``12 apples`` become the number; ``5x`` stays."""
    for pattern in (_UNIT_TEXT, _UNIT_WORDS):
        found = pattern.match(text)
        if found:
            return found.group(1)
    return text


def unit_of(text: str) -> str | None:
    """The known unit that ends an answer (``5\\text{ cm}^2`` -> ``cm^2``), else None."""
    found = _UNIT_AT_END.search(text)
    if found is None:
        return None
    words = (found.group(1) or found.group(3)).lower().replace(".", " ").split()
    power = found.group(2)
    if len(words) == 2 and words[0] in _POWERS:
        power, words = _POWERS[words[0]], words[1:]
    unit = _UNITS.get(words[0]) if len(words) == 1 else None
    return None if unit is None else unit + (f"^{power}" if power else "")


def normalize(answer: str, *, keep_assignment: bool = False) -> Answer:
    """Normalise one answer string (see the module docstring)."""
    text = _THOUSANDS_TEX.sub(",", answer.strip().strip("$").strip())
    text = _strip_presentation(text)
    unit = unit_of(text)
    degrees = bool(_DEGREES.search(text))
    text = _DEGREES.sub("", text)
    percent = bool(_PERCENT.search(text))
    text = _PERCENT.sub("", text)
    text = _CURRENCY.sub("", text).strip()
    if not keep_assignment:
        assigned = _ASSIGNMENT.match(text)
        if assigned:
            text = assigned.group(1).strip()
    text = _strip_units(text.strip().rstrip(".").strip())
    text = exact_forms(re.sub(r"\s+", " ", text).strip())
    return Answer(text=text, percent=percent, degrees=degrees, unit=unit)


def plain_words(text: str) -> str | None:
    """The words of a whole-text answer (``\\text{Yes}`` -> ``yes``), else None."""
    whole = _WHOLE_TEXT.match(text)
    if whole:
        text = whole.group(1)
    if re.fullmatch(r"[A-Za-z][A-Za-z ,'-]*", text.strip()):
        return re.sub(r"\s+", " ", text.strip().lower())
    return None


def asks_for_percent(query: str | None) -> bool:
    """Whether the question asks for its answer in percent."""
    return bool(query) and bool(re.search(r"percent|%", query, re.IGNORECASE))
