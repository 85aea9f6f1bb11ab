"""One row mapper per published benchmark schema (README, Evaluation), raw row -> item record.

A record has ``question``, ``gold``, ``answer_kind`` and, where the source has them,
``level``, ``subject``, ``answer_type``, ``tolerance``, ``part_tolerances`` and
``source_id``. A row that cannot be mapped (missing answer column, empty question, a
reference that cannot be read) raises DartError naming the file and the row.

    python -c "from dart.evaluate.loaders import MAPPERS; print(MAPPERS['gsm8k']({'question': 'q', 'answer': 'x #### 1,234'}, 'f: row 1'))"
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from dart.answers import gsm8k_answer, last_boxed, level_number
from dart.errors import DartError
from dart.queries.formats import clean_text, need

Record = dict[str, Any]
THEOREMQA_TYPES = ("bool", "integer", "float", "list of integer", "list of float", "option")
_OPTION = re.compile(r"^\(?([a-eA-E])\)?$")


def strip_math(answer: str) -> str:
    """``$x$`` / ``\\(x\\)`` -> ``x``."""
    answer = answer.strip()
    if len(answer) >= 2 and answer.startswith("$") and answer.endswith("$"):
        answer = answer.strip("$").strip()
    return re.sub(r"^\\\(|\\\)$", "", answer).strip()


def split_top_level(answer: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside brackets and braces: ``(1,2), 3`` -> ``["(1,2)", "3"]``."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(answer):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0 and answer[max(0, i - 1)] != "\\":
            parts.append(answer[start:i])
            start = i + 1
    parts.append(answer[start:])
    return [p.strip() for p in parts if p.strip()]


def map_math(row: Record, where: str) -> Record:
    """MATH (problem, solution, level "Level 3", type); reference = last box of solution."""
    question = clean_text(need(row, "problem", where), "problem", where)
    if row.get("answer") not in (None, ""):
        gold = clean_text(row["answer"], "answer", where)
    else:
        solution = clean_text(need(row, "solution", where), "solution", where)
        gold = last_boxed(solution)
        if not gold or not gold.strip():
            raise DartError(f"{where}: no \\boxed{{}} reference answer in 'solution'")
    subject = row.get("type") or row.get("subject")
    return {
        "question": question,
        "gold": gold.strip(),
        "answer_kind": "math",
        "level": level_number(row.get("level")),
        "subject": None if subject is None else str(subject),
        "source_id": row.get("unique_id"),
    }


def map_math500(row: Record, where: str) -> Record:
    """MATH-500 (problem, solution, answer, subject, level int, unique_id)."""
    need(row, "answer", where)
    return map_math(row, where)


def map_gsm8k(row: Record, where: str) -> Record:
    """GSM8K (question, answer); reference = the number after ``####``, commas removed."""
    question = clean_text(need(row, "question", where), "question", where)
    answer = clean_text(need(row, "answer", where), "answer", where)
    gold = gsm8k_answer(answer)
    if not gold:
        raise DartError(f"{where}: no '#### <number>' reference answer in 'answer'")
    return {"question": question, "gold": gold, "answer_kind": "gsm8k"}


def map_collegemath(row: Record, where: str) -> Record:
    """MWPBench CollegeMath (data_source, question_number, question, answer $...$, data_topic)."""
    question = clean_text(need(row, "question", where), "question", where)
    gold = strip_math(clean_text(need(row, "answer", where), "answer", where))
    if not gold:
        raise DartError(f"{where}: empty reference answer in 'answer'")
    topic = row.get("data_topic")
    return {
        "question": question,
        "gold": gold,
        "answer_kind": "math",
        "subject": None if topic is None else str(topic),
    }


def map_deepmind(row: Record, where: str) -> Record:
    """DeepMind Mathematics as in the DART-Math repo (question, answer)."""
    question = clean_text(need(row, "question", where), "question", where)
    gold = clean_text(need(row, "answer", where), "answer", where)
    return {"question": question, "gold": deepmind_list(gold, question), "answer_kind": "math"}


def deepmind_list(gold: str, question: str) -> str:
    """A bracketed answer (``[3, 5]``, "list the prime factors of 15") is a list of answers,
    written ``3, 5`` for the grader, unless the question asks for an interval."""
    inner = gold.strip()
    if not (inner.startswith("[") and inner.endswith("]")) or "interval" in question.lower():
        return gold
    parts = split_top_level(inner[1:-1])
    return ", ".join(parts) if len(parts) > 1 else gold


