"""Paired comparisons: McNemar and Holm against known values, the bootstrap interval's
coverage on simulated pairs, and `dart summarize` comparing real items files."""

from __future__ import annotations

import argparse
import csv
import json
from math import comb
from pathlib import Path

import numpy as np
import pytest

from dart.errors import DartError
from dart.lineage.records import write_json_atomic
from dart.summary import cli as summarize
from dart.summary.stats import (
    Run,
    Stratum,
    compare,
    holm,
    mcnemar_exact,
    pair_runs,
    paired_bootstrap,
)


def test_mcnemar_exact_known_values():
    # b=1, c=8: 2 * P(X <= 1 | n=9, 1/2) = 2 * (1 + 9) / 512
    assert mcnemar_exact(1, 8) == pytest.approx(20 / 512, rel=1e-12)
    assert mcnemar_exact(8, 1) == mcnemar_exact(1, 8)
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)  # all six discordant one way
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)  # 0.0625: not significant
    assert mcnemar_exact(5, 5) == 1.0 and mcnemar_exact(0, 0) == 1.0
    # Agresti's presidential-approval table (b=150, c=86): exact p about 3.8e-5
    brute = 2 * sum(comb(236, i) for i in range(87)) / 2**236
    assert mcnemar_exact(150, 86) == pytest.approx(brute, rel=1e-12)
    assert 3e-5 < mcnemar_exact(150, 86) < 5e-5
    # large tables stay exact (no float overflow in the binomial sums)
    assert 0 < mcnemar_exact(2400, 2600) < 0.01


def test_holm_known_values():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])


def test_paired_bootstrap_covers_the_true_difference_about_95_percent():
    """Simulated pairs of 200 items, A right with p 0.6, B right with p 0.5, strongly
    correlated (as two models on the same items are): the interval holds the true
    difference (10 points) in about 95% of 200 simulations."""
    rng = np.random.default_rng(0)
    n, sims, hits, widths = 200, 200, 0, []
    for sim in range(sims):
        u = rng.random(n)
        a, b = u < 0.6, u < 0.5 + 0.1 * (rng.random(n) < 0.5) - 0.05  # correlated with A
        truth = 0.6 - 0.5
        lo, hi = paired_bootstrap([Stratum((a.astype(float) - b), np.ones(n))], reps=500, seed=sim)
        hits += lo <= truth <= hi
        widths.append(hi - lo)
    assert 0.90 <= hits / sims <= 0.99
    # paired: far narrower than the unpaired interval (about +-9.7 points here)
    assert np.mean(widths) < 0.12


def test_bootstrap_is_seeded_and_resamples_items_with_all_their_seeds():
    pairs = [[[(True, False), (True, False)]] + [[(False, False), (True, True)]] * 9]
    one = compare("a", "b", "x", pairs, reps=300, seed=5)
    assert (one.lo, one.hi) == (compare("a", "b", "x", pairs, reps=300, seed=5).lo, one.hi)
    assert one.n == 20 and one.items == 10 and one.diff == pytest.approx(10.0)
    assert one.b_count == 2 and one.c_count == 0 and one.p == 0.5
    # the item with both seeds A-only is drawn with both: the differences move in steps of 10
    assert one.lo == pytest.approx(0.0) and one.hi in (pytest.approx(20.0), pytest.approx(30.0))


def test_runs_with_different_items_are_refused_naming_both_files():
    a = Run({"q1": True, "q2": False}, "results/eval/m1/x.items.jsonl", "h1")
    b = Run({"q1": True, "q3": True}, "results/eval/m2/x.items.jsonl", "h1")
    with pytest.raises(DartError, match=r"m1/x.items.jsonl and .*m2/x.items.jsonl: the items "
                       r"differ \(1 only in the first, 1 only in the second, e.g. 'q2'\)"):  # fmt: skip
        pair_runs(a, b)
    b.marks = {"q1": False, "q2": True}
    b.benchmark_sha256 = "h2"
    with pytest.raises(DartError, match="different benchmark files"):
        pair_runs(a, b)
    b.benchmark_sha256 = None
    assert pair_runs(a, b) == [(True, False), (False, True)]


# --------------------------------------------------------------------------- dart summarize


