"""Shard generation: chunked parts, SIGKILL and resume give byte-identical output."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

import polars as pl
import pytest

from dart.engines import get_engine
from dart.engines.base import SamplingParams
from dart.engines.tiny import build_tiny_model
from dart.lineage.records import parts_dir, read_record
from dart.pool import generate_cli
from dart.pool.generate import OUTPUT_SCHEMA, PLAN_COLUMNS, generate_shard
from dart.pool.ids import sample_id, trial_seed
from dart.prompts import get_template

PARAMS = {"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 80}

# Runs one shard in a child process (so that it can be SIGKILLed).
CHILD = """
import sys, polars as pl
from dart.engines import get_engine
from dart.engines.base import SamplingParams
from dart.pool.generate import generate_shard
from dart.prompts import get_template
model, plan, queries, out = sys.argv[1:5]
engine = get_engine("transformers", model, threads=1, batch_size=4)
generate_shard(pl.read_parquet(plan), pl.read_parquet(queries), engine, get_template("dart-synth"),
               SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=80), out, chunk_size=5)
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))


@pytest.fixture(scope="module")
def engine(model):
    return get_engine("transformers", model, threads=1, batch_size=4)


def _inputs(tmp_path, n_queries=4, trials=10):
    queries = pl.DataFrame(
        {
            "query_id": [f"q{i:03d}" for i in range(n_queries)],
            "query": [f"What is {i} + {i}?" for i in range(n_queries)],
        }
    )
    rows = [
        {
            "query_id": q,
            "trial": t,
            "sample_id": sample_id(q, t),
            "seed": trial_seed(7, q, t),
            "round": 1,
            "shard": t % 2,
            "gold": "0",
            "level": 1,
            "kind": "arithmetic",
        }
        for q in queries["query_id"]
        for t in range(trials)
    ]
    plan = pl.DataFrame(rows).sample(fraction=1.0, shuffle=True, seed=1)  # out of order on purpose
    plan.write_parquet(tmp_path / "plan.parquet")
    queries.write_parquet(tmp_path / "queries.parquet")
    return plan, queries


def test_output_columns_and_order(tmp_path, engine):
    plan, queries = _inputs(tmp_path, n_queries=2, trials=3)
    out = tmp_path / "gen.parquet"
    stats = generate_shard(
        plan,
        queries,
        engine,
        get_template("dart-synth"),
        SamplingParams(**PARAMS),
        out,
        chunk_size=4,
    )
    frame = pl.read_parquet(out)
    assert frame.columns == [*PLAN_COLUMNS, *OUTPUT_SCHEMA]
    assert frame["sample_id"].to_list() == sorted(plan["sample_id"].to_list())
    assert set(frame["finish_reason"]) <= {"stop", "length"}
    assert (frame["template"] == "dart-synth").all() and (frame["template_version"] == "1").all()
    assert stats["chunks"] == 2 and stats["chunks_reused"] == 0
    assert not parts_dir(out).exists()


def test_empty_plan_writes_schema(tmp_path, engine):
    plan, queries = _inputs(tmp_path, n_queries=1, trials=1)
    out = tmp_path / "empty.parquet"
    generate_shard(
        plan.clear(), queries, engine, get_template("alpaca"), SamplingParams(**PARAMS), out
    )
    frame = pl.read_parquet(out)
    assert frame.height == 0
    assert frame.columns == [*PLAN_COLUMNS, *OUTPUT_SCHEMA]
    assert frame.schema["completion_tokens"] == pl.Int64


def _run_child(model, tmp_path, out):
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            model,
            str(tmp_path / "plan.parquet"),
            str(tmp_path / "queries.parquet"),
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkill_and_resume_is_byte_identical(tmp_path, model):
    plan, queries = _inputs(tmp_path)
    straight = tmp_path / "straight.parquet"
    assert _run_child(model, tmp_path, straight).wait(timeout=300) == 0

    resumed = tmp_path / "resumed.parquet"
    child = _run_child(model, tmp_path, resumed)
    first = parts_dir(resumed) / "part-00000.parquet"
    deadline = time.monotonic() + 300
    while not first.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the child finished before it could be killed"
    assert not resumed.exists()
    done_before = sorted(p.name for p in parts_dir(resumed).glob("part-*.parquet"))
    assert done_before and len(done_before) < 8

    engine = get_engine("transformers", model, threads=1, batch_size=4)
    stats = generate_shard(
        plan,
        queries,
        engine,
        get_template("dart-synth"),
        SamplingParams(**PARAMS),
        resumed,
        chunk_size=5,
    )
    assert stats["chunks_reused"] == len(done_before)
    assert resumed.read_bytes() == straight.read_bytes()
    # the killed run's chunks keep their timings: stats cover every chunk of the output
    parts = [t["part"] for t in stats["chunk_timings"]]
    assert parts == [f"part-{i:05d}.parquet" for i in range(stats["chunks"])]
    assert stats["rows"] == plan.height and stats["engine_seconds"] > 0


def test_stale_parts_are_discarded(tmp_path, engine):
    plan, queries = _inputs(tmp_path, n_queries=1, trials=4)
    out = tmp_path / "gen.parquet"
    folder = parts_dir(out)
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"other": True}))
    pl.DataFrame({"junk": [1]}).write_parquet(folder / "part-00000.parquet")
    stats = generate_shard(
        plan,
        queries,
        engine,
        get_template("dart-synth"),
        SamplingParams(**PARAMS),
        out,
        chunk_size=4,
    )
    assert stats["chunks_reused"] == 0
    assert "response" in pl.read_parquet(out).columns


def test_cli_writes_output_and_record(tmp_path, model):
    _inputs(tmp_path, n_queries=2, trials=2)
    parser = argparse.ArgumentParser()
    generate_cli.add_arguments(parser)
    out = tmp_path / "gen-1.parquet"
    args = parser.parse_args(
        [
            "--plan",
            str(tmp_path / "plan.parquet"),
            "--shard",
            "1",
            "--queries",
            str(tmp_path / "queries.parquet"),
        ]
        + ["--model", model, "--template", "chat", "--sampling-json", json.dumps(PARAMS)]
        + ["--threads", "1", "--batch-size", "4", "--chunk-size", "3", "-o", str(out)]
    )
    assert generate_cli.run(args) == 0
    frame = pl.read_parquet(out)
    assert frame.height == 2 and (frame["shard"] == 1).all()
    record = read_record(out)
    assert record["step"] == "generate" and record["rows"] == 2
    assert record["model"]["engine"] == "transformers"
    assert record["params"]["template"]["name"] == "chat"
    assert len(record["inputs"]) == 3  # plan, queries, model folder
