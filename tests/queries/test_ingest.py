from __future__ import annotations

import json

import polars as pl
import pytest

from dart.answers import gsm8k_answer, last_boxed
from dart.errors import DartError
from dart.queries.ingest import ingest, query_id

MATH_ROWS = [
    {
        "problem": "What is $1+1$?",
        "solution": "It is $\\boxed{2}$.",
        "level": "Level 1",
        "type": "Algebra",
    },
    {
        "problem": "Find $x$.",
        "solution": "So $x=\\boxed{\\frac{1}{2}}$.",
        "level": "Level 5",
        "type": "Algebra",
    },
]
GSM_ROWS = [
    {
        "question": "Tom has 1,200 apples and buys 34. How many?",
        "answer": "1200+34=1234\n#### 1,234",
    },
    {"question": "What is 2 + 2?", "answer": "#### 4"},
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_last_boxed_nested_and_unbraced():
    assert last_boxed("a \\boxed{1} b \\boxed{\\frac{1}{2}}") == "\\frac{1}{2}"
    assert last_boxed("\\fbox{a{b}c}") == "a{b}c"
    assert last_boxed("\\boxed 5 done") == "5"
    assert last_boxed("no box") is None


def test_gsm8k_answer():
    assert gsm8k_answer("x\n#### 1,234") == "1234"
    assert gsm8k_answer("#### $5") == "5"
    assert gsm8k_answer("no marker") is None


def test_math_format(tmp_path):
    frame, stats = ingest("math", str(_jsonl(tmp_path / "m.jsonl", MATH_ROWS)), name="math")
    assert frame["gold"].to_list() == ["2", "\\frac{1}{2}"]
    assert frame["level"].to_list() == [1, 5]
    assert frame["subject"].to_list() == ["Algebra", "Algebra"]
    assert frame["query_id"][0] == query_id("What is $1+1$?")
    assert stats["queries"] == 2


def test_gsm8k_format_from_parquet(tmp_path):
    path = tmp_path / "g.parquet"
    pl.DataFrame(GSM_ROWS).write_parquet(path)
    frame, _ = ingest("gsm8k", str(path), name="gsm8k")
    assert frame["gold"].to_list() == ["1234", "4"]
    assert frame["source_row"].to_list() == [1, 2]


def test_table_format_with_mapping(tmp_path):
    rows = [{"q": "Compute 3*3.", "a": "9", "diff": 2, "uid": "x1"}]
    src = _jsonl(tmp_path / "t.jsonl", rows)
    frame, _ = ingest(
        "table",
        str(src),
        name="t",
        options={"columns": {"query": "q", "gold": "a", "level": "diff", "id": "uid"}},
    )
    assert frame.row(0, named=True)["level"] == 2
    assert frame.row(0, named=True)["source_id"] == "x1"


def test_query_id_stable_across_whitespace():
    assert query_id("What  is\n1+1?") == query_id("What is 1+1? ")
    assert len(query_id("x")) == 16


def test_dedupe_within_and_across(tmp_path):
    src = _jsonl(tmp_path / "g.jsonl", GSM_ROWS + [GSM_ROWS[0]])
    first, stats = ingest("gsm8k", str(src), name="a")
    assert stats["duplicates_within"] == 1 and first.height == 2
    earlier = tmp_path / "a.parquet"
    first.write_parquet(earlier)
    src2 = _jsonl(
        tmp_path / "g2.jsonl", [GSM_ROWS[1], {"question": "New one?", "answer": "#### 7"}]
    )
    second, stats2 = ingest("gsm8k", str(src2), name="b", dedupe_against=[earlier])
    assert second["query"].to_list() == ["New one?"]
    assert stats2["duplicates_across"] == 1


def test_generated_source():
    frame, stats = ingest("generated", "7", name="gen", options={"n": 250})
    assert frame.height == 250 and frame["query_id"].n_unique() == 250
    assert stats["per_level"] == {str(level): 50 for level in range(1, 6)}


BAD_CASES = {
    "missing column": ([{"question": "q?"}], "gsm8k", r"row 1: missing column 'answer'"),
    "empty query": (
        [GSM_ROWS[0], {"question": "  ", "answer": "#### 1"}],
        "gsm8k",
        r"row 2: empty 'question'",
    ),
    "no reference": (
        [MATH_ROWS[0], {"problem": "p", "solution": "no box here"}],
        "math",
        r"row 2: no \\boxed",
    ),
    "gsm8k no marker": ([{"question": "q", "answer": "42"}], "gsm8k", r"row 1: no '#### <number>'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_rows_name_file_and_row(tmp_path, case):
    rows, fmt, message = BAD_CASES[case]
    src = _jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DartError, match=r"bad\.jsonl: " + message):
        ingest(fmt, str(src), name="bad")


def test_non_utf8_names_the_row(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_bytes(
        json.dumps(GSM_ROWS[0]).encode() + b"\n" + b'{"question": "caf\xe9", "answer": "#### 1"}\n'
    )
    with pytest.raises(DartError, match=r"bad\.jsonl: row 2: not valid UTF-8"):
        ingest("gsm8k", str(src), name="bad")


def test_truncated_parquet(tmp_path):
    good = tmp_path / "g.parquet"
    pl.DataFrame(GSM_ROWS * 100).write_parquet(good)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DartError, match=r"bad\.parquet: cannot read rows \("):
        ingest("gsm8k", str(bad), name="bad")


def test_unknown_format(tmp_path):
    src = _jsonl(tmp_path / "x.jsonl", GSM_ROWS)
    with pytest.raises(DartError, match=r"x\.jsonl: unknown format 'csv'"):
        ingest("csv", str(src), name="x")


def test_hub_unreachable_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(DartError, match=r"no-such-org/no-such-set: cannot load hub dataset"):
        ingest("gsm8k", "no-such-org/no-such-set", name="x")


@pytest.mark.parametrize("case", ["missing column", "non-utf8", "truncated", "unknown format"])
def test_cli_exits_nonzero_and_leaves_no_output(run_dart, tmp_path, case):
    src = tmp_path / "src.jsonl"
    fmt = "gsm8k"
    if case == "missing column":
        _jsonl(src, [{"question": "q"}])
    elif case == "non-utf8":
        src.write_bytes(b'{"question": "\xff", "answer": "#### 1"}\n')
    elif case == "truncated":
        src = tmp_path / "src.parquet"
        pl.DataFrame(GSM_ROWS * 50).write_parquet(src)
        src.write_bytes(src.read_bytes()[:100])
    else:
        _jsonl(src, GSM_ROWS)
        fmt = "csv"
    out = tmp_path / "out" / "q.parquet"
    proc = run_dart("queries", str(src), "--format", fmt, "-o", str(out))
    assert proc.returncode != 0
    assert str(src.name) in proc.stderr or "csv" in proc.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("out/*")), "no temporary or partial file may be left"


def test_cli_writes_table_record_and_stats(run_dart, tmp_path):
    out = tmp_path / "q.parquet"
    proc = run_dart(
        "queries",
        "7",
        "--format",
        "generated",
        "--n",
        "30",
        "-o",
        str(out),
        "--stats",
        str(tmp_path / "s.json"),
    )
    assert proc.returncode == 0, proc.stderr
    assert pl.read_parquet(out).height == 30
    record = json.loads((tmp_path / "q.parquet.prov.json").read_text())
    assert record["rows"] == 30 and record["step"] == "queries"
    assert json.loads((tmp_path / "s.json").read_text())["queries"] == 30


def test_overlong_query_is_skipped_and_counted_or_stops(tmp_path):
    rows = [*GSM_ROWS, {"question": "x" * 5000 + "?", "answer": "#### 1"}]
    src = _jsonl(tmp_path / "g.jsonl", rows)
    frame, stats = ingest("gsm8k", str(src), name="g", options={"max_chars": 1000})
    assert frame.height == 2 and stats["too_long"] == 1 and stats["max_chars"] == 1000
    with pytest.raises(DartError, match=r"g\.jsonl: row 3: .*5001 characters.*max_chars=1000"):
        ingest("gsm8k", str(src), name="g", options={"max_chars": 1000, "too_long": "error"})
