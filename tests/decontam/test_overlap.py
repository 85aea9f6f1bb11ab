"""Decontamination: normalisation, exact and n-gram matches, short texts, the CLI."""

from __future__ import annotations

import argparse
import json

import polars as pl
import pytest

from dart.decontam import cli as decontam_cli
from dart.decontam import overlap as decontam
from dart.decontam.overlap import decontaminate, tokens
from dart.errors import DartError
from dart.lineage.records import read_record
from dart.pool import pool_cli

MATH_ITEM = (
    "Let $f(x) = x^2 + 3x + 2$. Find the sum of all real values of $x$ such that "
    "$f(f(x)) = 0$, and express your answer as a common fraction."
)


def bench(name: str, questions: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"item_id": [f"{name}-{i}" for i in range(len(questions))], "question": questions,
         "benchmark": [name] * len(questions)}
    )  # fmt: skip


def queries(texts: list[str], source: str = "gen") -> pl.DataFrame:
    n = len(texts)
    return pl.DataFrame(
        {"query_id": [f"q{i}" for i in range(n)], "source": [source] * n, "query": texts,
         "gold": ["1"] * n, "level": pl.Series([1] * n, dtype=pl.Int64)}
    )  # fmt: skip


def normalise(text: str) -> str:
    """The exact-match key of ``text`` (its tokens joined, as ``BenchmarkIndex`` keys them)."""
    return " ".join(tokens(text))


def test_normalisation_keeps_operators_and_drops_formatting():
    assert normalise("What is $2+3$?") == normalise("what is 2 + 3") == "what is 2 + 3"
    assert normalise("What is 2+3?") != normalise("What is 2-3?")
    assert normalise(r"Find $\dfrac{1}{2}\,x$.") == normalise(r"find \frac{1}{2} x")
    assert normalise(r"\left( x \right) \quad \text{cm}") == "( x ) cm"
    assert tokens("It costs 3.5 dollars, or 1,000 cents.") == [
        "it", "costs", "3.5", "dollars", "or", "1", "000", "cents",
    ]  # fmt: skip


def test_exact_and_ngram_matches_name_benchmark_and_item():
    benchmarks = [bench("math", ["Unrelated question about primes.", MATH_ITEM]),
                  bench("gsm8k", ["What is 7 - 2 times 3?"])]  # fmt: skip
    planted_exact = MATH_ITEM.upper().replace(" ", "  ")
    planted_span = "Warm-up first. " + MATH_ITEM[:110] + " Then stop and rest for a while."
    clean = "Let $g(x) = 5x - 1$. Find the product of all roots of g, and simplify it."
    flagged, stats = decontaminate(
        queries([planted_exact, planted_span, clean, "What is 7 - 2?"]), benchmarks, n=13
    )
    rows = {r["query_id"]: r for r in flagged.iter_rows(named=True)}
    assert set(rows) == {"q0", "q1"}  # the short "What is 7 - 2?" is not a hit
    assert (rows["q0"]["match"], rows["q0"]["benchmark"], rows["q0"]["item_id"]) == (
        "exact", "math", "math-1",
    )  # fmt: skip
    assert rows["q1"]["match"] == "ngram" and rows["q1"]["overlap"] >= 1
    assert stats["per_benchmark"]["math"] == {
        "flagged_queries": 2, "exact": 1, "ngram": 1, "items_hit": 1,
    }  # fmt: skip
    assert stats["per_benchmark"]["gsm8k"]["flagged_queries"] == 0
    assert stats["queries_shorter_than_ngram"] == 1
    assert stats["benchmarks"]["gsm8k"] == {"items": 1, "items_shorter_than_ngram": 1}


def test_short_texts_only_by_exact_match_and_smaller_n():
    items = ["What is $11 - 3$?", "Tom has 5 apples and eats 2 of them."]
    benchmarks = [bench("gsm8k", items).with_columns(gold=pl.lit("8"))]  # extra columns are fine
    q = queries(["What is 11-3?", "What is 11 - 3 plus 4?", "Tom has 5 apples and eats 2."])
    flagged, _ = decontaminate(q, benchmarks, n=13)
    assert flagged["query_id"].to_list() == ["q0"] and flagged["match"][0] == "exact"
    flagged, _ = decontaminate(q, benchmarks, n=5)  # a small n flags a short item inside q1
    assert set(flagged["query_id"]) == {"q0", "q1", "q2"}
    assert flagged.filter(query_id="q2")["overlap"].item() == 3  # distinct shared 5-grams
    flagged, _ = decontaminate(q, benchmarks, n=5, min_overlap=4)
    assert set(flagged["query_id"]) == {"q0"}


