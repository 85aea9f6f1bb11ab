from __future__ import annotations

import json

import polars as pl
import pytest

from dart.answers import gsm8k_answer, last_boxed
from dart.errors import DartError
from dart.queries.ingest import SCHEMA, ingest, query_id

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


def test_columns_error_names_the_file_and_config_key(tmp_path, caplog):
    """Issue 22 item 1: a column mapping split by the shell (``query=the problem`` unquoted)
    said only ``--columns: expected KEY=COLUMN ...; got 'problem'``."""
    from dart import cli

    raw = tmp_path / "mine.jsonl"
    raw.write_text(json.dumps({"the problem": "What is 2+2?", "gold $(x)": "4"}) + "\n")
    out = tmp_path / "q.parquet"
    base = ["queries", str(raw), "--format", "table", "--name", "mine", "-o", str(out)]
    assert cli.main([*base, "--columns", "query=the", "problem", "gold=gold $(x)"]) == 2
    err = caplog.text
    assert f"{raw}: --columns (config key queries.mine.columns): expected KEY=COLUMN" in err
    assert "got 'problem'" in err and not out.exists()
    assert cli.main([*base, "--columns", "query=the problem", "gold=gold $(x)"]) == 0
    assert pl.read_parquet(out)["gold"].to_list() == ["4"]


RATED = [
    {"q": "What is 1 + 1?", "a": "2", "p": 0.25},
    {"q": "What is 2 + 2?", "a": "4", "p": 1},
    {"q": "What is 3 + 3?", "a": "6", "p": 0.0},
]


def test_pass_rate_column_mapped_in_table_and_math(tmp_path):
    src = _jsonl(tmp_path / "rated.jsonl", RATED)
    cols = {"query": "q", "gold": "a", "pass_rate": "p"}
    frame, stats = ingest("table", str(src), name="r", options={"columns": cols})
    assert frame.columns[-1] == "pass_rate" and frame.schema["pass_rate"] == pl.Float64
    assert frame["pass_rate"].to_list() == [0.25, 1.0, 0.0]
    assert stats["pass_rate"] == {"min": 0.0, "mean": round(1.25 / 3, 6), "max": 1.0}
    math_src = _jsonl(tmp_path / "math.jsonl", [{**r, "p": 0.5} for r in MATH_ROWS])
    frame, _ = ingest("math", str(math_src), name="m", options={"columns": {"pass_rate": "p"}})
    assert frame["pass_rate"].to_list() == [0.5, 0.5]
    # without the mapping the table is as before the column existed, even with the raw column
    plain, stats = ingest(
        "table", str(src), name="r", options={"columns": {"query": "q", "gold": "a"}}
    )
    assert "pass_rate" not in plain.columns and "pass_rate" not in stats
    assert plain.columns == list(SCHEMA)


@pytest.mark.parametrize(
    "value", [1.5, -0.1, "0.5", True, None, float("inf"), float("nan"), [0.5]], ids=repr
)
def test_bad_pass_rate_names_file_row_and_column(tmp_path, value):
    src = tmp_path / "rated.parquet"
    rows = [RATED[0], {**RATED[1], "p": value}]
    if isinstance(value, (str, list, bool)):  # one parquet column holds one type: use JSONL
        src = _jsonl(tmp_path / "rated.jsonl", rows)
    else:
        pl.DataFrame(rows, schema={"q": pl.String, "a": pl.String, "p": pl.Float64}).write_parquet(
            src
        )
    cols = {"query": "q", "gold": "a", "pass_rate": "p"}
    with pytest.raises(
        DartError,
        match=rf"{src.name}: row 2: 'p' \(the pass_rate column\) must be a number in \[0, 1\]",
    ):
        ingest("table", str(src), name="r", options={"columns": cols})


def test_pass_rate_mapping_missing_column_or_generator_is_refused(tmp_path):
    src = _jsonl(tmp_path / "rated.jsonl", [RATED[0], {"q": "x?", "a": "1"}])
    cols = {"query": "q", "gold": "a", "pass_rate": "p"}
    with pytest.raises(DartError, match=r"rated\.jsonl: row 2: missing column 'p'"):
        ingest("table", str(src), name="r", options={"columns": cols})
    with pytest.raises(DartError, match="generator has none"):
        ingest("math-like", "3", name="g", options={"n": 10, "columns": {"pass_rate": "p"}})


def test_cli_maps_pass_rate_and_refuses_a_bad_one(tmp_path, caplog):
    from dart import cli

    out = tmp_path / "q.parquet"
    src = _jsonl(tmp_path / "rated.jsonl", RATED)
    base = [
        "queries",
        str(src),
        "--format",
        "table",
        "-o",
        str(out),
        "--columns",
        "query=q",
        "gold=a",
    ]
    assert cli.main([*base, "pass_rate=p"]) == 0
    assert pl.read_parquet(out)["pass_rate"].to_list() == [0.25, 1.0, 0.0]
    out.unlink()
    _jsonl(src, [RATED[0], RATED[1], {**RATED[2], "p": 2}])
    assert cli.main([*base, "pass_rate=p"]) == 2
    assert (
        "rated.jsonl: row 3: 'p' (the pass_rate column) must be a number in [0, 1], got 2"
        in caplog.text
    )
    assert not out.exists()
