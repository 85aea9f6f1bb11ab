"""The simulated engine: outcomes by pass rate, texts the real grader reads, honest records."""

from __future__ import annotations

import collections
import math

import polars as pl
import pytest

from dart.engines import get_engine
from dart.engines.base import Request, SamplingParams
from dart.engines.simulated import (
    PAPER_CALIBRATION,
    SECONDS_PER_TOKEN,
    query_pass_rate,
    wrong_answer,
)
from dart.errors import DartError
from dart.grade import grade_rows
from dart.options import check_options
from dart.queries.paper_like import gsm8k_like, math_like

PARAMS = SamplingParams(temperature=1.6, top_p=0.95, max_new_tokens=2048)


def _trials(queries: list[dict], per_query: int) -> pl.DataFrame:
    rows = [
        (f"{i:05d}-{t:04d}", f"q{i}", q["gold"], q["level"], 1000 * i + t)
        for i, q in enumerate(queries)
        for t in range(per_query)
    ]
    return pl.DataFrame(
        rows,
        schema={"sample_id": pl.String, "query_id": pl.String, "gold": pl.String,
                "level": pl.Int64, "seed": pl.Int64},
        orient="row",
    )  # fmt: skip


def _run(engine, trials: pl.DataFrame, params=PARAMS):
    engine.bind_trials(trials)
    requests = [Request(s, "User: q\n\nAssistant:", seed) for s, seed in
                trials.select("sample_id", "seed").iter_rows()]  # fmt: skip
    return engine.generate(requests, params)


def test_pass_rate_table_is_met_and_the_grader_agrees():
    queries = list(math_like(3, 60)) + list(gsm8k_like(3, 20))
    engine = get_engine("simulated", "m", pass_rate={"1": 0.9, "5": 0.2, "none": 0.6},
                        no_answer=0.2, truncated=0.1)  # fmt: skip
    trials = _trials(queries, 40)
    done = _run(engine, trials)
    rows = [{"response": c.text, "gold": g, "finish_reason": c.finish_reason}
            for c, g in zip(done, trials["gold"], strict=True)]  # fmt: skip
    graded = list(grade_rows(iter(rows), workers=1, timeout=5))
    verdicts = collections.Counter(g["verdict"] for g in graded)
    assert set(verdicts) == {"correct", "wrong", "no_answer", "truncated"}
    # the engine's own decision (gold boxed at the end) is what the real grader finds
    for c, gold, g in zip(done, trials["gold"], graded, strict=True):
        meant = c.text.endswith(f"\\boxed{{{gold}}}$.")
        assert meant == (g["verdict"] == "correct"), (gold, c.text[-80:], g)
    levels = trials["level"].fill_null(0).to_list()
    by_level = collections.defaultdict(list)
    for level, g in zip(levels, graded, strict=True):
        by_level[level].append(g["verdict"] == "correct")
    for level, want in ((1, 0.9), (5, 0.2), (0, 0.6)):
        share = sum(by_level[level]) / len(by_level[level])
        assert abs(share - want) < 0.08, (level, share)
    truncated = [c for c in done if c.finish_reason == "length"]
    assert truncated and all(c.completion_tokens == 2048 for c in truncated)


