"""One pool round with ``engine: vllm`` through the real Snakemake rules, on SmolLM2.

Round 0 of a four-query pool: plan, generate (vLLM, a seed per trial, stop strings),
verify. Then the same round in a second workdir, SIGKILLed while its generation shard is
half done and rerun: the shard is byte-identical to the first run's (so the same seeds
give the same shard in two runs, and a resumed shard equals an uninterrupted one).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import yaml
from vllm_setup import CPU_OPTIONS, NEEDS_VLLM

from dart.lineage.records import read_record

pytestmark = NEEDS_VLLM

QUESTIONS = [
    {"question": "What is 2 + 3?", "answer": "5"},
    {"question": "What is 7 times 6?", "answer": "42"},
    {"question": "What is 10 - 4?", "answer": "6"},
    {"question": "What is half of 18?", "answer": "9"},
]
TRIALS = 4  # per query in round 0 (cap = per_round_max)
GEN = "results/pool/smol/round0/gen/shard0.parquet"
VERIFIED = "results/pool/smol/round0/verified/shard0.parquet"


def _config(workdir: Path, model: Path) -> dict:
    source = workdir / "q.jsonl"
    source.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return {
        "seed": 5,
        "queries": {
            "q": {"format": "table", "source": str(source),
                  "columns": {"query": "question", "gold": "answer"}},
        },
        "models": {"smol": {"source": str(model)}},
        "synth": {
            "smol": {
                "model": "smol", "queries": ["q"], "engine": "vllm", "template": "few-shot",
                "sampling": {"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 40},
                "cap": TRIALS, "per_round_max": TRIALS, "max_rounds": 1, "shards": 1,
                "chunk_size": 8, "engine_options": CPU_OPTIONS,
            }
        },
        "datasets": {"vrt": {"synth": "smol", "recipe": "vrt", "trials": TRIALS}},
    }  # fmt: skip


def _cmd(repo_root: Path, workdir: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(workdir / "config.yaml"),
        "--profile", str(repo_root / "profiles" / "local"), *args,
    ]  # fmt: skip


def _snakemake(repo_root, workdir, env, *args):
    return subprocess.run(_cmd(repo_root, workdir, *args), cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip


def _workdir(tmp_path_factory, name: str, model: Path) -> Path:
    workdir = tmp_path_factory.mktemp(name)
    (workdir / "config.yaml").write_text(yaml.safe_dump(_config(workdir, model)))
    return workdir


@pytest.fixture(scope="module")
def straight(repo_root, vllm_env, smollm2_folder, tmp_path_factory) -> Path:
    workdir = _workdir(tmp_path_factory, "vllm-pool", smollm2_folder)
    proc = _snakemake(repo_root, workdir, vllm_env, VERIFIED)
    logs = "".join(p.read_text()[-3000:] for p in workdir.glob("logs/pool/**/*.log"))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:] + logs
    return workdir


def test_round_trials_seeds_stops_and_records(straight):
    plan = pl.read_parquet(straight / "results/pool/smol/round0/plan.parquet")
    gen = pl.read_parquet(straight / GEN)
    assert gen.height == plan.height == len(QUESTIONS) * TRIALS
    assert gen["sample_id"].to_list() == sorted(plan["sample_id"].to_list())
    per_query = gen.group_by("query_id").agg(pl.col("trial").sort())["trial"].to_list()
    assert per_query == [list(range(TRIALS))] * len(QUESTIONS)  # n trials per query
    seeds = dict(zip(plan["sample_id"], plan["seed"], strict=True))
    assert all(seeds[s] == seed for s, seed in gen.select("sample_id", "seed").iter_rows())
    assert gen["seed"].n_unique() == gen.height  # one seed per trial
    # A trial's text is its own: the four trials of a query are not one text repeated.
    distinct = gen.group_by("query_id").agg(pl.col("response").n_unique())["response"]
    assert (distinct > 1).all()
    # Stop strings cut (the few-shot prompt makes the model write "User:" next).
    assert not gen["response"].str.contains("User:|Assistant:").any()
    # Both endings occur, each row has one, and each is what it says (a check over an
    # empty set would pass whatever the engine did).
    stopped = gen.filter(pl.col("finish_reason") == "stop")
    cut = gen.filter(pl.col("finish_reason") == "length")
    assert stopped.height >= 1 and cut.height >= 1 and stopped.height + cut.height == gen.height
    assert (stopped["completion_tokens"] < 40).all() and (cut["completion_tokens"] == 40).all()

    record = read_record(straight / GEN)
    model = record["model"]
    assert record["step"] == "generate" and record["rows"] == gen.height
    assert model["engine"] == "vllm" and model["dtype"] == "float32"
    # The options reached vllm.LLM: read back from vLLM's own config.
    assert model["options"] == {k: v for k, v in CPU_OPTIONS.items() if k != "dtype"}
    assert model["chunked_prefill"] is False and model["enforce_eager"] is True
    verified = pl.read_parquet(straight / VERIFIED)
    assert verified.height == gen.height and {"verdict", "correct"} <= set(verified.columns)
    assert read_record(straight / VERIFIED)["step"] == "verify"


def test_sigkill_mid_shard_then_rerun_is_byte_identical(
    straight, repo_root, vllm_env, smollm2_folder, tmp_path_factory
):
    workdir = _workdir(tmp_path_factory, "vllm-pool-killed", smollm2_folder)
    proc = subprocess.Popen(
        _cmd(repo_root, workdir, GEN), cwd=workdir, env=vllm_env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    parts = workdir / (GEN + ".parts")
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and not list(parts.glob("part-*")):
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before the shard had a finished part"
    os.killpg(proc.pid, signal.SIGKILL)  # Snakemake, dart generate and vLLM's engine core
    proc.wait()
    kept = sorted(p.name for p in parts.glob("part-*.parquet"))
    assert len(kept) == 1 and not (workdir / GEN).exists()
    assert _snakemake(repo_root, workdir, vllm_env, "--unlock").returncode == 0
    rerun = _snakemake(repo_root, workdir, vllm_env, GEN)
    assert rerun.returncode == 0, rerun.stdout[-4000:] + rerun.stderr[-4000:]
    timing = read_record(workdir / GEN)["extra"]["timing"]
    assert timing["chunks_reused"] >= len(kept)
    assert (workdir / GEN).read_bytes() == (straight / GEN).read_bytes()
