"""Benchmark loaders: each published schema from a local file, embedded sets, bad files."""

from __future__ import annotations

import json

import polars as pl
import pytest
from eval_schemas import FILES, GSM8K, MATH, OLYMPIAD, THEOREMQA, write

from dart.errors import DartError
from dart.evaluate.benchmarks import REGISTRY, load_benchmark
from dart.evaluate.items import SCHEMA


@pytest.mark.parametrize("kind", sorted(FILES))
def test_each_published_schema_reads_into_the_item_table(tmp_path, kind):
    name, rows = FILES[kind]
    frame, stats = load_benchmark(kind, str(write(tmp_path / name, rows)))
    assert dict(frame.schema) == SCHEMA
    assert frame.height == len(rows) == stats["n"]
    assert frame["item_id"].n_unique() == frame.height
    assert frame["question"].str.len_chars().min() > 0 and frame["gold"].null_count() == 0
    assert stats["published_size"] == REGISTRY[kind].published_size
    assert "published size" in stats["size_warning"]  # a few rows, not the published size


def test_references_as_each_benchmark_defines_them(tmp_path):
    gold = {}
    for kind, (name, rows) in FILES.items():
        frame, _ = load_benchmark(kind, str(write(tmp_path / name, rows)))
        gold[kind] = frame
    assert gold["math"]["gold"].to_list() == ["2", "\\frac{1}{2}"]
    assert gold["math"]["level"].to_list() == [1, None]  # "Level ?" is unknown, not an error
    assert gold["math500"].row(0, named=True)["item_id"] == "test/algebra/17.json"
    assert gold["gsm8k"]["gold"].to_list() == ["1234", "5"]
    assert gold["collegemath"]["gold"].to_list() == ["\\frac{1}{2}"]
    olympiad = gold["olympiadbench"].rows(named=True)
    assert [json.loads(r["gold"]) for r in olympiad] == [["1.41"], ["1", "2"], ["(1,2)"]]
    assert [r["tolerance"] for r in olympiad] == [0.01, None, None]
    assert olympiad[1]["question"].startswith("Let $n$ be a positive integer.\n")
    tqa = gold["theoremqa"]
    assert tqa["gold"].to_list() == ["3.14", "True", "[2, 3]", "(b)", "6"]
    assert tqa["answer_type"].to_list() == [r["Answer_type"] for r in THEOREMQA]


def test_hub_style_text_answers_of_theoremqa(tmp_path):
    rows = [
        {**r, "Answer": json.dumps(r["Answer"]) if r["Answer_type"] != "option" else r["Answer"]}
        for r in THEOREMQA
    ]
    rows[1]["Answer"] = "True"
    frame, _ = load_benchmark("theoremqa", str(write(tmp_path / "t.parquet", rows)))
    assert frame["gold"].to_list() == ["3.14", "True", "[2, 3]", "(b)", "6"]


@pytest.mark.parametrize(
    ("kind", "rows", "message"),
    [
        ("gsm8k", [GSM8K[0], {"question": "q"}], r"row 2: missing column 'answer'"),
        ("gsm8k", [{**GSM8K[0], "question": "  "}], r"row 1: empty 'question'"),
        ("gsm8k", [{**GSM8K[0], "answer": "no marker"}], r"row 1: no '#### <number>'"),
        ("math", [MATH[0], {**MATH[1], "solution": "no box"}], r"row 2: no \\boxed"),
        ("olympiadbench", [{**OLYMPIAD[0], "error": "tight"}], r"row 1: 'error' is not"),
        ("olympiadbench", [{**OLYMPIAD[0], "final_answer": []}], r"row 1: 'final_answer'"),
        ("theoremqa", [{**THEOREMQA[0], "Answer": "pi"}], r"row 1: 'Answer' 'pi' is not"),
        ("theoremqa", [{**THEOREMQA[4], "Answer": 6.5}], r"row 1: 'Answer' 6.5 is not"),
        ("theoremqa", [{**THEOREMQA[0], "Answer_type": "matrix"}], r"unknown 'Answer_type'"),
    ],
)
def test_bad_rows_name_the_file_and_row(tmp_path, kind, rows, message):
    path = write(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DartError, match=message) as info:
        load_benchmark(kind, str(path))
    assert str(path) in str(info.value)


def test_embedded_benchmarks_are_deterministic_and_cover_five_levels():
    for kind in ("generated", "word-problems"):
        first, stats = load_benchmark(kind, "", n=20)
        again, _ = load_benchmark(kind, "", n=20)
        assert first.equals(again) and stats["size_warning"] is None
        assert sorted(first["level"].unique()) == [1, 2, 3, 4, 5]
        other, _ = load_benchmark(kind, "99", n=20)
        assert set(other["question"]) != set(first["question"])
    words, _ = load_benchmark("word-problems", "11", n=50)
    assert all(g.isdigit() for g in words["gold"]) and words["question"].n_unique() == 50
    with pytest.raises(DartError, match="integer seed"):
        load_benchmark("generated", "seven")


def test_cli_writes_table_stats_and_record_and_nothing_on_error(tmp_path, run_dart):
    name, rows = FILES["gsm8k"]
    source = write(tmp_path / name, rows)
    run_dart("benchmark", "gsm8k", str(source), "-o", "b/gsm8k.parquet", check=True)
    stats = json.loads((tmp_path / "b/gsm8k.stats.json").read_text())
    assert stats["n"] == 2 and stats["published_size"] == 1319 and stats["size_warning"]
    record = json.loads((tmp_path / "b/gsm8k.parquet.prov.json").read_text())
    assert record["step"] == "benchmark" and record["inputs"][0]["path"].endswith(name)
    assert pl.read_parquet(tmp_path / "b/gsm8k.parquet")["benchmark"].to_list() == ["gsm8k"] * 2
    bad = write(tmp_path / "bad.jsonl", [{"question": "q"}])
    proc = run_dart("benchmark", "gsm8k", str(bad), "-o", "b/bad.parquet")
    assert proc.returncode == 2 and "bad.jsonl: row 1: missing column 'answer'" in proc.stderr
    assert "Traceback" not in proc.stderr and not list((tmp_path / "b").glob("bad*"))


def test_offline_hub_source_is_a_clear_error(tmp_path, run_dart):
    proc = run_dart("benchmark", "gsm8k", "-o", "b/gsm8k.parquet")  # the default hub id
    assert proc.returncode == 2 and "openai/gsm8k: cannot load hub dataset" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "b/gsm8k.parquet").exists()
