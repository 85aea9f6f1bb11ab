"""Small benchmark files in each published schema (DESIGN.md 11), written by tests."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

MATH = [
    {
        "problem": "What is $1+1$?",
        "level": "Level 1",
        "type": "Algebra",
        "solution": "Add: $1+1=\\boxed{2}$.",
    },
    {
        "problem": "Simplify $\\frac{2}{4}$.",
        "level": "Level ?",
        "type": "Prealgebra",
        "solution": "It is $\\boxed{\\frac{1}{2}}$.",
    },
]
MATH500 = [
    {
        "problem": "Find $x$ if $2x=6$.",
        "solution": "So $x=\\boxed{3}$.",
        "answer": "3",
        "subject": "Algebra",
        "level": 2,
        "unique_id": "test/algebra/17.json",
    },
]
GSM8K = [
    {
        "question": "Ann has 1,000 pens and buys 234 more. How many now?",
        "answer": "1000 + 234 = 1234\n#### 1,234",
    },
    {"question": "Bo has 3 cats and 2 dogs. How many pets?", "answer": "3+2=5\n#### 5"},
]
COLLEGEMATH = [
    {
        "data_source": "college_algebra",
        "question_number": "1.2",
        "data_topic": "algebra",
        "question": "Evaluate $\\int_0^1 x\\,dx$.",
        "answer": "$\\frac{1}{2}$",
    },
]
DEEPMIND = [
    {"question": "Calculate -3 + 5.", "answer": "2"},
    {"question": "Let f(x) = 2*x. What is f(4)?", "answer": "8"},
]
OLYMPIAD = [
    {
        "id": 2001,
        "subfield": "Algebra",
        "context": None,
        "question": "Compute $\\sqrt{2}$.",
        "solution": ["..."],
        "final_answer": ["$1.41$"],
        "is_multiple_answer": False,
        "unit": None,
        "answer_type": "Numerical",
        "error": "1e-2",
    },
    {
        "id": 2002,
        "subfield": "Number Theory",
        "context": "Let $n$ be a positive integer.",
        "question": "Find all $n<4$ with $n^2<5$.",
        "solution": ["..."],
        "final_answer": ["$1$, $2$"],
        "is_multiple_answer": True,
        "unit": None,
        "answer_type": "Numerical",
        "error": None,
    },
    {
        "id": 2003,
        "subfield": "Geometry",
        "context": None,
        "question": "Give the point.",
        "solution": ["..."],
        "final_answer": ["$(1,2)$"],
        "is_multiple_answer": False,
        "unit": None,
        "answer_type": "Tuple",
        "error": None,
    },
]
THEOREMQA = [
    {"Question": "What is pi to two places?", "Answer": 3.14, "Answer_type": "float",
     "Picture": None, "id": "q1", "theorem": "pi", "subfield": "Geometry"},
    {"Question": "Is 7 prime?", "Answer": True, "Answer_type": "bool", "Picture": None,
     "id": "q2", "theorem": "primes", "subfield": "Number theory"},
    {"Question": "List the first two primes.", "Answer": [2, 3],
     "Answer_type": "list of integer", "Picture": None, "id": "q3", "theorem": "primes",
     "subfield": "Number theory"},
    {"Question": "Which is even? (a) 3 (b) 4 (c) 5", "Answer": "(b)", "Answer_type": "option",
     "Picture": None, "id": "q4", "theorem": "parity", "subfield": "Number theory"},
    {"Question": "How many sides has a hexagon?", "Answer": 6, "Answer_type": "integer",
     "Picture": None, "id": "q5", "theorem": "polygons", "subfield": "Geometry"},
]  # fmt: skip


def write(path: Path, rows: list[dict]) -> Path:
    """Write rows as .jsonl, .json (a list) or .parquet, by the suffix of ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows))
    else:
        pl.DataFrame(rows).write_parquet(path)
    return path


#: type -> (file name in its published format, rows)
FILES = {
    "math": ("math_test.jsonl", MATH),
    "math500": ("math500.jsonl", MATH500),
    "gsm8k": ("gsm8k_test.parquet", GSM8K),
    "collegemath": ("mwpbench_college_math.jsonl", COLLEGEMATH),
    "deepmind-mathematics": ("deepmind-mathematics.json", DEEPMIND),
    "olympiadbench": ("OE_TO_maths_en_COMP.json", OLYMPIAD),
    "theoremqa": ("theoremqa.json", THEOREMQA),
}