def test_same_seed_same_text_in_any_batch_and_lengths_grow_with_level():
    queries = list(math_like(1, 200))
    trials = _trials(queries, 5)
    first = _run(get_engine("simulated", "m"), trials)
    again = _run(get_engine("simulated", "m"), trials.reverse())[::-1]
    assert [c.text for c in first] == [c.text for c in again]
    tokens = collections.defaultdict(list)
    for c, level in zip(first, trials["level"], strict=True):
        if c.finish_reason == "stop":
            tokens[level].append(c.completion_tokens)
    medians = [sorted(v)[len(v) // 2] for _, v in sorted(tokens.items())]
    assert medians == sorted(medians) and 150 < medians[0] < medians[-1] < 900
    for c in first:  # about CHARS_PER_TOKEN characters a token
        if c.finish_reason == "stop" and c.completion_tokens > 50:
            assert 2.5 < len(c.text) / c.completion_tokens < 4.5


def test_default_calibration_and_beta_draws():
    ids = [f"q{i}" for i in range(4000)]
    for key, beta in PAPER_CALIBRATION.items():
        rates = [query_pass_rate(q, beta) for q in ids]
        assert abs(sum(rates) / len(rates) - beta[0] * (1 - beta[2])) < 0.03, key
    engine = get_engine("simulated", "m", beta={"3": {"mean": 0.1, "concentration": 50}})
    assert engine.pass_rate("q1", "3") < 0.3  # the table's Beta, not the calibration's 0.67
    fixed = get_engine("simulated", "m", pass_rate={"3": 0.5}, beta={"3": {"mean": 0.1}})
    assert fixed.pass_rate("q1", "3") == 0.5  # the fixed table wins over the Beta


def test_simulated_clock_is_the_papers_throughput():
    engine = get_engine("simulated", "m")
    trials = _trials(list(math_like(2, 50)) + list(gsm8k_like(2, 50)), 10)
    done = _run(engine, trials)
    seconds = engine.engine_seconds(done, measured=0.01)
    assert seconds == pytest.approx(sum(c.completion_tokens for c in done) * SECONDS_PER_TOKEN)
    # 35k samples per A100-hour at the default lengths: a few tenths of a millisecond a token
    assert 1e-4 < SECONDS_PER_TOKEN < 1e-3
    assert math.isclose(3600 / SECONDS_PER_TOKEN / 35_000, 390, rel_tol=0.3)
    info = engine.describe()
    assert info["simulated"] is True and info["clock"] == "simulated"
    assert info["model"] == "simulated:m"
    slow = get_engine("simulated", "m", seconds_per_token=0.01)
    assert slow.engine_seconds(done, 0.0) == pytest.approx(seconds / SECONDS_PER_TOKEN * 0.01)


def test_unbound_trial_and_bad_options_are_refused():
    engine = get_engine("simulated", "m")
    with pytest.raises(DartError, match="no bound query"):
        engine.generate([Request("x", "p", 1)], PARAMS)
    for bad, word in (
        ({"pass_rate": {"1": 1.5}}, "pass_rate.1"),
        ({"pass_rate": {"9": 0.5}}, "unknown level"),
        ({"beta": {"2": {"concentration": 3}}}, "mean"),
        ({"beta": {"2": {"mean": 0.5, "shape": 3}}}, "shape"),
        ({"truncated": -0.1}, "truncated"),
        ({"seconds_per_token": 0}, "seconds_per_token"),
        ({"tokens": {"1": {"median": "long"}}}, "median"),
        ({"batch_size": 8}, "batch_size"),
    ):
        with pytest.raises(DartError, match=word):
            check_options("simulated", bad, "synth.x.engine_options")


@pytest.mark.parametrize(
    "gold", ["12", "\\frac{3}{7}", "2\\sqrt{5}", "(-\\infty, 3]", "2x - 5", "\\text{(B)}", "x"]
)
def test_wrong_answers_differ_from_gold(gold):
    import random

    r = random.Random(0)
    for _ in range(20):
        wrong = wrong_answer(gold, r)
        assert wrong != gold and not wrong.startswith("0") or gold.startswith("0")


def test_report_labels_say_simulated(tmp_path):
    import json

    from dart.datasets.report import dataset_report_labels
    from dart.pool.report import pool_report_labels

    (tmp_path / "pool/p").mkdir(parents=True)
    (tmp_path / "datasets/d").mkdir(parents=True)
    (tmp_path / "pool/p/pool.json").write_text(json.dumps({"trials": 4, "simulated": True}))
    (tmp_path / "datasets/d/stats.json").write_text(json.dumps({"rows": 2, "simulated": True}))
    cfg = {"results_dir": str(tmp_path), "datasets": {"d": {"synth": "p", "recipe": "vrt"}}}
    assert pool_report_labels(cfg, "p")["pool"] == "p (SIMULATED)"
    assert dataset_report_labels(cfg, "d")["pool"] == "p (SIMULATED)"


def test_query_pass_rate_column_wins_and_the_grader_agrees():
    """Queries with their own rate 0 and 1 (the queries table's ``pass_rate``): never and
    always right, whatever the level table says; a query with a null rate uses the table."""
    queries = list(math_like(5, 3))
    trials = _trials(queries, 150).with_columns(
        pass_rate=pl.col("query_id").replace_strict(
            {"q0": 0.0, "q1": 1.0, "q2": None}, return_dtype=pl.Float64
        )
    )
    engine = get_engine("simulated", "m", pass_rate={str(lv): 0.5 for lv in range(1, 6)},
                        beta={"3": {"mean": 0.9}}, truncated=0.2, no_answer=0.2)  # fmt: skip
    done = _run(engine, trials)
    rows = [{"response": c.text, "gold": g, "finish_reason": c.finish_reason}
            for c, g in zip(done, trials["gold"], strict=True)]  # fmt: skip
    graded = list(grade_rows(iter(rows), workers=1, timeout=5))
    right = collections.defaultdict(list)
    for qid, g in zip(trials["query_id"], graded, strict=True):
        right[qid].append(g["verdict"] == "correct")
    assert not any(right["q0"]) and all(right["q1"])
    assert 0.35 < sum(right["q2"]) / 150 < 0.65  # the level table's 0.5
    assert engine.pass_rate("q0", "3") == 0.0 and engine.pass_rate("q2", "3") == 0.5
    # the generation record says per-query rates were used, and pins them
    info = engine.describe()["options"]["query_pass_rates"]
    assert info["queries"] == 2 and len(info["sha256"]) == 64
    other = get_engine("simulated", "m")
    other.bind_trials(trials.with_columns(pl.col("pass_rate").replace(1.0, 0.9)))
    assert other.describe()["options"]["query_pass_rates"]["sha256"] != info["sha256"]
    plain = get_engine("simulated", "m")
    plain.bind_trials(trials.drop("pass_rate"))
    assert "query_pass_rates" not in plain.describe()["options"]  # as before the column


def test_precedence_column_then_fixed_then_beta_then_calibration():
    trials = pl.DataFrame(
        {
            "sample_id": ["a", "b"],
            "query_id": ["qa", "qb"],
            "gold": ["1", "2"],
            "level": [3, 3],
            "pass_rate": [0.125, None],
        }  # fmt: skip
    )
    engines = {
        "all": get_engine("simulated", "m", pass_rate={"3": 0.5}, beta={"3": {"mean": 0.01}}),
        "beta": get_engine("simulated", "m", beta={"3": {"mean": 0.01, "concentration": 1000}}),
        "none": get_engine("simulated", "m"),
    }
    for engine in engines.values():
        engine.bind_trials(trials)
        assert engine.pass_rate("qa", "3") == 0.125  # the column beats every table
    assert engines["all"].pass_rate("qb", "3") == 0.5  # then the fixed table
    assert engines["beta"].pass_rate("qb", "3") < 0.05  # then the Beta
    assert engines["none"].pass_rate("qb", "3") == query_pass_rate("qb", PAPER_CALIBRATION["3"])
    with pytest.raises(DartError, match=r"query qa: pass_rate must be in \[0, 1\], got 1.5"):
        get_engine("simulated", "m").bind_trials(trials.with_columns(pass_rate=pl.lit(1.5)))


def test_resumed_parts_are_pinned_to_the_golds_and_levels():
    # same ids, seeds and prompts, another gold: the texts differ, so the runner's
    # manifest (what saved parts of a shard depend on) must differ too
    from dart.engines.runner import manifest

    trials = _trials([{"gold": "7", "level": 3}, {"gold": "8", "level": 2}], per_query=2)
    requests = [Request(s, "User: q\n\nAssistant:", seed) for s, seed in
                trials.select("sample_id", "seed").iter_rows()]  # fmt: skip
    pins = []
    for frame in (trials, trials, trials.with_columns(gold=pl.lit("9")),
                  trials.with_columns(level=pl.lit(5, pl.Int64))):  # fmt: skip
        engine = get_engine("simulated", "m")
        engine.bind_trials(frame)
        pins.append(manifest(requests, PARAMS, engine, 2, {}))
    assert pins[0] == pins[1]
    assert pins[2] != pins[0] and pins[3] != pins[0]
