"""Recipes: config validation, targets and first-in-trial-order selection, k_p solving."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from dart.datasets.assemble import keep_first_correct
from dart.errors import DartError
from dart.recipes import recipe_from_config, solve_k_p


def summary() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "query_id": ["a", "b", "c"],
            "level": pl.Series([1, 5, None], dtype=pl.Int64),
            "source": ["math", "math", "gsm8k"],
            "trials": [6, 6, 6],
            "correct": [4, 1, 6],
            "outcomes": ["011011", "000010", "111111"],
        }
    )


def pool_rows() -> pl.DataFrame:
    s = summary()
    rows = [
        {"query_id": q, "trial": t, "correct": c == "1"}
        for q, o in zip(s["query_id"], s["outcomes"], strict=True)
        for t, c in enumerate(o)
    ]
    return pl.DataFrame(rows).sample(fraction=1.0, shuffle=True, seed=3)  # shard order scrambled


def kept(recipe) -> dict[str, list[int]]:
    targets, _ = recipe.targets(summary(), cap=100, strict=False)
    sel = keep_first_correct(recipe, pool_rows(), targets)
    return {q: sorted(g["trial"].to_list()) for (q,), g in sel.group_by("query_id")}


def test_uniform_takes_first_k_correct_in_trial_order():
    assert kept(recipe_from_config("u", {"recipe": "uniform", "k": 2})) == {
        "a": [1, 2], "b": [4], "c": [0, 1]
    }  # fmt: skip


def test_vrt_takes_correct_among_first_n_trials():
    assert kept(recipe_from_config("v", {"recipe": "vrt", "trials": 3})) == {
        "a": [1, 2],
        "c": [0, 1, 2],
    }


def test_prop2diff_targets_from_probe():
    r = recipe_from_config("p", {"recipe": "prop2diff", "k_p": 4, "n_probe": 4})
    targets, k_p = r.targets(summary(), cap=100)
    # probe fail rates: a 0.5 -> 2, b 1.0 -> 4, c 0 -> max(1, 0) = 1
    assert dict(zip(targets["query_id"], targets["target"], strict=True)) == {
        "a": 2,
        "b": 4,
        "c": 1,
    }
    assert k_p == 4
    assert kept(r) == {"a": [1, 2], "b": [4], "c": [0]}


def test_filters_limit_scope():
    r = recipe_from_config("u", {"recipe": "uniform", "k": 1, "levels": [5], "sources": ["math"]})
    assert kept(r) == {"b": [4]}


def test_solve_k_p_smallest_reaching_size():
    f = np.array([0.0, 0.25, 0.5, 1.0])
    for size in (4, 7, 10, 25):
        k = solve_k_p(f, size)
        total = np.maximum(1, np.ceil(k * f - 1e-9)).sum()
        below = np.maximum(1, np.ceil((k - 1e-3) * f - 1e-9)).sum()
        assert total >= size and (k == 0 or below < size)
    with pytest.raises(DartError, match="fail rate 0"):
        solve_k_p(np.zeros(3), 10)


def test_custom_forms():
    assert recipe_from_config("c", {"recipe": "custom", "target": {"fixed": 3}}).k == 3
    r = recipe_from_config("c", {"recipe": "custom", "target": {"prop_fail_size": 9, "n_probe": 2}})
    assert (r.mode, r.size, r.n_probe, r.min_target) == ("prop_fail", 9, 2, 1)
    assert recipe_from_config("c", {"recipe": "custom", "target": {"trials": 8}}).trials == 8


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"recipe": "nope"}, "'d1'.*recipe must be one of"),
        ({"recipe": "uniform", "k": 0}, "'d1'.*k must be an integer >= 1"),
        ({"recipe": "uniform", "k": 4, "trials": 3}, "'d1'.*key trials"),
        ({"recipe": "prop2diff", "k_p": 3, "size": 9, "n_probe": 2}, "exactly one of k_p and size"),
        ({"recipe": "prop2diff", "k_p": 3}, "'d1'.*n_probe is required"),
        ({"recipe": "custom"}, "'d1'.*needs a target"),
        ({"recipe": "custom", "target": {"fixed": 2, "trials": 3}}, "exactly one of"),
        ({"recipe": "custom", "target": {"fixed": 2, "n_probe": 3}}, "target.n_probe"),
        ({"recipe": "vrt", "levels": "1"}, "'d1'.*levels"),
    ],
)
def test_validation_errors_name_dataset_and_key(cfg, message):
    with pytest.raises(DartError, match=message):
        recipe_from_config("d1", cfg)
