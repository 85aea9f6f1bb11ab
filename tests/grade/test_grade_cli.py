"""``dart grade`` end to end through the project's CLI entry point."""

import json

from dart.cli import main


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_grade_file_writes_rows_and_summary(tmp_path, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write(
        src,
        [
            {"query": "q", "response": "\\boxed{\\frac12}", "gold": "0.5", "id": "a"},
            {"response": "no answer here", "gold": "3", "id": "b"},
            {
                "response": "#### 7",
                "gold": "7",
                "kind": "gsm8k",
                "finish_reason": "length",
                "id": "c",
            },
        ],
    )
    assert main(["grade", str(src), "-o", str(out), "--workers", "2", "--timeout", "2"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert [r["verdict"] for r in rows] == ["correct", "no_answer", "truncated"]
    assert rows[0]["query"] == "q" and rows[0]["extracted"] == "\\frac12"
    line = capsys.readouterr().out.strip()
    assert line.startswith("graded 3 rows:") and "no_answer 1" in line and "\n" not in line


def test_bad_input_exits_2_naming_file_and_line(tmp_path, caplog):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"response": "x", "gold": "1"}\n{not json\n')
    assert main(["grade", str(src), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "bad.jsonl: row 2: not valid JSON" in caplog.text
    src.write_text('{"response": "x"}\n')
    assert main(["grade", str(src), "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "bad.jsonl: row 1: no 'gold' field" in caplog.text
    assert not (tmp_path / "o.jsonl").exists()


def test_compare_lists_rows_where_math_verify_differs(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    _write(
        src,
        [
            {"response": "\\boxed{2}", "gold": "2"},
            {"response": "5 and 7 make 12", "gold": "12"},  # math-verify takes the last number
        ],
    )
    assert main(["grade", "--compare", "math-verify", str(src), "--workers", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("row 2: dart=no_answer") and "math-verify=correct" in out[0]
    assert out[-1] == "compared 2 rows with math-verify: 1 differ"


def test_invalid_text_rows_get_error_verdicts_and_the_file_is_written(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    lines = [
        b'{"response": "\\\\boxed{1}\\ud800", "gold": "1"}',  # a JSON lone-surrogate escape
        b'{"response": "\\\\boxed{1} \xff\xfe", "gold": "1"}',  # invalid UTF-8 bytes
        b'{"response": "\\\\boxed{1}", "gold": "1"}',
    ]
    src.write_bytes(b"\n".join(lines) + b"\n")
    assert main(["grade", str(src), "-o", str(out), "--workers", "1"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["verdict"] for r in rows] == ["error", "error", "correct"]
    assert all("invalid text" in r["reason"] for r in rows[:2])
    assert rows[0]["response"].endswith("\ud800")  # escaped in the file, read back as it was