def write_run(root: Path, model: str, bench: str, marks: list[bool], levels=None, sha="h"):
    """A result and its items file, as `dart evaluate score` writes them."""
    folder = root / "eval" / model
    folder.mkdir(parents=True, exist_ok=True)
    levels = levels or [None] * len(marks)
    rows = [{"item_id": f"q{i}", "verdict": "correct" if ok else "wrong", "level": lv}
            for i, (ok, lv) in enumerate(zip(marks, levels, strict=True))]  # fmt: skip
    (folder / f"{bench}.items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    by_level: dict = {}
    for ok, lv in zip(marks, levels, strict=True):
        if lv is not None:
            entry = by_level.setdefault(str(lv), {"n": 0, "n_correct": 0})
            entry["n"] += 1
            entry["n_correct"] += ok
    n, k = len(marks), sum(marks)
    result = {"benchmark": bench, "benchmark_type": "generated", "model": model, "n": n,
              "n_correct": k, "accuracy": k / n, "by_level": by_level, "benchmark_sha256": sha}  # fmt: skip
    write_json_atomic(result, folder / f"{bench}.json")


def call(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    summarize.add_arguments(parser)
    return summarize.run(parser.parse_args(argv))


@pytest.fixture()
def runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = Path("results")
    levels = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5] * 4
    base = [True] * 8 + [False] * 32
    write_run(root, "tiny", "heldout", base, levels)
    # seed 1: right on the base's 8 and 12 more; seed 2: the base's 8 and 10 more
    write_run(root, "tiny--p2d--s1", "heldout", [True] * 20 + [False] * 20, levels)
    write_run(root, "tiny--p2d--s2", "heldout", [True] * 18 + [False] * 22, levels)
    write_run(root, "tiny--uni--s1", "heldout", [True] * 9 + [False] * 31, levels)
    write_run(root, "tiny--uni--s2", "heldout", [True] * 8 + [False] * 32, levels)
    for model in ("tiny", "tiny--p2d--s1", "tiny--p2d--s2", "tiny--uni--s1", "tiny--uni--s2"):
        write_run(root, model, "words", [True, False] * 10)
    return root


def test_summarize_compares_each_fine_tune_with_its_base_and_recipes_with_each_other(runs):
    out = runs / "summary.md"
    argv = ["--results", str(runs), "-o", str(out), "--csv", str(runs / "summary.csv"),
            "--levels-png", str(runs / "levels.png")]  # fmt: skip
    assert call(argv) == 0
    md = out.read_text()
    rows = {r["model"]: r for r in csv.DictReader((runs / "summary.csv").open())}
    p2d_base = rows["tiny--p2d vs tiny"]
    # seeds pooled: 80 item-runs, A right 38, base right 16; 22 discordant, all for A
    assert p2d_base["kind"] == "pair" and p2d_base["heldout_n"] == "80"
    assert float(p2d_base["heldout"]) == pytest.approx(100 * 22 / 80, abs=1e-3)
    assert (p2d_base["heldout_b"], p2d_base["heldout_c"]) == ("22", "0")
    assert float(p2d_base["heldout_p"]) == pytest.approx(mcnemar_exact(22, 0), rel=1e-3)
    assert float(p2d_base["heldout_lo"]) > 0  # clearly better than the base
    assert float(p2d_base["words"]) == 0 and float(p2d_base["words_p"]) == 1
    assert float(p2d_base["average"]) == pytest.approx(
        100 * 22 / 120, abs=1e-3
    )  # 80 + 40 item-runs
    assert float(p2d_base["heldout_p_holm"]) >= float(p2d_base["heldout_p"])
    assert rows["tiny--uni vs tiny"]["heldout_b"] == "1"
    assert {"tiny--p2d vs tiny--uni"} <= set(rows)  # recipes against each other
    table = [line for line in md.splitlines() if line.startswith("| `tiny--p2d` vs `tiny`")]
    assert table and table[0].startswith("| `tiny--p2d` vs `tiny` | +27.5 (")
    assert "p=4.8e-07 *" in table[0]
    assert "| heldout | level 1 | level 2 | level 3 | level 4 | level 5 |" in md
    assert "| `tiny` | 25.0 (8) | 25.0 (8) | 25.0 (8) | 25.0 (8) | 0.0 (8) |" in md
    assert (runs / "levels.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_changed_benchmark_is_not_compared_and_the_files_are_named(runs):
    # seed 2 of uniform was scored on another version of heldout: other item ids
    path = runs / "eval" / "tiny--uni--s2" / "heldout.items.jsonl"
    path.write_text(path.read_text().replace('"q3"', '"q3-new"'))
    out = runs / "summary.md"
    assert call(["--results", str(runs), "-o", str(out), "--csv", str(runs / "s.csv")]) == 0
    md = out.read_text()
    assert ("- `tiny--uni` vs `tiny` on heldout: results/eval/tiny--uni--s2/heldout.items.jsonl "
            "and results/eval/tiny/heldout.items.jsonl: the items differ") in md  # fmt: skip
    assert "- `tiny--uni` vs `tiny` on overall: benchmark(s) heldout not compared" in md
    line = next(x for x in md.splitlines() if x.startswith("| `tiny--uni` vs `tiny`"))
    assert line.startswith("| `tiny--uni` vs `tiny` | not compared | +0.0 (")
    rows = {r["model"]: r for r in csv.DictReader((runs / "s.csv").open())}
    assert rows["tiny--uni vs tiny"]["heldout"] == "" and rows["tiny--p2d vs tiny"]["heldout"]
    # a different benchmark hash alone is refused too
    write_run(runs, "tiny--uni--s2", "heldout", [True] * 8 + [False] * 32, sha="other")
    assert call(["--results", str(runs), "-o", str(out), "--csv", str(runs / "s.csv")]) == 0
    assert "different benchmark files (benchmark_sha256 differs)" in out.read_text()


def test_an_items_file_that_disagrees_with_its_result_is_an_error(runs):
    path = runs / "eval" / "tiny" / "words.items.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(
        DartError, match=r"words.items.jsonl: 19 items, but .*words.json counts n=20"
    ):
        call(["--results", str(runs), "-o", str(runs / "s.md"), "--csv", str(runs / "s.csv")])
    assert not (runs / "s.md").exists()


def test_the_base_model_at_the_fine_tunes_template_is_its_own_row_and_compared(runs):
    levels = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5] * 4
    write_run(runs, "tiny@alpaca", "heldout", [True] * 12 + [False] * 28, levels)
    write_run(runs, "tiny@alpaca", "words", [True, False] * 10)
    out = runs / "summary.md"
    assert call(["--results", str(runs), "-o", str(out), "--csv", str(runs / "s.csv")]) == 0
    md = out.read_text()
    assert "| `tiny (alpaca)` | 1 run | 30.0 (18.1–45.4, n=40) |" in md
    rows = {r["model"]: r for r in csv.DictReader((runs / "s.csv").open())}
    # each fine-tune against the base at both prompts: 38 vs 2 x 12 right of 80 item-runs
    assert float(rows["tiny--p2d vs tiny (alpaca)"]["heldout"]) == pytest.approx(100 * 14 / 80)
    assert "tiny--p2d vs tiny" in rows and "tiny (alpaca) vs tiny" not in rows
