"""Rehearsal stand-ins for MATH and GSM8K train: the paper's sizes, levels and answer shapes."""

from __future__ import annotations

import collections

from dart.grade.extract import extract_answer
from dart.queries.ingest import ingest
from dart.queries.paper_like import MATH_LEVELS, gsm8k_like, level_counts, math_like


def test_paper_sizes_and_levels():
    math, stats = ingest("math-like", "1", name="math", options={"n": 7500})
    assert stats["per_level"] == {str(k): v for k, v in MATH_LEVELS.items()}
    gsm, gstats = ingest("gsm8k-like", "1", name="gsm8k", options={"n": 7473},
                         dedupe_against=[])  # fmt: skip
    assert gstats["per_level"] == {"none": 7473} and gstats["duplicates_within"] == 0
    assert not set(math["query_id"]) & set(gsm["query_id"])
    assert all(q.startswith("[Rehearsal item") for q in math["query"].head(50))


def test_small_sizes_keep_the_proportions_and_prefixes_are_balanced():
    assert level_counts(750) == {1: 57, 2: 135, 3: 159, 4: 169, 5: 230}
    assert sum(level_counts(13).values()) == 13
    first = collections.Counter(q["level"] for q in list(math_like(5, 7500))[:750])
    assert all(abs(first[lv] - c) <= 2 for lv, c in level_counts(750).items())


def test_answer_shapes_are_maths_and_deterministic():
    golds = [q["gold"] for q in math_like(2, 3000)]
    assert golds == [q["gold"] for q in math_like(2, 3000)]
    assert golds != [q["gold"] for q in math_like(3, 3000)]
    text = " ".join(golds)
    for piece in ("\\frac{", "\\sqrt{", "\\pi", "\\infty", "x^2", "^\\circ", "\\text{(", "."):
        assert piece in text, piece
    integers = sum(g.lstrip("-").isdigit() for g in golds) / len(golds)
    assert 0.45 < integers < 0.65  # MATH: about half the answers are integers
    for gold in golds[:300]:  # each gold is read back whole from a boxed answer
        assert extract_answer(f"So $\\boxed{{{gold}}}$.").text.replace(" ", "") == gold.replace(
            " ", ""
        )
    assert all(q["gold"].isdigit() for q in gsm8k_like(1, 500))
