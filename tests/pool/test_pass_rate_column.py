"""A queries table's ``pass_rate`` column through the real path: ``dart queries`` ->
``dart plan`` -> ``dart generate`` (engine simulated) -> ``dart verify`` (the real grader)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from dart import cli
from dart.lineage.records import read_record

#: (query, gold, pass rate): golds in MATH's shapes, so the grader does real work
RATED = [
    ("Simplify 6/8.", "\\frac{3}{4}", 0.0),
    ("Solve x^2 = 20 for x > 0.", "2\\sqrt{5}", 1.0),
    ("Where is x - 3 <= 0?", "(-\\infty, 3]", 0.0),
    ("What is 17 + 25?", "42", 1.0),
]
TRIALS = 24
OPTIONS = {"pass_rate": {key: 0.5 for key in ("1", "2", "3", "4", "5", "none")}}


def _ingest(tmp_path, rated: bool) -> list[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    raw = tmp_path / "rated.jsonl"
    raw.write_text(
        "".join(json.dumps({"q": q, "a": a, "lv": 3, "p": p}) + "\n" for q, a, p in RATED)
    )
    cols = ["query=q", "gold=a", "level=lv", *(["pass_rate=p"] if rated else [])]
    first, second = tmp_path / "rated.parquet", tmp_path / "generated.parquet"
    assert (
        cli.main(["queries", str(raw), "--format", "table", "--columns", *cols, "-o", str(first)])
        == 0
    )
    argv = ["queries", "7", "--format", "generated", "--n", "10", "-o", str(second)]
    assert cli.main([*argv, "--dedupe-against", str(first)]) == 0
    return [str(first), str(second)]


def _plan(tmp_path, queries: list[str]) -> str:
    out = tmp_path / "plan.parquet"
    argv = ["plan", "--queries", *queries, "--recipes", json.dumps({"v": {"recipe": "vrt", "trials": TRIALS}}),
            "--round", "0", "--seed", "5", "--cap", str(TRIALS), "--per-round-max", str(TRIALS),
            "--shards", "2", "--max-rounds", "2", "-o", str(out), "--summary", str(tmp_path / "plan.json")]  # fmt: skip
    assert cli.main(argv) == 0
    return str(out)


def _generate(plan: str, queries: list[str], shard: int, out) -> None:
    argv = ["generate", "--plan", plan, "--shard", str(shard), "--queries", *queries,
            "--engine", "simulated", "--model=", "--template", "dart-synth",
            "--sampling-json", json.dumps({"temperature": 1.0, "max_new_tokens": 1024}),
            "--engine-options-json", json.dumps(OPTIONS), "-o", str(out)]  # fmt: skip
    assert cli.main(argv) == 0


def test_pass_rate_column_flows_from_queries_to_verdicts(tmp_path):
    queries = _ingest(tmp_path / "rated", rated=True)
    plan = _plan(tmp_path / "rated", queries)
    plain_queries = _ingest(tmp_path / "plain", rated=False)
    # the plan does not depend on the column: byte for byte the plan of the plain queries
    plain_plan = _plan(tmp_path / "plain", plain_queries)
    assert Path(plan).read_bytes() == Path(plain_plan).read_bytes()
    verified, with_rate = [], 0
    for shard in (0, 1):
        gen, ver = tmp_path / f"gen{shard}.parquet", tmp_path / f"ver{shard}.parquet"
        _generate(plan, queries, shard, gen)
        # the column is read, not written: the shard has the columns of a plain run's
        plain_gen = tmp_path / "plain" / f"gen{shard}.parquet"
        _generate(plan, plain_queries, shard, plain_gen)
        assert pl.read_parquet(gen).columns == pl.read_parquet(plain_gen).columns
        assert "pass_rate" not in pl.read_parquet(gen).columns
        # deterministic per trial seed: a second run writes the same bytes
        again = tmp_path / f"again{shard}.parquet"
        _generate(plan, queries, shard, again)
        assert gen.read_bytes() == again.read_bytes()
        rated = pl.read_parquet(gen).join(pl.read_parquet(queries[0]), on="query_id")
        bound = read_record(gen)["model"]["options"].get("query_pass_rates", {"queries": 0})
        assert bound["queries"] == rated["query_id"].n_unique()
        with_rate += bound["queries"]
        assert "query_pass_rates" not in read_record(plain_gen)["model"]["options"]
        assert cli.main(["verify", str(gen), "--queries", *queries, "-o", str(ver)]) == 0
        verified.append(pl.read_parquet(ver))
    assert with_rate == len(RATED)  # each rated query's trials sit in one shard here
    rows = pl.concat(verified)
    assert rows.height == TRIALS * 14
    rates = pl.read_parquet(queries[0]).select("query_id", "pass_rate")
    per_query = (
        rows.group_by("query_id")
        .agg(right=(pl.col("verdict") == "correct").sum(), trials=pl.len())
        .join(rates, on="query_id", how="left")
    )
    assert (per_query["trials"] == TRIALS).all()
    never, always = (
        per_query.filter(pl.col("pass_rate") == 0),
        per_query.filter(pl.col("pass_rate") == 1),
    )
    assert never.height == 2 and (never["right"] == 0).all()
    assert always.height == 2 and (always["right"] == TRIALS).all()
    # the generated queries (no column) use the level table's 0.5
    others = per_query.filter(pl.col("pass_rate").is_null())
    assert others.height == 10 and 0.35 < others["right"].sum() / (10 * TRIALS) < 0.65


def test_generate_refuses_a_bad_rate_naming_the_queries_file(tmp_path, caplog):
    """A queries table edited by hand (not through ``dart queries``) is checked too."""
    queries = _ingest(tmp_path, rated=True)
    plan = _plan(tmp_path, queries)
    bad = tmp_path / "edited.parquet"
    pl.read_parquet(queries[0]).with_columns(pass_rate=pl.lit(1.5)).write_parquet(bad)
    out = tmp_path / "gen.parquet"
    argv = ["generate", "--plan", plan, "--queries", str(bad), queries[1], "--engine", "simulated",
            "--model=", "--template", "dart-synth", "--sampling-json", json.dumps({"temperature": 1.0}), "-o", str(out)]  # fmt: skip
    assert cli.main(argv) == 2 and not out.exists()
    assert (
        f"{bad}: query " in caplog.text
        and "'pass_rate' must be a number in [0, 1], got 1.5" in caplog.text
    )
