"""Normalise an extracted answer string before comparison; no parsing, no evaluation.

Removes presentation (``\\left``, ``\\dfrac``, spacing, ``$``), currency, units and
``\\text{}`` after a number, degree marks, and a single ``x =`` in front. A percent sign
is removed but remembered, so the comparison can decide what it means.

    python -c "from dart.grade.normalize import normalize; print(normalize('\\\\$1{,}234.50'))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
_PERCENT = re.compile(r"\s*(?:\\%|%|\\text\{\s*percent\s*\}|\s+percent$)")
_CURRENCY = re.compile(r"\\\$|\$|\\text\{\s*dollars?\s*\}|\s+dollars?$|USD|€|£|\\euro")
# Thousands groups as TeX writes them: ``1{,}234``, ``10,\!000`` (MATH's references),
# ``1\,000`` (a thin space); rewritten to ``1,234`` before spacing commands are dropped.
_THOUSANDS_TEX = re.compile(r"(?<=\d)(?:\{,\}|,\\!|,?\\,)(?=\d{3}(?!\d))")
_ASSIGNMENT = re.compile(r"^\s*(?:\\text\{)?[A-Za-z](?:_\{?\w+\}?)?\}?\s*=\s*([^=]+)$")
_UNIT_TEXT = re.compile(
    r"^(-?[\d.,]+(?:\\frac\{\d+\}\{\d+\})?)\s*\\text\{\s*[A-Za-z][A-Za-z .^/]*\}$"
)
_UNIT_WORDS = re.compile(r"^(-?[\d.,]+)\s+[A-Za-z]{2,}(?:\s+[A-Za-z]+)*\.?$")
_WHOLE_TEXT = re.compile(r"^\\text\{([^{}]*)\}$")


@dataclass(frozen=True)
class Answer:
    """A normalised answer: its LaTeX text and the marks that were removed from it."""

    text: str
    percent: bool = False
    degrees: bool = False


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


def normalize(answer: str, *, keep_assignment: bool = False) -> Answer:
    """Normalise one answer string (see the module docstring)."""
    text = _THOUSANDS_TEX.sub(",", answer.strip().strip("$").strip())
    text = _strip_presentation(text)
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
    text = re.sub(r"\s+", " ", text).strip()
    return Answer(text=text, percent=percent, degrees=degrees)


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