def call(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    decontam_cli.add_arguments(parser)
    return decontam_cli.run(parser.parse_args(argv))


def test_cli_writes_rows_stats_and_provenance(tmp_path):
    qpath, bpath = tmp_path / "q.parquet", tmp_path / "math.parquet"
    queries(["nothing to see here", MATH_ITEM]).write_parquet(qpath)
    bench("math", [MATH_ITEM]).drop("benchmark").write_parquet(bpath)  # name from file stem
    out, stats = tmp_path / "d" / "q.parquet", tmp_path / "d" / "q.stats.json"
    argv = [
        "--queries",
        str(qpath),
        "--benchmarks",
        str(bpath),
        "-o",
        str(out),
        "--stats",
        str(stats),
    ]
    assert call(argv) == 0
    flagged = pl.read_parquet(out)
    assert flagged.select("query_id", "benchmark", "item_id", "match").rows() == [
        ("q1", "math", "math-0", "exact")
    ]
    s = json.loads(stats.read_text())
    assert s["ngram"] == 13 and s["per_benchmark"]["math"]["flagged_queries"] == 1
    record = read_record(out)
    assert record["step"] == "decontam" and {i["path"] for i in record["inputs"]} >= {
        str(qpath),
        str(bpath),
    }
    pl.DataFrame({"item_id": ["x"]}).write_parquet(bpath)
    with pytest.raises(DartError, match="math.parquet: benchmark lacks column"):
        call(argv)


def test_pool_summary_counts_flagged_pool_queries(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"round": 0, "trials": 4, "queries": 2, "done": True}))
    tally = tmp_path / "tally.parquet"
    pl.DataFrame({"query_id": ["q0", "q1"], "trials": [2, 2], "correct": [1, 0]}).write_parquet(
        tally
    )
    contam = tmp_path / "c.parquet"
    rows = [
        ("q1", "gen", "math", "m-3", "exact", 0, 0),
        ("q9", "gen", "gsm8k", "g-1", "ngram", 2, 9),
    ]
    pl.DataFrame(rows, schema=decontam.COLUMNS, orient="row").write_parquet(contam)
    parser = argparse.ArgumentParser()
    pool_cli.add_arguments(parser)
    base = ["--plans", str(plan), "--tally", str(tally), "-o", str(tmp_path / "pool.json")]
    assert pool_cli.run(parser.parse_args(base)) == 0
    assert "contamination" not in json.loads((tmp_path / "pool.json").read_text())
    assert pool_cli.run(parser.parse_args([*base, "--contamination", str(contam)])) == 0
    summary = json.loads((tmp_path / "pool.json").read_text())["contamination"]
    assert summary["flagged_queries"] == 1  # q9 is not in this pool
    assert summary["per_benchmark"]["math"]["exact"] == 1
    assert summary["per_benchmark"]["gsm8k"]["flagged_queries"] == 0


def test_template_twins_with_other_numbers_are_not_flagged():
    tail = "and pays 50% of the total up front. The rest is paid in 4 equal instalments."
    item = f"Gus buys 32 pencils at 9 dollars each {tail} How many dollars is each instalment?"
    q = queries([
        f"Dara buys 64 shells at 4 dollars each {tail} How many dollars is each instalment?",
        f"Eli buys 32 cards at 9 dollars each {tail} How many dollars is each instalment?",
        f"Problem 7. Gus buys 32 pencils at 9 dollars each {tail}",
    ])  # fmt: skip
    flagged, stats = decontaminate(q, [bench("gsm8k", [item])], n=13)
    assert set(flagged["query_id"]) == {"q1", "q2"}  # same numbers in order: the same problem
    assert stats["ngram_hits_numbers_differ"] == 1 and stats["numbers_must_agree"]
    flagged, _ = decontaminate(q, [bench("gsm8k", [item])], n=13, numbers=False)
    assert set(flagged["query_id"]) == {"q0", "q1", "q2"}
