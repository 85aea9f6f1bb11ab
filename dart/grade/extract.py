"""Find the final answer in a model response, strictly: no guessing.

The response is first cut to the model's own turn (text after an end-of-turn token such as
``<|im_end|>`` is dropped) and, for reasoning models, to what follows the last
``</think>``. Then, in order:

1. the last ``\\boxed{}``/``\\fbox{}`` (real brace matching, ``\\boxed 5`` too); when the
   reference has several parts and the last box holds fewer, the last distinct boxes
   (``\\boxed{1}, \\boxed{2}``), source ``boxes``; a cut-off last box is no answer; with
   two or more boxes and an answer phrase after the last one, the phrase;
2. the last of a GSM8K ``#### n`` line and an answer phrase ("The answer is", "Final
   Answer:", Minerva's "The final answer is $X$. I hope it is correct.", "Answer" at a
   line's start before a math span), with math delimiters removed and self-corrections
   read as the last stated answer ("not 5; it is 6" is 6, "6, not 5" is 6); a phrase
   followed by a sentence ("Final Answer: The largest $n$ is 34.") gives what the sentence
   states, source ``final_sentence``;
3. a response that is nothing but an expression (``-12``, ``\\frac{3}{8}``, a matrix,
   ``\\text{odd}``), one math span (``$\\frac{1}{3}\\text{ meters}$``) or a value with one
   or two unit words (``$28$ percent``), source ``bare``;
4. a closing sentence that starts with a conclusion word ("So she spent $1,250 in
   total.", "Therefore $x \\geq 5$ is the solution.") or is the whole response ("The
   solution is $x \\neq 5$."), source ``closing_sentence``.

``relation`` (the reference is an equation or inequality) keeps an answer's whole relation
instead of what follows its ``=``. ``gold_answer`` reads references: the last box, boxes
listed with commas/"and"/"or" as a list, ``#### n``, or a long solution's answer phrase.

Anything else is no answer, unless the caller asks for the lenient last-number fallback.

    python -c "from dart.grade.extract import extract_answer; print(extract_answer('so \\\\boxed{\\\\frac{1}{2}}.'))"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dart.answers import BOX as _BOX
from dart.answers import box_at as _box_at
from dart.answers import boxes as _boxes
from dart.answers import last_boxed
from dart.answers import match_braces as _match_braces
from dart.grade.numbers import read_number
from dart.grade.safety import MAX_ANSWER_CHARS
from dart.grade.sentences import (
    NEGATED,
    answer_phrase_value,
    closing_sentence_value,
    computed,
    math_span,
    own_turn,
    top_level_parts,
)

_GSM8K = re.compile(r"####[ \t]*([^\n]+)")
_ANSWER_PHRASE = re.compile(
    r"\b(?:final\s+answer|answer)\b(?:\s*\*\*)?(?:\s+is\b|\s*:)(?:\s*\*\*)?[ \t]*:?"
    r"|\bfinal\s+answer\b(?:\s*\*\*)?(?=[ \t]*\n)"
    # "Answer \[ 9 \]" at a line's start: a display, or an inline span on one line
    r"|(?:^|(?<=\n))[ \t]*(?:\*\*)?answer(?:\*\*)?"
    r"(?=[ \t]*(?:\$\$|\\\[|\$[^$\n]+\$|\\\([^\n]*?\\\)))",
    re.IGNORECASE,
)
_LAST_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_CHOICE = re.compile(r"^\(?([A-Ea-e])\)?(?:[.)]|:(?!\S)|\s|$)")
#: a letter in a relation or in arithmetic is a variable, not an option: "D = (0, 1.5)",
#: "A < B", "(B)+1", "B \\cdot 2", "B - 1"; "(B) -3" (an option, then its value) is kept
_NOT_CHOICE = re.compile(
    r"^\(?[A-Ea-e]\)?\s*(?:=|<|>|\\(?:le|ge|leq|geq|neq|ne|lt|gt|cdot|times|div|pm)\b"
    r"|[+*/^]|(?<!\s)-|-(?!\d))"
)
_WORD = re.compile(r"[A-Za-z]{2,}")
_UNIT_TAIL = re.compile(r"^-?\$?[\d.,]+\s+[A-Za-z]+(?:\s+[A-Za-z]+)?$")
_BOOLEAN = re.compile(r"yes|no|true|false", re.IGNORECASE)


@dataclass(frozen=True)
class Extraction:
    """An extracted answer and where it came from (boxed, gsm8k, answer_is, ...)."""

    text: str
    source: str


def _clean(answer: str) -> str:
    if len(answer) > 4 * MAX_ANSWER_CHARS:
        return answer  # refused by check_answer anyway: not worth scanning
    answer = answer.strip()
    span = math_span(answer)
    if span is not None and span[1] == len(answer.rstrip(". ")):
        answer = span[0]
    answer = answer.strip().strip("$").strip()
    answer = re.sub(r"^\\\(|\\\)$|^\\\[|\\\]$", "", answer).strip()
    return answer.rstrip(".").strip()


def _from_boxes(found: list[str], parts: int) -> Extraction | None:
    last = _clean(found[-1])
    if parts > 1 and len(top_level_parts(last)) < parts:
        distinct: list[str] = []
        for box in reversed(found):
            value = _clean(box)
            if value and value not in distinct:
                distinct.append(value)
            if len(distinct) == parts:
                break
        if len(distinct) > 1:
            return Extraction(", ".join(reversed(distinct)), "boxes")
    return Extraction(last, "boxed") if last else None


def _marked(text: str, relation: bool = False) -> Extraction | None:
    """The last ``#### n`` line or answer phrase, whichever comes later; a phrase followed by
    no value ("the answer is already given") gives way to the phrase before it."""
    gsm = None
    for gsm in _GSM8K.finditer(text):  # noqa: B007 - we want the last match
        pass
    phrases = list(_ANSWER_PHRASE.finditer(text))
    for phrase in reversed(phrases):
        if gsm is not None and gsm.start() > phrase.start():
            break
        found = answer_phrase_value(text[phrase.end() :], relation)
        if found is NEGATED:
            return None
        if found is not None and _clean(found[0]):
            value, from_sentence = _clean(found[0]), found[1]
            return Extraction(value, "final_sentence" if from_sentence else "answer_is")
    if gsm is not None:
        value = _clean(gsm.group(1))
        return Extraction(value, "gsm8k") if value else None
    return None


_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{(?:[pbvVB]?matrix|smallmatrix|array)\}")
_NOT_UNIT = re.compile(
    r"\b(?:is|are|was|were|be|not|no|yes|or|and|if|but|so|then|maybe|perhaps|probably|wrong"
    r"|incorrect|correct|right|true|false|ok|done|works?|fails?)\b",
    re.IGNORECASE,
)
_TRAILING_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox|textnormal)\s*\{[^{}]*\}\s*$")
_TEXT_GROUP = re.compile(r"\\(?:text|textbf|mathrm|mbox|textnormal)\s*\{([^{}]*)\}")
_UNIT_WORDS_AFTER = re.compile(r"\s*((?:[A-Za-z]+|%)(?:\s+[A-Za-z]+)?)\s*\.?\s*")


def _one_span(text: str) -> str | None:
    """The answer of a response that is exactly one math span (words inside it too:
    ``$\\frac{1}{3}\\text{ meters}$``), or one span and one or two unit or percent words
    (``$28$ percent``); else None."""
    text = text.strip()
    span = math_span(text)
    if span is None or "\n" in span[0].strip() and not text.startswith(("$$", "\\[")):
        return None
    rest = text[span[1] :]
    if not rest.strip(" ."):
        return span[0].strip() if _words_fit(span[0]) else None
    words = _UNIT_WORDS_AFTER.fullmatch(rest)
    if words is None or _NOT_UNIT.search(words.group(1)):
        return None  # "$5$ is wrong", "$5$ maybe": a claim about the value, not a unit
    return f"{span[0].strip()} {words.group(1)}"


def _words_fit(content: str) -> bool:
    """Whether the words inside a lone math span are an answer's: a trailing unit
    (``\\frac{1}{3}\\text{ meters}``), list conjunctions (``19, 46, \\text{ and } 82``), or
    words only (``\\text{odd}``, ``odd``); not prose mixed into a formula (``\\frac{12}{4} = 3
    \\text{ and } 3 \\text{ of } 8``)."""
    content = content.strip()
    whole = _TEXT_GROUP.fullmatch(content)
    if whole is not None or re.fullmatch(r"[A-Za-z][A-Za-z ,'-]*", content):
        return True
    content = re.sub(r"\\text\s*\{\s*(?:and|or)\s*\}", ",", content)
    content = _TRAILING_TEXT.sub("", content)
    if _TEXT_GROUP.search(content):
        return False
    formula = re.sub(r"\\[A-Za-z]+", "", _ENVIRONMENT.sub("", content))
    return re.search(r"[A-Za-z]{2,}", formula) is None


def _bare(text: str, relation: bool = False) -> Extraction | None:
    """The whole response when it is nothing but an answer (``-12``, ``$\\frac38$``,
    ``\\text{odd}``, a bare matrix, one math span with words inside)."""
    if len(text) > 4 * MAX_ANSWER_CHARS:
        return None
    spanned = _one_span(text)
    if spanned is not None and spanned:
        return Extraction(computed(_clean(spanned), relation), "bare")
    value = _clean(text)
    if not value or "\n" in value or len(value) > 200 or _BOX.search(value):
        return None
    if re.fullmatch(r"\\text\{[^{}]*\}", value):
        return Extraction(value, "bare")
    words = _WORD.findall(re.sub(r"\\[A-Za-z]+", "", _ENVIRONMENT.sub("", value)))
    unit_tail = _UNIT_TAIL.match(value) is not None and not _NOT_UNIT.search(value)
    if not words or unit_tail or _BOOLEAN.fullmatch(value):
        return Extraction(computed(value, relation), "bare")
    return None


def extract_answer(
    text: str, *, lenient: bool = False, parts: int = 1, relation: bool = False
) -> Extraction | None:
    """The final answer of a response, or None when it states none.

    ``parts`` is how many parts the reference has (``(2,2), (6,2)`` has 2): a response
    that boxes each part separately is then read as all of its last boxes. ``relation``:
    the reference is an equation or inequality, so a relation answered is kept whole.
    """
    text = own_turn(text)
    found, cut_off = _boxes(text)
    if cut_off:
        return None  # the final answer was cut off: no answer, whatever came before
    if len(found) >= 2:  # several boxes, then "Final answer: ...": the phrase wins
        after = text[text.rfind(found[-1]) + len(found[-1]) :]
        marked = _marked(after, relation) if _ANSWER_PHRASE.search(after) else None
        if marked is not None:
            return marked
    if found:
        boxed = _from_boxes(found, parts)
        if boxed is not None:
            return boxed
    for rule in (_marked, _bare):
        extraction = rule(text, relation)
        if extraction is not None:
            return extraction
    closing = closing_sentence_value(text, relation)
    if closing is not None and _clean(closing):
        return Extraction(_clean(closing), "closing_sentence")
    if lenient:
        numbers = _LAST_NUMBER.findall(text[-2000:])
        if numbers:
            return Extraction(numbers[-1], "last_number(lenient)")
    return None


_BOX_LIST_GAP = re.compile(
    r"[\s,$.]*(?:\\[()\[\]][\s,$.]*)*(?:(?:and|or)\b[\s$]*)?(?:\\[()\[\]]\s*)*"
)


def _box_list(gold: str) -> list[str] | None:
    """The boxes of a reference that lists its answers in boxes separated only by commas,
    "and" or "or" (``\\boxed{1} and \\boxed{-2}``); None otherwise."""
    contents, ends, position = [], [], 0
    while (command := _BOX.search(gold, position)) is not None:
        if contents and not _BOX_LIST_GAP.fullmatch(gold[ends[-1] : command.start()]):
            return None
        content, position, cut_off = _box_at(gold, command.start(), command.end())
        if content is None or cut_off:
            return None
        contents.append(_clean(content))
        ends.append(position)
    return contents if len(contents) > 1 else None


def gold_answer(gold: str) -> str:
    """The reference answer itself: a full GSM8K/MATH solution is reduced to its answer;
    several boxes listed (``\\boxed{1}, \\boxed{2}``) are the list of answers; a long
    solution with no box and no ``####`` is read with the answer-phrase rules."""
    if "\\boxed" in gold or "\\fbox" in gold:
        listed = _box_list(gold)
        if listed is not None:
            return ", ".join(listed)
        boxed = last_boxed(gold)
        if boxed is not None:
            return _clean(boxed)
    if "####" in gold:
        return _clean(gold.rsplit("####", 1)[1])
    if len(gold) > MAX_ANSWER_CHARS:
        text = own_turn(gold)
        found = _marked(text) or closing_sentence_value(text)
        if found is not None:
            return _clean(found.text if isinstance(found, Extraction) else found)
    return _clean(gold)


