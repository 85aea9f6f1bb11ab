"""A small rehearsal of the paper's sampling stage through the real rules and grader.

config.paper.yaml + config.rehearsal.yaml (the overlay README documents), cut down by a
third overlay to about 1,500 queries (747 GSM8K-like, 750 MATH-like with the paper's level
proportions), 8 shards and small recipe targets: the simulated engine answers, and the
real plan, generate, verify, tally, pool and dataset rules do everything else. Then: every
file made from the simulated responses says so, the grader's verdicts match what the
engine meant, and `dart train` refuses the datasets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

SMALL = {
    "queries": {"math": {"n": 750}, "gsm8k": {"n": 747}},
    "synth": {"deepseek-rl": {"shards": 8, "cap": 256, "per_round_max": 128}},
    "datasets": {
        "vrt": {"trials": 6},
        "uniform": {"k": 3},
        "prop2diff": {"size": 5000, "n_probe": 8},
    },
}
DATASETS = ("vrt", "uniform", "prop2diff")


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory, repo_root, dart_env) -> Path:
    workdir = tmp_path_factory.mktemp("rehearsal")
    (workdir / "small.yaml").write_text(yaml.safe_dump(SMALL))
    targets = [f"results/datasets/{d}.parquet" for d in DATASETS]
    configs = [str(repo_root / "config.paper.yaml"), str(repo_root / "config.rehearsal.yaml"),
               str(workdir / "small.yaml")]  # fmt: skip
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo_root / "Snakefile"),
           "--directory", str(workdir), "--profile", str(repo_root / "profiles" / "local"),
           "--cores", "2", *targets, "--configfile", *configs]  # fmt: skip
    began = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, env=dart_env, capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    (workdir / "wall.txt").write_text(f"{time.perf_counter() - began:.1f}\n")
    return workdir


def test_datasets_are_complete_and_verified_by_the_real_grader(rehearsal):
    pool = json.loads((rehearsal / "results/pool/deepseek-rl/pool.json").read_text())
    assert pool["complete"] and pool["queries"] == 1497 and pool["simulated"] is True
    uniform = pl.read_parquet(rehearsal / "results/datasets/uniform.parquet")
    per_query = uniform.group_by("query_id").len()["len"]
    assert per_query.max() == 3 and per_query.mean() > 2.9  # k = 3, a few capped short
    vrt = pl.read_parquet(rehearsal / "results/datasets/vrt.parquet")
    assert vrt["trial"].max() < 6
    golds = pl.concat(
        pl.read_parquet(rehearsal / f"data/queries/{s}.parquet", columns=["query_id", "gold"])
        for s in ("math", "gsm8k")
    )
    for frame in (uniform, vrt):  # every row: its query's gold answer boxed at its end
        rows = frame.join(golds, on="query_id", how="left")
        ends = [
            r.endswith(f"\\boxed{{{g}}}$.") for r, g in rows.select("response", "gold").iter_rows()
        ]
        assert all(ends)
    verified = pl.concat(
        pl.read_parquet(p)
        for p in (rehearsal / "results/pool/deepseek-rl/round0/verified").glob("*.parquet")
    )
    assert set(verified["verdict"]) >= {"correct", "wrong", "no_answer", "truncated"}
    assert (verified["model"] == "simulated").all()
    meant = verified.select(
        pl.struct("response", "gold")
        .map_elements(
            lambda r: r["response"].endswith(f"\\boxed{{{r['gold']}}}$."), return_dtype=pl.Boolean
        )  # fmt: skip
        .alias("meant")
    )["meant"]
    assert (meant == (verified["verdict"] == "correct")).all()


def test_every_file_says_simulated(rehearsal):
    pool_dir = rehearsal / "results/pool/deepseek-rl"
    for path in (
        pool_dir / "round0/gen/shard0.parquet",
        pool_dir / "round0/verified/shard3.parquet",
        pool_dir / "round1/tally.parquet",
        pool_dir / "pool.json",
        rehearsal / "results/datasets/prop2diff.parquet",
        rehearsal / "results/datasets/prop2diff/README.md",
    ):
        record = json.loads(Path(f"{path}.prov.json").read_text())
        assert record.get("simulated") is True, path
    gen = json.loads((pool_dir / "round0/gen/shard0.parquet.prov.json").read_text())
    timing = gen["extra"]["timing"]
    assert timing["clock"] == "simulated" and timing["engine_seconds"] > timing["wall_seconds"]
    for name in DATASETS:
        stats = json.loads((rehearsal / f"results/datasets/{name}/stats.json").read_text())
        card = (rehearsal / f"results/datasets/{name}/README.md").read_text()
        assert stats["simulated"] is True and "SIMULATED" in card and "simulated: true" in card


def test_train_refuses_a_simulated_dataset(rehearsal, run_dart, tmp_path):
    dataset = rehearsal / "results/datasets/uniform.parquet"
    proc = run_dart("train", "--dataset", str(dataset), "--base", str(tmp_path / "nobase"),
                    "-o", str(tmp_path / "out"))  # fmt: skip
    assert proc.returncode == 2 and "simulated pool" in proc.stderr
    assert "allow_simulated" in proc.stderr and not (tmp_path / "out").exists()
    # without its record the rows still say so
    copy = tmp_path / "copy.parquet"
    shutil.copy(dataset, copy)
    proc = run_dart("train", "--dataset", str(copy), "--base", str(tmp_path / "nobase"),
                    "-o", str(tmp_path / "out"))  # fmt: skip
    assert proc.returncode == 2 and "simulated pool" in proc.stderr
