"""Reading answers out of source text: one reader each, shared by every stage (a leaf).

- boxes: ``\\boxed{}``/``\\fbox{}`` with real brace matching (escaped braces skipped,
  ``\\boxed 5`` too); :func:`last_boxed` is the last complete top-level box, and nothing
  when the last box is cut off (an earlier box is not the final answer then). The
  grader reads responses with it and the queries and benchmark loaders read reference
  solutions with it, so a reference and a response are read alike.
- :func:`gsm8k_answer`: the number after the last ``####`` of a GSM8K answer, thousands
  separators and ``$`` removed.
- :func:`level_number`: ``3``, ``"Level 3"`` -> 3; ``"Level ?"``, None, booleans -> None.

    python -c "from dart.answers import last_boxed; print(last_boxed('so \\\\boxed{\\\\frac{1}{2}}.'))"
"""

from __future__ import annotations

import re
from typing import Any

MAX_BRACE_DEPTH = 64  # deeper nesting is refused as pathological, not parsed
BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_BRACE_OR_ESCAPE = re.compile(r"\\.|[{}]", re.S)


class AnswerTooComplex(ValueError):
    """The answer's structure is pathological (too deeply nested to be an answer)."""


def match_braces(text: str, open_at: int) -> int | None:
    """Index of the ``}`` closing the ``{`` at open_at (escaped braces skipped)."""
    depth = 0
    position = open_at
    while True:
        found = _BRACE_OR_ESCAPE.search(text, position)
        if found is None:
            return None
        ch, position = found.group(0), found.end()
        if ch == "{":
            depth += 1
            if depth > MAX_BRACE_DEPTH:
                raise AnswerTooComplex(f"braces nested deeper than {MAX_BRACE_DEPTH}")
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return found.start()


def box_at(text: str, start: int, end: int) -> tuple[str | None, int, bool]:
    """(content, where it ends, cut off) of the box command text[start:end]."""
    i = end
    while i < len(text) and text[i] in " \t":
        i += 1
    if i >= len(text):
        return None, i, True  # "... so \boxed" ends the text
    if text[i] == "{":
        close = match_braces(text, i)
        if close is None:
            return None, len(text), True  # its brace never closes
        return text[i + 1 : close], close + 1, False
    token = re.match(r"[^\s$]+", text[i:])  # \boxed 5
    if token is None:
        return None, i, False  # not a box (e.g. "\boxed $")
    return token.group(0), i + token.end(), False


def boxes(text: str) -> tuple[list[str], bool]:
    """(contents of the complete top-level boxes in order, whether the last box command is
    cut off: then the final answer was never finished)."""
    found: list[str] = []
    cut_off = False
    position = 0
    while True:
        command = BOX.search(text, position)
        if command is None:
            return found, cut_off
        content, position, cut_off = box_at(text, command.start(), command.end())
        if content is not None:
            found.append(content)


def all_boxes(text: str) -> list[str]:
    """Contents of every complete top-level ``\\boxed{}``/``\\fbox{}`` in text, in order."""
    return [content.strip() for content in boxes(text)[0]]


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed``/``\\fbox`` in text; None when there is none, or
    when the last one is cut off (an earlier box is not the final answer then)."""
    found, cut_off = boxes(text)
    return None if cut_off or not found else found[-1]


def last_box_is_open(text: str) -> bool:
    """Whether the last box command of ``text`` is cut off (its ``{`` never closes)."""
    return boxes(text)[1]


def gsm8k_answer(answer: str) -> str | None:
    """The number after the last ``####`` of a GSM8K answer, thousands separators and
    ``$`` removed; None when there is no ``####`` or nothing after it."""
    _, sep, tail = answer.rpartition("####")
    if not sep:
        return None
    value = tail.strip().replace(",", "").replace("$", "").strip()
    return value or None


def level_number(value: Any) -> int | None:
    """``3``, ``"Level 3"`` -> 3; ``"Level ?"``, None, booleans -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = re.search(r"\d+", str(value))
    return int(match.group(0)) if match else None
