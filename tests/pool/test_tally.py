"""Tallies: cumulative counts, ordered outcomes, contiguity and duplicate checks."""

from __future__ import annotations

import polars as pl
import pytest

from dart.errors import DartError
from dart.pool.tally import read_verified, update_tally


def rows(qid: str, trials: range, correct: str, rnd: int) -> list[dict]:
    return [
        {"query_id": qid, "trial": t, "round": rnd, "level": 2, "correct": c == "1",
         "completion_tokens": 10, "prompt_tokens": 3, "gen_seconds": 0.5}
        for t, c in zip(trials, correct, strict=True)
    ]  # fmt: skip


def test_cumulative_over_rounds(tmp_path):
    r0 = pl.DataFrame(rows("a", range(0, 3), "010", 0) + rows("b", range(0, 2), "11", 0))
    # shards of round 1 out of trial order: the tally orders them
    r1a = pl.DataFrame(rows("a", range(4, 6), "11", 1))
    r1b = pl.DataFrame(rows("a", range(3, 4), "0", 1))
    r1a.write_parquet(tmp_path / "s0.parquet")
    r1b.write_parquet(tmp_path / "s1.parquet")
    t0 = update_tally(None, r0)
    t1 = update_tally(t0, read_verified([tmp_path / "s0.parquet", tmp_path / "s1.parquet"]))
    a = t1.filter(pl.col("query_id") == "a").row(0, named=True)
    assert (a["trials"], a["correct"], a["outcomes"], a["last_round"]) == (6, 3, "010011", 1)
    assert a["tokens"] == 60 and a["gen_seconds"] == pytest.approx(3.0)
    assert (a["tokens_correct"], a["tokens_sumsq"], a["tokens_sumsq_correct"]) == (30, 600, 300)
    b = t1.filter(pl.col("query_id") == "b").row(0, named=True)
    assert (b["trials"], b["outcomes"]) == (2, "11")


def test_gap_and_duplicate_are_errors(tmp_path):
    t0 = update_tally(None, pl.DataFrame(rows("a", range(0, 3), "010", 0)))
    with pytest.raises(DartError, match="contiguously"):
        update_tally(t0, pl.DataFrame(rows("a", range(4, 5), "1", 1)))
    pl.DataFrame(rows("a", range(3, 4), "1", 1)).write_parquet(tmp_path / "x.parquet")
    pl.DataFrame(rows("a", range(3, 4), "1", 1)).write_parquet(tmp_path / "y.parquet")
    with pytest.raises(DartError, match="x.parquet, .*y.parquet"):
        update_tally(t0, read_verified([tmp_path / "x.parquet", tmp_path / "y.parquet"]))


def test_missing_column_names_file(tmp_path):
    pl.DataFrame({"query_id": ["a"], "trial": [0]}).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DartError, match="bad.parquet.*correct"):
        read_verified([tmp_path / "bad.parquet"])


def test_source_filled_from_queries():
    q = pl.DataFrame({"query_id": ["a"], "source": ["gsm8k"]})
    t = update_tally(None, pl.DataFrame(rows("a", range(0, 1), "1", 0)), q)
    assert t["source"].to_list() == ["gsm8k"]


def test_lengths_by_outcome_and_their_squares():
    r = pl.DataFrame(rows("a", range(0, 4), "0110", 0)).with_columns(
        completion_tokens=pl.Series([7, 2, 3, 11])
    )
    t = update_tally(None, r).row(0, named=True)
    assert (t["tokens"], t["tokens_correct"]) == (23, 5)
    assert (t["tokens_sumsq"], t["tokens_sumsq_correct"]) == (49 + 4 + 9 + 121, 4 + 9)


def test_previous_tally_of_an_older_dart_is_refused_by_name(tmp_path, caplog):
    from dart.cli.main import main as dart_main

    old = update_tally(None, pl.DataFrame(rows("a", range(0, 2), "01", 0))).drop("tokens_sumsq")
    old.write_parquet(tmp_path / "round0.parquet")
    pl.DataFrame(rows("a", range(2, 3), "1", 1)).write_parquet(tmp_path / "s.parquet")
    code = dart_main(["tally", "--previous", str(tmp_path / "round0.parquet"),
                      "--verified", str(tmp_path / "s.parquet"), "-o", str(tmp_path / "t.parquet")])  # fmt: skip
    assert code == 2 and not (tmp_path / "t.parquet").exists()
    assert "round0.parquet: tally lacks column(s) tokens_sumsq" in caplog.text
