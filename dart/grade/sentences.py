"""Read answers out of prose: the model's own turn, math spans, answer phrases, sentences.

Helpers of ``dart.grade.extract``; pure string scanning (linear time, no parsing).

- ``own_turn``: drop what follows an end-of-turn token (``<|im_end|>``, ``<|eot_id|>``,
  ``</s>`` ...) and keep what follows the last ``</think>``;
- ``answer_phrase_value``: the answer stated after "The answer is" / "Final Answer:":
  a leading math span (``$X$``, ``\\(X\\)``), else the text up to the sentence's end, with
  self-corrections read as the last stated answer and a sentence ("The largest $n$ is
  34") reduced to what it states;
- ``closing_sentence_value``: the value a last sentence such as "So she spent $1,250 in
  total." states, when it opens with a conclusion word or is the whole response.

    python -c "from dart.grade.sentences import answer_phrase_value as a; print(a(' not 5; it is 6.'))"
"""

from __future__ import annotations

import re

_TURN_TOKEN = re.compile(
    r"<\|(?:im_start|im_end|endoftext|eot_id|end_of_text|end|start_header_id|end_header_id"
    r"|user|assistant|system|eom_id)\|>|</s>|<end_of_turn>|<start_of_turn>"
    r"|<\uff5cend\u2581of\u2581sentence\uff5c>"
)
_ROLE = re.compile(r"\s*(?:assistant|user|system|model)?\s*")
_SPAN_OPEN = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
_HOPE = re.compile(r"\s*I hope it is correct\.?", re.IGNORECASE)
_LABELLED = re.compile(r"[A-Za-z][A-Za-z ,'-]{0,60}:\s*((?:\$|\\\(|\\\[).*)", re.S)
_ANSWER_NOUN = re.compile(
    r"(?:the|our|my|its|an?)\s+(?:final\s+|only\s+|correct\s+)?"
    r"(?:answer|solution|result|value)s?(?:\s+(?:set|we\s+want|we\s+seek))?",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|no|none|never|cannot|can't|isn't|aren't|don't|doesn't)\b", re.I)
_REJECTED = re.compile(
    r"\b(?:not|never|cannot|can't|isn't|aren't|wrong|incorrect|invalid)\b", re.IGNORECASE
)
_SPAN_REJECTED = re.compile(
    r"\W*(?:is|was|seems|looks)\s+(?:wrong|incorrect|invalid|not\b)", re.IGNORECASE
)
_SPANS = re.compile(r"(?<!\\)\$([^$]+)\$")
_HOPE_END = re.compile(r"\s*I hope it is correct\.?\s*$", re.IGNORECASE)
_CORRECTION = re.compile(
    r",?\s+but\b|\bactually,?|\binstead,|\bno,?\s+wait,?|\brather\b(?!\s+than)|\bcorrection:",
    re.IGNORECASE,
)
_LEAD = re.compile(r"^(?:(?:it\s+is|it's|it\s+was|is|the\s+answer\s+is)\b)\s*:?\s*", re.I)
_NEGATED_TAIL = re.compile(r",?\s+(?:not|rather\s+than|instead\s+of)\b.*$", re.I | re.S)
_VERB = re.compile(
    r"(?<=\s)(?:is|are|was|were|equals|be|has|have|had|gets|get|got|makes|made|spent|spends"
    r"|earns|earned|needs|costs|cost|measures)(?=\s)",
    re.IGNORECASE,
)
_COPULA = re.compile(r"(?<=\s)(?:is|are|was|were|equals)(?=\s)", re.IGNORECASE)
_CONCLUSION = re.compile(
    r"^(?:so|thus|therefore|hence|in\s+total|altogether|in\s+all|finally|consequently"
    r"|we\s+(?:find|found|obtain|conclude)(?:\s+that)?)\b",
    re.IGNORECASE,
)
_LEADING_NUMBER = re.compile(  # "2/3" is one value, never its numerator
    r"^(?:\\?\$\s*)?-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?(?![\d.]))?"
    r"(?:\s*(?:\\%|%|°|\^\s*\{?\\circ\}?|percent\b|pct\b))?"
)
_REFERENTIAL = re.compile(
    r"(?:already|above|below|as\s+follows|shown|given|provided|following|unknown|unclear"
    r"|this|that|here|there|in\s+the)\b",
    re.IGNORECASE,
)
_DESCRIPTION = re.compile(r"[A-Za-z'’-]+(?:[ ,]+[A-Za-z'’-]+){3,}")  # 4+ words, nothing else
MAX_TAIL = 2000  # characters of a line that an answer phrase or a sentence may span
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?(?:\s*(?:\\%|%|percent\b))?")
_RELATION = re.compile(r"<|>|\\(?:le|ge|leq|geq|lt|gt|neq|ne|leqslant|geqslant)(?![A-Za-z])")
_SPAN_THEN_CONCLUSION = re.compile(r"\s+(?=(?:So|Thus|Therefore|Hence|Finally)\b)")


def own_turn(text: str) -> str:
    """The model's own turn: up to the first end-of-turn token after some content (leading
    tokens and a role word after them are dropped), then what follows ``</think>``."""
    start = 0
    for token in _TURN_TOKEN.finditer(text):
        if text[start : token.start()].strip():
            text = text[start : token.start()]
            start = 0
            break
        start = _ROLE.match(text, token.end()).end()
    text = text[start:]
    if "</think>" in text:
        after = text.rsplit("</think>", 1)[1]
        if after.strip():
            text = after
    return text


def math_span(text: str, pos: int = 0) -> tuple[str, int] | None:
    """(content, end) of the math span that opens text at pos (``$..$``, ``\\(..\\)``)."""
    for opener in ("$$", "$", "\\(", "\\["):
        if text.startswith(opener, pos):
            closer = _SPAN_OPEN[opener]
            end = text.find(closer, pos + len(opener))
            while end > 0 and closer == "$" and text[end - 1] == "\\":
                end = text.find(closer, end + 1)  # "\$" inside is a dollar sign
            if end < 0:
                return None
            content = text[pos + len(opener) : end]
            if opener == "$" and re.match(r"\d", content) and content.endswith(" "):
                return None  # "$18 and $20": dollars, not math
            return content, end + len(closer)
    return None


def _sentence_end(text: str) -> int:
    """Where the first sentence of text ends: a '.' before a space or the end, outside
    math spans; or the end of the line."""
    i, n = 0, len(text)
    while i < n:
        if text[i] == "\n":
            return i
        span = math_span(text, i) if text[i] in "$\\" else None
        if span is not None:
            i = span[1]
            if _SPAN_THEN_CONCLUSION.match(text, i):
                return i  # "... $y = 6$ So, the pair is ...": a new sentence
            continue
        if text[i] == "." and (i + 1 == n or text[i + 1].isspace()):
            return i
        i += 1
    return n


def _corrected(value: str) -> str | None:
    """The last stated answer of a self-correcting value; None if it only negates."""
    segments = _CORRECTION.split(value)
    if len(segments) == 1 and re.match(r"\s*not\b", value, re.I) and ";" in value:
        segments = value.split(";")
    value = _LEAD.sub("", segments[-1].strip())
    if re.match(r"not\b", value, re.I):
        return None
    return _NEGATED_TAIL.sub("", value).strip()


def top_level_equals(text: str) -> int:
    """Index of the last '=' outside braces and brackets that is not part of ``<=``, ``>=``,
    ``!=`` or ``==`` (``\\sum_{k=0}^{n}`` has none); -1 when there is none."""
    depth, found = 0, -1
    for i, ch in enumerate(text):
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "=" and depth == 0:
            before = text[i - 1] if i else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if before not in "<>!=" and after != "=":
                found = i
    return found


def is_relation(text: str) -> bool:
    """Whether an answer is an equation or inequality other than a single ``x = value``
    (``y = 2x + 1`` and ``x \\le 3`` are; ``x = 3`` is not)."""
    if _RELATION.search(text):
        return True
    equals = top_level_equals(text)
    if equals < 0:
        return False
    left, right = text[:equals], text[equals + 1 :]
    single = re.fullmatch(r"\s*\\?[A-Za-z](?:_\{?\w+\}?)?\s*", left) is not None
    return not single or re.search(r"[A-Za-z]", re.sub(r"\\[A-Za-z]+", "", right)) is not None


def _stated(sentence: str) -> str | None:
    """What a sentence states: after its last computing (top-level) '=' or its last verb."""
    equals = top_level_equals(sentence)
    if equals > 0 and not re.fullmatch(r"\s*\\?[A-Za-z](?:_\{?\w+\}?)?\s*", sentence[:equals]):
        return sentence[equals + 1 :].strip()
    verbs = list(_VERB.finditer(sentence))
    return sentence[verbs[-1].end() :].strip() if verbs else None


def _value_start(value: str) -> str | None:
    """The leading math span or number (with %, ° and currency) of value."""
    span = math_span(value)
    if span is not None:
        return span[0]
    number = _LEADING_NUMBER.match(value)
    return number.group(0) if number else None


NEGATED = ("", False)  # "The answer is not 5.": stated what it is not; look no further


def computed(value: str, relation: bool = False) -> str:
    """The result of a computation written as the answer (``5 + 7 = 12`` -> ``12``); a
    single ``x = 3`` is left for the normaliser, and so is the whole answer when the
    reference is itself a relation (``relation``) or the answer is a list (``p=1, p=2``)."""
    if relation or "=" not in value or len(top_level_parts(value)) > 1:
        return value
    stated = _stated(value)
    return stated if stated and not _has_words(value) else value


def _single_value(text: str) -> str | None:
    """The one number or math span of text, None when it holds none or several."""
    values = [m.group(0) for m in _NUMBER.finditer(re.sub(r"\$[^$]*\$", " ", text))]
    spans = _SPANS.findall(text)
    return (spans or values)[0] if len(values) + len(spans) == 1 else None


def answer_phrase_value(tail: str, relation: bool = False) -> tuple[str, bool] | None:
    """(value, whether it came from a sentence) stated after an answer phrase; None when
    the phrase is followed by no value (look at an earlier phrase), NEGATED when it only
    says what the answer is not."""
    tail = tail[:MAX_TAIL].lstrip(" \t*:")
    if not tail.strip():
        return None
    if tail.startswith("\n"):
        tail = tail.strip()  # "Final answer:\n42": the value is on the next line
    span = math_span(tail)
    if span is not None and _SPAN_REJECTED.match(tail[span[1] : _sentence_end(tail)]):
        return NEGATED  # "Answer $5$ is wrong, so ...": a value rejected, not stated
    if span is not None and not _CORRECTION.search(tail[span[1] : _sentence_end(tail)]):
        return computed(span[0].strip(), relation), False
    value = _HOPE.sub("", tail[: _sentence_end(tail)]).strip().strip("*").strip()
    value = _corrected(value)
    if value is None:
        return NEGATED
    if not value or _DESCRIPTION.fullmatch(value) or _REFERENTIAL.match(value):
        return None  # "twice the last answer", "already provided": no value stated
    stated = (_stated(value) or "").strip()
    if stated and _has_words(value):
        start = _value_start(stated)
        if start is None and len(stated.split()) > 3:
            return None  # "A snail is at the bottom of a well": not a value
        return (start if start else stated), True
    if not stated and _has_words(value):  # "Final Answer: Jane started it 3 hours ago."
        only = None if _NEGATION.search(value) else _single_value(value)
        return (only, True) if only is not None else None
    return computed(value, relation), False


def _has_words(text: str) -> bool:
    bare = re.sub(r"\\[A-Za-z]+|\$[^$]*\$|\\\(.*?\\\)", " ", text)
    return len(re.findall(r"[A-Za-z]{2,}", bare)) >= 2


def closing_sentence_value(text: str, relation: bool = False) -> str | None:
    """The value stated by the response's last sentence when it opens with a conclusion
    word ("So", "Thus", "Therefore", "In total", ...) or is the whole response, else None.
    ``relation``: the reference is a relation, so the sentence's last relation in a math
    span is the value (``So $y = 2x + 1$.``), never what follows its '='."""
    text = _HOPE_END.sub("", text)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    sentence = _last_sentence(lines[-1][-MAX_TAIL:])
    whole = (  # a response that is one prose statement is its own conclusion
        len(lines) == 1
        and sentence == lines[0].rstrip(". ").strip()
        and re.match(r"[A-Za-z]{2,}\s", sentence) is not None
        and _COPULA.search(sentence) is not None
    )
    labelled = _LABELLED.fullmatch(sentence) if len(lines) == 1 else None
    if labelled is not None:  # "Special matrix: $...$", the whole response
        return _whole_value(labelled.group(1))
    if not (_CONCLUSION.match(sentence) or whole) or lines[-1].endswith("?"):
        return None
    if _REJECTED.search(sentence):
        return None  # "Therefore $x = 5$ is wrong.", "... is not the solution."
    if relation:
        relations = [span for span in _SPANS.findall(sentence) if is_relation(span)]
        if relations:
            return relations[-1]
    stated = (_stated(sentence) or "").strip()
    if whole and not _CONCLUSION.match(sentence):
        return _whole_value(stated)
    if stated:
        start = _value_start(stated)
        if start is None and _ANSWER_NOUN.fullmatch(stated.rstrip(" .!")):
            # "Therefore $x \\geq 5$ is the solution.": the value before the verb
            verbs = list(_VERB.finditer(sentence))
            start = _single_value(sentence[: verbs[-1].start()]) if verbs else None
        return start
    return None if _NEGATION.search(sentence) else _single_value(sentence)


def _whole_value(stated: str) -> str | None:
    """The value when it is all that a statement's predicate holds (a number, a span)."""
    span = math_span(stated)
    if span is not None:
        return span[0] if span[1] == len(stated) else None
    start = _value_start(stated)
    return start if start is not None and start == stated else None


def _last_sentence(line: str) -> str:
    """The last sentence of a line (sentence ends outside math spans)."""
    start, rest = 0, line
    while True:
        end = _sentence_end(rest)
        if end >= len(rest.rstrip(". ")) or end + 1 >= len(rest):
            return rest.strip().rstrip(".").strip()
        start, rest = end + 1, rest[end + 1 :].lstrip()
        if not rest:
            return line[start:].strip()


def top_level_parts(text: str) -> list[str]:
    """text split at commas outside brackets and braces (``(1,2), 3`` -> 2 parts)."""
    parts, depth, current = [], 0, []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
            depth += 1 if text[i + 1] == "{" else -1
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]
