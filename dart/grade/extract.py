"""Find the final answer in a model response, strictly: no guessing.

Order: the last ``\\boxed{}``/``\\fbox{}`` (real brace matching, ``\\boxed 5`` too), then
a GSM8K ``#### n`` line, then "The answer is ..." / "Final answer: ...". Anything else
is no answer, unless the caller asks for the lenient last-number fallback.

    python -c "from dart.grade.extract import extract_answer; print(extract_answer('so \\\\boxed{\\\\frac{1}{2}}.'))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BRACE_DEPTH = 64  # deeper nesting is refused as pathological, not parsed
_BOX_COMMANDS = ("\\boxed", "\\fbox")
_GSM8K = re.compile(r"####[ \t]*([^\n]+)")
_ANSWER_IS = re.compile(
    r"(?:final answer|the answer)(?:\s+is|\s*:)\s*:?[ \t]*([^\n]+)", re.IGNORECASE
)
_LAST_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_CHOICE = re.compile(r"^\(?([A-Ea-e])\)?(?:[.:)]|\s|$)")


class AnswerTooComplex(ValueError):
    """The answer's structure is pathological (too deeply nested to be an answer)."""


@dataclass(frozen=True)
class Extraction:
    """An extracted answer and where it came from (boxed, gsm8k, answer_is, ...)."""

    text: str
    source: str


def _match_braces(text: str, open_at: int) -> int | None:
    """Index of the ``}`` closing the ``{`` at open_at (escaped braces skipped)."""
    depth = 0
    i = open_at
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
            if depth > MAX_BRACE_DEPTH:
                raise AnswerTooComplex(f"braces nested deeper than {MAX_BRACE_DEPTH}")
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _box_content(text: str, start: int, command: str) -> str | None:
    """Content of the box command at start; None when it is cut off or not a box."""
    i = start + len(command)
    if i < len(text) and (text[i].isalpha()):
        return None  # e.g. \boxedx is another command
    while i < len(text) and text[i] in " \t":
        i += 1
    if i >= len(text):
        return None
    if text[i] == "{":
        end = _match_braces(text, i)
        return None if end is None else text[i + 1 : end]
    token = re.match(r"[^\s$]+", text[i:])  # \boxed 5
    return token.group(0) if token else None


def _cut_off(text: str, start: int, command: str) -> bool:
    """Whether the box command at start is cut off: its brace never closes, or it ends
    the text (``... so \\boxed{7``): the final answer was never finished."""
    rest = text[start + len(command) :].lstrip(" \t")
    return not rest or rest[0] == "{"


def _last_box(text: str) -> tuple[str | None, bool]:
    """(content of the last box command, whether that last one is cut off)."""
    end = len(text)
    while True:
        start, command = max((text.rfind(c, 0, end), c) for c in _BOX_COMMANDS)
        if start < 0:
            return None, False
        content = _box_content(text, start, command)
        if content is not None:
            return content, False
        if _cut_off(text, start, command):
            return None, True
        end = start


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed``/``\\fbox`` in text; None when there is none, or
    when the last one is cut off (an earlier box is not the final answer then)."""
    return _last_box(text)[0]


def _clean(answer: str) -> str:
    answer = answer.strip().strip("$").strip()
    answer = re.sub(r"^\\\(|\\\)$|^\\\[|\\\]$", "", answer).strip()
    return answer.rstrip(".").strip()


def _answer_is(text: str) -> str | None:
    last = None
    for last in _ANSWER_IS.finditer(text):  # noqa: B007 - we want the last match
        pass
    if last is None:
        return None
    tail = last.group(1)
    boxed = last_boxed(tail)
    if boxed is not None:
        return boxed
    # End at a sentence stop (". " or a final "."), never inside a decimal.
    stop = re.search(r"\.(?:\s|$)", tail)
    return tail[: stop.start()] if stop else tail


def extract_answer(text: str, *, lenient: bool = False) -> Extraction | None:
    """The final answer of a response, or None when it states none."""
    boxed, cut_off = _last_box(text)
    if cut_off:
        return None  # the final answer was cut off: no answer, whatever came before
    if boxed is not None and boxed.strip():
        return Extraction(_clean(boxed), "boxed")
    gsm = None
    for gsm in _GSM8K.finditer(text):  # noqa: B007
        pass
    if gsm is not None and _clean(gsm.group(1)):
        return Extraction(_clean(gsm.group(1)), "gsm8k")
    said = _answer_is(text)
    if said is not None and _clean(said):
        return Extraction(_clean(said), "answer_is")
    if lenient:
        numbers = _LAST_NUMBER.findall(text[-2000:])
        if numbers:
            return Extraction(numbers[-1], "last_number(lenient)")
    return None


def gold_answer(gold: str) -> str:
    """The reference answer itself: a full GSM8K/MATH solution is reduced to its answer."""
    if "\\boxed" in gold or "\\fbox" in gold:
        boxed = last_boxed(gold)
        if boxed is not None:
            return _clean(boxed)
    if "####" in gold:
        return _clean(gold.rsplit("####", 1)[1])
    return _clean(gold)


def choice_letter(answer: str) -> str | None:
    """The option letter of an answer such as ``B``, ``(b)``, ``\\text{(C)}``, ``D. 12``."""
    text = re.sub(r"\\(?:text|textbf|mathrm|mathbf)\{([^{}]*)\}", r"\1", answer).strip()
    text = text.removeprefix("Option").removeprefix("option").strip()
    found = _CHOICE.match(text)
    return found.group(1).upper() if found else None
