"""`dart evaluate score` with math-verify as a second opinion: counts by direction in the
result, a mark on each item where the graders disagree, the summary's ``[mv x]``."""

from __future__ import annotations

import json

import polars as pl

from dart.cli import main
from dart.evaluate.items import build_table
from dart.summary.table import cell_text, collect

#: (response, gold): both right, both wrong, only ours right, only math-verify right
ROWS = [
    ("So the answer is $\\boxed{\\frac{1}{2}}$.", "0.5"),
    ("So the answer is $\\boxed{7}$.", "8"),
    ("So the answer is $\\boxed{0.\\overline{3}}$.", "\\frac{1}{3}"),  # math-verify: no
    ("5 and 7 make 12", "12"),  # no answer marker for us; math-verify takes the last number
]


def score(tmp_path, *extra: str) -> tuple[dict, list[dict]]:
    records = [{"question": f"q{i}", "gold": g, "answer_kind": "math", "level": i % 2 + 1}
               for i, (_, g) in enumerate(ROWS)]  # fmt: skip
    table = build_table(records, benchmark="b", kind="math")
    table.write_parquet(tmp_path / "b.parquet")
    gen = pl.DataFrame({"item_id": table["item_id"], "response": [r for r, _ in ROWS],
                        "finish_reason": ["stop"] * len(ROWS)})  # fmt: skip
    gen.write_parquet(tmp_path / "b.gen.parquet")
    out, items = tmp_path / "m" / "b.json", tmp_path / "m" / "b.items.jsonl"
    argv = ["evaluate", "score", "--generations", str(tmp_path / "b.gen.parquet"),
            "--benchmark", str(tmp_path / "b.parquet"), "--benchmark-name", "b",
            "--model-name", "m", "--workers", "1", "--timeout", "5", "-o", str(out),
            "--items", str(items), *extra]  # fmt: skip
    assert main(argv) == 0
    rows = [json.loads(line) for line in items.read_text().splitlines()]
    return json.loads(out.read_text()), rows


def test_math_verify_grades_every_item_and_disagreements_are_counted_and_marked(tmp_path):
    result, rows = score(tmp_path)
    assert result["n_correct"] == 2  # ours: items 1 and 3
    mv = result["math_verify"]
    assert mv["grader"].startswith("math-verify ") and (mv["n"], mv["n_correct"]) == (4, 2)
    assert mv["accuracy"] == 0.5 and mv["seconds"] >= 0 and result["scoring_seconds"] >= 0
    assert mv["disagree"] == {"dart-only": 1, "math-verify-only": 1}
    assert [r["disagree"] for r in rows] == [None, None, "dart-only", "math-verify-only"]
    assert [r["math_verify"] for r in rows] == ["correct", "wrong", "wrong", "correct"]
    assert rows[3]["verdict"] == "no_answer"
    # the summary shows math-verify's accuracy beside ours
    (row,), _ = collect([tmp_path / "m" / "b.json"], {})
    assert cell_text(row.cells["b"]) == "50.0 (15.0–85.0, n=4) [mv 50.0]"


def test_the_second_opinion_can_be_switched_off(tmp_path):
    result, rows = score(tmp_path, "--second-opinion", "none")
    assert result["math_verify"] is None and result["n_correct"] == 2
    assert all(r["disagree"] is None and r["math_verify"] is None for r in rows)
    (row,), _ = collect([tmp_path / "m" / "b.json"], {})
    assert "[mv" not in cell_text(row.cells["b"])
