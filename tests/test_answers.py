"""One reader each for the last box, GSM8K's ``####``, levels and JSONL (dart.answers,
dart.inputs), used alike by the queries, the benchmark loaders and the grader."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from dart.answers import gsm8k_answer, last_box_is_open, last_boxed, level_number
from dart.errors import DartError
from dart.evaluate.loaders import map_gsm8k, map_math
from dart.grade.cli import read_rows as grade_rows_of
from dart.grade.extract import extract_answer, gold_answer
from dart.queries.formats import map_row
from dart.queries.readers import read_rows as query_rows_of

DART = Path(__file__).resolve().parent.parent / "dart"
#: a MATH solution whose last box is never closed: an earlier box is not its answer
OPEN_LAST = "So $x = \\boxed{3}$, and then $y = \\boxed{4 + x$."


def test_an_open_last_box_is_no_answer_on_every_side():
    assert last_boxed(OPEN_LAST) is None and last_box_is_open(OPEN_LAST)
    assert extract_answer(OPEN_LAST) is None  # grader: a cut-off box is no answer
    assert gold_answer(OPEN_LAST) != "3"
    with pytest.raises(DartError, match="never closed"):  # queries refuse such a reference
        map_row("math", {"problem": "p", "solution": OPEN_LAST}, "f: row 1")
    with pytest.raises(DartError, match="no \\\\boxed"):  # benchmarks refuse it too
        map_math({"problem": "p", "solution": OPEN_LAST}, "f: row 1")


@pytest.mark.parametrize(
    ("solution", "gold"),
    [
        ("a \\boxed{1} b \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\boxed{\\boxed{1}+2}", "\\boxed{1}+2"),  # the last top-level box, not the inner one
        ("\\boxed{\\{1\\}}", "\\{1\\}"),  # escaped braces are not brace pairs
        ("\\fbox{a{b}c}", "a{b}c"),
        ("\\boxed 5 done", "5"),
    ],
)
def test_queries_benchmarks_and_grader_read_a_reference_alike(solution, gold):
    assert last_boxed(solution).strip() == gold
    query = map_row("math", {"problem": "p", "solution": solution}, "f: row 1")
    item = map_math({"problem": "p", "solution": solution}, "f: row 1")
    assert query["gold"] == item["gold"] == gold
    assert extract_answer(solution).text.strip("$ ") == gold.strip("$ ") or "{" in gold


def test_gsm8k_and_levels_one_parser():
    assert gsm8k_answer("x\n#### 1,234") == "1234" and gsm8k_answer("#### $5") == "5"
    assert gsm8k_answer("no marker") is None and gsm8k_answer("####  ") is None
    row = {"question": "q", "answer": "a #### 2 #### 1,000"}
    assert map_row("gsm8k", row, "w")["gold"] == map_gsm8k(row, "w")["gold"] == "1000"
    assert [level_number(v) for v in (3, "Level 4", "Level ?", None, True)] == [
        3,
        4,
        None,
        None,
        None,
    ]
    math_row = {"problem": "p", "solution": "\\boxed{1}", "level": "Level 5"}
    assert map_row("math", math_row, "w")["level"] == map_math(math_row, "w")["level"] == 5


def test_one_jsonl_reader_for_queries_and_grading(tmp_path):
    good = tmp_path / "rows.jsonl"
    good.write_text(json.dumps({"question": "q", "answer": "#### 1", "response": "r", "gold": "1"})
                    + "\n\n")  # fmt: skip
    assert [n for n, _ in query_rows_of(str(good))] == [1]
    assert [r["gold"] for r in grade_rows_of(str(good))] == ["1"]
    for body, message in [(b"[1]\n", "row 1: expected a JSON object, got list"),
                          (b'{"response": "r", "gold": "1"}\n{oops\n', "row 2: not valid JSON")]:  # fmt: skip
        bad = tmp_path / "bad.jsonl"
        bad.write_bytes(body)
        for read in (query_rows_of, grade_rows_of):
            with pytest.raises(DartError, match=rf"bad\.jsonl: {message}"):
                list(read(str(bad)))
    # a bad byte: a query row is refused, a row to grade is kept for its own error verdict
    bad.write_bytes(b'{"response": "caf\xe9", "gold": "1", "question": "q", "answer": "#### 1"}\n')
    with pytest.raises(DartError, match=r"bad\.jsonl: row 1: not valid UTF-8"):
        list(query_rows_of(str(bad)))
    [row] = grade_rows_of(str(bad))
    assert row["response"] == "caf\udce9"


def _calls(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name):
                names.append(f"{owner.id}.{node.func.attr}")
    return names


def test_dart_inputs_is_the_one_place_that_reads_parquet():
    readers = {"pl.read_parquet", "pl.scan_parquet", "pl.read_parquet_schema",
               "pq.read_table", "pq.ParquetFile", "pq.read_schema", "pd.read_parquet"}  # fmt: skip
    found = {}
    for path in DART.rglob("*.py"):
        if path == DART / "inputs.py":
            continue
        hits = sorted(set(_calls(ast.parse(path.read_text()))) & readers)
        if hits:
            found[str(path.relative_to(DART))] = hits
    assert found == {}


def test_one_box_reader_and_one_gsm8k_parser_in_the_source():
    """No module but dart/answers.py matches braces after a box or splits at ``####``
    (the grader's reading of a reference that is a whole solution excepted)."""
    offenders = []
    for path in DART.rglob("*.py"):
        if path in (DART / "answers.py", DART / "inputs.py"):
            continue
        text = path.read_text()
        for needle in ('rpartition("####")', "def last_boxed", "def _level(", "def level_number",
                       "def _read_jsonl", "json.loads(line)"):  # fmt: skip
            if needle in text:
                offenders.append(f"{path.relative_to(DART)}: {needle}")
    assert offenders == []