def _tolerances(value: Any, where: str) -> list[float] | None:
    """OlympiadBench ``error``: null, a number, or text such as ``"1e-2"`` / ``"0.1,0.1"``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    items = value if isinstance(value, list) else str(value).split(",")
    try:
        found = [float(v) for v in items]
    except (TypeError, ValueError):
        raise DartError(
            f"{where}: 'error' is not a tolerance or a list of them: {value!r}"
        ) from None
    if any(not math.isfinite(v) or v < 0 for v in found):
        raise DartError(f"{where}: 'error' must be finite and >= 0, got {value!r}")
    return found


def map_olympiadbench(row: Record, where: str) -> Record:
    """OlympiadBench OE_TO_maths_en_COMP (context, question, final_answer list of $...$,
    is_multiple_answer, answer_type, subfield, error). Gold: JSON list of answer parts."""
    question = clean_text(need(row, "question", where), "question", where)
    context = row.get("context")
    if isinstance(context, str) and context.strip():
        question = f"{context.strip()}\n{question}"
    final = need(row, "final_answer", where)
    if isinstance(final, str):
        final = [final]
    if not isinstance(final, list) or not final:
        raise DartError(f"{where}: 'final_answer' must be a non-empty list, got {final!r}")
    answers = [clean_text(a, "final_answer", where) for a in final]
    if row.get("is_multiple_answer"):  # "$1$, $2$" or ["$1$", "$2$"]: one part each
        parts = [strip_math(p) for a in answers for p in split_top_level(a)]
    else:
        parts = [strip_math(a) for a in answers]
    if not all(parts):
        raise DartError(f"{where}: empty part in 'final_answer' {final!r}")
    tolerances = _tolerances(row.get("error"), where)
    if tolerances and len(tolerances) not in (1, len(parts)):
        raise DartError(
            f"{where}: 'error' gives {len(tolerances)} tolerances for {len(parts)} answer parts"
        )
    return {
        "question": question,
        "gold": json.dumps(parts, ensure_ascii=False),
        "answer_kind": "olympiad",
        "tolerance": tolerances[0] if tolerances else None,
        "part_tolerances": json.dumps(tolerances) if tolerances and len(tolerances) > 1 else None,
        "subject": row.get("subfield"),
        "answer_type": row.get("answer_type"),
        "source_id": None if row.get("id") is None else f"ob-{row['id']}",
    }


def theoremqa_gold(value: Any, answer_type: str, where: str) -> str:
    """TheoremQA's ``Answer`` (JSON value or its text) as gold text for its ``Answer_type``."""
    if isinstance(value, str) and answer_type != "option":  # the hub copy holds text
        raw = value.strip()
        if answer_type == "bool":
            value = {"true": True, "false": False}.get(raw.lower(), raw)
        else:
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
    bad = DartError(f"{where}: 'Answer' {value!r} is not a valid {answer_type!r} answer")
    if answer_type == "bool":
        if not isinstance(value, bool):
            raise bad
        return str(value)
    if answer_type in ("integer", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        if answer_type == "integer" and float(value) != int(value):
            raise bad
        return str(int(value)) if answer_type == "integer" else repr(float(value))
    if answer_type.startswith("list"):
        if not isinstance(value, list) or not value:
            raise bad
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
            raise bad
        return json.dumps(value)
    match = _OPTION.match(str(value).strip())
    if not match:
        raise bad
    return f"({match.group(1).lower()})"


def map_theoremqa(row: Record, where: str) -> Record:
    """TheoremQA (Question, Answer, Answer_type, id, subfield); gold typed by Answer_type."""
    question = clean_text(need(row, "Question", where), "Question", where)
    answer_type = clean_text(need(row, "Answer_type", where), "Answer_type", where)
    if answer_type not in THEOREMQA_TYPES:
        raise DartError(
            f"{where}: unknown 'Answer_type' {answer_type!r}; known: {', '.join(THEOREMQA_TYPES)}"
        )
    answer = need(row, "Answer", where)
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        raise DartError(f"{where}: empty 'Answer'")
    subject = row.get("subfield") or row.get("field")
    return {
        "question": question,
        "gold": theoremqa_gold(answer, answer_type, where),
        "answer_kind": "theoremqa",
        "answer_type": answer_type,
        "subject": None if subject is None else str(subject),
        "source_id": None if row.get("id") is None else f"tqa-{row['id']}",
    }


MAPPERS: dict[str, Callable[[Record, str], Record]] = {
    "math": map_math,
    "math500": map_math500,
    "gsm8k": map_gsm8k,
    "collegemath": map_collegemath,
    "deepmind-mathematics": map_deepmind,
    "olympiadbench": map_olympiadbench,
    "theoremqa": map_theoremqa,
}
