"""Assembly from a pool, through the CLI modules: dataset, stats, card and plots."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import polars as pl
import pytest
from huggingface_hub import DatasetCard

from dart.datasets import cli as assemble_cli
from dart.datasets.assemble import assemble
from dart.datasets.card import dataset_card
from dart.decontam import cli as decontam
from dart.errors import DartError
from dart.lineage.records import read_record
from dart.pool import plan_cli, tally_cli
from dart.pool.pool_cli import pool_status
from dart.recipes import recipe_from_config

RECIPES = {
    "v": {"recipe": "vrt", "trials": 4},
    "u": {"recipe": "uniform", "k": 2},
    "p": {"recipe": "prop2diff", "size": 8, "n_probe": 3},
}


def write_queries(path) -> pl.DataFrame:
    q = pl.DataFrame(
        {
            "query_id": [f"{i:016x}" for i in range(4)],
            "source": ["gen"] * 3 + ["gsm"],
            "query": [f"what is {i}?" for i in range(4)],
            "gold": ["0", "1", "2", "3"],
            "level": pl.Series([1, 3, 5, None], dtype=pl.Int64),
        }
    )
    q.write_parquet(path)
    return q


def verify(plan: pl.DataFrame) -> pl.DataFrame:
    """A stand-in verifier: query i is right on trials where (trial + i) % (i + 2) == 0."""
    qi = pl.col("query_id").str.slice(15).str.to_integer(base=16)
    return plan.with_columns(
        response=pl.format("answer {} try {}", pl.col("gold"), pl.col("trial")),
        finish_reason=pl.lit("stop"), prompt_tokens=pl.lit(5), completion_tokens=pl.lit(20),
        gen_seconds=pl.lit(0.25), template=pl.lit("t"), template_version=pl.lit("tmpl-1"),
        model=pl.lit("tiny"), extracted=pl.col("gold"), verdict=pl.lit("x"), reason=pl.lit("x"),
        grader_version=pl.lit("grade-1"), correct=((pl.col("trial") + qi) % (qi + 2)) == 0,
    )  # fmt: skip


def call(module, argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


def build_pool(tmp_path, shards: int = 2, budget: dict | None = None) -> list[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    qpath = tmp_path / "q.parquet"
    write_queries(qpath)
    verified, prev = [], None
    for rnd in range(8):
        d = tmp_path / f"round{rnd}"
        argv = ["--queries", str(qpath), "--recipes", json.dumps(RECIPES), "--round", str(rnd),
                "--seed", "1", "--cap", "12", "--per-round-max", "6", "--shards", str(shards),
                "--max-rounds", "8", "-o", str(d / "plan.parquet"), "--summary", str(d / "plan.json")]  # fmt: skip
        argv += ["--budget", json.dumps(budget)] if budget else []
        assert call(plan_cli, argv + (["--tally", prev] if prev else [])) == 0
        summary = json.loads((d / "plan.json").read_text())
        if summary["done"]:
            return verified, summary, str(qpath)
        plan = pl.read_parquet(d / "plan.parquet")
        shard_files = []
        for s in range(shards):
            path = d / "verified" / f"shard{s}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            verify(plan.filter(pl.col("shard") == s)).write_parquet(path)
            shard_files.append(str(path))
        verified += shard_files
        previous = ["--previous", prev] if prev else []
        prev = str(d / "tally.parquet")
        argv = [*previous, "--verified", *shard_files, "--queries", str(qpath), "-o", prev]
        assert call(tally_cli, argv) == 0
    raise AssertionError("pool never finished")


def test_rounds_then_assemble_with_card_and_plots(tmp_path):
    verified, summary, qpath = build_pool(tmp_path)
    # query 3 is right on trials 2, 7 (of 12): probe fail 2/3 -> target 3, never reached
    assert summary["exhausted"] == ["0000000000000003"]
    assert summary["recipes"]["p"]["capped_short"] == 1
    out = tmp_path / "ds"
    argv = ["--queries", qpath, "--verified", *verified, "--recipe-json", json.dumps(RECIPES["u"]),
            "--name", "u", "--cap", "12", "-o", str(out / "u.parquet"), "--card", str(out / "README.md"),
            "--stats", str(out / "stats.json"), "--plots", str(out)]  # fmt: skip
    assert call(assemble_cli, argv) == 0
    ds = pl.read_parquet(out / "u.parquet")
    assert {"query", "response", "query_id", "sample_id", "round", "shard", "seed", "trial",
            "level", "source", "template_version", "grader_version"} <= set(ds.columns)  # fmt: skip
    assert ds.group_by("query_id").len()["len"].max() == 2
    stats = json.loads((out / "stats.json").read_text())
    assert stats["rows"] == ds.height and stats["cost"]["tokens"] > 0
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "num_examples: " + str(ds.height) in card
    assert "| level |" in card and "u.parquet" in card
    for png in ("correct_per_query.png", "fail_rate_hist.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert read_record(out / png)["step"] == "assemble"
    assert read_record(out / "u.parquet")["rows"] == ds.height


def test_budget_reached_says_which_queries_fell_short(tmp_path):
    verified, summary, qpath = build_pool(tmp_path, budget={"max_trials": 20})
    assert summary["budget_reached"] and summary["done"]
    pool_summary = {"status": pool_status(summary), "budget": summary["budget"]}
    assert pool_summary["status"] == "budget reached"
    q = pl.read_parquet(qpath)
    ds, stats = assemble(verified, q, recipe_from_config("u", RECIPES["u"]), cap=12,
                         pool_summary=pool_summary)  # fmt: skip
    short = stats["budget"]["short_by"]
    assert short and stats["budget"]["max_trials"] == 20
    kept = ds.group_by("query_id").len()
    for qid, n in short.items():
        have = kept.filter(pl.col("query_id") == qid)["len"].sum()
        assert n == 2 - have  # uniform k = 2
    assert stats["budget"]["responses_short"] == sum(short.values())
    card = dataset_card("u", stats, data_file="u.parquet")
    assert "## Budget" in card and "budget reached" in card
    assert all(f"| {qid} | {n} |" in card for qid, n in short.items())
    # a pool that finished: no budget section, stats as before
    verified, _, _ = build_pool(tmp_path / "free")
    _, free = assemble(verified, q, recipe_from_config("u", RECIPES["u"]), cap=12,
                       pool_summary={"status": "complete"})  # fmt: skip
    assert "budget" not in free and "## Budget" not in dataset_card("u", free, data_file="u")


def test_dataset_independent_of_sharding(tmp_path):
    a_files, sa, qpath = build_pool(tmp_path / "a", shards=1)
    b_files, sb, _ = build_pool(tmp_path / "b", shards=3)
    q = pl.read_parquet(qpath)
    for name in RECIPES:
        recipe = recipe_from_config(name, RECIPES[name])
        da, st = assemble(a_files, q, recipe, cap=12)
        db, _ = assemble(b_files, q, recipe, cap=12)
        assert da.drop("shard").equals(db.drop("shard")) and da.height > 0
        if name == "p":
            assert st["k_p_solved"] == sa["recipes"]["p"]["k_p_solved"]


def test_shard_by_shard_reading_equals_the_whole_pool_in_memory(tmp_path):
    """The files are read one shard at a time (light columns, then the kept responses);
    the same rows given as one in-memory frame give the same dataset and stats."""
    files, _, qpath = build_pool(tmp_path, shards=3)
    q = pl.read_parquet(qpath)
    whole = pl.concat([pl.read_parquet(f) for f in files]).sample(
        fraction=1.0, shuffle=True, seed=3
    )
    for name in RECIPES:
        recipe = recipe_from_config(name, RECIPES[name])
        by_shard, stats = assemble(files, q, recipe, cap=12)
        in_memory, whole_stats = assemble(whole.lazy(), q, recipe, cap=12)
        assert by_shard.height > 0 and by_shard.equals(in_memory)
        assert stats == whole_stats


def test_stats_sums_do_not_depend_on_row_order_or_files(tmp_path):
    """Float sums (seconds) are exact: the same stats bytes from any order and sharding."""
    q = write_queries(tmp_path / "q.parquet")
    rows = pl.DataFrame({"query_id": q["query_id"].to_list() * 5_000}).with_columns(
        trial=pl.int_range(pl.len()).over("query_id"), correct=pl.lit(True),
        gen_seconds=pl.Series(np.random.default_rng(0).exponential(3.0, 20_000)),
    )  # fmt: skip
    files = []
    for i, part in enumerate(rows.sample(fraction=1.0, shuffle=True, seed=1).iter_slices(7_000)):
        files.append(tmp_path / f"shard{i}.parquet")
        part.write_parquet(files[-1])
    recipe = recipe_from_config("v", {"recipe": "vrt", "trials": 4_000})
    _, one = assemble(rows.lazy(), q, recipe)
    _, three = assemble(files, q, recipe)
    assert json.dumps(one) == json.dumps(three)
    assert one["pool"]["gen_seconds"] == math.fsum(rows["gen_seconds"].to_list())


def test_kept_responses_do_not_hold_their_shards_texts(tmp_path):
    """A few kept responses of a large shard own buffers of their own size: else each
    would keep its whole shard's texts alive (the pool's, summed over the shards)."""
    q = write_queries(tmp_path / "q.parquet")
    rows = pl.DataFrame({"query_id": q["query_id"].to_list() * 100}).with_columns(
        trial=pl.int_range(pl.len()).over("query_id"), correct=pl.lit(True),
        response=pl.format("{} {}", pl.int_range(pl.len()), pl.lit("x" * 1000)),
    )  # fmt: skip
    rows.write_parquet(tmp_path / "shard0.parquet")
    ds, _ = assemble([tmp_path / "shard0.parquet"], q, recipe_from_config("u", RECIPES["u"]))
    assert ds.height == 8
    texts = ds["response"].to_arrow(compat_level=pl.CompatLevel.newest())
    assert texts.get_total_buffer_size() < 20 * 1_010  # 8 kept of 400, not 400 x 1,000


def test_first_correct_in_trial_order_and_missing_trials(tmp_path):
    q = write_queries(tmp_path / "q.parquet")
    rows = pl.DataFrame(
        {"query_id": [q["query_id"][0]] * 4, "trial": [3, 1, 0, 2],
         "correct": [True, True, False, True], "response": ["r3", "r1", "r0", "r2"]}
    )  # fmt: skip
    ds, stats = assemble(rows.lazy(), q, recipe_from_config("u", {"recipe": "uniform", "k": 2}))
    assert ds["response"].to_list() == ["r1", "r2"]
    assert len(stats["short_of_target"]) == 3  # queries without trials
    with pytest.raises(DartError, match="not numbered"):
        assemble(rows.filter(pl.col("trial") != 1).lazy(), q, recipe_from_config("u", RECIPES["u"]))


def test_card_front_matter_is_yaml():
    yaml = pytest.importorskip("yaml")
    stats = {"rows": 1234, "recipe": {"recipe": "uniform", "mode": "fixed", "k": 4},
             "per_level": {"gen L1": {"queries": 2, "rows": 8}}}  # fmt: skip
    text = dataset_card("x", stats, data_file="x.parquet")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["configs"][0]["data_files"][0]["path"] == "x.parquet"
    assert meta["size_categories"] == ["1K<n<10K"]


def test_planted_benchmark_query_is_dropped_or_kept_and_counted(tmp_path):
    verified, _, qpath = build_pool(tmp_path)
    bench = tmp_path / "bench.parquet"
    pl.DataFrame(
        {"item_id": ["b-0", "b-1"], "question": ["What is  $1$ ?", "Something else entirely."],
         "benchmark": ["heldout", "heldout"]}
    ).write_parquet(bench)  # fmt: skip
    contam = tmp_path / "decontam" / "q.parquet"
    argv = ["--queries", qpath, "--benchmarks", str(bench), "-o", str(contam),
            "--stats", str(tmp_path / "decontam" / "q.stats.json")]  # fmt: skip
    assert call(decontam, argv) == 0
    planted = pl.read_parquet(qpath).filter(query="what is 1?")["query_id"].item()
    assert pl.read_parquet(contam)["query_id"].to_list() == [planted]

    def build(flag: str) -> tuple[pl.DataFrame, dict, str]:
        out = tmp_path / flag
        argv = ["--queries", qpath, "--verified", *verified, "--name", "u",
                "--recipe-json", json.dumps(RECIPES["u"]), "-o", str(out / "u.parquet"),
                "--card", str(out / "README.md"), "--stats", str(out / "stats.json"),
                "--plots", str(out), "--contamination", str(contam), flag]  # fmt: skip
        assert call(assemble_cli, argv) == 0
        stats = json.loads((out / "stats.json").read_text())
        return pl.read_parquet(out / "u.parquet"), stats, (out / "README.md").read_text()

    on, s_on, card_on = build("--decontaminate")
    off, s_off, card_off = build("--no-decontaminate")
    assert planted not in on["query_id"].to_list() and planted in off["query_id"].to_list()
    assert s_on["contamination"]["per_benchmark"]["heldout"]["flagged_queries"] == 1
    assert s_on["contamination"]["dropped_queries"] == 1 and s_on["queries"] == 3
    assert s_off["contamination"]["dropped_queries"] == 0 and s_off["queries"] == 4
    assert s_off["contamination"]["rows_from_flagged"] == 2
    assert "| heldout | 1 | 1 | 0 | 1 |" in card_on and "all dropped before selection" in card_on
    assert "decontamination off" in card_off
    card = DatasetCard(card_on)
    assert card.data.dart["decontaminated"] is True and card.data.dart["flagged_queries"] == 1
    assert card.data.source_datasets == ["q"] and card.data.license == "unknown"
    record = read_record(tmp_path / "--decontaminate" / "u.parquet")
    assert str(contam) in {i["path"] for i in record["inputs"]}