def answer_list(text: str) -> list[str]:
    """The answers of a list: top-level comma parts, a set's braces (``\\{1,2\\}``, or
    grouping braces ``{1,2,3}``) removed, an "and" before the last item dropped
    (``19, 46, and 82``); ``3 and 5`` is two answers."""
    text = re.sub(r"\\text\{\s*(and|or)\s*\}", r" \1 ", text.strip())
    if text.startswith("\\{") and text.endswith("\\}"):
        text = text[2:-2]
    elif (
        text.startswith("{")
        and _match_braces(text, 0) == len(text) - 1
        and len(top_level_parts(text[1:-1])) > 1
    ):
        text = text[1:-1]
    parts = [re.sub(r"^(?:and|or)\s+", "", p).strip() for p in top_level_parts(text)]
    if len(parts) == 1 and re.search(r"\s(?:and|or)\s", parts[0]):
        parts = [p.strip() for p in re.split(r"\s+(?:and|or)\s+", parts[0]) if p.strip()]
        if not all(read_number(p) is not None or re.fullmatch(r"\S+", p) for p in parts):
            return [text]  # "the sum of 3 and 5": not a list
    return [p for p in parts if p]


def reference_parts(reference: str) -> int:
    """How many answers the reference holds: ``(2,2), (6,2)`` 2, ``\\{1,2,3\\}`` 3,
    ``\\pm 2`` 2, ``1,234`` (one number) 1."""
    text = reference.strip()
    if re.fullmatch(r"\\pm\s*\S.*", text):
        return 2
    if re.fullmatch(r"-?\d{1,3}(?:(?:,|\{,\}|,\\!\s*)\d{3})+(?:\.\d+)?", text):
        return 1
    return len(answer_list(text))


def choice_letter(answer: str) -> str | None:
    """The option letter of an answer such as ``B``, ``(b)``, ``\\text{(C)}``, ``D. 12``."""
    text = re.sub(r"\\(?:text|textbf|mathrm|mathbf)\{([^{}]*)\}", r"\1", answer).strip()
    text = text.removeprefix("Option").removeprefix("option").strip()
    if _NOT_CHOICE.match(text):
        return None  # "D = (0, 1.5)", "A < B": a variable, not an option
    found = _CHOICE.match(text)
    return found.group(1).upper() if found else None
